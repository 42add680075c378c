"""The single writer of distributed mode: records from the Redis Stream into SQLite.

Workers append finished records (articles with their raw page, URL events) to the Stream
``<prefix>:records``; this process reads them through the consumer group ``ingest`` and stores
each read batch in one transaction with the same code as the storage pipeline
(``storage.batch.save_batch``: aliases, versions, near-duplicate clusters, URL events). Delivery is at least once: an entry is
acknowledged (and deleted from the Stream) only after its SQLite transaction committed, and on
start the entries a killed predecessor had read but not acknowledged are claimed and stored
first. Writes are idempotent (a replayed record is a ``duplicate``, an alias or URL event is
upserted), so a replay doubles nothing.

After each batch that stored something, and every ``mirror_every`` seconds, the set of known
url_hashes per site (``storage.articles.known_url_hashes``, recheck window included) and the
unfinished listing pages are published to Redis for the workers (crawler/distributed/worker.py).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import redis
import sqlite_utils

from crawler.distributed.stream import (
    INGEST_GROUP,
    MAX_PAGE_BYTES,
    Keys,
    RedisClient,
    connect,
    decode_record,
    worker_id,
)
from crawler.extract.items import ArticleItem, UrlEvent, article_write
from crawler.sites.registry import sites
from storage.articles import known_url_hashes
from storage.batch import UrlWrite, Write, save_batch
from storage.crawlstate import unfinished_listings

logger = logging.getLogger(__name__)


@dataclass
class IngestConfig:
    """How the ingest loop runs; seconds for all durations.

    ``prefix`` and the recheck window come from the settings (``NEWS_REDIS_PREFIX``,
    ``NEWS_RECHECK_DAYS``, ``NEWS_RECHECK_HOURS``): see :meth:`from_settings`.
    """

    prefix: str
    recheck_days: float
    recheck_hours: float
    batch: int  # entries read (and committed, then acknowledged) at a time
    idle_exit: float = 0.0  # > 0: exit after this long with nothing to read (cron, tests)
    block: float = 1.0  # wait for new entries this long per read
    mirror_every: float = 60.0  # republish the known-articles mirror at least this often
    max_page_bytes: int = MAX_PAGE_BYTES  # a record's page decompressing to more is refused

    @classmethod
    def from_settings(cls, settings: Any, batch: int | None = None, idle_exit: float = 0.0) -> IngestConfig:
        """The ingest's settings; ``batch`` (``--batch``) overrides ``NEWS_INGEST_BATCH``."""
        return cls(
            prefix=settings.get("NEWS_REDIS_PREFIX"),
            recheck_days=settings.getfloat("NEWS_RECHECK_DAYS"),
            recheck_hours=settings.getfloat("NEWS_RECHECK_HOURS"),
            batch=batch or settings.getint("NEWS_INGEST_BATCH"),
            idle_exit=idle_exit,
            max_page_bytes=settings.getint("DOWNLOAD_MAXSIZE") or MAX_PAGE_BYTES,
        )


@dataclass
class IngestStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    entries: int = 0
    batches: int = 0
    claimed: int = 0


