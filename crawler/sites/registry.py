"""The site registry: every module of this package that defines ``SITE``, by site key."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

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
