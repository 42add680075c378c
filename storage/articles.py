"""Storing article records: one row per canonical URL, versions kept, aliases recorded.

Every write is one transaction, so a crawl killed at any point leaves either the whole
article (row, version, raw page) or nothing of it. The writing itself is storage/writer.py's.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from storage.db import write_transaction
from storage.prepared import JSON_FIELDS
from storage.published import on_or_after
from storage.tables import REPLACED as _REPLACED
from storage.when import VN_TZ
from storage.writer import ArticleWrite, SaveOutcome, write_articles

# Rejection reasons that do not change on a refetch.
SETTLED_DROPS = ("not_article_type", "not_article", "too_short", "no_title", "over_budget", "gone")
# Failures retried once: the second on the same URL settles it as the reason they map to
# (a page over the extraction budget twice, a link dead twice).
STRIKES = {
    "extract_timeout": "over_budget",
    "extract_crash": "over_budget",
    "extract_memory": "over_budget",
    "http_404": "gone",
    "http_410": "gone",
}


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
    due, params = _due(site, recheck_days, recheck_hours, now)
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


def due_for_recheck(
    db: sqlite_utils.Database,
    site: str,
    recheck_days: float,
    recheck_hours: float,
    now: datetime | None = None,
) -> list[str]:
    """URLs of ``site``'s articles due for a recheck (as :func:`known_url_hashes` leaves them
    out), oldest fetch first. A crawl requests them itself: discovery would reach them only
    through a feed or listing, and one that answers 304 lists nothing."""
    if not db["articles"].exists():
        return []
    due, params = _due(site, recheck_days, recheck_hours, now)
    sql = f"select url from articles where site = :site and coalesce({due}, 0) order by fetched_at, rowid"
    return [row["url"] for row in db.query(sql, params)]


def _due(site: str, recheck_days: float, recheck_hours: float, now: datetime | None) -> tuple[str, dict[str, Any]]:
    """SQL: an ``articles`` row is due for a recheck; and its parameters."""
    now = now or datetime.now(UTC)
    # published_at is stored in +07:00, fetched_at and first_seen_at in UTC: compare each in its
    # own offset. An undated article is young while its first sighting is; the callers'
    # coalesce() keeps a NULL comparison from making every undated article "due" on every run.
    young = now - timedelta(days=recheck_days)
    params = {
        "site": site,
        "days": recheck_days,
        "young_day": young.astimezone(VN_TZ).date().isoformat(),
        "young_vn": young.astimezone(VN_TZ).replace(microsecond=0).isoformat(),
        "young_utc": young.astimezone(UTC).replace(microsecond=0).isoformat(),
        "stale": (now - timedelta(hours=recheck_hours)).astimezone(UTC).replace(microsecond=0).isoformat(),
    }
    due = (
        f":days > 0 and fetched_at <= :stale and ({on_or_after('published_at', ':young_day', ':young_vn')} "
        "or (published_at is null and first_seen_at >= :young_utc))"
    )
    return due, params


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

    The batch writer (storage/writer.py) with a batch of one; the crawl stores whole batches
    through :func:`storage.batch.save_batch`, which also indexes near-duplicates.
    """

    write = ArticleWrite(record, raw_html, fetched_url, fetched_hash, alias_reason)
    with write_transaction(db):
        [(outcome, _)] = write_articles(db, [write], now_iso())
    return outcome


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
    for k in (*JSON_FIELDS, "changed"):
        if isinstance(decoded.get(k), str):
            decoded[k] = json.loads(decoded[k])
    return decoded
