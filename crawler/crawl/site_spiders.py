"""One Scrapy spider class per registered site, generated from the registry.

This is the module ``SPIDER_MODULES`` names: Scrapy's spider loader collects the classes whose
``__module__`` is this module, so ``scrapy list`` and ``scrapy crawl <site>`` see one spider per
``crawler/sites/<key>.py``. A site module holds data only; a site that ever needs spider code
defines ``SPIDER_MIXIN``, a plain class (importing nothing from ``crawler.crawl``) whose methods
override :class:`~crawler.crawl.news_spider.NewsSpider`'s, placed before it in the generated class.
"""

from __future__ import annotations

from crawler.crawl.news_spider import NewsSpider
from crawler.sites.registry import site_modules


def _spider_class(key: str) -> type[NewsSpider]:
    module = site_modules()[key]
    mixin = getattr(module, "SPIDER_MIXIN", None)
    bases: tuple[type, ...] = (mixin, NewsSpider) if mixin is not None else (NewsSpider,)
    name = "".join(part.capitalize() for part in key.split("_")) + "Spider"
    attrs = {"name": key, "site": module.SITE, "__module__": __name__, "__qualname__": name}
    cls: type[NewsSpider] = type(name, bases, attrs)
    return cls


_SPIDERS: dict[str, type[NewsSpider]] = {key: _spider_class(key) for key in site_modules()}
globals().update({cls.__name__: cls for cls in _SPIDERS.values()})


def spiders() -> dict[str, type[NewsSpider]]:
    """Spider classes by site key, in key order."""
    return dict(_SPIDERS)
