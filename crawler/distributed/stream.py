"""The wire format of distributed mode: Redis keys, the client, and the record Stream's entries.

Both sides import this module: the workers (crawler/distributed/worker.py, Scrapy) append
records, the single writer (crawler/distributed/ingest.py) reads them. It imports no Scrapy or
Twisted, so the writer loads neither.

An article entry carries its prepared form (storage/prepared.py), computed by the worker's
extraction process: the page compressed as it is stored and the MinHash signature. The writer
then only checks and stores them, the work the extraction pool exists to move off the one
process that writes. Entries are versioned (``v``):

- ``2``: ``data`` (the record as JSON), ``page`` (the page, zlib as stored), ``sig`` (the
  signature, absent for a text without words), ``format`` (:data:`storage.prepared.FORMAT`);
- ``1`` (no ``v`` field; written by workers before the prepared form travelled, or for an item
  that has none): ``data`` and ``html`` (the raw page, zlib level 1); the writer prepares it.

A version 2 entry whose ``format`` differs from the writer's (a worker on other MinHash
parameters) is prepared again by the writer from its page, never stored with a foreign
signature.
"""

from __future__ import annotations

import json
import os
import socket
import zlib
from dataclasses import asdict, replace
from typing import Any

import redis

from crawler.extract.items import ArticleItem, UrlEvent
from crawler.settings import DOWNLOAD_MAXSIZE
from storage.prepared import FORMAT, from_parts

# redis-py types every command as ``Awaitable[T] | T`` (its sync and asyncio clients share the
# annotations), which strict mypy cannot narrow: the client is handled untyped.
RedisClient = Any
INGEST_GROUP = "ingest"
# Largest raw page a record may carry once decompressed: the crawl's DOWNLOAD_MAXSIZE default.
MAX_PAGE_BYTES = DOWNLOAD_MAXSIZE
VERSION = b"2"


class Keys:
    """Redis key names, all under one prefix (``NEWS_REDIS_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.records = f"{prefix}:records"  # the Stream of finished records
        self.mirror_meta = f"{prefix}:known:meta"  # site -> time the mirror was published

    def base(self, spider: str) -> str:
        return f"{self.prefix}:{spider}"

    def run(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:run"

    def of_run(self, spider: str, run: str, what: str) -> str:
        return f"{self.prefix}:{spider}:{run}:{what}"

    def heartbeat(self, spider: str, worker: str = "") -> str:
        return f"{self.prefix}:worker:{spider}:{worker}"

    def known(self, site: str) -> str:
        return f"{self.prefix}:known:{site}"

    def resume(self, site: str) -> str:
        return f"{self.prefix}:resume:{site}"


def connect(url: str) -> RedisClient:
    """A client for ``url`` (bytes in, bytes out: records carry pages)."""
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def encode_record(item: Any, prepared: bool = True) -> dict[bytes, bytes] | None:
    """Stream fields of an article or URL event (None for anything else).

    An article with a prepared form is written as version 2 (its compressed page and signature
    travel as computed); without one, or with ``prepared=False`` (the old format, kept for the
    benchmark that compares the two), as version 1.
    """
    if isinstance(item, UrlEvent):
        return {b"type": b"url_event", b"data": json.dumps(asdict(item), ensure_ascii=False).encode()}
    if not isinstance(item, ArticleItem):
        return None
    data = {
        k: v for k, v in asdict(replace(item, raw_html=b"", prepared=None)).items() if k not in ("raw_html", "prepared")
    }
    fields = {b"type": b"article", b"data": json.dumps(data, ensure_ascii=False).encode()}
    form = item.prepared
    if not prepared or form is None:
        return {**fields, b"html": zlib.compress(item.raw_html, 1)}
    fields.update({b"v": VERSION, b"format": FORMAT.encode(), b"page": form.html_gz or b""})
    if form.signature is not None:
        fields[b"sig"] = form.signature
    return fields


def decode_record(fields: dict[bytes, bytes], max_html: int = MAX_PAGE_BYTES) -> ArticleItem | UrlEvent | None:
    """The item an :func:`encode_record` entry came from (None for an unknown type).

    Raises ValueError for an entry that cannot be one: bad JSON (nested too deep included), a
    signature of the wrong size, or a page that decompresses to more than ``max_html`` bytes (a
    zlib bomb: a few KB in Redis, gigabytes in memory, or in whatever later reads the stored
    page), which no crawl downloads (``DOWNLOAD_MAXSIZE``).
    """
    kind = fields.get(b"type")
    try:
        data = json.loads(fields.get(b"data", b"{}"))
    except RecursionError:
        raise ValueError("record JSON nested too deep") from None
    if not isinstance(data, dict):
        raise ValueError("record JSON is not an object")
    if kind == b"url_event":
        return UrlEvent(**data)
    if kind != b"article":
        return None
    version = fields.get(b"v", b"1")
    if version == b"1":
        return ArticleItem(**data, raw_html=_inflate(fields.get(b"html", b""), max_html))
    if version != VERSION:
        raise ValueError(f"record version {version!r} is not one this ingest reads (1, 2)")
    page = fields.get(b"page", b"")
    if fields.get(b"format", b"").decode(errors="replace") != FORMAT:
        # Another worker's MinHash parameters: prepare the page again here.
        return ArticleItem(**data, raw_html=_inflate(page, max_html))
    _inflate(page, max_html)  # checked, not kept: the page is stored compressed as it came
    item = ArticleItem(**data)
    return replace(item, prepared=from_parts(item.record(), page, fields.get(b"sig")))


def _inflate(data: bytes, limit: int) -> bytes:
    if not data:
        return b""
    inflater = zlib.decompressobj()
    try:
        page = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"page is not zlib data ({exc})") from None
    if len(page) > limit or inflater.unconsumed_tail:
        raise ValueError(f"page decompresses to more than {limit} bytes (DOWNLOAD_MAXSIZE)")
    return page
