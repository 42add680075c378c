"""Storing article records: one row per canonical URL, versions kept, aliases recorded.

Every write is one transaction, so a crawl killed at any point leaves either the whole
article (row, version, raw page) or nothing of it.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import sqlite_utils

from storage.db import write_transaction
from storage.published import on_or_after
from storage.tables import REPLACED as _REPLACED

# NotArticle reasons that do not change on a refetch.
_VN = timezone(timedelta(hours=7))
SETTLED_DROPS = ("not_article_type", "not_article", "too_short", "no_title")
SaveOutcome = Literal["new", "duplicate", "updated", "alias"]
_JSON_FIELDS = ("authors", "tags", "images")
# Fields compared between versions to say what changed.
_VERSIONED = ("title", "lead", "body", "authors", "published_at", "category", "tags", "images")


def now_iso() -> str:
    """Current UTC time, ISO 8601, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def known_url_hashes(
    db: sqlite_utils.Database,
    site: str,
    recheck_days: float = 0,
    recheck_hours: float = 0,
    now: datetime | None = None,
) -> set[str]:
    """URL hashes (articles and their aliases) of ``site`` that need no fetch now.

    An article published within ``recheck_days`` whose last fetch is older than
    ``recheck_hours`` is due for a recheck, so it is left out of the set; so is an article
    whose stored text holds U+FFFD (a page that arrived with invalid bytes).
    """
    if not db["articles"].exists():
        return set()
    now = now or datetime.now(UTC)
    # published_at is stored in +07:00, fetched_at and first_seen_at in UTC: compare each in its
    # own offset. An undated article is young while its first sighting is; coalesce() keeps a
    # NULL comparison from making every undated article "due" on every run.
    young = now - timedelta(days=recheck_days)
    params = {
        "site": site,
        "days": recheck_days,
        "young_day": young.astimezone(_VN).date().isoformat(),
        "young_vn": young.astimezone(_VN).replace(microsecond=0).isoformat(),
        "young_utc": young.astimezone(UTC).replace(microsecond=0).isoformat(),
        "stale": (now - timedelta(hours=recheck_hours)).astimezone(UTC).replace(microsecond=0).isoformat(),
    }
    due = (
        f":days > 0 and fetched_at <= :stale and ({on_or_after('published_at', ':young_day', ':young_vn')} "
        "or (published_at is null and first_seen_at >= :young_utc))"
    )
    known = {
        row["url_hash"]
        for row in db.query(f"select url_hash from articles where site = :site and not coalesce({due}, 0)", params)
    }
    known -= {
        row["url_hash"] for row in db.query(f"select url_hash from articles where site = ? and {_REPLACED}", [site])
    }
    known |= {row["alias_hash"] for row in db.query("select alias_hash from aliases where site = ?", [site])}
    # Pages already found not to be articles (video, album, stub pages at article-shaped URLs)
    # are not fetched again; fetch errors and robots refusals are re-evaluated every run.
    marks = ", ".join("?" for _ in SETTLED_DROPS)
    known |= {
        row["url_hash"]
        for row in db.query(
            f"select url_hash from url_log where site = ? and outcome = 'dropped' and reason in ({marks})",
            [site, *SETTLED_DROPS],
        )
    }
    return known


