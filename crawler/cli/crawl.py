"""``newscrawl crawl``, ``schedule`` and ``runs``: crawling into the database and its run log."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from crawler.cli.args import bounded_int, check_base_url, check_redis_url, check_settings
from crawler.cli.common import (
    UsageError,
    crawl_exit_code,
    db_help,
    db_path,
    pairs,
    parse_since,
    read_db_path,
    site_keys,
)
from crawler.cli.progress import (
    CrawlProgress,
    add_verbosity,
    plain_table,
    print_json,
    scrapy_log_settings,
    stdout_console,
    summary_rows,
    summary_table,
)
from crawler.cli.streams import report_only
from crawler.crawl import runner
from crawler.crawl.lock import CrawlLock, LockHeld
from crawler.crawl.runner import project_settings
from crawler.distributed.stream import connect
from crawler.distributed.worker import redis_settings, worker_results
from crawler.exit_codes import EXIT_LOCKED, EXIT_OK
from storage.db import StorageError, check_path, check_writable, open_db
from storage.runs import mark_killed, recent_runs


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
    crawl.add_argument(
        "--max-pages", type=bounded_int(1, 1_000_000), metavar="N", help="listing pages per category (backfill bound)"
    )
    crawl.add_argument("--until", metavar="DATE", help="backfill: stop at listing pages older than DATE")
    crawl.add_argument(
        "--redis",
        metavar="URL",
        help="distributed mode: share the frontier on this Redis; records go to `newscrawl ingest`",
    )
    crawl.add_argument(
        "--insecure-redis", action="store_true", help="allow a Redis on another machine without a password"
    )
    add_verbosity(crawl)
    crawl.set_defaults(func=cmd_crawl)

    sched = sub.add_parser("schedule", help="run `crawl` in a fresh process every interval, never overlapping")
    sched.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 30m, 1h, 90s")
    sched.add_argument(
        "--runs", type=bounded_int(0), default=0, metavar="N", help="stop after N runs (default: forever)"
    )
    sched.add_argument("crawl_args", nargs=argparse.REMAINDER, help="arguments passed to `newscrawl crawl`")
    sched.set_defaults(func=cmd_schedule)


def register_runs(sub: Any) -> None:
    """Add ``runs`` to the ``newscrawl`` sub-parsers."""
    runs = sub.add_parser("runs", help="list recent crawl runs")
    runs.add_argument("--db", help="database path")
    runs.add_argument("--limit", type=bounded_int(1), default=20, metavar="N", help="at most N runs (default 20)")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.set_defaults(func=cmd_runs)


def cmd_crawl(args: argparse.Namespace) -> int:
    # Every argument is checked before the database, the lock or the network is touched.
    keys = site_keys(args.sites)
    base_urls = {site: check_base_url(site, url) for site, url in pairs(args.base_url, "--base-url").items()}
    site_keys(list(base_urls))
    until = parse_since(args.until, "--until")
    path = db_path(args)
    spider_args = {"backfill": args.backfill, "max_pages": args.max_pages, "until": until}
    settings_overrides = pairs(args.set, "--set")
    check_settings(settings_overrides, project_settings())
    overrides: dict[str, Any] = {"NEWS_DB_PATH": path, **scrapy_log_settings(args), **settings_overrides}
    if args.redis:
        check_redis_url(args.redis, args.insecure_redis)
        check_redis_up(args.redis)
        overrides.update(redis_settings(args.redis, project_settings()))
    busy_timeout = project_settings(overrides).getfloat("NEWS_DB_BUSY_TIMEOUT")
    check_path(Path(path))
    header = run_header(keys, path)
    if not args.quiet:
        with report_only():  # a closed or full stdout does not stop the crawl
            print(header, flush=True)
    try:
        with CrawlLock(path):
            # Fail before fetching, in one line, on a database that could store nothing.
            db = open_db(path, busy_timeout=busy_timeout)
            try:
                check_writable(db, path)
                killed = mark_killed(db)
            finally:
                db.close()
            if killed:
                print(f"newscrawl: {killed} run(s) left 'running' by a killed crawl marked 'killed'", file=sys.stderr)
            results = crawl_with_progress(args, keys, base_urls, overrides, spider_args)
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:  # the lock file beside the database cannot be made
        raise StorageError(f"{path}: cannot take the crawl lock: {exc.strerror or exc}") from exc
    if args.redis:
        # A worker whose peers took every request fetched nothing, and that is fine.
        results = worker_results(results)
    if not args.quiet:
        with report_only():  # a summary that cannot be printed does not change the crawl's code
            print_summary(path, results)
    elif any(runner.site_status(stats) != "ok" for stats in results.values()):
        with report_only():
            print(header, file=sys.stderr)  # -q: a log holds only failures, each under its run's line
    return crawl_exit_code(results)


def run_header(keys: list[str], path: str) -> str:
    """The first line of a run's output: when it started (local time with its offset, so runs
    appended to one cron log stay apart and in order), which sites, into which database."""
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    return f"newscrawl crawl {started}: {' '.join(keys)} into {path}"


def check_redis_up(url: str) -> None:
    """One line (exit 2) when the shared queue's Redis does not answer, before the lock, the
    database or Scrapy are touched: in the crawl itself it is a page of Twisted tracebacks."""
    import redis

    try:
        connect(url).ping()
    except redis.RedisError as exc:
        raise UsageError(f"--redis {url}: {exc}") from exc


def crawl_with_progress(
    args: argparse.Namespace,
    keys: list[str],
    base_urls: dict[str, str],
    overrides: dict[str, Any],
    spider_args: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """:func:`runner.run_crawl` with a live line per site on a terminal (not with ``-q``)."""
    if args.quiet or not sys.stderr.isatty():
        return runner.run_crawl(keys, base_urls, overrides, spider_args)
    with CrawlProgress(keys) as progress:
        return runner.run_crawl(keys, base_urls, overrides, spider_args, on_tick=progress)


def print_summary(path: str, results: dict[str, dict[str, Any]]) -> None:
    """The summary table on stdout: each site's status, run figures and articles now stored."""
    db = open_db(path, readonly=True)
    try:
        stored = {
            key: int(db.execute("select count(*) from articles where site = ?", [key]).fetchone()[0]) for key in results
        }
    finally:
        db.close()
    status = {key: runner.site_status(stats) for key, stats in results.items()}
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
            code = proc.wait()  # PEP 475: a signal (passed on above) does not cut the wait short
            done += 1
            now = datetime.now().astimezone().isoformat(timespec="seconds")
            elapsed = time.monotonic() - started
            print(f"newscrawl schedule {now}: run {done} exited {code} after {elapsed:.0f}s", file=sys.stderr)
            if stop.is_set() or (args.runs and done >= args.runs):
                break
            # The next run starts one interval after this one started, or at once if it overran.
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code if stop.is_set() else EXIT_OK


