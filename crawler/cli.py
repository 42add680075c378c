"""The ``newscrawl`` command."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from crawler import cli_data, cli_health, cli_perf, cli_redis
from crawler.extraction import NotArticle, extract
from crawler.registry import sites
from crawler.urls import canonical_url

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_ERRORS = 1  # finished, but some fetches failed
EXIT_USAGE = 2  # bad arguments (argparse's own code)
EXIT_NOTHING = 3  # nothing could be fetched
EXIT_LOCKED = 4  # another crawl holds the lock
EXIT_STORAGE = 5  # the database cannot be used
EXIT_UNHEALTHY = 6  # a site's extraction failed the quality gate (crawler/quality.py)

DEFAULT_DB = "data/news.sqlite3"


class UsageError(Exception):
    """A bad argument the parser could not catch; printed as one line, exit 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"newscrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _storage_error() as exc:
        print(f"newscrawl: error: {exc}", file=sys.stderr)
        return EXIT_STORAGE


def _storage_error() -> type[Exception]:
    from storage.db import StorageError

    return StorageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawl", description="Crawl Vietnamese public-security news into SQLite.")
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl sites into the database")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site keys (default: all)")
    crawl.add_argument("--db", help=f"database path (default: $NEWS_DB_PATH or {DEFAULT_DB})")
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
    crawl.set_defaults(func=cmd_crawl)

    sched = sub.add_parser("schedule", help="run `crawl` in a fresh process every interval, never overlapping")
    sched.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 30m, 1h, 90s")
    sched.add_argument("--runs", type=int, default=0, metavar="N", help="stop after N runs (default: forever)")
    sched.add_argument("crawl_args", nargs=argparse.REMAINDER, help="arguments passed to `newscrawl crawl`")
    sched.set_defaults(func=cmd_schedule)

    hist = sub.add_parser("history", help="the stored versions of an article")
    hist.add_argument("url")
    hist.add_argument("--db", help="database path")
    hist.set_defaults(func=cmd_history)

    expl = sub.add_parser("explain", help="what the crawler knows of a URL")
    expl.add_argument("url")
    expl.add_argument("--db", help="database path")
    expl.set_defaults(func=cmd_explain)

    cli_data.register(sub)
    cli_health.register(sub)
    cli_redis.register(sub)
    cli_perf.register(sub)

    ext = sub.add_parser("extract", help="extract one saved page and print its record as JSON")
    ext.add_argument("--site", help="site key (default: the generic extractor)")
    ext.add_argument("--url", required=True, help="the page's URL")
    ext.add_argument("file", help="saved HTML file")
    ext.set_defaults(func=cmd_extract)

    rep = sub.add_parser("replica", help="serve the local site replicas")
    rep.add_argument("--site", action="append", help="only this site (repeatable)")
    rep.add_argument("--port", type=int, default=0, help="first port (default: any free port)")
    rep.add_argument("--faults", type=float, default=0.0, metavar="RATE", help="fault this share of responses (0-1)")
    rep.add_argument("--fault-seed", type=int, default=1, help="random seed of the fault plan")
    rep.add_argument("--synthetic", type=int, default=0, metavar="N", help="serve N generated articles per site")
    rep.set_defaults(func=cmd_replica)

    demo = sub.add_parser("demo", help="offline demo: crawl the replicas into SQLite and export a dump")
    demo.add_argument("--db", default="data/demo.sqlite3", help="database path (default: data/demo.sqlite3)")
    demo.add_argument("-o", "--output", default="data/demo.jsonl", help="dump path (default: data/demo.jsonl)")
    demo.set_defaults(func=cmd_demo)

    runs = sub.add_parser("runs", help="list recent crawl runs")
    runs.add_argument("--db", help="database path")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(func=cmd_runs)
    return parser


def _db_path(args: argparse.Namespace) -> str:
    from crawler.runner import project_settings

    return str(args.db or project_settings().get("NEWS_DB_PATH") or DEFAULT_DB)


def _site_keys(requested: list[str]) -> list[str]:
    known = sites()
    unknown = [k for k in requested if k not in known]
    if unknown:
        raise UsageError(f"unknown site {', '.join(unknown)} (known: {', '.join(known)})")
    return requested or list(known)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise UsageError(f"{what} must be NAME=VALUE, got {value!r}")
        pairs[name] = rest
    return pairs


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.lock import CrawlLock, LockHeld
    from crawler.runner import run_crawl
    from storage.db import open_db

    keys = _site_keys(args.sites)
    base_urls = _pairs(args.base_url, "--base-url")
    _site_keys(list(base_urls))
    until = _parse_since(args.until, "--until")
    if args.max_pages is not None and args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1")
    db_path = _db_path(args)
    spider_args = {"backfill": args.backfill, "max_pages": args.max_pages, "until": until}
    try:
        with CrawlLock(db_path):
            open_db(db_path).close()  # fail fast, in one line, on an unusable database
            overrides: dict[str, Any] = {"NEWS_DB_PATH": db_path, **_pairs(args.set, "--set")}
            if args.redis:
                from crawler.distributed import redis_settings
                from crawler.runner import project_settings

                overrides.update(redis_settings(args.redis, project_settings()))
            results = run_crawl(keys, base_urls, overrides, spider_args)
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    if args.redis:
        from crawler.distributed import worker_results

        # A worker whose peers took every request fetched nothing, and that is fine.
        results = worker_results(results)
    return _crawl_exit_code(results)


