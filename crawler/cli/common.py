"""What every ``newscrawl`` command shares: exit codes, the usage error, the database path, site keys.

The exit codes are documented in the README; a command returns one of them, raises
:class:`UsageError` for a bad argument (one line, exit 2) or lets ``storage.db.StorageError``
through (one line, exit 5; both are caught in :func:`crawler.cli.app.main`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler.cli.args import UsageError as UsageError  # re-exported: the commands import it from here
from crawler.crawl.middlewares import UNREACHABLE_STAT
from crawler.crawl.quality import UNHEALTHY_STAT
from crawler.crawl.runner import project_settings, site_status
from crawler.exit_codes import EXIT_ERRORS, EXIT_INTERRUPTED, EXIT_NOTHING, EXIT_OK, EXIT_STORAGE, EXIT_UNHEALTHY
from crawler.sites.registry import sites
from storage.when import DateError, parse_when


def db_help() -> str:
    """Help text of ``--db``: the default is the ``NEWS_DB_PATH`` setting, shown as it is now."""
    return f"database path (default: the NEWS_DB_PATH setting, now {project_settings().get('NEWS_DB_PATH')})"


def db_path(args: argparse.Namespace) -> str:
    """``--db``, else the ``NEWS_DB_PATH`` setting (crawler/settings.py holds its default)."""
    return str(args.db or project_settings().get("NEWS_DB_PATH"))


def read_db_path(args: argparse.Namespace) -> str:
    """The database a reading command uses: :func:`db_path`, or the demo database while the
    default one does not exist yet and nothing named another (``NEWS_DEMO_FALLBACK``); the
    fallback is said on stderr, so nobody mistakes the demo's articles for a real crawl's."""
    path = db_path(args)
    settings = project_settings()
    demo = str(settings.get("NEWS_DEMO_DB_PATH"))
    if args.db or not settings.getbool("NEWS_DEMO_FALLBACK") or Path(path).exists() or not Path(demo).exists():
        return path
    print(f"newscrawl: {path} does not exist yet; using the demo database {demo} (--db to choose)", file=sys.stderr)
    return demo


def site_keys(requested: list[str]) -> list[str]:
    """``requested`` when every key is a known site (all sites when empty); else a UsageError."""
    known = sites()
    unknown = [k for k in requested if k not in known]
    if unknown:
        raise UsageError(f"unknown site {', '.join(unknown)} (known: {', '.join(known)})")
    return requested or list(known)


def pairs(values: list[str], what: str) -> dict[str, str]:
    """``NAME=VALUE`` arguments as a dict; a UsageError naming ``what`` for a malformed one."""
    found = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise UsageError(f"{what} must be NAME=VALUE, got {value!r}")
        found[name] = rest
    return found


def url_argument(url: str) -> str:
    """The canonical form of a URL given on the command line, or a one-line refusal."""
    from crawler.extract.urls import canonical_url

    try:
        return canonical_url(url)
    except ValueError as exc:
        raise UsageError(f"{url}: not a valid URL ({exc})") from None


def parse_since(value: str | None, option: str) -> str | None:
    """A date given to ``option`` as Vietnam-time ISO: a whole day starts at its midnight there.
    ISO, day-first (``24/09/2025``) and relative (``yesterday``, ``7d``): ``storage/when.py``."""
    if value is None:
        return None
    try:
        return parse_when(value)
    except DateError as exc:
        raise UsageError(f"{option} {exc}") from None


def parse_until(value: str | None, option: str) -> str | None:
    """As :func:`parse_since`, but a whole day ends at its last second (an inclusive end)."""
    if value is None:
        return None
    try:
        return parse_when(value, end=True)
    except DateError as exc:
        raise UsageError(f"{option} {exc}") from None


def crawl_exit_code(results: dict[str, dict[str, Any]]) -> int:
    """5 (storage) wins over 7 (interrupted), 7 over 3 (nothing fetched), 3 over 6 (unhealthy
    extraction), and 6 over 1 (errors)."""
    statuses = {key: site_status(stats) for key, stats in results.items()}
    if "storage_error" in statuses.values():
        print("newscrawl: error: the database could not be written; the crawl stopped (see the log)", file=sys.stderr)
        return EXIT_STORAGE
    if "storage_full" in statuses.values():
        print("newscrawl: error: the database is full; the crawl stopped (free space and run again)", file=sys.stderr)
        return EXIT_STORAGE
    if "interrupted" in statuses.values():
        fetched = sum(int(s.get("downloader/response_status_count/200", 0)) for s in results.values())
        print(
            f"newscrawl: interrupted by a signal after {fetched} pages; what was stored is kept, "
            "the next run picks up the rest",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    for key, status in statuses.items():
        if status == "failed":
            print(f"newscrawl: {key}: nothing could be fetched ({_error_summary(results[key])})", file=sys.stderr)
    code = _exit_code({k: site_status(s) for k, s in results.items()})
    if code != EXIT_NOTHING and any(s.get(UNHEALTHY_STAT) for s in results.values()):
        return EXIT_UNHEALTHY
    return code


def _error_summary(stats: dict[str, Any]) -> str:
    if stats.get(UNREACHABLE_STAT):
        return f"unreachable: {stats[UNREACHABLE_STAT]}; stopped at its first request, the next run tries again"
    errors = {k.removeprefix("newscrawl/errors/"): v for k, v in stats.items() if k.startswith("newscrawl/errors/")}
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(errors.items())) or "no page answered"


def _exit_code(statuses: dict[str, str]) -> int:
    values = set(statuses.values())
    if values == {"failed"}:
        return EXIT_NOTHING
    return EXIT_OK if values == {"ok"} else EXIT_ERRORS
