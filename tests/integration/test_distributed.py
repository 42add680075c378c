"""Distributed mode (issue 9): two ``newscrawl crawl --redis`` workers and one ``newscrawl ingest``
crawl the replicas through a real Redis server and store what a single-process crawl stores."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import redis
import sqlite_utils

from crawler.sites.registry import sites
from crawler.testing.server import ReplicaServer
from storage.db import open_db
from tests.helpers import REPO
from tests.integration.replica_edit import publish_cao_article

CLI = [sys.executable, "-m", "crawler.cli"]
# A worker starting up to NEWS_REDIS_RUN_GRACE seconds after the run ended joins it; the
# second run here must start after that.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]
FAST += ["-s", "NEWS_REDIS_RUN_GRACE=3"]
# A killed worker is taken for dead, and its in-flight requests requeued, this fast.
SHORT_HEARTBEAT = ["-s", "NEWS_REDIS_HEARTBEAT_TTL=2"]

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs Debian's redis-server binary (apt-get install redis-server)"
)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A throwaway Redis on a free 127.0.0.1 port, no persistence."""
    folder = tmp_path_factory.mktemp("redis")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), 10, "redis-server did not start")
    yield port
    server.terminate()
    server.wait(10)


@pytest.fixture
def redis_url(redis_port: int) -> Iterator[str]:
    client = redis.Redis(port=redis_port)
    client.flushall()
    yield f"redis://127.0.0.1:{redis_port}/0"
    client.flushall()


