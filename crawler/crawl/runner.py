"""Running spiders in-process: several sites in one Twisted reactor, one command."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, cast

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.crawl import pool
from crawler.crawl.runs import PREFIX
from crawler.crawl.site_spiders import spiders


class SettingError(ValueError):
    """A setting whose value cannot be used; the message names it and what is allowed."""


def project_settings(overrides: dict[str, Any] | None = None) -> Any:
    """The project's Scrapy settings: crawler/settings.py's defaults, the ``NEWS_*``
    environment variables it names (``NEWS_ENVIRONMENT``, checked: :class:`SettingError`),
    and command-line ``overrides`` on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for name, value in environment_settings(settings).items():
        # At the settings module's own priority: a site's known pace (spider priority) and
        # `-s` still win, as they did when the module read the environment itself.
        settings.set(name, value, priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


class EnvironmentAddon:
    """A Scrapy add-on (``ADDONS`` in crawler/settings.py): the ``NEWS_*`` environment for every
    crawler, so a plain ``scrapy crawl KEY`` reads ``NEWS_DB_PATH`` and the others as
    ``newscrawl`` does (:func:`project_settings` applies them too, and checks them first)."""

    def update_settings(self, settings: Any) -> None:
        for name, value in environment_settings(settings).items():
            settings.set(name, value, priority="project")  # under a site's pace and `-s`
        if settings.getbool("REMOTE_CONTROL_ENABLED"):
            # crawler/settings.py keeps Scrapy from loading its RemoteControl extension (loading
            # it imports aiohttp); asked for, it is loaded, at Scrapy's own place.
            from scrapy.extensions.remote_control import RemoteControl

            settings.set_in_component_priority_dict("EXTENSIONS", RemoteControl, 0)


def environment_settings(defaults: Any) -> dict[str, Any]:
    """The settings the environment sets, as values (an empty variable counts as unset)."""
    found: dict[str, Any] = {}
    for variable, name in dict(defaults.getdict("NEWS_ENVIRONMENT")).items():
        raw = os.environ.get(variable, "")
        if raw.strip():
            found[name] = check_setting(name, raw, defaults, f"{variable}={raw} (environment)")
    if "NEWS_DB_PATH" in found:
        found["NEWS_DEMO_FALLBACK"] = False  # a path was chosen: no falling back to the demo
    if "DOWNLOAD_DELAY" in found:
        found["AUTOTHROTTLE_START_DELAY"] = found["DOWNLOAD_DELAY"] or 1.0
    return found


def check_setting(name: str, raw: Any, defaults: Any, where: str) -> Any:
    """``raw`` read as setting ``name`` (the type of its default, within its range in
    ``NEWS_SETTING_RANGES``, a level for ``LOG_LEVEL``); :class:`SettingError` naming ``where``
    and what is allowed otherwise. Read with Scrapy's own getters, so what passes here is
    what the crawl will read."""
    from scrapy.settings import BaseSettings, Settings

    default = defaults.get(name)
    bounds = dict(defaults.getdict("NEWS_SETTING_RANGES")).get(name)
    probe = Settings()
    if name == "LOG_LEVEL":
        levels = list(defaults.getlist("NEWS_LOG_LEVELS"))
        if str(raw).upper() not in levels:
            raise SettingError(f"{where}: {name} takes one of {', '.join(levels)}")
        return str(raw).upper()
    getter: Callable[[str], Any]
    if isinstance(default, bool):
        getter, kind = probe.getbool, "True or False"
    elif isinstance(default, int) or (bounds and all(isinstance(b, int) for b in bounds)):
        getter, kind = probe.getint, "a whole number"
    elif isinstance(default, float) or bounds:
        getter, kind = probe.getfloat, "a number"
    elif isinstance(default, dict | BaseSettings):
        getter, kind = probe.getdict, "a JSON object"
    else:
        return raw
    if bounds:
        kind += f" from {_number(bounds[0])} to {_number(bounds[1])}"
    try:
        probe.set(name, raw)
        value = getter(name)
    except (ValueError, TypeError):
        raise SettingError(f"{where}: {name} takes {kind}") from None
    if bounds and not (math.isfinite(cast(float, value)) and bounds[0] <= value <= bounds[1]):
        raise SettingError(f"{where}: {name} takes {kind}")
    return value


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


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
    settings = project_settings(overrides)
    # Started before Scrapy: the first article page would otherwise wait for the forkserver
    # to load the extraction modules (about a second), started only then.
    pool.start_forkserver(pool.extract_workers(settings))
    process = CrawlerProcess(settings)
    # Scrapy's HTTP download handler is imported here, a few frames deep, rather than by the
    # first crawler's downloader, forty frames deep: its module calls Scrapy's
    # create_deprecated_class, which reads the source line of every frame on the stack
    # (inspect.stack()). 56 ms here, 160 ms there. After CrawlerProcess: the reactor is installed.
    import scrapy.core.downloader.handlers.http11  # noqa: F401

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
