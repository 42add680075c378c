"""The site registry: every module of this package that defines ``SITE``, by site key."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType
from urllib.parse import urlsplit

import crawler.sites
from crawler.extract.siteconfig import SiteConfig


@cache
def site_modules() -> dict[str, ModuleType]:
    """The site modules by site key (``SITE.key``), in key order."""
    found: dict[str, ModuleType] = {}
    for module_info in pkgutil.iter_modules(crawler.sites.__path__):
        if module_info.name == "registry":
            continue
        module = importlib.import_module(f"crawler.sites.{module_info.name}")
        site = getattr(module, "SITE", None)
        if isinstance(site, SiteConfig):
            found[site.key] = module
    return dict(sorted(found.items()))


def sites() -> dict[str, SiteConfig]:
    """Site configs by key."""
    return {key: module.SITE for key, module in site_modules().items()}


def site_for_url(url: str) -> SiteConfig | None:
    """The crawled site a URL belongs to, by host (its base URL's or one of its ``extra_hosts``)."""
    host = (urlsplit(url).hostname or "").lower()
    for site in sites().values():
        if host in {urlsplit(site.base_url).hostname, *site.extra_hosts}:
            return site
    return None
