"""The ``newscrawl`` parser and ``main``: one sub-command module per group, in help order."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from importlib.metadata import PackageNotFoundError, version

from crawler.cli import articles, crawl, data, distributed, health, probe, reextract, replica, streams
from crawler.cli.args import Parser
from crawler.cli.common import UsageError
from crawler.cli.paths import check_paths
from crawler.crawl.runner import SettingError, project_settings
from crawler.exit_codes import EXIT_ERRORS, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_STORAGE, EXIT_USAGE
from storage.db import StorageError


def main(argv: list[str] | None = None) -> int:
    with streams.guarded():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        # The environment's settings are read and checked here, before the parser (whose help
        # shows the database path) and before any command: a bad value is one line, exit 2.
        project_settings()
    except SettingError as exc:
        print(f"newscrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        check_paths(args)
        code = int(args.func(args))
        streams.finish()
        return code
    except BrokenPipeError:
        # The reader went away (`newscrawl search ... | head`): end quietly, as `cat` does, and
        # keep Python from complaining while it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS
    except streams.StdoutError as exc:
        print(streams.error_line(exc), file=sys.stderr)
        return EXIT_ERRORS
    except UsageError as exc:
        print(f"newscrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SettingError as exc:
        print(f"newscrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"newscrawl: error: {exc}{_missing_hint(exc)}", file=sys.stderr)
        return EXIT_STORAGE
    except sqlite3.Error as exc:
        where = getattr(args, "db", None) or "the database"
        hint = " (written by an older newscrawl? `newscrawl crawl` updates it)" if "no such" in str(exc) else ""
        print(f"newscrawl: error: {where}: {exc}{hint}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        print("newscrawl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        import traceback

        traceback.print_exc()
        print(f"newscrawl: internal error (exit {EXIT_INTERNAL}); the traceback above says where", file=sys.stderr)
        return EXIT_INTERNAL


def _missing_hint(exc: StorageError) -> str:
    """Where a relative database path was looked for: the default ``data/news.sqlite3`` is
    relative to the folder a command runs in, so from elsewhere it names no file."""
    text = str(exc)
    if not text.endswith("no such database"):
        return ""
    path = text.removesuffix(": no such database")
    if os.path.isabs(path):
        return ""
    return f" (looked in {os.getcwd()}: run newscrawl from the project folder, or give --db /full/path or NEWS_DB_PATH)"


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newscrawl", description="Crawl Vietnamese public-security news into SQLite.")
    parser.add_argument("--version", action="version", version=f"newscrawl {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    crawl.register_crawl(sub)
    articles.register_lookup(sub)
    data.register(sub)
    health.register(sub)
    distributed.register(sub)
    reextract.register(sub)
    articles.register_extract(sub)
    replica.register(sub)
    probe.register(sub)
    crawl.register_runs(sub)
    return parser


def _version() -> str:
    try:
        return version("newscrawl")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
