"""Running spiders in-process: several sites in one Twisted reactor, one command."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.crawl.runs import PREFIX
from crawler.crawl.spiders import spiders


def project_settings(overrides: dict[str, Any] | None = None) -> Any:
    """The project's Scrapy settings with command-line ``overrides`` on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


Ticker = Callable[[dict[str, dict[str, Any]]], None]


def run_crawl(
    keys: list[str],
    base_urls: dict[str, str],
    overrides: dict[str, Any],
    spider_args: dict[str, Any],
    on_tick: Ticker | None = None,
    tick_seconds: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """Crawl ``keys`` together (the reactor runs once per process); return stats by site.

    ``on_tick``, if given, gets each site's stats so far every ``tick_seconds`` from the
    reactor thread (a progress display), and once more at the end.
    """
    registry = spiders()
    process = CrawlerProcess(project_settings(overrides))
    crawlers = {}
    for key in keys:
        crawler = process.create_crawler(registry[key])
        process.crawl(crawler, base_url=base_urls.get(key), **spider_args)
        crawlers[key] = crawler

    def stats() -> dict[str, dict[str, Any]]:
        return {key: (c.stats.get_stats() if c.stats else {}) for key, c in crawlers.items()}

    if on_tick is not None:
        # Imported only now: CrawlerProcess has installed the reactor the settings name.
        from twisted.internet import task

        task.LoopingCall(lambda: on_tick(stats())).start(tick_seconds, now=True)
    process.start()
    if on_tick is not None:
        on_tick(stats())
    return stats()


def site_status(stats: dict[str, Any]) -> str:
    """The status the run recorder gave this site's run (``failed`` if it never ran)."""
    return str(stats.get(PREFIX + "status", "failed"))
