"""Throughput of distributed crawling against the single-process crawl, on the replicas.

    python -m bench.distributed [--repeat N]
    python -m bench.distributed --part ingest [--records N] [--repeat N]

Each round crawls the three replicas (politeness off: bench only) four ways, each into a fresh
database and a flushed Redis (a throwaway ``redis-server`` on a free port, no persistence):

- ``single``: one ``newscrawl crawl`` process (the reference);
- ``1 worker`` / ``2 workers``: ``newscrawl crawl --redis`` workers with one ``newscrawl ingest``
  running alongside; the time runs until every record is in SQLite;
- ``ingest``: the records of a distributed crawl left in the Stream, then one ingest process
  timed alone (records per second, against the single crawl's stored articles per second).

Figures are medians over the rounds, printed as ratios to the single-process crawl of the same
round. The replicas hold a few dozen pages, so process start-up weighs heavily in every row.

``--part ingest`` measures the single writer alone, without start-up: ``--records`` synthetic
articles per site (crawler/testing/synthetic.py), extracted and prepared as a worker does, are
appended to the Stream in each entry format, then one in-process ingest stores them into a fresh
database; records per second for each format, in turn for ``--repeat`` rounds, in the same run:
``v1`` (the page travels raw and the writer compresses it and computes the MinHash signature)
against ``v2`` (the worker's prepared form travels and the writer stores it).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import sqlite_utils

from bench.common import REPO
from crawler.distributed.stream import RedisClient
from crawler.testing.server import ReplicaServer

CLI = [sys.executable, "-m", "crawler.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR"]


def base_urls(server: ReplicaServer) -> list[str]:
    return [arg for key in server.sites for arg in ("--base-url", f"{key}={server.base_url(key)}")]


def requests(server: ReplicaServer) -> int:
    return sum(sum(site.requests.values()) for site in server.sites.values())


def reset(server: ReplicaServer, client: RedisClient) -> None:
    client.flushall()
    for site in server.sites.values():
        site.requests.clear()


def drained(client: RedisClient) -> bool:
    if not client.exists("newscrawl:records"):
        return True
    pending = sum(int(g["pending"]) for g in client.xinfo_groups("newscrawl:records"))
    return client.xlen("newscrawl:records") == 0 and pending == 0


def single(server: ReplicaServer, db: Path) -> tuple[float, int]:
    started = time.perf_counter()
    subprocess.run([*CLI, "crawl", "--db", str(db), *base_urls(server), *FAST], cwd=REPO, check=True)
    return time.perf_counter() - started, articles(db)


def distributed(server: ReplicaServer, url: str, client: RedisClient, folder: Path, workers: int) -> float:
    db = folder / f"dist-{workers}.sqlite3"
    started = time.perf_counter()
    ingest = subprocess.Popen([*CLI, "ingest", "--redis", url, "--db", str(db)], cwd=REPO, stdout=subprocess.DEVNULL)
    while client.hlen("newscrawl:known:meta") < len(server.sites):
        time.sleep(0.02)
    procs = [
        subprocess.Popen(
            [*CLI, "crawl", "--redis", url, "--db", str(folder / f"w{workers}-{i}.sqlite3"), *base_urls(server), *FAST],
            cwd=REPO,
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.wait()
    while not drained(client):
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    ingest.terminate()
    ingest.wait()
    return elapsed


def ingest_alone(server: ReplicaServer, url: str, client: RedisClient, folder: Path) -> tuple[float, int]:
    worker_db = folder / "ingest-worker.sqlite3"
    crawl = [*CLI, "crawl", "--redis", url, "--db", str(worker_db), *base_urls(server), *FAST]
    subprocess.run(crawl, cwd=REPO, check=True)
    records = int(client.xlen("newscrawl:records"))
    db = folder / "ingest.sqlite3"
    started = time.perf_counter()
    subprocess.run(
        [*CLI, "ingest", "--redis", url, "--db", str(db), "--idle-exit", "0.01"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, records


def synthetic_records(per_site: int) -> list[object]:
    """``per_site`` generated articles of each replica, extracted and prepared as a worker does."""
    from crawler.crawl.pool import extract_page
    from crawler.extract.items import ArticleItem
    from crawler.sites.registry import sites
    from crawler.testing.replica import SITES_DIR, SiteReplica
    from crawler.testing.synthetic import SyntheticSite

    items: list[object] = []
    for key, config in sites().items():
        replica = SiteReplica(SITES_DIR / key)
        synthetic = SyntheticSite(replica, config, per_site)
        for i in range(per_site):
            url = config.base_url + synthetic.article_path(i)
            item = extract_page(synthetic.article(i), url, config.base_url, key, "2026-01-01T00:00:00+07:00").result
            if isinstance(item, ArticleItem):
                items.append(item)
    return items


def ingest_formats(url: str, client: RedisClient, folder: Path, per_site: int, repeat: int) -> None:
    """Records per second of one in-process ingest, per Stream entry format (see the docstring)."""
    from crawler.distributed.ingest import Ingest, IngestConfig
    from crawler.distributed.stream import encode_record
    from storage.db import open_db

    items = synthetic_records(per_site)
    rates: dict[str, list[float]] = {"v1": [], "v2": []}
    for n in range(repeat):
        for name in rates:
            client.flushall()
            pipe = client.pipeline(transaction=False)
            for item in items:
                pipe.xadd("newscrawl:records", encode_record(item, prepared=name == "v2"))
            pipe.execute()
            db = open_db(folder / f"ingest-{name}-{n}.sqlite3")
            config = IngestConfig("newscrawl", 2.0, 0.0, batch=200, idle_exit=0.01, block=0.01, mirror_every=3600)
            started = time.perf_counter()
            stats = Ingest(redis.Redis.from_url(url), db, config).run()
            elapsed = time.perf_counter() - started
            db.close()
            assert stats.outcomes["new"] == len(items), stats.outcomes
            rates[name].append(len(items) / elapsed)
    print(f"{len(items)} articles, {repeat} rounds, records/s of one ingest (median, rounds)")
    for name, values in rates.items():
        rounds = " / ".join(f"{v:.0f}" for v in values)
        print(f"{name:4} {statistics.median(values):>8.0f}  ({rounds})")
    ratios = [b / a for a, b in zip(rates["v1"], rates["v2"], strict=True)]
    print(f"v2/v1 {statistics.median(ratios):.2f}x (rounds {' / '.join(f'{r:.2f}x' for r in ratios)})")


def articles(db: Path) -> int:
    return int(sqlite_utils.Database(db)["articles"].count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds to run")
    parser.add_argument("--part", choices=("crawl", "ingest"), default="crawl", help="what to measure")
    parser.add_argument("--records", type=int, default=1000, help="--part ingest: articles per site")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("bench.distributed: needs redis-server (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        try:
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            if args.part == "ingest":
                ingest_formats(url, client, Path(tmp), args.records, args.repeat)
                return
            rows: dict[str, list[float]] = {"1 worker": [], "2 workers": [], "ingest": []}
            times: dict[str, list[float]] = {"single": [], "1 worker": [], "2 workers": [], "ingest": []}
            with ReplicaServer() as server:
                for n in range(args.repeat):
                    folder = Path(tmp) / f"round-{n}"
                    folder.mkdir()
                    reset(server, client)
                    single_s, stored = single(server, folder / "single.sqlite3")
                    times["single"].append(single_s)
                    for workers, name in ((1, "1 worker"), (2, "2 workers")):
                        reset(server, client)
                        elapsed = distributed(server, url, client, folder, workers)
                        times[name].append(elapsed)
                        rows[name].append(single_s / elapsed)
                    reset(server, client)
                    ingest_s, records = ingest_alone(server, url, client, folder)
                    times["ingest"].append(ingest_s)
                    # records/s of the ingest against stored articles/s of the single crawl
                    rows["ingest"].append((records / ingest_s) / (stored / single_s))
        finally:
            redis_server.terminate()
            redis_server.wait()
    print(f"{'mode':10} {'median s':>9} {'throughput vs single':>21}")
    print(f"{'single':10} {statistics.median(times['single']):>9.2f} {1.0:>20.2f}x")
    for name, ratios in rows.items():
        print(f"{name:10} {statistics.median(times[name]):>9.2f} {statistics.median(ratios):>20.2f}x")


if __name__ == "__main__":
    main()
