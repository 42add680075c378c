"""Thin pipeline: validate the record, then hand it to storage/."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawler.items import ArticleItem, UrlEvent
from crawler.urls import url_hash
from storage.articles import save_article
from storage.crawlstate import log_url
from storage.db import is_disk_full, open_db

logger = logging.getLogger(__name__)

_REQUIRED = ("site", "url", "title", "body", "url_hash", "content_hash")


class StoragePipeline:
    """Stores each article once per canonical URL; counts new / duplicate / updated."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path: str = crawler.settings.get("NEWS_DB_PATH")
        self.db: sqlite_utils.Database | None = None
        self.full = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = open_db(self.db_path, max_pages=self.crawler.settings.getint("NEWS_DB_MAX_PAGES"))

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def process_item(self, item: Any) -> Any:
        if self.full:
            raise DropItem("storage is full; the crawl is stopping")
        try:
            return self._store(item)
        except sqlite3.OperationalError as exc:
            if not is_disk_full(exc):
                raise
            self._stop_for_full_disk(exc)
            raise DropItem(f"storage full, not stored: {getattr(item, 'url', item)}") from exc

    def _stop_for_full_disk(self, exc: Exception) -> None:
        # The article's transaction rolled back whole; stop before fetching more pages that
        # could not be stored either. The next run, with space again, picks them up.
        self.full = True
        self._count("errors/storage_full")
        logger.error("database %s is full (%s): stopping the crawl; nothing half-written", self.db_path, exc)
        engine = self.crawler.engine
        assert engine is not None
        deferred_from_coro(engine.close_spider_async(reason="storage_full"))

    def _store(self, item: Any) -> Any:
        if isinstance(item, UrlEvent):
            assert self.db is not None
            log_url(self.db, {k: v for k, v in vars(item).items()})
            return item
        if not isinstance(item, ArticleItem):
            return item
        record = item.record()
        missing = [name for name in _REQUIRED if not record.get(name)]
        if missing:
            self._count("dropped/invalid_record")
            raise DropItem(f"record without {', '.join(missing)}: {item.url}")
        assert self.db is not None
        fetched_hash = url_hash(item.fetched_url) if item.fetched_url else None
        outcome = save_article(self.db, record, item.raw_html, item.fetched_url, fetched_hash, item.alias_reason)
        self._count(f"articles/{outcome}")
        return item

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/{key}")
