"""The set-based article writer: a batch of records in a fixed number of statements.

Outcomes are those of storing the records one after another, in order
(:func:`storage.articles.save_article` documents them): the batch's current rows and same-text
twins are read in two queries, the outcomes are decided in Python against that state (kept up
to date as the batch goes, so a record sees the ones before it), and each table is written once
per batch with ``executemany``. Columns come from the records themselves: a field added to the
record reaches ``articles`` without a change here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlite_utils

from storage.prepared import PreparedArticle, prepare

SaveOutcome = Literal["new", "duplicate", "updated", "alias"]

# Fields compared between versions to say what changed.
VERSIONED = ("title", "lead", "body", "authors", "published_at", "category", "tags", "images")
_VERSION_COLUMNS = ("title", "lead", "body", "authors", "published_at")
_CHUNK = 500  # values per IN (...): below SQLite's bound-parameter limit


@dataclass(frozen=True)
class ArticleWrite:
    """One record to store, with its page and how it was reached.

    ``fetched_hash``, the hash of the URL the page was fetched at, is recorded as an alias when
    it differs from the record's canonical URL (``alias_reason``: redirect, canonical).
    ``prepared`` is :func:`storage.prepared.prepare` of the record, when the caller (the
    extraction worker) computed it already.
    """

    record: dict[str, Any]
    raw_html: bytes = field(default=b"", repr=False)
    fetched_url: str | None = None
    fetched_hash: str | None = None
    alias_reason: str | None = None
    prepared: PreparedArticle | None = field(default=None, repr=False, compare=False)


@dataclass
class _Tables:
    """The rows one batch writes, per table and statement, in the order they arose."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    refetched: list[tuple[str, str]] = field(default_factory=list)
    versions: list[tuple[Any, ...]] = field(default_factory=list)
    aliases: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    pages: list[tuple[str, str, str, bytes]] = field(default_factory=list)


def write_articles(
    db: sqlite_utils.Database, writes: Sequence[ArticleWrite], now: str
) -> list[tuple[SaveOutcome, PreparedArticle]]:
    """Store ``writes`` (in the caller's transaction); each one's outcome and prepared form.

    ``now`` stands in for a record without ``fetched_at``.
    """
    prepared = [w.prepared or prepare(w.record, w.raw_html) for w in writes]
    rows = [p.row(w.record) for w, p in zip(writes, prepared, strict=True)]
    for row in rows:
        row["fetched_at"] = row.get("fetched_at") or now
    current = _current(db, {r["url_hash"] for r in rows})
    twins = _twins(db, {r["content_hash"] for r in rows})
    out = _Tables()
    outcomes: list[tuple[SaveOutcome, PreparedArticle]] = []
    for write, prep, row in zip(writes, prepared, rows, strict=True):
        outcome = _decide(write, row, current, twins, out)
        if outcome != "alias" and prep.html_gz is not None:
            out.pages.append((row["url_hash"], write.fetched_url or row["url"], row["fetched_at"], prep.html_gz))
        outcomes.append((outcome, prep))
    _flush(db, out)
    return outcomes


def _decide(
    write: ArticleWrite,
    row: dict[str, Any],
    current: dict[str, dict[str, Any]],
    twins: dict[tuple[str, str], list[str]],
    out: _Tables,
) -> SaveOutcome:
    key, site, at = row["url_hash"], row["site"], row["fetched_at"]
    existing = current.get(key)
    outcome: SaveOutcome
    if existing is None:
        # The first stored row with this text, as the batch left it (an update may have moved one away).
        twin = next(
            (
                h
                for h in twins.get((site, row["content_hash"]), [])
                if h not in current or current[h]["content_hash"] == row["content_hash"]
            ),
            None,
        )
        if twin is not None:
            _alias(out, key, row["url"], twin, site, "same_content", at)
            if write.fetched_hash:
                reason = write.alias_reason or "redirect"
                _alias(out, write.fetched_hash, write.fetched_url or row["url"], twin, site, reason, at)
            return "alias"
        outcome = "new"
        out.inserts.append({**row, "first_seen_at": at, "version": 1})
        out.versions.append(_version(row, 1, []))
        current[key] = {**row, "version": 1}
        twins.setdefault((site, row["content_hash"]), []).append(key)
    elif existing["content_hash"] == row["content_hash"]:
        outcome = "duplicate"
        out.refetched.append((at, key))
    else:
        outcome = "updated"
        version = int(existing["version"]) + 1
        changed = [f for f in VERSIONED if existing.get(f) != row.get(f)]
        out.updates.append({**row, "version": version})
        out.versions.append(_version(row, version, changed))
        current[key] = {**row, "version": version}
        twins.setdefault((site, row["content_hash"]), []).append(key)
    if write.fetched_hash:
        _alias(
            out, write.fetched_hash, write.fetched_url or row["url"], key, site, write.alias_reason or "redirect", at
        )
    return outcome


