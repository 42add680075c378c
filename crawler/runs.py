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

from storage.db import open_db
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
    ``storage_full`` (stopped: the database could take no more) or ``storage_error`` (stopped:
    the database failed on a batch twice)."""
    counters = run_counters(stats)
    if finish_reason == "storage_full":
        return "storage_full"
    if finish_reason == "storage_error" or stats.get(PREFIX + "errors/storage_error"):
        return "storage_error"
    if counters["pages_fetched"] + counters["not_modified"] == 0 or finish_reason != "finished":
        return "failed"
    return "errors" if counters["errors"] else "ok"


class RunRecorder:
    """Scrapy extension writing the ``crawl_runs`` row of each spider run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path: str = crawler.settings.get("NEWS_DB_PATH")
        self.run_id: int | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        db = open_db(self.db_path)
        try:
            self.run_id = start_run(db, spider.name)
            self.started = time.monotonic()
        finally:
            db.close()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(PREFIX + "run_id", self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        status = run_status(stats, reason)
        self.crawler.stats.set_value(PREFIX + "status", status)
        counters = {**run_counters(stats), "duration_s": round(time.monotonic() - self.started, 3)}
        try:
            db = open_db(self.db_path)
            try:
                finish_run(db, self.run_id, status, reason, counters, stats)
            finally:
                db.close()
        except sqlite3.Error as exc:  # a full disk must not hide the crawl's own outcome
            logger.error("could not record run %s in %s: %s", self.run_id, self.db_path, exc)
