"""What the crawler remembers between runs besides articles: validators and the URL log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from storage.articles import now_iso
from storage.db import write_transaction


def load_validators(db: sqlite_utils.Database, urls: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """``url -> (etag, last_modified)`` for the entry points that have them."""
    if not urls:
        return {}
    marks = ", ".join("?" for _ in urls)
    rows = db.query(f"select url, etag, last_modified from http_cache where url in ({marks})", urls)
    return {row["url"]: (row["etag"], row["last_modified"]) for row in rows}


def save_validators(db: sqlite_utils.Database, validators: dict[str, tuple[str | None, str | None]]) -> None:
    """Remember entry points' validators; called only after a run that finished cleanly."""
    at = now_iso()
    with write_transaction(db):
        db.table("http_cache").upsert_all(
            [{"url": u, "etag": e, "last_modified": lm, "checked_at": at} for u, (e, lm) in validators.items()],
            pk="url",
        )


def log_url(db: sqlite_utils.Database, event: dict[str, Any]) -> None:
    """Record why a URL was not stored (the latest reason wins), in its own transaction."""
    with write_transaction(db):
        log_urls(db, [event], now_iso())


def log_urls(db: sqlite_utils.Database, events: Sequence[dict[str, Any]], now: str) -> None:
    """Upsert URL events into ``url_log`` (the latest reason wins), one statement per column
    set, in the caller's transaction: the one writer of ``url_log``, for a single event
    (:func:`log_url`) and for the batched path (``storage.batch.save_batch``) alike."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for event in events:
        row = {**event, "seen_at": now}
        groups.setdefault(tuple(row), []).append(tuple(row.values()))
    for columns, rows in groups.items():
        assigned = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "url_hash")
        db.conn.executemany(
            f"insert into url_log ({', '.join(columns)}) values ({', '.join('?' for _ in columns)}) "
            f"on conflict (url_hash) do update set {assigned}",
            rows,
        )


def url_events(db: sqlite_utils.Database, url_hash: str) -> dict[str, Any] | None:
    return next(db.query("select * from url_log where url_hash = ?", [url_hash]), None)


def unfinished_listings(db: sqlite_utils.Database, site: str) -> list[tuple[str, int]]:
    """``(listing path, page)`` of pagination pages a past run failed to read."""
    rows = db.query("select detail from url_log where site = ? and outcome = 'listing_error'", [site])
    found = [json.loads(row["detail"]) for row in rows]
    return [(str(d["path"]), int(d["page"])) for d in found]


def retry_urls(db: sqlite_utils.Database, site: str, settled: tuple[str, ...]) -> list[str]:
    """Article URLs a past run failed on (fetch errors, empty or challenge pages, off-site
    redirects) and that are still not stored: fetched again at the start of the next run, since
    discovery may never list them again (a 304 feed, a listing page of known articles)."""
    marks = ", ".join("?" for _ in settled)
    rows = db.query(
        "select url from url_log u where site = ? and outcome in ('error', 'dropped') "
        f"and reason not in ({marks}, 'robots') "
        "and not exists (select 1 from articles a where a.url_hash = u.url_hash) "
        "and not exists (select 1 from aliases s where s.alias_hash = u.url_hash) order by seen_at",
        [site, *settled],
    )
    return [row["url"] for row in rows]


def struck_urls(db: sqlite_utils.Database, site: str, reasons: Iterable[str]) -> set[str]:
    """url_hashes of ``site`` whose last logged failure is one of ``reasons`` (a first strike)."""
    marks = list(reasons)
    if not marks or not db["url_log"].exists():
        return set()
    rows = db.query(
        f"select url_hash from url_log where site = ? and reason in ({', '.join('?' for _ in marks)})",
        [site, *marks],
    )
    return {row["url_hash"] for row in rows}
