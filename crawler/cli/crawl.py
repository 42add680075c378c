"""``newscrawl crawl``, ``schedule`` and ``runs``: crawling into the database and its run log."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from crawler.cli.args import bounded_int, check_base_url, check_redis_url, check_settings
from crawler.cli.common import (
    EXIT_LOCKED,
    EXIT_OK,
    UsageError,
    crawl_exit_code,
    db_help,
    db_path,
    pairs,
    parse_since,
    site_keys,
)
from crawler.crawl import runner
from crawler.crawl.lock import CrawlLock, LockHeld
from crawler.crawl.runner import project_settings
from crawler.distributed.worker import redis_settings, worker_results
from storage.db import StorageError, check_path, check_writable, open_db, set_busy_timeout
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
    overrides: dict[str, Any] = {"NEWS_DB_PATH": path, **settings_overrides}
    if args.redis:
        check_redis_url(args.redis, args.insecure_redis)
        overrides.update(redis_settings(args.redis, project_settings()))
    set_busy_timeout(project_settings(overrides).getfloat("NEWS_DB_BUSY_TIMEOUT", 30.0))
    check_path(Path(path))
    try:
        with CrawlLock(path):
            # Fail before fetching, in one line, on a database that could store nothing.
            db = open_db(path)
            try:
                check_writable(db, path)
                killed = mark_killed(db)
            finally:
                db.close()
            if killed:
                print(f"newscrawl: {killed} run(s) left 'running' by a killed crawl marked 'killed'", file=sys.stderr)
            results = runner.run_crawl(keys, base_urls, overrides, spider_args)
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:  # the lock file beside the database cannot be made
        raise StorageError(f"{path}: cannot take the crawl lock: {exc.strerror or exc}") from exc
    if args.redis:
        # A worker whose peers took every request fetched nothing, and that is fine.
        results = worker_results(results)
    return crawl_exit_code(results)


def cmd_schedule(args: argparse.Namespace) -> int:
    interval = _duration(args.every)
    command = [sys.executable, "-m", "crawler.cli", "crawl", *[a for a in args.crawl_args if a != "--"]]
    done = 0
    while not args.runs or done < args.runs:
        started = time.monotonic()
        code = subprocess.run(command, check=False).returncode
        done += 1
        print(f"newscrawl schedule: run {done} exited {code} after {time.monotonic() - started:.0f}s", file=sys.stderr)
        if args.runs and done >= args.runs:
            break
        # The next run starts one interval after this one started, or at once if it overran.
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return EXIT_OK


def _duration(value: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:].lower()
    if unit not in units or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise UsageError(f"--every must look like 30m, 1h or 90s, got {value!r}")
    seconds = float(number) * units[unit]
    if seconds > 366 * 86400:
        raise UsageError(f"--every must be at most a year, got {value!r}")
    return seconds


def cmd_runs(args: argparse.Namespace) -> int:
    db = open_db(db_path(args), readonly=True)
    rows = recent_runs(db, args.limit)
    db.close()
    print(
        f"{'id':>5} {'site':10} {'started_at':26} {'status':8} {'fetched':>8} {'new':>5} {'updated':>8} {'dropped':>8} {'errors':>7}"
    )
    for r in rows:
        print(
            f"{r['id']:>5} {r['site']:10} {r['started_at']:26} {r['status'] or '':8} {r['pages_fetched'] or 0:>8} "
            f"{r['articles_new'] or 0:>5} {r['articles_updated'] or 0:>8} {r['dropped'] or 0:>8} {r['errors'] or 0:>7}"
        )
    return EXIT_OK
