"""Opening the database: WAL, busy timeout, migrations, and clear errors for bad paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from storage.schema import migrations

BUSY_TIMEOUT_MS = 30_000


class StorageError(Exception):
    """The database cannot be used; the message names the file and says why, in one line."""


def open_db(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the database at ``path``; ``":memory:"`` for a throwaway one.

    Raises :class:`StorageError` for a path that is not a database, a corrupt file, a missing
    file when ``create`` is False, or a directory that cannot be created.
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
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StorageError(f"{path}: not a usable SQLite database ({exc})") from exc
    return db
