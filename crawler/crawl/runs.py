"""Run bookkeeping: a ``crawl_runs`` row per spider run, opened at start, closed with stats."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.spiders import Spider
from scrapy.utils.defer import deferred_from_coro

from storage.db import StorageError, open_db
from storage.runs import finish_run, start_run

PREFIX = "newscrawl/"
logger = logging.getLogger(__name__)


def run_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """The summary columns of a run row, from Scrapy stats."""

    def total(prefix: str) -> int:
        return sum(int(v) for k, v in stats.items() if k.startswith(prefix))

    def by_key(prefix: str) -> str:
        return json.dumps({k[len(prefix) :]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix)})

    return {
        "pages_fetched": int(stats.get("downloader/response_status_count/200", 0)),
        "not_modified": int(stats.get(PREFIX + "pages/not_modified", 0)),
        "aliases": int(stats.get(PREFIX + "articles/alias", 0)),
        "articles_new": int(stats.get(PREFIX + "articles/new", 0)),
        "articles_duplicate": int(stats.get(PREFIX + "articles/duplicate", 0)),
        "articles_updated": int(stats.get(PREFIX + "articles/updated", 0)),
        "dropped": total(PREFIX + "dropped/"),
        "errors": total(PREFIX + "errors/"),
        "dropped_by_reason": by_key(PREFIX + "dropped/"),
        "errors_by_kind": by_key(PREFIX + "errors/"),
    }


def run_status(stats: dict[str, Any], finish_reason: str) -> str:
    """``ok``, ``errors`` (finished, some fetches failed), ``failed`` (nothing fetched),
    ``interrupted`` (stopped by SIGTERM/SIGINT), ``storage_full`` (stopped: the database could
    take no more) or ``storage_error`` (stopped: the database could not be written, or failed on a batch twice)."""
    counters = run_counters(stats)
    if finish_reason in ("storage_full", "storage_error"):
        return finish_reason
    if stats.get(PREFIX + "errors/storage_error"):  # a batch failed twice: the run stopped
        return "storage_error"
    if finish_reason == "shutdown":  # Scrapy's reason for a stop by signal
        return "interrupted"
    if counters["pages_fetched"] + counters["not_modified"] == 0 or finish_reason != "finished":
        return "failed"
    return "errors" if counters["errors"] else "ok"


class RunRecorder:
    """Scrapy extension writing the ``crawl_runs`` row of each spider run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path: str = crawler.settings.get("NEWS_DB_PATH")
        self.run_id: int | None = None
        self.start_error: str | None = None
        self.started = time.monotonic()
        self.busy_timeout = crawler.settings.getfloat("NEWS_DB_BUSY_TIMEOUT")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        assert self.crawler.stats is not None
        try:
            db = open_db(self.db_path, busy_timeout=self.busy_timeout)
            try:
                self.run_id = start_run(db, spider.name)
                self.started = time.monotonic()
            finally:
                db.close()
        except (sqlite3.Error, StorageError) as exc:
            # Nothing fetched now could be stored (a database locked by another writer longer
            # than the busy timeout, or made read-only): stop before the first request.
            self.start_error = str(exc)
            logger.error("could not start run of %s in %s: %s; stopping", spider.name, self.db_path, exc)
            self.crawler.stats.inc_value(PREFIX + "errors/storage")
            engine = self.crawler.engine
            assert engine is not None
            deferred_from_coro(engine.close_spider_async(reason="storage_error"))
            return
        self.crawler.stats.set_value(PREFIX + "run_id", self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        status = run_status(stats, "storage_error" if self.start_error else reason)
        self.crawler.stats.set_value(PREFIX + "status", status)
        counters = {**run_counters(stats), "duration_s": round(time.monotonic() - self.started, 3)}
        try:
            db = open_db(self.db_path, busy_timeout=self.busy_timeout)
            try:
                if self.run_id is None:  # the start row could not be written: try once more now
                    self.run_id = start_run(db, spider.name)
                finish_run(db, self.run_id, status, reason, counters, stats)
            finally:
                db.close()
        except (sqlite3.Error, StorageError) as exc:  # a full disk must not hide the crawl's own outcome
            logger.error("could not record run %s in %s: %s", self.run_id, self.db_path, exc)
