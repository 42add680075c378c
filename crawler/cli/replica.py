"""``newscrawl replica`` and ``demo``: the local site replicas, served or crawled offline."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from crawler.cli.args import bounded_int, port
from crawler.cli.common import UsageError, crawl_exit_code
from crawler.cli.crawl import crawl_with_progress, print_summary
from crawler.cli.progress import add_verbosity, scrapy_log_settings
from crawler.crawl.runner import project_settings
from crawler.exit_codes import EXIT_OK
from crawler.settings import NEWS_DEMO_DB_PATH
from crawler.testing.faults import FaultPlan
from crawler.testing.server import ReplicaServer
from storage.db import open_db
from storage.export import iter_records, open_output, write_jsonl


def register(sub: Any) -> None:
    """Add ``replica`` and ``demo`` to the ``newscrawl`` sub-parsers."""
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
    demo.add_argument("--db", help=f"database path (default: the NEWS_DEMO_DB_PATH setting, {NEWS_DEMO_DB_PATH})")
    demo.add_argument("-o", "--output", default="data/demo.jsonl", help="dump path (default: data/demo.jsonl)")
    add_verbosity(demo)
    demo.set_defaults(func=cmd_demo)


def cmd_replica(args: argparse.Namespace) -> int:

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
    args.db = args.db or str(project_settings().get("NEWS_DEMO_DB_PATH"))
    open_db(args.db).close()
    with ReplicaServer() as server:
        base_urls = {key: server.base_url(key) for key in server.sites}
        if not args.quiet:
            for key, url in base_urls.items():
                print(f"replica {key} at {url}")
        # Our own local server: no politeness delay needed (robots.txt is still obeyed).
        overrides = {
            "NEWS_DB_PATH": args.db,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            **scrapy_log_settings(args),
        }
        results = crawl_with_progress(args, list(base_urls), base_urls, overrides, {})
    if not args.quiet:
        print()
        print_summary(args.db, results)
    db = open_db(args.db)
    with open_output(args.output) as out:
        count = write_jsonl(iter_records(db), out)
    db.close()
    if not args.quiet:
        print(f"\n{count} articles in {args.db}; dump written to {args.output}")
        print('next: . .venv/bin/activate, then newscrawl search "ma túy" (README: First hour)')
    return crawl_exit_code(results)