def _crawl_exit_code(results: dict[str, dict[str, Any]]) -> int:
    """3 (nothing fetched) wins over 6 (unhealthy extraction), which wins over 1 (errors)."""
    from crawler.quality import UNHEALTHY_STAT
    from crawler.runner import site_status

    for key, stats in results.items():
        if site_status(stats) == "failed":
            print(f"newscrawl: {key}: nothing could be fetched ({_error_summary(stats)})", file=sys.stderr)
    if any(site_status(s) == "storage_full" for s in results.values()):
        print("newscrawl: error: the database is full; the crawl stopped (free space and run again)", file=sys.stderr)
        return EXIT_STORAGE
    if any(site_status(s) == "storage_error" for s in results.values()):
        print(
            "newscrawl: error: the database failed twice on a batch; the crawl stopped "
            "(its articles are fetched again next run; see the log)",
            file=sys.stderr,
        )
        return EXIT_STORAGE
    code = _exit_code({k: site_status(s) for k, s in results.items()})
    if code != EXIT_NOTHING and any(s.get(UNHEALTHY_STAT) for s in results.values()):
        return EXIT_UNHEALTHY
    return code


def _error_summary(stats: dict[str, Any]) -> str:
    errors = {k.removeprefix("newscrawl/errors/"): v for k, v in stats.items() if k.startswith("newscrawl/errors/")}
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(errors.items())) or "no page answered"


def cmd_schedule(args: argparse.Namespace) -> int:
    import subprocess
    import time

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
    return float(number) * units[unit]


def cmd_history(args: argparse.Namespace) -> int:
    from crawler.urls import canonical_url, url_hash
    from storage.articles import versions
    from storage.db import open_db

    db = open_db(_db_path(args), create=False)
    key = url_hash(canonical_url(args.url))
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {args.url}", file=sys.stderr)
        return 1
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        print(f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from crawler.explain import explain
    from storage.db import open_db

    db = open_db(_db_path(args), create=False)
    for line in explain(db, args.url):
        print(line)
    db.close()
    return EXIT_OK


def _exit_code(statuses: dict[str, str]) -> int:
    values = set(statuses.values())
    if values == {"failed"}:
        return EXIT_NOTHING
    return EXIT_OK if values == {"ok"} else EXIT_ERRORS


def _parse_since(value: str | None, option: str) -> str | None:
    from crawler.dates import parse_iso

    if value is None:
        return None
    parsed = parse_iso(value if "T" in value else value + "T00:00:00+07:00")
    if parsed is None:
        raise UsageError(f"{option} must be a date like 2026-01-31, got {value!r}")
    return parsed


def cmd_extract(args: argparse.Namespace) -> int:
    site = None
    if args.site:
        _site_keys([args.site])
        site = sites()[args.site]
    try:
        page = Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    result = extract(page, canonical_url(args.url), site)
    if isinstance(result, NotArticle):
        print(f"not an article: {result.reason}: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result.record(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_replica(args: argparse.Namespace) -> int:
    from crawler.faults import FaultPlan
    from crawler.replica import ReplicaServer

    if not 0 <= args.faults <= 1:
        raise UsageError(f"--faults must be between 0 and 1, got {args.faults}")
    plan = FaultPlan(args.faults, seed=args.fault_seed) if args.faults else None
    try:
        server = ReplicaServer(args.site, port=args.port, faults=plan, synthetic=args.synthetic).start()
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from exc
    for key in server.sites:
        print(f"{key} {server.base_url(key)}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.replica import ReplicaServer
    from crawler.runner import run_crawl, site_status
    from crawler.runs import run_counters
    from storage.db import open_db
    from storage.export import iter_records, open_output, write_jsonl

    open_db(args.db).close()
    with ReplicaServer() as server:
        base_urls = {key: server.base_url(key) for key in server.sites}
        for key, url in base_urls.items():
            print(f"replica {key} at {url}")
        # Our own local server: no politeness delay needed (robots.txt is still obeyed).
        overrides = {
            "NEWS_DB_PATH": args.db,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
        results = run_crawl(list(base_urls), base_urls, overrides, {})
    db = open_db(args.db)
    print(f"\n{'site':10} {'status':8} {'fetched':>8} {'new':>5} {'dup':>5} {'dropped':>8} {'errors':>7} {'stored':>7}")
    for key, stats in results.items():
        stored = db.execute("select count(*) from articles where site = ?", [key]).fetchone()[0]
        c = run_counters(stats)
        print(
            f"{key:10} {site_status(stats):8} {c['pages_fetched']:>8} {c['articles_new']:>5} "
            f"{c['articles_duplicate']:>5} {c['dropped']:>8} {c['errors']:>7} {stored:>7}"
        )
    with open_output(args.output) as out:
        count = write_jsonl(iter_records(db), out)
    db.close()
    print(f"\n{count} articles in {args.db}; dump written to {args.output}")
    return _crawl_exit_code(results)


def cmd_runs(args: argparse.Namespace) -> int:
    from storage.db import open_db
    from storage.runs import recent_runs

    db = open_db(_db_path(args), create=False)
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


if __name__ == "__main__":
    # Through the module, so `python -m crawler.cli` and the console script share one set of
    # classes (UsageError raised in crawler.cli_data must be the one caught in main()).
    from crawler.cli import main as _main

    sys.exit(_main())
