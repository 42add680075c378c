"""The Scrapy plumbing: the shared spider (``news_spider.py``) and the per-site classes generated from
the registry (``site_spiders.py``, the SPIDER_MODULES entry), its crawl state (``state.py``),
middlewares, the storage pipeline, the extraction worker pool, the run recorder and quality
gate extensions, the in-process runner, the crawl lock, and ``newscrawl probe``'s spider
(``probe.py``) and report (``probe_report.py``).

May import ``sites``, ``extract`` and ``storage``; never ``cli``, ``testing`` or ``distributed``.
"""
