"""The archive as a Python object: ``from storage import open_archive`` in a notebook.

It reads the same database as the ``newscrawl`` commands, through the same functions (export's
record iterator, the search of ``storage/search.py``), so a record here is the exported one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils

from storage.db import open_db
from storage.export import Selection, count_records, get_record, iter_selected
from storage.search import match_expression, search
from storage.text import hash_key
from storage.urls import canonical_url
from storage.when import DateError, parse_when


class Archive:
    """A newscrawl database: iterate its records, search them, look one up by URL.

    Arguments are checked as the ``newscrawl`` commands check them, and a bad one raises a
    ``ValueError`` saying which and why (never an empty answer): dates are the ones the CLI
    takes (``2025-09-24``, ``24/09/2025``, ``yesterday``, ``7d``: ``storage/when.py``), a
    query is ``newscrawl search`` syntax, a URL is cleaned of tracking parameters first.
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.records()

    def __len__(self) -> int:
        return count_records(self.db)

    def records(
        self,
        site: str | Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        query: str | None = None,
        folded: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Exported records (README "Dumps"), oldest stored first: of ``site`` (one key or
        several), published between ``since`` and ``until`` (inclusive), matching ``query``."""
        selection = Selection(
            _sites(site), _date(since, "since"), until=_date(until, "until", end=True), query=query, folded=folded
        )
        if query is not None:
            match_expression(_text(query, "query"), folded)  # a QueryError now, not at the first next()
        return iter_selected(self.db, selection)

    def search(
        self,
        query: str,
        *,
        folded: bool = False,
        site: str | Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = 20,
        sort: str = "relevance",
    ) -> list[dict[str, Any]]:
        """Hits best first (``sort="date"``: newest first), as ``newscrawl search --json``
        prints them (``title, site, published_at, url, snippet, score, url_hash``); ``folded``
        ignores accents; ``limit`` None returns every hit."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ValueError(f"limit must be a whole number >= 1 or None, got {limit!r}")
        if sort not in ("relevance", "date"):
            raise ValueError(f"sort must be 'relevance' or 'date', got {sort!r}")
        hits = search(
            self.db,
            _text(query, "query"),
            folded=folded,
            site=_sites(site),
            since=_date(since, "since"),
            until=_date(until, "until", end=True),
            limit=limit,
            sort="date" if sort == "date" else "relevance",
        )
        return [hit.record() for hit in hits]

    def get(self, url: str) -> dict[str, Any] | None:
        """The record stored at ``url`` (tracking parameters and fragment dropped, as
        ``newscrawl explain`` does), or None."""
        return get_record(self.db, hash_key(canonical_url(_text(url, "url"))))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _date(value: str | None, name: str, end: bool = False) -> str | None:
    if value is None:
        return None
    try:
        return parse_when(_text(value, name), end=end)
    except DateError as exc:
        raise DateError(f"{name} {exc}") from None


def _sites(site: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    if site is None or isinstance(site, str):
        return site
    keys = tuple(site)
    if not all(isinstance(key, str) for key in keys):
        raise ValueError(f"site must be a site key or a list of them, got {site!r}")
    return keys


def open_archive(path: str | Path) -> Archive:
    """The database at ``path`` (it must exist; ``storage.db.StorageError`` otherwise)."""
    return Archive(open_db(path, create=False))


__all__ = ["Archive", "Selection", "open_archive"]
