"""The replica articles as the crawler stores them: one home for the tests and the benchmarks.

``replica_items`` extracts every article page of ``tests/sites/`` (each page rendered with the
real site's domain, as the live site serves it) and ``build_replica_db`` stores them in a
migrated database, with no crawl. ``tests/helpers.py`` re-exports these for the tests;
``bench/`` imports them from here (bench never imports ``tests``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from crawler.extract.article import extract
from crawler.extract.items import ArticleItem
from crawler.extract.urls import canonical_url
from crawler.sites.registry import sites
from crawler.testing.replica import SITES_DIR, Route, SiteReplica
from storage.articles import save_article
from storage.db import open_db

FETCHED_AT = "2026-02-01T03:00:00+00:00"


def replica(key: str) -> SiteReplica:
    """The replica of one site, loaded from its folder."""
    return SiteReplica(SITES_DIR / key)


def real_page(site: SiteReplica, route: Route) -> bytes:
    """A replica page as the real site serves it (``{{BASE}}`` is the real domain)."""
    return site.render(route, site.real_base)


def site_keys() -> list[str]:
    """The keys of the replica folders (each holding a ``site.json``), sorted."""
    return sorted(p.name for p in SITES_DIR.iterdir() if (p / "site.json").is_file())


def replica_items() -> Iterator[ArticleItem]:
    """Every article of the replicas, extracted as the crawler would store it."""
    for key in site_keys():
        site, config = replica(key), sites()[key]
        for route in site.routes_of("article"):
            item = extract(real_page(site, route), canonical_url(site.real_base + route.path), config, FETCHED_AT)
            if isinstance(item, ArticleItem):
                yield item


def build_replica_db(path: str | Path = ":memory:") -> sqlite_utils.Database:
    """A migrated database holding the replica articles (no crawl: extract + save_article)."""
    db = open_db(path)
    for item in replica_items():
        save_article(db, item.record())
    return db
