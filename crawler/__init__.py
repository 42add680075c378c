"""newscrawl: crawls Vietnamese public-security news sites into SQLite.

Subpackages, each importing only the ones after it (checked by import-linter, see
ARCHITECTURE.md): ``cli`` -> ``testing`` -> ``distributed`` -> ``crawl`` -> ``sites`` ->
``extract``; any of them may import ``storage``, which imports nothing from ``crawler``.
``crawler/settings.py`` is the Scrapy settings module and holds every default.
"""
