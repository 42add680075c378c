"""The site registry: every spider module under crawler/spiders with a SITE, by key."""

from __future__ import annotations

import importlib
import pkgutil

import crawler.sites
from crawler.crawl.spider import NewsSpider
from crawler.extract.siteconfig import SiteConfig


def spiders() -> dict[str, type[NewsSpider]]:
    """Spider classes by site key, in key order."""
    found: dict[str, type[NewsSpider]] = {}
    for module_info in pkgutil.iter_modules(crawler.sites.__path__):
        if module_info.name == "registry":
            continue
        module = importlib.import_module(f"crawler.sites.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, NewsSpider) and value is not NewsSpider:
                found[value.site.key] = value
    return dict(sorted(found.items()))


def sites() -> dict[str, SiteConfig]:
    """Site configs by key."""
    return {key: spider.site for key, spider in spiders().items()}
