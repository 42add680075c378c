"""The archive as a Python object: ``from storage import open_archive`` in a notebook.

It reads the same database as the ``newscrawl`` commands, through the same functions (export's
record iterator, the search of ``storage/search.py``), so a record here is the exported one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils

from storage.db import open_db
from storage.export import Selection, count_records, get_record, iter_records
from storage.search import search
from storage.text import hash_key


class Archive:
    """A newscrawl database: iterate its records, search them, look one up by URL."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.records()

    def __len__(self) -> int:
        return count_records(self.db)

    def records(self, site: str | None = None, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Exported records (README "Dumps"), oldest stored first; ``since`` bounds ``published_at``
        (an ISO time, ``2026-01-01T00:00:00+07:00``)."""
        return iter_records(self.db, site, since)

    def search(
        self, query: str, *, folded: bool = False, site: str | None = None, since: str | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Hits best first, as ``newscrawl search --json`` prints them (``title, site,
        published_at, url, snippet, score, url_hash``); ``folded`` ignores accents."""
        return [hit.record() for hit in search(self.db, query, folded=folded, site=site, since=since, limit=limit)]

    def get(self, url: str) -> dict[str, Any] | None:
        """The record stored at this canonical URL (as records and search hits spell it), or None."""
        return get_record(self.db, hash_key(url))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_archive(path: str | Path) -> Archive:
    """The database at ``path`` (it must exist; ``storage.db.StorageError`` otherwise)."""
    return Archive(open_db(path, create=False))


__all__ = ["Archive", "Selection", "open_archive"]
