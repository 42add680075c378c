"""Writing many records in one transaction: the crawl's batched storage path.

A batch of article writes and URL events is stored in one ``BEGIN IMMEDIATE`` transaction, in a
fixed number of statements whatever its size: the articles through storage/writer.py (rows,
versions, aliases, pages), their near-duplicates through storage/dedup_index.py, the URL events
in one upsert. A batch commits whole or not at all when SQLite itself fails (a full disk). When
one record breaks a constraint, the batch is stored again record by record, each in a
savepoint: that record rolls back alone and the rest stands.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage.articles import now_iso
from storage.crawlstate import log_urls
from storage.db import is_disk_full, write_transaction
from storage.dedup import load_signature
from storage.dedup_index import Entry, index_batch
from storage.writer import ArticleWrite, SaveOutcome

__all__ = ["ArticleWrite", "Outcome", "UrlWrite", "Write", "save_batch", "save_one"]


@dataclass(frozen=True)
class UrlWrite:
    """One ``url_log`` event (the latest reason for a URL wins)."""

    event: dict[str, Any]


Write = ArticleWrite | UrlWrite
# Per write: the save outcome, "logged" for a URL event, or the error that rolled it back alone.
Outcome = SaveOutcome | str | Exception


def save_one(db: sqlite_utils.Database, write: Write) -> SaveOutcome | str:
    """Store one write (in the caller's transaction if there is one, else in its own)."""
    with write_transaction(db):
        [outcome] = _store(db, [write])
    assert not isinstance(outcome, Exception)
    return outcome


def save_batch(db: sqlite_utils.Database, writes: Sequence[Write]) -> list[Outcome]:
    """Store ``writes`` (articles and URL events) in order, in one transaction; one outcome per write.

    A full disk (or any error that ends the transaction) rolls the whole batch back and is
    raised; nothing of the batch is then stored.
    """
    with write_transaction(db):
        try:
            with db.atomic():  # a savepoint: the set-based attempt undoes itself on a constraint
                return list(_store(db, writes))
        except sqlite3.IntegrityError:
            if not db.conn.in_transaction:
                raise
        outcomes: list[Outcome] = []
        for write in writes:
            try:
                with db.atomic():
                    outcomes += _store(db, [write])
            except sqlite3.Error as exc:
                if is_disk_full(exc) or not db.conn.in_transaction:
                    raise
                outcomes.append(exc)  # its savepoint rolled back; the batch goes on
        return outcomes


def _store(db: sqlite_utils.Database, writes: Sequence[Write]) -> list[Outcome]:
    """Store ``writes`` set-based, in the caller's transaction."""
    from storage.writer import write_articles

    now = now_iso()
    articles = [w for w in writes if isinstance(w, ArticleWrite)]
    stored = iter(write_articles(db, articles, now))
    entries = []
    outcomes: list[Outcome] = []
    for write in writes:
        if isinstance(write, UrlWrite):
            outcomes.append("logged")
            continue
        outcome, prepared = next(stored)
        outcomes.append(outcome)
        if outcome in ("new", "updated") and prepared.signature is not None:
            r = write.record  # link copies of the story on other sites (or this one)
            sig = load_signature(prepared.signature)
            entries.append(Entry(r["url_hash"], r["site"], r["published_at"], sig, prepared.bands))
    index_batch(db, entries)
    log_urls(db, [w.event for w in writes if isinstance(w, UrlWrite)], now)
    return outcomes
