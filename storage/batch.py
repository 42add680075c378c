"""Writing many records in one transaction: the crawl's batched storage path.

Each record goes through :func:`storage.articles.save_article` (aliases, versions, raw page)
or :func:`storage.crawlstate.log_url`, nested in one ``BEGIN IMMEDIATE`` transaction as a
savepoint each. A batch commits whole or not at all when SQLite itself fails (a full disk);
a record that fails on its own (a constraint) rolls back alone and the rest stands.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from storage import dedup
from storage.articles import SaveOutcome, save_article
from storage.crawlstate import log_url
from storage.db import is_disk_full, write_transaction


@dataclass(frozen=True)
class ArticleWrite:
    """The arguments of one :func:`save_article` call."""

    record: dict[str, Any]
    raw_html: bytes = field(default=b"", repr=False)
    fetched_url: str | None = None
    fetched_hash: str | None = None
    alias_reason: str | None = None


@dataclass(frozen=True)
class UrlWrite:
    """One ``url_log`` event (see :func:`log_url`)."""

    event: dict[str, Any]


Write = ArticleWrite | UrlWrite
# Per write: the save outcome, "logged" for a URL event, or the error that rolled it back alone.
Outcome = SaveOutcome | str | Exception


def save_one(db: sqlite_utils.Database, write: Write) -> SaveOutcome | str:
    """Store one write (in the caller's transaction if there is one, else in its own)."""
    if isinstance(write, UrlWrite):
        log_url(db, write.event)
        return "logged"
    r = write.record
    outcome = save_article(db, r, write.raw_html, write.fetched_url, write.fetched_hash, write.alias_reason)
    if outcome in ("new", "updated"):  # link copies of the story on other sites (or this one)
        dedup.index_article(db, r["url_hash"], r["site"], r["published_at"], dedup.dedup_text(r["lead"], r["body"]))
    return outcome


def save_articles(db: sqlite_utils.Database, writes: Sequence[Write]) -> list[Outcome]:
    """Store ``writes`` in order, in one transaction; one outcome per write.

    A full disk (or any error that ends the transaction) rolls the whole batch back and is
    raised; nothing of the batch is then stored.
    """
    outcomes: list[Outcome] = []
    with write_transaction(db):
        for write in writes:
            try:
                outcomes.append(save_one(db, write))
            except sqlite3.Error as exc:
                if is_disk_full(exc) or not db.conn.in_transaction:
                    raise
                outcomes.append(exc)  # its savepoint rolled back; the batch goes on
    return outcomes