def _alias(out: _Tables, alias_hash: str, alias_url: str, url_hash: str, site: str, reason: str, at: str) -> None:
    if alias_hash != url_hash:
        out.aliases.append((alias_hash, alias_url, url_hash, site, reason, at))


def _version(row: dict[str, Any], version: int, changed: list[str]) -> tuple[Any, ...]:
    return (
        row["url_hash"],
        version,
        row["fetched_at"],
        row["content_hash"],
        json.dumps(changed),
        *(row.get(f) for f in _VERSION_COLUMNS),
    )


def _flush(db: sqlite_utils.Database, out: _Tables) -> None:
    """One statement per table (and per column set) for the whole batch."""
    conn = db.conn
    for columns, rows in _by_columns(out.inserts):
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f"insert into articles ({', '.join(columns)}) values ({marks})", rows)
    for columns, rows in _by_columns(out.updates, last="url_hash"):
        assigned = ", ".join(f"{c} = ?" for c in columns[:-1])
        conn.executemany(f"update articles set {assigned} where url_hash = ?", rows)
    if out.refetched:
        conn.executemany("update articles set fetched_at = ? where url_hash = ?", out.refetched)
    if out.versions:
        names = ("url_hash", "version", "fetched_at", "content_hash", "changed", *_VERSION_COLUMNS)
        conn.executemany(
            f"insert or replace into article_versions ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            out.versions,
        )
    if out.aliases:
        conn.executemany(
            "insert or ignore into aliases (alias_hash, alias_url, url_hash, site, reason, first_seen_at) "
            "values (?, ?, ?, ?, ?, ?)",
            out.aliases,
        )
    if out.pages:
        conn.executemany(
            "insert into pages (url_hash, fetched_url, fetched_at, html_gz) values (?, ?, ?, ?) on conflict (url_hash) "
            "do update set fetched_url = excluded.fetched_url, fetched_at = excluded.fetched_at, html_gz = excluded.html_gz",
            out.pages,
        )


def _by_columns(
    rows: list[dict[str, Any]], last: str | None = None
) -> Iterable[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Rows grouped by their column set (in order of first appearance), as value tuples;
    ``last`` puts that column at the end (the WHERE of an UPDATE)."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(c for c in row if c != last) + ((last,) if last else ())
        groups.setdefault(columns, []).append(tuple(row[c] for c in columns))
    return groups.items()


def _current(db: sqlite_utils.Database, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of ``keys``: what outcomes and changed fields are decided against."""
    columns = ("url_hash", "content_hash", "version", *VERSIONED)
    found: dict[str, dict[str, Any]] = {}
    for rows in _chunked(db, f"select {', '.join(columns)} from articles where url_hash in", sorted(keys)):
        found.update((r[0], dict(zip(columns, r, strict=True))) for r in rows)
    return found


def _twins(db: sqlite_utils.Database, hashes: set[str]) -> dict[tuple[str, str], list[str]]:
    """``(site, content_hash) -> url_hashes`` in storage order: where a new URL's text is already stored."""
    twins: dict[tuple[str, str], list[str]] = {}
    sql = "select site, content_hash, url_hash from articles where content_hash in"
    for rows in _chunked(db, sql, sorted(hashes), order="rowid"):
        for site, content, key in rows:
            twins.setdefault((site, content), []).append(key)
    return twins


def _chunked(
    db: sqlite_utils.Database, sql: str, values: list[Any], order: str | None = None
) -> Iterable[list[tuple[Any, ...]]]:
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        suffix = f" order by {order}" if order else ""
        yield db.execute(f"{sql} ({', '.join('?' * len(chunk))}){suffix}", chunk).fetchall()
