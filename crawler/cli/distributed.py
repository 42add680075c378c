"""``newscrawl ingest`` and ``newscrawl status``: the Redis side of distributed crawling."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import redis

from crawler.cli.args import bounded_int, check_redis_url
from crawler.cli.common import UsageError, db_help, db_path
from crawler.cli.progress import add_verbosity, configure_logging, print_json
from crawler.crawl.lock import CrawlLock, LockHeld
from crawler.crawl.runner import project_settings
from crawler.distributed import ingest
from crawler.distributed.ingest import IngestConfig
from crawler.distributed.stream import INGEST_GROUP, Keys, connect
from crawler.exit_codes import EXIT_LOCKED, EXIT_OK
from crawler.sites.registry import sites
from storage.db import StorageError, check_path, open_db


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``newscrawl`` parser."""
    ing = sub.add_parser("ingest", help="distributed mode: write the workers' records from Redis into SQLite")
    ing.add_argument("--redis", required=True, metavar="URL", help="e.g. redis://10.0.0.5:6379/0")
    ing.add_argument("--db", help=db_help())
    ing.add_argument(
        "--batch",
        type=bounded_int(1, 100_000),
        metavar="N",
        help="records per transaction batch (default: the NEWS_INGEST_BATCH setting)",
    )
    ing.add_argument(
        "--insecure-redis", action="store_true", help="allow a Redis on another machine without a password"
    )
    ing.add_argument(
        "--idle-exit", type=float, default=0, metavar="SECONDS", help="exit after this long with nothing to ingest"
    )
    add_verbosity(ing)
    ing.set_defaults(func=cmd_ingest)

    stat = sub.add_parser("status", help="distributed mode: queues, workers and records waiting for ingest")
    stat.add_argument("--redis", required=True, metavar="URL")
    stat.add_argument("--json", action="store_true", help="one JSON object: sites, workers, records waiting, memory")
    stat.set_defaults(func=cmd_status)


def _prefix() -> str:
    return str(project_settings().get("NEWS_REDIS_PREFIX"))


def cmd_ingest(args: argparse.Namespace) -> int:
    configure_logging(args)
    check_redis_url(args.redis, args.insecure_redis)
    settings = project_settings()
    config = IngestConfig.from_settings(settings, batch=args.batch, idle_exit=args.idle_exit)
    path = db_path(args)
    check_path(Path(path))
    try:
        # The one writer of the database: no local crawl and no second ingest meanwhile.
        with CrawlLock(path):
            db = open_db(
                path,
                max_pages=settings.getint("NEWS_DB_MAX_PAGES"),
                busy_timeout=settings.getfloat("NEWS_DB_BUSY_TIMEOUT"),
            )
            try:
                stats = ingest.run_ingest(args.redis, db, config)
            finally:
                db.close()
    except LockHeld as exc:
        print(f"newscrawl: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    except StorageError:
        raise
    except OSError as exc:  # the lock file beside the database cannot be made
        raise StorageError(f"{path}: cannot take the ingest lock: {exc.strerror or exc}") from exc
    except redis.ConnectionError as exc:
        raise UsageError(f"--redis {args.redis}: {exc}") from exc
    if args.quiet:
        return EXIT_OK
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items())) or "nothing"
    print(f"ingested {stats.entries} records ({stats.claimed} reclaimed): {outcomes}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    server = connect(args.redis)
    try:
        server.ping()
    except redis.ConnectionError as exc:
        raise UsageError(f"--redis {args.redis}: {exc}") from exc
    found = status(server, Keys(_prefix()), time.time())
    if args.json:
        print_json(found)
        return EXIT_OK
    print(f"{'site':10} {'run':14} {'queued':>7} {'in flight':>9} {'seen':>6} {'known':>7}  mirror published")
    for s in found["sites"]:
        print(
            f"{s['site']:10} {s['run']:14} {s['queued']:>7} {s['in_flight']:>9} {s['seen']:>6} {s['known']:>7}  "
            f"{s['mirror_published']}"
        )
    beats = found["workers"]
    print(f"\nworkers seen in the last heartbeat period: {len({b['worker'] for b in beats})}")
    for b in beats:
        print(
            f"  {b['worker']:28} {b['spider']:10} run {b['run']:14} in flight {b['inflight']:>3} "
            f"responses {b['responses']:>6} records {b['records']:>6} up {now_minus(found, b['started']):.0f}s "
            f"(beat {now_minus(found, b['at']):.0f}s ago)"
        )
    waiting = found["records"]
    print(
        f"\nrecords waiting for ingest: {waiting['length']} ({waiting['not_read']} not yet read, "
        f"{waiting['pending']} read but not committed)"
    )
    memory = found["memory"]
    policy = memory["policy"]
    print(
        f"redis memory: {memory['used']} used, maxmemory {memory['maxmemory'] or 'none'}, policy {policy}"
        + ("" if policy == "noeviction" else "  WARNING: keys may be evicted; set maxmemory-policy noeviction")
    )
    return EXIT_OK


def now_minus(found: dict[str, Any], moment: float) -> float:
    return float(found["time"]) - moment


def status(server: Any, keys: Keys, now: float) -> dict[str, Any]:
    """Queues per site, workers' heartbeats, records waiting and Redis memory, as a JSON-ready dict."""
    meta = {k.decode(): v.decode() for k, v in server.hgetall(keys.mirror_meta).items()}
    rows = []
    for site in sites():
        run = (server.get(keys.run(site)) or b"-").decode()
        rows.append(
            {
                "site": site,
                "run": run,
                "queued": server.zcard(keys.of_run(site, run, "requests")) if run != "-" else 0,
                "in_flight": sum(server.hlen(k) for k in server.scan_iter(keys.of_run(site, run, "inflight:*"))),
                "seen": server.scard(keys.of_run(site, run, "dupefilter")) if run != "-" else 0,
                "known": server.scard(keys.known(site)),
                "mirror_published": meta.get(site, "never"),
            }
        )
    beats = [json.loads(server.get(k) or b"{}") for k in server.scan_iter(keys.heartbeat("*", "*"))]
    beats = sorted((b for b in beats if b), key=lambda b: (b["worker"], b["spider"]))
    length = server.xlen(keys.records) if server.exists(keys.records) else 0
    pending, lag = 0, length
    if length or server.exists(keys.records):
        for group in server.xinfo_groups(keys.records):
            if group["name"] in (INGEST_GROUP, INGEST_GROUP.encode()):
                pending = int(group["pending"])
                lag = int(group.get("lag") or 0)
    memory = server.info("memory")
    return {
        "time": now,
        "sites": rows,
        "workers": beats,
        "records": {"length": length, "not_read": lag, "pending": pending},
        "memory": {
            "used": memory.get("used_memory_human"),
            "maxmemory": int(memory.get("maxmemory", 0)),
            "policy": memory.get("maxmemory_policy", "?"),
        },
    }
