"""Storing article records: one row per canonical URL, raw HTML kept compressed."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone
from typing import Any, Literal

import sqlite_utils

SaveOutcome = Literal["new", "duplicate", "updated"]
_JSON_FIELDS = ("authors", "tags", "images")


def now_iso() -> str:
    """Current UTC time, ISO 8601, whole seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def known_url_hashes(db: sqlite_utils.Database, site: str) -> set[str]:
    """URL hashes of the articles of ``site`` already stored (the spider's "seen" set)."""
    if not db["articles"].exists():
        return set()
    return {row["url_hash"] for row in db.query("select url_hash from articles where site = ?", [site])}


def save_article(db: sqlite_utils.Database, record: dict[str, Any], raw_html: bytes = b"", fetched_url: str | None = None) -> SaveOutcome:
    """Store one record (the fields of :data:`crawler.items.RECORD_FIELDS`) in one transaction.

    The same URL with the same content hash is a duplicate (only ``fetched_at`` moves); a new
    content hash replaces the stored fields and bumps ``version``.
    """
    row = {k: (json.dumps(v, ensure_ascii=False) if k in _JSON_FIELDS else v) for k, v in record.items()}
    fetched_at = row.get("fetched_at") or now_iso()
    row["fetched_at"] = fetched_at
    with db.atomic():
        existing = next(
            db.query("select content_hash, version from articles where url_hash = ?", [row["url_hash"]]),
            None,
        )
        if existing is None:
            outcome: SaveOutcome = "new"
            db["articles"].insert({**row, "first_seen_at": fetched_at, "version": 1})
        elif existing["content_hash"] == row["content_hash"]:
            outcome = "duplicate"
            db.execute("update articles set fetched_at = ? where url_hash = ?", [fetched_at, row["url_hash"]])
        else:
            outcome = "updated"
            db["articles"].update(row["url_hash"], {**row, "version": existing["version"] + 1})
        if raw_html:
            db["pages"].upsert(
                {
                    "url_hash": row["url_hash"],
                    "fetched_url": fetched_url or row["url"],
                    "fetched_at": fetched_at,
                    "html_gz": zlib.compress(raw_html, 6),
                },
                pk="url_hash",
            )
    return outcome


def load_raw_html(db: sqlite_utils.Database, url_hash: str) -> bytes | None:
    """The stored page of an article, decompressed, or None."""
    row = next(db.query("select html_gz from pages where url_hash = ?", [url_hash]), None)
    return zlib.decompress(row["html_gz"]) if row else None


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns decoded."""
    return {k: (json.loads(v) if k in _JSON_FIELDS and v is not None else v) for k, v in row.items()}
