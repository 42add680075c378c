"""Opening the database: WAL, busy timeout, migrations, and clear errors for bad paths.

Three ways in, by what the command may do to the file:

- ``open_db(path)``: create or migrate (``crawl``, ``ingest``, ``reextract``). A file that holds
  another application's tables is refused, never migrated; a new file whose migration fails is
  removed again, and the pending migrations of an existing one run in one transaction.
- ``open_db(path, create=False, migrate=False)``: write to an existing newscrawl database,
  as it is (``health --accept``, ``dupes --backfill``).
- ``open_db(path, readonly=True)``: read (``search``, ``export``, ``runs``...): SQLite's
  ``mode=ro``, so nothing, not even the journal mode, can change. A database an older version
  wrote is read as it is; a table it lacks is reported by the command, in one line.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from storage.schema import migrations

# Seconds a connection waits for another writer's lock before giving up: the default of
# open_db and of the crawl's NEWS_DB_BUSY_TIMEOUT setting (crawler/settings.py), defined here only.
BUSY_TIMEOUT = 30.0


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


def open_db(
    path: str | Path,
    *,
    create: bool = True,
    max_pages: int = 0,
    readonly: bool = False,
    migrate: bool = True,
    busy_timeout: float = BUSY_TIMEOUT,
) -> sqlite_utils.Database:
    """Open the database at ``path``; ``":memory:"`` for a throwaway one.

    ``create`` makes a missing file; ``migrate`` brings an older newscrawl database up to date;
    ``readonly`` opens with ``mode=ro`` and never migrates. Raises :class:`StorageError` (one line naming the file) for a path that is not
    a database, another application's database, a corrupt file, a missing file when ``create``
    is False, or a place where no file can be made. ``max_pages`` > 0 caps the file at that
    many pages (``PRAGMA max_page_count``): a storage quota, and how tests make a full disk.
    ``busy_timeout`` is how many seconds a statement waits for another writer's lock (a crawl
    passes its ``NEWS_DB_BUSY_TIMEOUT`` setting).
    """
    busy_ms = max(0, int(busy_timeout * 1000))
    if str(path) == ":memory:":
        db = sqlite_utils.Database(memory=True)
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db)
        if max_pages:
            db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        return db
    target = Path(path)
    if readonly:
        return _open_readonly(target, busy_ms)
    check_path(target)
    fresh = not target.exists()
    if fresh and not create:
        raise StorageError(f"{target}: no such database")
    made_dirs = _missing_parents(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(target), timeout=busy_ms / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"{target}: cannot open database: {_reason(exc)}") from exc
    db = sqlite_utils.Database(conn)
    try:
        db.execute(f"PRAGMA busy_timeout = {busy_ms}")
        empty = _check_newscrawl(db, target, allow_empty=create)
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        if (migrate or empty) and migrations.pending(db):
            # One transaction for every pending migration: a failure leaves the file as it was.
            with write_transaction(db):
                migrations.apply(db)
        if max_pages:
            db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
    except (sqlite3.Error, StorageError, OSError) as exc:
        db.close()
        if fresh:
            _remove(target, made_dirs)
        if isinstance(exc, StorageError):
            raise
        raise StorageError(_describe(target, exc, busy_ms)) from exc
    return db


def check_writable(db: sqlite_utils.Database, path: str | Path) -> None:
    """Fail now, in one line, when ``db`` cannot be written: a read-only or immutable file, or
    another process holding the write lock longer than the busy timeout.

    A crawl calls this before fetching anything, so a database that could store nothing is
    refused at once instead of after every page was downloaded.
    """
    busy_ms = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
    try:
        with write_transaction(db):
            # A write of the header (the same value back), rolled back below: SQLite only
            # reports a read-only file when a page is actually written.
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute(f"PRAGMA user_version = {version}")
            raise _Rollback
    except _Rollback:
        return
    except sqlite3.Error as exc:
        raise StorageError(_describe(path, exc, busy_ms)) from exc


def _describe(path: str | Path, exc: BaseException, busy_ms: int) -> str:
    """One line saying why the database at ``path`` (waiting ``busy_ms`` for a lock) cannot be used."""
    message = str(exc).lower()
    if "locked" in message or "busy" in message:
        return (
            f"{path}: database is busy: another process held its write lock for more than "
            f"{busy_ms / 1000:g} s; nothing was done"
        )
    if "readonly" in message or "read-only" in message:
        return f"{path}: database is read-only (the file, or its directory, cannot be written)"
    return f"{path}: not a usable SQLite database ({_reason(exc)})"


class _Rollback(Exception):
    """Ends :func:`check_writable`'s probe transaction without committing it."""


def check_path(target: Path) -> None:
    """Refuse, in one line, a path where no database can live: a directory, a path under a
    regular file, a pseudo-filesystem (``/proc``, ``/sys``), a directory we cannot write."""
    if target.is_dir():
        raise StorageError(f"{target}: is a directory, not a database file")
    parent = _existing_parent(target)
    if not parent.is_dir():
        raise StorageError(f"{target}: {parent} is not a directory")
    if str(parent.resolve()).startswith(("/proc", "/sys")):
        raise StorageError(f"{target}: cannot hold a database ({parent.resolve()} is a kernel pseudo-filesystem)")
    if not target.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise StorageError(f"{target}: cannot create the database ({parent} is not writable)")


def _open_readonly(target: Path, busy_ms: int) -> sqlite_utils.Database:
    if not target.exists():
        raise StorageError(f"{target}: no such database")
    if target.is_dir():
        raise StorageError(f"{target}: is a directory, not a database file")
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_ms / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"{target}: cannot open database: {_reason(exc)}") from exc
    db = sqlite_utils.Database(conn)
    try:
        db.execute(f"PRAGMA busy_timeout = {busy_ms}")
        _check_newscrawl(db, target, allow_empty=False)
    except (sqlite3.Error, StorageError) as exc:
        db.close()
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"{target}: not a usable SQLite database ({_reason(exc)})") from exc
    return db


def _check_newscrawl(db: sqlite_utils.Database, target: Path, allow_empty: bool) -> bool:
    """True for an empty database (no tables yet); raise unless it is a newscrawl one."""
    tables = db.table_names()
    if not tables and allow_empty:
        return True
    if migrations.applied(db):
        return False
    if not tables:
        raise StorageError(f"{target}: not a newscrawl database (it is empty); run `newscrawl crawl` to fill it")
    shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
    raise StorageError(f"{target}: not a newscrawl database (it holds other tables: {shown}); nothing was changed")


def _existing_parent(target: Path) -> Path:
    parent = target.parent if str(target.parent) else Path(".")
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _missing_parents(target: Path) -> list[Path]:
    missing = []
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return missing


def _remove(target: Path, made_dirs: list[Path]) -> None:
    """Take back a database file this call created (and the folders made for it)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    for folder in made_dirs:
        try:
            folder.rmdir()
        except OSError:
            break


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
