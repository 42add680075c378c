"""The Scrapy plumbing: the shared spider (``spider.py``) and the per-site classes generated from
the registry (``spiders.py``, the SPIDER_MODULES entry), its crawl state (``state.py``),
middlewares, the storage pipeline, the extraction worker pool, the run recorder and quality
gate extensions, the in-process runner and the crawl lock.

May import ``sites``, ``extract`` and ``storage``; never ``cli``, ``testing`` or ``distributed``.
"""
