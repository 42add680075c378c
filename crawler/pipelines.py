"""Thin pipeline: validate the record, then hand it to storage/."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, UrlEvent
from crawler.urls import url_hash
from storage.articles import save_article
from storage.crawlstate import log_url
from storage.db import open_db

_REQUIRED = ("site", "url", "title", "body", "url_hash", "content_hash")


class StoragePipeline:
    """Stores each article once per canonical URL; counts new / duplicate / updated."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path: str = crawler.settings.get("NEWS_DB_PATH")
        self.db: sqlite_utils.Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = open_db(self.db_path)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def process_item(self, item: Any) -> Any:
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
