"""Distributed crawling on Redis: ``worker.py`` (the shared frontier scheduler and the pipeline
that sends records to a Stream) and ``ingest.py`` (the one process writing them to SQLite).

May import ``crawl``, ``sites``, ``extract`` and ``storage``.
"""
