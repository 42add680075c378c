"""Opening the database: WAL, busy timeout, migrations, and clear errors for bad paths."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from storage.schema import migrations

BUSY_TIMEOUT_MS = 30_000


class StorageError(Exception):
    """The database cannot be used; the message names the file and says why, in one line."""


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock at its start (``BEGIN IMMEDIATE``).

    sqlite-utils' ``atomic()`` begins a deferred transaction; one that reads first and then
    writes cannot wait for another writer (SQLite answers "database is locked" at once to
    avoid a deadlock). Taking the lock up front lets the busy timeout do its work.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise


def is_disk_full(error: BaseException) -> bool:
    """Whether a SQLite error means no space is left (disk full or the page-count cap)."""
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error).lower()


def open_db(path: str | Path, *, create: bool = True, max_pages: int = 0) -> sqlite_utils.Database:
    """Open (and migrate) the database at ``path``; ``":memory:"`` for a throwaway one.

    Raises :class:`StorageError` for a path that is not a database, a corrupt file, a missing
    file when ``create`` is False, or a directory that cannot be created. ``max_pages`` > 0
    caps the file at that many pages (``PRAGMA max_page_count``): a storage quota, and how
    tests make a full disk.
    """
    if str(path) == ":memory:":
        db = sqlite_utils.Database(memory=True)
    else:
        target = Path(path)
        if not target.exists() and not create:
            raise StorageError(f"{target}: no such database")
        if target.is_dir():
            raise StorageError(f"{target}: is a directory, not a database file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"{target}: cannot open database: {exc}") from exc
        db = sqlite_utils.Database(conn)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if str(path) != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db)
        if max_pages:
            db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StorageError(f"{path}: not a usable SQLite database ({exc})") from exc
    return db
