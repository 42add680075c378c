"""Crawling through a hostile network: what one and two runs store at 0%, 10% and 30% faults.

    python -m bench.faults

For each fault rate the three replicas are crawled twice into a fresh database with the
replica's fault injection on (crawler/testing/faults.py); the figures are the share of replica articles
stored after the first and the second run, and the first run's wall time relative to the 0%
run measured in the same command. Bench settings: no politeness delay, 2 s download timeout,
short backoff (the real crawler waits for Retry-After, up to NEWS_BACKOFF_MAX).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

from bench.common import REPO
from crawler.testing.faults import FaultPlan
from crawler.testing.server import ReplicaServer

SETTINGS = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_TIMEOUT=2",
    "-s",
    "NEWS_BACKOFF_START=0.2",
    "-s",
    "NEWS_BACKOFF_MAX=1",
    "-s",
    "LOG_LEVEL=ERROR",
]


def crawl(server: ReplicaServer, db: Path) -> float:
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), *SETTINGS]
    for key in server.sites:
        command += ["--base-url", f"{key}={server.base_url(key)}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    print(f"{'faults':>6} {'stored after 1 run':>19} {'after 2 runs':>13} {'run-1 time':>11} {'vs 0%':>6}")
    base_time = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (0.0, 0.1, 0.3):
            plan = FaultPlan(rate, seed=7, slow_seconds=3)
            with ReplicaServer(faults=plan) as server:
                total = sum(len(site.routes_of("article")) for site in server.sites.values())
                db_path = Path(tmp) / f"faults-{rate}.sqlite3"
                first_time = crawl(server, db_path)
                after_one = sqlite_utils.Database(db_path)["articles"].count
                crawl(server, db_path)
                after_two = sqlite_utils.Database(db_path)["articles"].count
            base_time = base_time or first_time
            print(
                f"{rate:>6.0%} {after_one / total:>19.0%} {after_two / total:>13.0%} {first_time:>10.1f}s "
                f"{first_time / base_time:>5.2f}x"
            )


if __name__ == "__main__":
    main()