def _duration(value: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:].lower()
    if unit not in units or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise UsageError(f"--every must look like 30m, 1h or 90s, got {value!r}")
    seconds = float(number) * units[unit]
    if seconds > 366 * 86400:
        raise UsageError(f"--every must be at most a year, got {value!r}")
    return seconds


_RUN_COLUMNS = {
    "id": "id",
    "site": "site",
    "started_at": "started_at",
    "status": "status",
    "pages_fetched": "fetched",
    "articles_new": "new",
    "articles_updated": "updated",
    "articles_duplicate": "unchanged",
    "not_modified": "not_modified",
    "dropped": "dropped",
    "errors": "errors",
}


def cmd_runs(args: argparse.Namespace) -> int:
    db = open_db(read_db_path(args), readonly=True)
    rows = recent_runs(db, args.limit)
    db.close()
    if args.json:
        for r in rows:
            print_json({k: r.get(k) for k in (*_RUN_COLUMNS, "finished_at")})
        return EXIT_OK
    numbers = ("id", "fetched", "new", "updated", "unchanged", "not_modified", "dropped", "errors")
    table = plain_table(
        list(_RUN_COLUMNS.values()),
        ([r[k] if r[k] is not None else (0 if n in numbers else "") for k, n in _RUN_COLUMNS.items()] for r in rows),
        right=numbers,
    )
    stdout_console().print(table)
    return EXIT_OK
