"""The files a command reads and writes, checked before anything is opened (issue 22).

:func:`check_paths` runs in ``main`` for every command, before the command itself: the
database path must name a place a database can live (no ``:memory:``, no SQLite URI, no
device or directory), and no output (``-o``, ``--log-file``, ``-s LOG_FILE=``, the
``--incremental`` state file, the ``probe --json`` report) may name the database, its
``-wal``/``-shm``/``-journal``/``.lock`` companions or another output, by whatever path: a
symlink, a hard link or ``..`` are compared by resolved path and, for files that exist, by
(st_dev, st_ino). A refusal is one line, and nothing was opened, created or written.
"""

from __future__ import annotations

import argparse
import os
import stat
from dataclasses import dataclass

from crawler.cli.args import UsageError
from crawler.cli.common import db_path, pairs
from crawler.crawl.runner import project_settings
from storage.db import StorageError

# The files SQLite and the crawl lock keep beside a database (crawler/crawl/lock.py: ``.lock``).
COMPANIONS = ("", "-wal", "-shm", "-journal", ".lock")
# Argument destinations that name a file the command writes, with the option a person typed.
OUTPUT_OPTIONS = {"output": "-o", "log_file": "--log-file", "incremental": "--incremental", "json": "--json"}


@dataclass(frozen=True)
class Named:
    """A path as given (for the message) and what it is on disk."""

    label: str
    path: str
    real: str
    identity: tuple[int, int] | None  # (st_dev, st_ino) when the file exists
    device: bool  # a character device or FIFO: written straight into, shared harmlessly


def named(label: str, path: str) -> Named:
    real = os.path.realpath(path)
    try:
        info = os.stat(path)
    except OSError:
        return Named(label, path, real, None, False)
    shared = stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)
    return Named(label, path, real, (info.st_dev, info.st_ino), shared)


def same_file(a: Named, b: Named) -> bool:
    """Whether two paths name one file: the same resolved path, or the same inode."""
    return a.real == b.real or (a.identity is not None and a.identity == b.identity)


def check_db_path(path: str) -> None:
    """Refuse a database path that names no file a database can live in, before anything is
    created: SQLite's ``:memory:`` (a crawl would store nothing), a ``file:`` URI (opened as a
    file literally named so), a device, FIFO or socket, a directory."""
    if path == ":memory:" or path.startswith("file:"):
        raise StorageError(f"{path}: not a database path (an in-memory database or a SQLite URI stores nothing here)")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing: the command creates it, or says there is no such database
    if stat.S_ISDIR(mode):
        raise StorageError(f"{path}: is a directory, not a database file")
    if not stat.S_ISREG(mode):
        raise StorageError(f"{path}: is a device, FIFO or socket, not a database file")


def outputs(args: argparse.Namespace) -> list[Named]:
    """Every file ``args`` asks the command to write (``-`` and stdout are not files)."""
    found = []
    for dest, option in OUTPUT_OPTIONS.items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and value not in ("", "-"):
            found.append(named(f"{option} {value}", value))
    log_file = pairs(getattr(args, "set", None) or [], "--set").get("LOG_FILE")
    if log_file:
        found.append(named(f"-s LOG_FILE={log_file}", log_file))
    return found


def databases(args: argparse.Namespace) -> list[str]:
    """The database the command uses, and the demo database a reading command falls back to."""
    if "db" not in vars(args):
        return []
    found = [db_path(args)]
    settings = project_settings()
    if not args.db and settings.getbool("NEWS_DEMO_FALLBACK"):
        found.append(str(settings.get("NEWS_DEMO_DB_PATH")))
    return found


def check_paths(args: argparse.Namespace) -> None:
    """The checks of this module for one parsed command line (see the module docstring)."""
    dbs = databases(args)
    if dbs:
        check_db_path(dbs[0])
    protected = [
        named(f"the database {db}" if suffix == "" else f"the database's {db}{suffix}", f"{base}{suffix}")
        for db in dbs
        for base in dict.fromkeys((db, os.path.realpath(db)))
        for suffix in COMPANIONS
    ]
    written = outputs(args)
    for i, out in enumerate(written):
        for other in protected:
            if same_file(out, other):
                raise UsageError(f"{out.label}: is {other.label}; an output never replaces an input")
        for other in written[:i]:
            if not (out.device and other.device) and same_file(out, other):
                raise UsageError(f"{out.label}: is also {other.label}; each output needs its own file")
