"""One crawl at a time per database: an advisory file lock beside it (filelock).

filelock's Unix lock is ``fcntl.flock``, released by the kernel when the process dies, even by
SIGKILL, so a killed crawl never leaves a stale lock behind; its fallback to a "soft" lock
file (which a kill would leave behind) is turned off. The lock is taken on the resolved
database path, so a symlink to the database and the database itself are the same lock.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout


class LockHeld(Exception):
    """Another process holds the crawl lock."""


def lock_path(db_path: str | Path) -> Path:
    """``<resolved database path>.lock``: every path to one database names one lock."""
    return Path(f"{Path(db_path).resolve()}.lock")


class CrawlLock:
    """Context manager around a non-blocking exclusive lock on ``<db path>.lock``; the holder's
    pid is written into the file, so a refused second crawl can say who holds it."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = lock_path(db_path)
        self._lock = FileLock(
            self.path, timeout=0, thread_local=False, fallback_to_soft=False, on_acquired=self._write_pid
        )

    @staticmethod
    def _write_pid(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)

    def __enter__(self) -> CrawlLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            try:
                holder = self.path.read_text(encoding="ascii", errors="replace").strip() or "unknown"
            except OSError:
                holder = "unknown"
            raise LockHeld(f"another crawl (pid {holder}) holds {self.path}") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._lock.is_locked:
            self._lock.release()
