"""The ``newscrawl`` command."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from crawler import cli_data, cli_health, cli_perf, cli_redis
from crawler.cli_args import ArgumentError, Parser, bounded_int, check_base_url, check_settings, port
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
EXIT_INTERRUPTED = 7  # stopped by SIGTERM or SIGINT before the end; what was stored is kept
EXIT_INTERNAL = 70  # a bug (EX_SOFTWARE): never 1, which schedulers may take for a finished run

DEFAULT_DB = "data/news.sqlite3"

# A bad argument the parser could not catch; printed as one line, exit 2.
UsageError = ArgumentError


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


def _storage_error() -> type[Exception]:
    from storage.db import StorageError

    return StorageError


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newscrawl", description="Crawl Vietnamese public-security news into SQLite.")
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
    rep.add_argument("--port", type=port, default=0, help="first port (default: any free port)")
    rep.add_argument("--faults", type=float, default=0.0, metavar="RATE", help="fault this share of responses (0-1)")
    rep.add_argument("--fault-seed", type=bounded_int(0), default=1, help="random seed of the fault plan")
    rep.add_argument(
        "--synthetic",
        type=bounded_int(0, 10_000_000),
        default=0,
        metavar="N",
        help="serve N generated articles per site",
    )
    rep.set_defaults(func=cmd_replica)

    demo = sub.add_parser("demo", help="offline demo: crawl the replicas into SQLite and export a dump")
    demo.add_argument("--db", default="data/demo.sqlite3", help="database path (default: data/demo.sqlite3)")
    demo.add_argument("-o", "--output", default="data/demo.jsonl", help="dump path (default: data/demo.jsonl)")
    demo.set_defaults(func=cmd_demo)

    probe = sub.add_parser(
        "probe", help="check the live sites: fetch entry points and a few articles, report what extraction made of them"
    )
    probe.add_argument("sites", nargs="*", metavar="SITE", help="site keys (default: all)")
    probe.add_argument("--articles", type=int, default=3, metavar="N", help="article pages per site (default: 3)")
    probe.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE (- for stdout)")
    probe.add_argument(
        "--base-url", action="append", default=[], metavar="SITE=URL", help="probe SITE at URL (a replica or mirror)"
    )
    probe.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting"
    )
    probe.set_defaults(func=cmd_probe)

    runs = sub.add_parser("runs", help="list recent crawl runs")
    runs.add_argument("--db", help="database path")
    runs.add_argument("--limit", type=bounded_int(1), default=20, metavar="N", help="at most N runs (default 20)")
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
    from crawler.runner import project_settings, run_crawl
    from storage.db import StorageError, check_path, check_writable, open_db, set_busy_timeout
    from storage.runs import mark_killed

    # Every argument is checked before the database, the lock or the network is touched.
    keys = _site_keys(args.sites)
    base_urls = {site: check_base_url(site, url) for site, url in _pairs(args.base_url, "--base-url").items()}
    _site_keys(list(base_urls))
    until = _parse_since(args.until, "--until")
    db_path = _db_path(args)
    spider_args = {"backfill": args.backfill, "max_pages": args.max_pages, "until": until}
    settings_overrides = _pairs(args.set, "--set")
    check_settings(settings_overrides, project_settings())
    overrides: dict[str, Any] = {"NEWS_DB_PATH": db_path, **settings_overrides}
    if args.redis:
        from crawler.cli_args import check_redis_url
        from crawler.distributed import redis_settings

        check_redis_url(args.redis, args.insecure_redis)
        overrides.update(redis_settings(args.redis, project_settings()))
    set_busy_timeout(project_settings(overrides).getfloat("NEWS_DB_BUSY_TIMEOUT", 30.0))
    check_path(Path(db_path))
    try:
        with CrawlLock(db_path):
            # Fail before fetching, in one line, on a database that could store nothing.
            db = open_db(db_path)
            try:
                check_writable(db, db_path)
                killed = mark_killed(db)
            finally:
                db.close()
            if killed:
                print(f"newscrawl: {killed} run(s) left 'running' by a killed crawl marked 'killed'", file=sys.stderr)
            results = run_crawl(keys, base_urls, overrides, spider_args)
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:  # the lock file beside the database cannot be made
        raise StorageError(f"{db_path}: cannot take the crawl lock: {exc.strerror or exc}") from exc
    if args.redis:
        from crawler.distributed import worker_results

        # A worker whose peers took every request fetched nothing, and that is fine.
        results = worker_results(results)
    return _crawl_exit_code(results)


def _crawl_exit_code(results: dict[str, dict[str, Any]]) -> int:
    """3 (nothing fetched) wins over 6 (unhealthy extraction), which wins over 1 (errors)."""
    from crawler.quality import UNHEALTHY_STAT
    from crawler.runner import site_status

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
    seconds = float(number) * units[unit]
    if seconds > 366 * 86400:
        raise UsageError(f"--every must be at most a year, got {value!r}")
    return seconds


def cmd_history(args: argparse.Namespace) -> int:
    from crawler.terminal import printable
    from crawler.urls import url_hash
    from storage.articles import versions
    from storage.db import open_db

    key = url_hash(_url_argument(args.url))
    db = open_db(_db_path(args), readonly=True)
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {printable(args.url)}", file=sys.stderr)
        return 1
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        line = f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}"
        print(printable(line))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from crawler.explain import explain
    from crawler.terminal import printable
    from storage.db import open_db

    _url_argument(args.url)
    db = open_db(_db_path(args), readonly=True)
    for line in explain(db, args.url):
        print(printable(line))
    db.close()
    return EXIT_OK


def _url_argument(url: str) -> str:
    """The canonical form of a URL given on the command line, or a one-line refusal."""
    try:
        return canonical_url(url)
    except ValueError as exc:
        raise UsageError(f"{url}: not a valid URL ({exc})") from None


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
    page = _read_page(args.file)
    result = extract(page, _url_argument(args.url), site)
    if isinstance(result, NotArticle):
        print(f"not an article: {result.reason}: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result.record(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _read_page(path: str) -> bytes:
    """The saved page, refused when larger than a crawl would download (``DOWNLOAD_MAXSIZE``):
    ``extract /dev/zero`` must not read until the kernel kills it."""
    from crawler.runner import project_settings

    cap = project_settings().getint("DOWNLOAD_MAXSIZE") or 16 * 1024 * 1024
    try:
        with open(path, "rb") as source:
            page = source.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(page) > cap:
        raise UsageError(f"{path}: larger than {cap} bytes (DOWNLOAD_MAXSIZE), not a page a crawl would store")
    return page


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
    except OSError as exc:
        raise UsageError(f"--port {args.port}: cannot listen there ({exc.strerror or exc})") from exc
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


def cmd_probe(args: argparse.Namespace) -> int:
    """Exit 0 when every site is ok, 6 when one is degraded, 3 when one is broken."""
    from crawler.cli_probe import probe_command
    from crawler.probe_report import EXIT_CODES
    from crawler.runner import project_settings

    keys = _site_keys(args.sites)
    base_urls = {site: check_base_url(site, url) for site, url in _pairs(args.base_url, "--base-url").items()}
    _site_keys(list(base_urls))
    if args.articles < 1:
        raise UsageError("--articles must be at least 1")
    overrides = _pairs(args.set, "--set")
    check_settings(overrides, project_settings())
    verdict = probe_command(keys, base_urls, overrides, args.articles, args.json)
    return EXIT_CODES[verdict]


def cmd_runs(args: argparse.Namespace) -> int:
    from storage.db import open_db
    from storage.runs import recent_runs

    db = open_db(_db_path(args), readonly=True)
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
