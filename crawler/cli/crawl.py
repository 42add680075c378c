"""``newscrawl crawl``, ``schedule`` and ``runs``: crawling into the database and its run log."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

from crawler.cli.common import (
    EXIT_LOCKED,
    EXIT_OK,
    UsageError,
    crawl_exit_code,
    db_help,
    db_path,
    pairs,
    parse_since,
    read_db_path,
    site_keys,
)
from crawler.cli.console import (
    CrawlProgress,
    add_verbosity,
    plain_table,
    print_json,
    scrapy_log_settings,
    stdout_console,
    summary_rows,
    summary_table,
)
from crawler.crawl.lock import CrawlLock, LockHeld
from crawler.crawl.runner import project_settings, run_crawl, site_status
from crawler.distributed.worker import redis_settings, worker_results
from storage.db import open_db
from storage.runs import recent_runs


def register_crawl(sub: Any) -> None:
    """Add ``crawl`` and ``schedule`` to the ``newscrawl`` sub-parsers."""
    crawl = sub.add_parser("crawl", help="crawl sites into the database")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site keys (default: all)")
    crawl.add_argument("--db", help=db_help())
    crawl.add_argument(
        "--base-url", action="append", default=[], metavar="SITE=URL", help="crawl SITE at URL (a replica or mirror)"
    )
    crawl.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting"
    )
    crawl.add_argument("--backfill", action="store_true", help="walk listings deeper than the first known page")
    crawl.add_argument("--max-pages", type=int, metavar="N", help="listing pages per category (backfill bound)")
    crawl.add_argument("--until", metavar="DATE", help="backfill: stop at listing pages older than DATE")
    crawl.add_argument(
        "--redis",
        metavar="URL",
        help="distributed mode: share the frontier on this Redis; records go to `newscrawl ingest`",
    )
    add_verbosity(crawl)
    crawl.set_defaults(func=cmd_crawl)

    sched = sub.add_parser("schedule", help="run `crawl` in a fresh process every interval, never overlapping")
    sched.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 30m, 1h, 90s")
    sched.add_argument("--runs", type=int, default=0, metavar="N", help="stop after N runs (default: forever)")
    sched.add_argument("crawl_args", nargs=argparse.REMAINDER, help="arguments passed to `newscrawl crawl`")
    sched.set_defaults(func=cmd_schedule)


def register_runs(sub: Any) -> None:
    """Add ``runs`` to the ``newscrawl`` sub-parsers."""
    runs = sub.add_parser("runs", help="list recent crawl runs")
    runs.add_argument("--db", help="database path")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.set_defaults(func=cmd_runs)


def cmd_crawl(args: argparse.Namespace) -> int:
    keys = site_keys(args.sites)
    base_urls = pairs(args.base_url, "--base-url")
    site_keys(list(base_urls))
    until = parse_since(args.until, "--until")
    if args.max_pages is not None and args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1")
    path = db_path(args)
    spider_args = {"backfill": args.backfill, "max_pages": args.max_pages, "until": until}
    try:
        with CrawlLock(path):
            open_db(path).close()  # fail fast, in one line, on an unusable database
            overrides: dict[str, Any] = {"NEWS_DB_PATH": path, **scrapy_log_settings(args), **pairs(args.set, "--set")}
            if args.redis:
                overrides.update(redis_settings(args.redis, project_settings()))
            results = crawl_with_progress(args, keys, base_urls, overrides, spider_args)
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    if args.redis:
        # A worker whose peers took every request fetched nothing, and that is fine.
        results = worker_results(results)
    if not args.quiet:
        print_summary(path, results)
    return crawl_exit_code(results)


def crawl_with_progress(
    args: argparse.Namespace,
    keys: list[str],
    base_urls: dict[str, str],
    overrides: dict[str, Any],
    spider_args: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """:func:`run_crawl` with a live line per site on a terminal (not with ``-q``)."""
    if args.quiet or not sys.stderr.isatty():
        return run_crawl(keys, base_urls, overrides, spider_args)
    with CrawlProgress(keys) as progress:
        return run_crawl(keys, base_urls, overrides, spider_args, on_tick=progress)


def print_summary(path: str, results: dict[str, dict[str, Any]]) -> None:
    """The summary table on stdout: each site's status, run figures and articles now stored."""
    db = open_db(path)
    try:
        stored = {
            key: int(db.execute("select count(*) from articles where site = ?", [key]).fetchone()[0]) for key in results
        }
    finally:
        db.close()
    status = {key: site_status(stats) for key, stats in results.items()}
    stdout_console().print(summary_table(summary_rows(results, status, stored)))


def crawl_command(crawl_args: list[str]) -> list[str]:
    """The command line of one scheduled crawl: a fresh process (Twisted's reactor cannot restart)."""
    return [sys.executable, "-m", "crawler.cli", "crawl", *[a for a in crawl_args if a != "--"]]


def cmd_schedule(args: argparse.Namespace) -> int:
    """Run crawls one after another; SIGTERM or SIGINT is passed on to the running crawl,
    which stops cleanly (Scrapy's graceful shutdown), and then the schedule ends with its code."""
    interval = _duration(args.every)
    command = crawl_command(args.crawl_args)
    stop = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        del frame
        stop.set()
        for proc in child:
            if proc.poll() is None:
                proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    done, code = 0, EXIT_OK
    try:
        while not stop.is_set() and (not args.runs or done < args.runs):
            started = time.monotonic()
            proc = subprocess.Popen(command)
            child[:] = [proc]
            code = _wait(proc)
            done += 1
            print(
                f"newscrawl schedule: run {done} exited {code} after {time.monotonic() - started:.0f}s", file=sys.stderr
            )
            if stop.is_set() or (args.runs and done >= args.runs):
                break
            # The next run starts one interval after this one started, or at once if it overran.
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code if stop.is_set() else EXIT_OK


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The child's exit code, waiting through signals (which the handler passes on to it)."""
    while True:
        try:
            return proc.wait()
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for safety
            continue


def _duration(value: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:].lower()
    if unit not in units or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise UsageError(f"--every must look like 30m, 1h or 90s, got {value!r}")
    return float(number) * units[unit]


_RUN_COLUMNS = {
    "id": "id",
    "site": "site",
    "started_at": "started_at",
    "status": "status",
    "pages_fetched": "fetched",
    "articles_new": "new",
    "articles_updated": "updated",
    "dropped": "dropped",
    "errors": "errors",
}


def cmd_runs(args: argparse.Namespace) -> int:
    db = open_db(read_db_path(args), create=False)
    rows = recent_runs(db, args.limit)
    db.close()
    if args.json:
        for r in rows:
            print_json({k: r.get(k) for k in (*_RUN_COLUMNS, "finished_at", "articles_duplicate")})
        return EXIT_OK
    numbers = ("id", "fetched", "new", "updated", "dropped", "errors")
    table = plain_table(
        list(_RUN_COLUMNS.values()),
        ([r[k] if r[k] is not None else (0 if n in numbers else "") for k, n in _RUN_COLUMNS.items()] for r in rows),
        right=numbers,
    )
    stdout_console().print(table)
    return EXIT_OK
