"""The SQLite store: schema and migrations (``schema.py``, ``tables.py``), opening the database
(``db.py``), articles and their versions, crawl state, runs, quality records, near-duplicate
clusters, full-text search, export, and the text normalisation everything hashes with
(``text.py``).

Imports nothing from ``crawler`` (import-linter checks it): the crawler depends on storage,
never the reverse.
"""
