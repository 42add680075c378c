"""The ``newscrawl`` command."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from crawler.extraction import NotArticle, extract
from crawler.registry import sites
from crawler.urls import canonical_url

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_ERRORS = 1  # finished, but some fetches failed
EXIT_USAGE = 2  # bad arguments (argparse's own code)
EXIT_NOTHING = 3  # nothing could be fetched
EXIT_STORAGE = 5  # the database cannot be used

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
    crawl.add_argument("--base-url", action="append", default=[], metavar="SITE=URL", help="crawl SITE at URL (a replica or mirror)")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting")
    crawl.set_defaults(func=cmd_crawl)

    export = sub.add_parser("export", help="write stored articles as JSON lines")
    export.add_argument("--db", help="database path")
    export.add_argument("--site", help="only this site")
    export.add_argument("--since", help="only articles published on or after DATE (YYYY-MM-DD or ISO)")
    export.add_argument("-o", "--output", required=True, help="output file (.gz for gzip, - for stdout)")
    export.set_defaults(func=cmd_export)

    ext = sub.add_parser("extract", help="extract one saved page and print its record as JSON")
    ext.add_argument("--site", help="site key (default: the generic extractor)")
    ext.add_argument("--url", required=True, help="the page's URL")
    ext.add_argument("file", help="saved HTML file")
    ext.set_defaults(func=cmd_extract)

    rep = sub.add_parser("replica", help="serve the local site replicas")
    rep.add_argument("--site", action="append", help="only this site (repeatable)")
    rep.add_argument("--port", type=int, default=0, help="first port (default: any free port)")
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
    from crawler.runner import run_crawl, site_status
    from storage.db import open_db

    keys = _site_keys(args.sites)
    base_urls = _pairs(args.base_url, "--base-url")
    _site_keys(list(base_urls))
    db_path = _db_path(args)
    open_db(db_path).close()  # fail fast, in one line, on an unusable database
    overrides: dict[str, Any] = {"NEWS_DB_PATH": db_path, **_pairs(args.set, "--set")}
    results = run_crawl(keys, base_urls, overrides)
    return _exit_code({k: site_status(s) for k, s in results.items()})


def _exit_code(statuses: dict[str, str]) -> int:
    values = set(statuses.values())
    if values == {"failed"}:
        return EXIT_NOTHING
    return EXIT_OK if values == {"ok"} else EXIT_ERRORS


def cmd_export(args: argparse.Namespace) -> int:
    from storage.db import open_db
    from storage.export import iter_records, open_output, write_jsonl

    if args.site:
        _site_keys([args.site])
    since = _parse_since(args.since)
    db = open_db(_db_path(args), create=False)
    try:
        with open_output(args.output) as out:
            count = write_jsonl(iter_records(db, args.site, since), out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    finally:
        db.close()
    print(f"exported {count} records to {args.output}", file=sys.stderr)
    return EXIT_OK


def _parse_since(value: str | None) -> str | None:
    from crawler.dates import parse_iso

    if value is None:
        return None
    parsed = parse_iso(value if "T" in value else value + "T00:00:00+07:00")
    if parsed is None:
        raise UsageError(f"--since must be a date like 2026-01-31, got {value!r}")
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
    from crawler.replica import ReplicaServer

    try:
        server = ReplicaServer(args.site, port=args.port).start()
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
    from storage.db import open_db
    from storage.export import iter_records, open_output, write_jsonl

    open_db(args.db).close()
    with ReplicaServer() as server:
        base_urls = {key: server.base_url(key) for key in server.sites}
        for key, url in base_urls.items():
            print(f"replica {key} at {url}")
        # Our own local server: no politeness delay needed (robots.txt is still obeyed).
        overrides = {"NEWS_DB_PATH": args.db, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"}
        results = run_crawl(list(base_urls), base_urls, overrides)
    db = open_db(args.db)
    print(f"\n{'site':10} {'status':8} {'fetched':>8} {'new':>5} {'dup':>5} {'dropped':>8} {'errors':>7} {'stored':>7}")
    for key, stats in results.items():
        stored = db.execute("select count(*) from articles where site = ?", [key]).fetchone()[0]
        get = lambda name: int(stats.get(f"newscrawl/{name}", 0))  # noqa: E731
        dropped = sum(int(v) for k, v in stats.items() if k.startswith("newscrawl/dropped/"))
        errors = sum(int(v) for k, v in stats.items() if k.startswith("newscrawl/errors/"))
        fetched = int(stats.get("downloader/response_status_count/200", 0))
        print(f"{key:10} {site_status(stats):8} {fetched:>8} {get('articles/new'):>5} {get('articles/duplicate'):>5} {dropped:>8} {errors:>7} {stored:>7}")
    with open_output(args.output) as out:
        count = write_jsonl(iter_records(db), out)
    db.close()
    print(f"\n{count} articles in {args.db}; dump written to {args.output}")
    return _exit_code({k: site_status(s) for k, s in results.items()})


def cmd_runs(args: argparse.Namespace) -> int:
    from storage.db import open_db
    from storage.runs import recent_runs

    db = open_db(_db_path(args), create=False)
    rows = recent_runs(db, args.limit)
    db.close()
    print(f"{'id':>5} {'site':10} {'started_at':26} {'status':8} {'fetched':>8} {'new':>5} {'updated':>8} {'dropped':>8} {'errors':>7}")
    for r in rows:
        print(
            f"{r['id']:>5} {r['site']:10} {r['started_at']:26} {r['status'] or '':8} {r['pages_fetched'] or 0:>8} "
            f"{r['articles_new'] or 0:>5} {r['articles_updated'] or 0:>8} {r['dropped'] or 0:>8} {r['errors'] or 0:>7}"
        )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