class Ingest:
    """Reads the record Stream into one SQLite database; ``stop()`` ends it after the batch."""

    def __init__(self, server: RedisClient, db: sqlite_utils.Database, config: IngestConfig) -> None:
        self.server = server
        self.db = db
        self.config = config
        self.keys = Keys(config.prefix)
        self.consumer = worker_id()
        self.stats = IngestStats()
        self._stop = threading.Event()
        self._mirrored_at = 0.0
        self._dirty = False  # articles stored since the mirror was last published

    def stop(self, *_: Any) -> None:
        self._stop.set()

    def run(self) -> IngestStats:
        self._ensure_group()
        self.publish_mirror()
        self._claim_pending()
        idle_since = time.monotonic()
        while not self._stop.is_set():
            entries = self._read(">")
            if entries:
                self._store(entries)
                idle_since = time.monotonic()
            since = time.monotonic() - self._mirrored_at
            # Fresh soon after a change (a worker starting now must not refetch what is stored),
            # but not rebuilt after every batch of a busy stream.
            if (self._dirty and (not entries or since >= 2.0)) or since >= self.config.mirror_every:
                self.publish_mirror()
            if not entries and self.config.idle_exit and time.monotonic() - idle_since >= self.config.idle_exit:
                break
        return self.stats

    def publish_mirror(self) -> None:
        """Replace each site's known-url_hash set in Redis (atomically, by RENAME)."""
        now = datetime.now(UTC)
        pipe = self.server.pipeline(transaction=True)
        for site in sites():
            known = known_url_hashes(self.db, site, self.config.recheck_days, self.config.recheck_hours, now)
            temp = f"{self.keys.known(site)}:new"
            pipe.delete(temp)
            if known:
                pipe.sadd(temp, *known)
                pipe.rename(temp, self.keys.known(site))
            else:
                pipe.delete(self.keys.known(site))
            pipe.set(self.keys.resume(site), json.dumps(unfinished_listings(self.db, site)))
            pipe.hset(self.keys.mirror_meta, site, now.isoformat())
        pipe.execute()
        self._mirrored_at = time.monotonic()
        self._dirty = False

    # --- internals ------------------------------------------------------------------------

    def _ensure_group(self) -> None:
        try:
            self.server.xgroup_create(self.keys.records, INGEST_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _claim_pending(self) -> None:
        """Take over what a killed ingest read but never acknowledged, and store it first."""
        start = "0-0"
        while not self._stop.is_set():
            start, entries, _ = self.server.xautoclaim(
                self.keys.records, INGEST_GROUP, self.consumer, 0, start, count=self.config.batch
            )
            entries = [(i, f) for i, f in entries if f]  # deleted entries come back empty
            if entries:
                self.stats.claimed += len(entries)
                self._store(entries)
            if start in (b"0-0", "0-0"):
                break
        logger.info("ingest: %d pending entries claimed", self.stats.claimed)
        if self._dirty:
            self.publish_mirror()

    def _read(self, last: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
        block = int(self.config.block * 1000) or None
        answer = self.server.xreadgroup(
            INGEST_GROUP, self.consumer, {self.keys.records: last}, count=self.config.batch, block=block
        )
        return [entry for _, entries in answer or [] for entry in entries]

    def _store(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Store a read batch in one transaction (the pipeline's batched path), then acknowledge it."""
        writes: list[Write] = []
        for _, fields in entries:
            decoded = self._decode(fields)
            if isinstance(decoded, str):
                self.stats.outcomes[decoded] += 1
            else:
                writes.append(decoded)
        outcomes = save_batch(self.db, writes)
        for write, outcome in zip(writes, outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.error("ingest: not stored (%s): %s", outcome, write)
                outcome = "failed"
            self.stats.outcomes["url_event" if outcome == "logged" else str(outcome)] += 1
        stored_articles = any(o in ("new", "updated", "alias", "logged") for o in outcomes)
        ids = [entry_id for entry_id, _ in entries]
        pipe = self.server.pipeline(transaction=True)
        pipe.xack(self.keys.records, INGEST_GROUP, *ids)
        pipe.xdel(self.keys.records, *ids)
        pipe.execute()
        self.stats.entries += len(entries)
        self.stats.batches += 1
        self._dirty = self._dirty or stored_articles

    def _decode(self, fields: dict[bytes, bytes]) -> Write | str:
        """The write of a Stream entry, or why there is none."""
        try:
            item = decode_record(fields, self.config.max_page_bytes or MAX_PAGE_BYTES)
        except (ValueError, TypeError) as exc:
            logger.error("ingest: undecodable record dropped: %s", exc)
            return "undecodable"
        if isinstance(item, UrlEvent):
            return UrlWrite(dict(vars(item)))
        if not isinstance(item, ArticleItem):
            return "unknown"
        if item.missing_fields():
            return "invalid_record"
        # The storage pipeline's own path: versions, aliases and near-duplicate clusters alike.
        return article_write(item)


def run_ingest(url: str, db: sqlite_utils.Database, config: IngestConfig) -> IngestStats:
    """Run until SIGTERM/SIGINT (the current batch is finished and acknowledged first)."""
    ingest = Ingest(connect(url), db, config)

    def _stop(signum: int, frame: FrameType | None) -> None:
        ingest.stop()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return ingest.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