def save_article(
    db: sqlite_utils.Database,
    record: dict[str, Any],
    raw_html: bytes = b"",
    fetched_url: str | None = None,
    fetched_hash: str | None = None,
    alias_reason: str | None = None,
) -> SaveOutcome:
    """Store one record (the fields of :data:`crawler.extract.items.RECORD_FIELDS`) in one transaction.

    - a new URL whose text equals an article already stored for the same site becomes an
      alias of that article (outcome ``alias``);
    - the same URL with the same content hash is a ``duplicate`` (only ``fetched_at`` moves);
    - a changed content hash stores a new version and keeps the old (``updated``);
    - ``fetched_hash``, the hash of the URL the page was fetched at, is recorded as an alias
      when it differs from the record's canonical URL (redirects, ``rel=canonical``).
    """
    row = {k: (json.dumps(v, ensure_ascii=False) if k in _JSON_FIELDS else v) for k, v in record.items()}
    fetched_at = row.get("fetched_at") or now_iso()
    row["fetched_at"] = fetched_at
    key = row["url_hash"]
    with write_transaction(db):
        existing = _get(db, "select * from articles where url_hash = ?", key)
        if existing is None:
            twin = _get(
                db,
                "select url_hash from articles where site = ? and content_hash = ? limit 1",
                row["site"],
                row["content_hash"],
            )
            if twin is not None:
                _alias(db, key, row["url"], twin["url_hash"], row["site"], "same_content", fetched_at)
                if fetched_hash and fetched_hash != key:
                    _alias(
                        db,
                        fetched_hash,
                        fetched_url or row["url"],
                        twin["url_hash"],
                        row["site"],
                        alias_reason or "redirect",
                        fetched_at,
                    )
                return "alias"
            outcome: SaveOutcome = "new"
            db.table("articles").insert({**row, "first_seen_at": fetched_at, "version": 1})
            _version(db, row, 1, [])
        elif existing["content_hash"] == row["content_hash"]:
            outcome = "duplicate"
            db.execute("update articles set fetched_at = ? where url_hash = ?", [fetched_at, key])
        else:
            outcome = "updated"
            version = int(existing["version"]) + 1
            changed = [f for f in _VERSIONED if existing.get(f) != row.get(f)]
            db.table("articles").update(key, {**row, "version": version})
            _version(db, row, version, changed)
        if fetched_hash and fetched_hash != key:
            _alias(
                db, fetched_hash, fetched_url or row["url"], key, row["site"], alias_reason or "redirect", fetched_at
            )
        if raw_html:
            db.table("pages").upsert(
                {
                    "url_hash": key,
                    "fetched_url": fetched_url or row["url"],
                    "fetched_at": fetched_at,
                    "html_gz": zlib.compress(raw_html, 6),
                },
                pk="url_hash",
            )
    return outcome


def _version(db: sqlite_utils.Database, row: dict[str, Any], version: int, changed: list[str]) -> None:
    db.table("article_versions").insert(
        {
            "url_hash": row["url_hash"],
            "version": version,
            "fetched_at": row["fetched_at"],
            "content_hash": row["content_hash"],
            "changed": json.dumps(changed),
            **{f: row.get(f) for f in ("title", "lead", "body", "authors", "published_at")},
        },
        replace=True,
    )


def _alias(
    db: sqlite_utils.Database, alias_hash: str, alias_url: str, url_hash: str, site: str, reason: str, at: str
) -> None:
    if alias_hash == url_hash:
        return
    db.execute(
        "insert or ignore into aliases (alias_hash, alias_url, url_hash, site, reason, first_seen_at) "
        "values (?, ?, ?, ?, ?, ?)",
        [alias_hash, alias_url, url_hash, site, reason, at],
    )


def _get(db: sqlite_utils.Database, sql: str, *params: Any) -> dict[str, Any] | None:
    return next(db.query(sql, list(params)), None)


def versions(db: sqlite_utils.Database, url_hash: str) -> list[dict[str, Any]]:
    """The stored versions of an article, oldest first."""
    return [
        decode_row(r)
        for r in db.query("select * from article_versions where url_hash = ? order by version", [url_hash])
    ]


def load_raw_html(db: sqlite_utils.Database, url_hash: str) -> bytes | None:
    """The stored page of an article, decompressed, or None."""
    row = _get(db, "select html_gz from pages where url_hash = ?", url_hash)
    return zlib.decompress(row["html_gz"]) if row else None


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns decoded."""
    decoded = dict(row)
    for k in (*_JSON_FIELDS, "changed"):
        if isinstance(decoded.get(k), str):
            decoded[k] = json.loads(decoded[k])
    return decoded
