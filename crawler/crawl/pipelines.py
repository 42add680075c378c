"""Thin pipeline: validate the record, then hand it to storage/ in batches.

Records are written in transactions of up to ``NEWS_STORE_BATCH`` records, at the latest
``NEWS_STORE_FLUSH_SECONDS`` after the first record of the batch arrived, and at spider close
(storage/batch.py). A process killed meanwhile loses only the unflushed records, which are not
"known" and so are fetched again by the next run; nothing committed is lost. A batch leaves
``pending`` only once committed: a failing database is retried once, then the crawl stops
(``storage_error``, exit 5) with the batch's URLs in the log and in ``url_log``.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, cast

import sqlite_utils
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawler.extract.items import ArticleItem, UrlEvent, article_write
from storage.batch import ArticleWrite, UrlWrite, Write, save_batch, save_one
from storage.db import is_disk_full, open_db

logger = logging.getLogger(__name__)


class StoragePipeline:
    """Stores each article once per canonical URL; counts new / duplicate / updated."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.db_path: str = settings.get("NEWS_DB_PATH")
        self.batch_size = max(1, settings.getint("NEWS_STORE_BATCH"))
        self.flush_seconds = settings.getfloat("NEWS_STORE_FLUSH_SECONDS")
        self.db: sqlite_utils.Database | None = None
        self.full = False  # the database is full: the crawl is stopping
        self.stopped = False  # the database failed: the crawl is stopping
        self.closing = False
        self.pending: list[Write] = []
        self._timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipeline = cls(crawler)
        # The last batch is written when the spider runs out of work, before it closes, so a
        # full disk met there still ends the run as "storage_full" (exit 5).
        crawler.signals.connect(pipeline._flush_due, signal=signals.spider_idle)
        return pipeline

    def open_spider(self) -> None:
        settings = self.crawler.settings
        self.db = open_db(
            self.db_path,
            max_pages=settings.getint("NEWS_DB_MAX_PAGES"),
            busy_timeout=settings.getfloat("NEWS_DB_BUSY_TIMEOUT"),
        )

    def close_spider(self) -> None:
        self.closing = True
        if self.db is not None:
            self.flush()
            self.db.close()
            self.db = None

    def process_item(self, item: Any) -> Any:
        if self.full or self.stopped:
            raise DropItem("storage failed; the crawl is stopping")
        write = self._write(item)
        if write is None:
            return item
        self.pending.append(write)
        if len(self.pending) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            # Imported at first use: importing the reactor at module level would install
            # Twisted's default one before Scrapy installs the asyncio reactor it is set to use.
            from twisted.internet import reactor

            self._timer = cast(Any, reactor).callLater(self.flush_seconds, self._flush_due)
        return item

    def _write(self, item: Any) -> Write | None:
        if isinstance(item, UrlEvent):
            return UrlWrite(dict(vars(item)))
        if not isinstance(item, ArticleItem):
            return None
        missing = item.missing_fields()
        if missing:
            self._count("dropped/invalid_record")
            raise DropItem(f"record without {', '.join(missing)}: {item.url}")
        return article_write(item)

    def _flush_due(self) -> None:
        self._timer = None
        if self.db is not None:
            self.flush()

    def flush(self) -> None:
        """Write the pending records in one transaction.

        The batch stays pending until it is committed. A full disk stores what still fits and
        stops the crawl; any other SQLite error is retried once, then stops the crawl with the
        batch's URLs logged for the next run (exit 5 either way).
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        batch = self.pending
        if not batch or self.stopped or self.full:
            return
        assert self.db is not None
        try:
            outcomes = self._save(batch)
        except sqlite3.OperationalError as exc:
            if not is_disk_full(exc):
                self._stop_for_storage_error(exc, batch)
                return
            # The batch rolled back whole. Store what still fits, one record per transaction
            # as before batching, so no article is half-written; then stop.
            outcomes = self._store_singly(batch)
            self._stop_for_full_disk(exc, len(batch) - len(outcomes))
        self.pending = []
        for write, outcome in zip(batch, outcomes, strict=False):
            if isinstance(outcome, Exception):
                logger.error("not stored (%s): %s", outcome, _url(write))
            elif isinstance(write, ArticleWrite):
                self._count(f"articles/{outcome}")

    def _save(self, batch: list[Write]) -> list[Any]:
        """:func:`save_batch`, once more after an error that is not a full disk (a lock held
        past the busy timeout, an I/O error): the transaction rolled back whole, so the retry
        writes the same batch from scratch."""
        assert self.db is not None
        try:
            return save_batch(self.db, batch)
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc):
                raise
            logger.warning("storing %d record(s) failed (%s); trying once more", len(batch), exc)
            return save_batch(self.db, batch)

    def _store_singly(self, batch: list[Write]) -> list[Any]:
        assert self.db is not None
        outcomes: list[Any] = []
        for write in batch:
            try:
                outcomes.append(save_one(self.db, write))
            except sqlite3.OperationalError as exc:
                if not is_disk_full(exc):
                    raise
                break
        return outcomes

    def _stop_for_full_disk(self, exc: Exception, lost: int) -> None:
        # Stop before fetching more pages that could not be stored either. The next run, with
        # space again, fetches the records that were not stored: they are not "known".
        self.full = True
        self._count("errors/storage_full")
        logger.error(
            "database %s is full (%s): stopping the crawl; %d record(s) not stored, nothing half-written",
            self.db_path,
            exc,
            lost,
        )
        self._close_spider("storage_full")

    def _stop_for_storage_error(self, exc: Exception, batch: list[Write]) -> None:
        """The database failed twice on this batch: stop, and leave the next run the URLs."""
        self.stopped = True
        self._count("errors/storage_error")
        urls = [_url(w) for w in batch if isinstance(w, ArticleWrite)]
        logger.error(
            "database %s failed twice (%s): stopping the crawl; %d article(s) not stored, fetched again next run: %s",
            self.db_path,
            exc,
            len(urls),
            " ".join(urls),
        )
        # Not "known", they are fetched again next run if discovery lists them; the URL log
        # makes sure of it (retry_urls). The database may refuse this too: the log line stays.
        events = [
            UrlWrite({**_event(w.record), "outcome": "error", "reason": "storage_error", "detail": str(exc)})
            for w in batch
            if isinstance(w, ArticleWrite)
        ]
        assert self.db is not None
        try:
            save_batch(self.db, events)
        except sqlite3.Error as again:
            logger.error("could not log them in url_log either: %s", again)
        if not self.closing:
            self._close_spider("storage_error")

    def _close_spider(self, reason: str) -> None:
        engine = self.crawler.engine
        assert engine is not None
        deferred_from_coro(engine.close_spider_async(reason=reason))

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/{key}")


def _event(record: dict[str, Any]) -> dict[str, Any]:
    return {"site": record["site"], "url": record["url"], "url_hash": record["url_hash"]}


def _url(write: Write) -> str:
    return str(write.event.get("url") if isinstance(write, UrlWrite) else write.record.get("url"))
