"""Standard streams that are closed, full or gone (issue 22): one line and a documented code.

``newscrawl ... > /dev/full``, ``>&-`` (stdout closed), ``2>&-`` (stderr closed) and ``| head``
each used to end in a traceback (exit 70) or in errors printed to stdout. :func:`guarded`
wraps the command:

- A closed descriptor 0, 1 or 2 is given ``/dev/null`` first, so no file the command opens
  later (a database, a log) can become "stdout" or "stderr" and be written into. A closed
  stdout gets it read-only, so writing the results fails and is reported, not dropped.
- A write to stdout that fails raises :class:`StdoutError` once (one line on stderr: what
  failed and why; exit 1, as for output cut short); the rest of the output goes to
  ``/dev/null``, so Python's own flush at exit cannot fail again with a traceback. A reader
  that went away (``| head -1``) is said nothing about, as ``cat`` says nothing.
- A write to stderr that fails is dropped: there is nowhere left to say it.

A command whose output only reports on work it did (a crawl's summary table) uses
:func:`report_only`, so a lost table costs the line, not the crawl's own exit code.

Hand-written: neither argparse nor rich deals with a standard stream that cannot be written.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast


class StdoutError(OSError):
    """Writing the results to stdout failed; raised once, the message says why."""


def _describe(exc: OSError) -> str:
    if exc.errno == errno.EBADF:
        return "stdout is closed"
    return exc.strerror or str(exc)


class _Stdout:
    """sys.stdout that turns a failed write into :class:`StdoutError` once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.failed: OSError | None = None

    def _fail(self, exc: OSError) -> None:
        first = self.failed is None
        self.failed = exc
        _to_devnull(self._stream)
        if first and isinstance(exc, BrokenPipeError):
            raise exc  # the reader went away: the commands end quietly on it
        if first:
            raise StdoutError(exc.errno, _describe(exc)) from exc

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._fail(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._fail(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Stderr:
    """sys.stderr that drops what cannot be written (a full disk, a closed descriptor)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _to_devnull(stream: TextIO) -> None:
    """Point the descriptor behind ``stream`` (the real stdout) at /dev/null; a stream with no
    descriptor (a test's capture) is left alone."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def _occupy_closed_descriptors() -> None:
    for fd, name, flags in ((0, "stdin", os.O_RDONLY), (1, "stdout", os.O_RDONLY), (2, "stderr", os.O_WRONLY)):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, flags)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        mode = "r" if fd == 0 else "w"
        setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # lives as long as the process


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command with the standard streams guarded (see the module docstring)."""
    _occupy_closed_descriptors()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Stdout(stdout))
    sys.stderr = cast(TextIO, _Stderr(stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def finish() -> None:
    """Flush stdout now, while a failure can still be reported (raises :class:`StdoutError`)."""
    sys.stdout.flush()


def stdout_failed() -> OSError | None:
    """The write error stdout met in this command, if any."""
    return cast(Any, sys.stdout).failed if isinstance(sys.stdout, _Stdout) else None


def error_line(exc: StdoutError) -> str:
    """The one line to print for ``exc``."""
    return f"newscrawl: error: cannot write the results to stdout: {exc.strerror}"


@contextmanager
def report_only() -> Iterator[None]:
    """Output that only reports on work already done: a failure to write it is said in one
    line and does not change the command's exit code."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader went away: nothing to say, as `cat` says nothing
    except StdoutError as exc:
        print(error_line(exc), file=sys.stderr)
