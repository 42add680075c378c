"""A crawl whose extractor hangs on one page and dies on another still completes.

The fault is injected test-only: the crawl subprocess sets the pool's worker initializer to
``tests.faulty_extraction.install``, which replaces ``crawler.extract.article.extract`` in each worker.
Production code has no trigger for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from crawler.extract.urls import canonical_url, url_hash
from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, crawl_args

PATCHED_CLI = """
import sys
from crawler.crawl import pool
from tests import faulty_extraction
pool.worker_initializer = faulty_extraction.install
from crawler.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(["cao"]) as running:
        yield running


def crawl(server: ReplicaServer, db: Path) -> subprocess.CompletedProcess[str]:
    workers = ["-s", "NEWS_EXTRACT_WORKERS=2", "-s", "NEWS_EXTRACT_TIMEOUT=2"]
    command = [sys.executable, "-c", PATCHED_CLI, *crawl_args(server, db, "cao"), *workers]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240, check=False)


def test_hanging_and_crashing_pages_are_counted_and_retried_next_run(server: ReplicaServer, tmp_path: Path) -> None:
    site, db_path = server.sites["cao"], tmp_path / "news.sqlite3"
    articles = site.routes_of("article")
    # Two articles of the main feed: every run reads it, so the next run finds them again.
    feed = site.raw(site.routes["/rss/home.rss"]).decode("utf-8")
    hang, crash = [r for r in articles if r.path in feed][:2]
    originals = {r.path: site.raw(r) for r in (hang, crash)}
    site.publish(hang.path, originals[hang.path] + b"<!-- TEST-HANG -->")
    site.publish(crash.path, originals[crash.path] + b"<!-- TEST-CRASH -->")

    done = crawl(server, db_path)
    assert done.returncode == 1, done.stderr[-3000:]  # finished, with errors
    db = sqlite_utils.Database(db_path)
    assert db["articles"].count == len(articles) - 2
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    errors = json.loads(run["errors_by_kind"])
    # pebble matches a dead worker to its page by the page's start message, which can arrive
    # after the death is noticed: the crash is then reported when the page times out, as a
    # timeout (crawler/crawl/pool.py). Either way both pages are counted and retried.
    assert errors in ({"extract_timeout": 1, "extract_crash": 1}, {"extract_timeout": 2}), errors
    hashes = {url_hash(canonical_url(site.real_base + r.path)) for r in (hang, crash)}
    events = {
        r["url_hash"]: (r["outcome"], r["reason"])
        for r in db.query("select * from url_log where site = 'cao'")
        if r["url_hash"] in hashes
    }
    assert len(events) == 2 and {outcome for outcome, _ in events.values()} == {"error"}, events
    assert {reason for _, reason in events.values()} <= {"extract_timeout", "extract_crash"}, events

    for route in (hang, crash):
        site.publish(route.path, originals[route.path])
    again = crawl(server, db_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert db["articles"].count == len(articles)
