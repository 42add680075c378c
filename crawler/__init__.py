"""newscrawl: crawls Vietnamese public-security news sites into SQLite.

Subpackages, each importing only the ones after it (checked by import-linter, see
ARCHITECTURE.md): ``cli`` -> ``testing`` -> ``distributed`` -> ``crawl`` -> ``sites`` ->
``extract``; any of them may import ``storage``, which imports nothing from ``crawler``.
``crawler/settings.py`` is the Scrapy settings module and holds every default.

The Python API (``crawler/api.py``): ``from crawler import extract_article``. It is loaded on
first use, so ``import crawler.settings`` (Scrapy) and the CLI do not pay for the extractor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.api import NotAnArticle, extract_article, site_of

__all__ = ["NotAnArticle", "extract_article", "site_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from crawler import api

        return getattr(api, name)
    raise AttributeError(f"module 'crawler' has no attribute {name!r}")