@pytest.fixture(scope="module")
def single_crawl(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], dict[str, int], set[frozenset[str]]]:
    """What one plain ``newscrawl crawl`` stores (url -> content hash), the paths it fetches and
    the near-duplicate clusters it forms."""
    db = tmp_path_factory.mktemp("single") / "single.sqlite3"
    with ReplicaServer() as server:
        done = subprocess.run(
            [*CLI, "crawl", "--db", str(db), *base_urls(server), *FAST], cwd=REPO, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return stored(db), fetched(server), stories(db)


def test_two_workers_store_what_one_process_stores_fetching_each_page_once(
    redis_url: str, single_crawl: tuple[dict[str, str], dict[str, int], set[frozenset[str]]], tmp_path: Path
) -> None:
    expected, single_fetches, single_stories = single_crawl
    db = tmp_path / "news.sqlite3"
    client = redis.Redis.from_url(redis_url)
    with ReplicaServer() as server:
        ingest = start([*CLI, "ingest", "--redis", redis_url, "--db", str(db)], tmp_path / "ingest.log")
        wait_for(lambda: client.hlen("newscrawl:known:meta") == len(sites()), 20, "ingest never published its mirror")

        codes = run_workers(server, redis_url, tmp_path, "run1")
        assert codes == [0, 0]
        wait_for(lambda: drained(client), 20, "ingest did not drain the stream")
        assert stored(db) == expected
        assert stories(db) == single_stories and single_stories, "the same duplicate clusters"
        counts = fetched(server)
        twice = {p: n for p, n in counts.items() if n > 1 and not p.endswith(" /robots.txt")}
        assert not twice, f"fetched more than once in one run: {twice}"
        # Every page the single-process crawl fetched (robots.txt: once per worker and site).
        assert set(single_fetches) <= set(counts)

        # Between runs the newsroom publishes: the next run re-reads the entry points (the
        # per-run dupefilter did not outlive its run) and stores the new article, fetching no
        # stored one again.
        path = publish_cao_article(server.sites["cao"], 990001, "Bài mới giữa hai lượt thu thập")
        wait_for(lambda: not client.keys("newscrawl:*:run"), 10, "the first run did not end")
        clear(server)
        assert run_workers(server, redis_url, tmp_path, "run2") == [0, 0]
        wait_for(lambda: drained(client), 20, "ingest did not drain the stream")
        cao = server.sites["cao"]
        assert cao.fetched(path) == 1
        assert cao.fetched("/rss/tin-chinh") == 1 and cao.fetched("/tin-chinh") == 1
        old_articles = [r.path for r in cao.routes_of("article") if r.path != path]
        assert not [p for p in old_articles if cao.fetched(p)], "a stored article was fetched again"
        after = stored(db)
        assert len(after) == len(expected) + 1 and set(expected) < set(after)

        ingest.send_signal(signal.SIGTERM)
        assert ingest.wait(15) == 0, "ingest exits cleanly on SIGTERM"
    rows = sqlite_utils.Database(db)
    assert rows["pages"].count == len(after), "raw HTML kept for every article"
    assert rows["article_versions"].count == len(after), "no record stored twice"


def test_killed_worker_and_killed_ingest_lose_and_double_nothing(
    redis_url: str, single_crawl: tuple[dict[str, str], dict[str, int], set[frozenset[str]]], tmp_path: Path
) -> None:
    expected, _, _ = single_crawl
    db = tmp_path / "news.sqlite3"
    client = redis.Redis.from_url(redis_url)
    # Slow enough that the first worker can be killed mid-crawl.
    slow = ["-s", "DOWNLOAD_DELAY=0.25", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with ReplicaServer() as server:
        victim = start(worker(server, redis_url, tmp_path / "a.sqlite3", slow + SHORT_HEARTBEAT), tmp_path / "a.log")
        wait_for(lambda: client.xlen("newscrawl:records") >= 4, 30, "the first worker pushed no records")
        survivor = start(worker(server, redis_url, tmp_path / "b.sqlite3", FAST + SHORT_HEARTBEAT), tmp_path / "b.log")
        victim.kill()
        victim.wait(10)
        assert survivor.wait(60) == 0, (tmp_path / "b.log").read_text()[-3000:]
        assert "in-flight requests put back in the queue" in (tmp_path / "b.log").read_text() or not client.keys(
            "newscrawl:*:inflight:*"
        )

        # Kill the ingest while it holds a batch it has read but not committed: a lock held on
        # the database keeps it waiting there.
        open_db(db).close()
        blocker = sqlite3.connect(db)
        blocker.execute("BEGIN IMMEDIATE")
        ingest = start([*CLI, "ingest", "--redis", redis_url, "--db", str(db), "--batch", "3"], tmp_path / "i1.log")
        # Pending entries are read and not acknowledged: the ingest holds them, blocked on the lock.
        wait_for(lambda: pending(client) > 0, 30, "ingest read nothing")
        ingest.kill()
        ingest.wait(10)
        blocker.rollback()
        blocker.close()
        assert pending(client) > 0 and articles(db) == 0

        again = [*CLI, "ingest", "--redis", redis_url, "--db", str(db), "--idle-exit", "2"]
        done = subprocess.run(again, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "(3 reclaimed)" in done.stdout, done.stdout
        assert drained(client)
    assert stored(db) == expected, "nothing lost"
    rows = sqlite_utils.Database(db)
    assert rows["article_versions"].count == len(expected), "nothing doubled"
    assert rows["pages"].count == len(expected)


# --- helpers ------------------------------------------------------------------------------


def base_urls(server: ReplicaServer) -> list[str]:
    return [arg for key in server.sites for arg in ("--base-url", f"{key}={server.base_url(key)}")]


def worker(server: ReplicaServer, url: str, db: Path, options: list[str]) -> list[str]:
    # Each worker keeps its own run bookkeeping (crawl_runs); articles go to Redis.
    return [*CLI, "crawl", "--redis", url, "--db", str(db), *base_urls(server), *options]


def run_workers(server: ReplicaServer, url: str, folder: Path, name: str) -> list[int]:
    procs = [
        start(worker(server, url, folder / f"{name}-w{i}.sqlite3", FAST), folder / f"{name}-w{i}.log") for i in range(2)
    ]
    return [p.wait(60) for p in procs]


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    out: IO[bytes]
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})


def stored(db: Path) -> dict[str, str]:
    return {
        r["url"]: r["content_hash"] for r in sqlite_utils.Database(db).query("select url, content_hash from articles")
    }


def stories(db: Path) -> set[frozenset[str]]:
    """Near-duplicate clusters as sets of article URLs."""
    rows = sqlite_utils.Database(db).query(
        "select m.cluster_id, a.url from dup_members m join articles a on a.url_hash = m.url_hash"
    )
    grouped: dict[int, set[str]] = {}
    for row in rows:
        grouped.setdefault(row["cluster_id"], set()).add(row["url"])
    return {frozenset(urls) for urls in grouped.values()}


def articles(db: Path) -> int:
    if not db.exists():
        return 0
    database = sqlite_utils.Database(db)
    return database["articles"].count if database["articles"].exists() else 0


def fetched(server: ReplicaServer) -> dict[str, int]:
    """Requests per ``"<site> <path>"``."""
    return {f"{key} {p}": n for key, site in server.sites.items() for p, n in site.requests.items()}


def clear(server: ReplicaServer) -> None:
    for site in server.sites.values():
        site.requests.clear()


def drained(client: redis.Redis) -> bool:
    if not client.exists("newscrawl:records"):
        return True
    pending = sum(int(g["pending"]) for g in client.xinfo_groups("newscrawl:records"))
    return client.xlen("newscrawl:records") == 0 and pending == 0


def pending(client: redis.Redis) -> int:
    if not client.exists("newscrawl:records"):
        return 0
    return sum(int(g["pending"]) for g in client.xinfo_groups("newscrawl:records"))


def wait_for(condition: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.1)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
