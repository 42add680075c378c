"""Streaming export of stored records as JSON lines (constant memory, stable field order)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

from storage.articles import decode_row

# Field order of an exported record (the article record of crawler/items.py, plus bookkeeping).
EXPORT_FIELDS: tuple[str, ...] = (
    "site",
    "url",
    "title",
    "lead",
    "body",
    "authors",
    "published_at",
    "published_at_raw",
    "category",
    "tags",
    "images",
    "language",
    "extractor",
    "url_hash",
    "content_hash",
    "fetched_at",
    "first_seen_at",
    "version",
)


def iter_records(
    db: sqlite_utils.Database, site: str | None = None, since: str | None = None
) -> Iterator[dict[str, Any]]:
    """Stored records in insertion order, filtered by site and publication time (``>= since``)."""
    where, params = [], []
    if site:
        where.append("site = ?")
        params.append(site)
    if since:
        where.append("published_at >= ?")
        params.append(since)
    sql = f"select {', '.join(EXPORT_FIELDS)} from articles"
    if where:
        sql += " where " + " and ".join(where)
    for row in db.query(sql + " order by rowid", params):
        yield decode_row(row)


@contextmanager
def open_output(target: str) -> Iterator[TextIO]:
    """``-`` for stdout, a ``.gz`` path for gzip, any other path for plain UTF-8 text."""
    if target == "-":
        yield sys.stdout
        return
    path = Path(target)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            yield handle
    else:
        with open(path, "w", encoding="utf-8") as handle:
            yield handle


def write_jsonl(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """Write one JSON object per line; return the count."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
