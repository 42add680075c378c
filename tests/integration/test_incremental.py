"""Scheduled crawls: only new or changed work, versions, backfill, the lock, SIGKILL safety."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from crawler.crawl.lock import CrawlLock
from crawler.extract.urls import canonical_url
from crawler.testing.replica import SiteReplica
from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, crawl_args
from tests.integration.replica_edit import edit_article, publish_cao_article

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(["cao"]) as running:
        yield running


def newscrawl(db: Path, *args: str, base: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "crawler.cli", *args, "--db", str(db)]
    if base:
        command += ["--base-url", f"cao={base}"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240, check=False)


def crawl(db: Path, base: str, *extra: str) -> subprocess.CompletedProcess[str]:
    done = newscrawl(db, "crawl", "cao", *FAST, *extra, base=base)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def article_requests(site: SiteReplica) -> set[str]:
    """Article pages (by URL shape) requested since the log was last cleared."""
    from crawler.sites.cao import SITE

    return {p.split("?")[0] for p in site.requests if SITE.is_article_path(p.split("?")[0])}


def test_recrawl_fetches_only_new_and_changed_articles(server: ReplicaServer, tmp_path: Path) -> None:
    site, base, db_path = server.sites["cao"], server.base_url("cao"), tmp_path / "news.sqlite3"
    crawl(db_path, base)
    db = sqlite_utils.Database(db_path)
    first_count = db["articles"].count
    assert first_count == len(site.routes_of("article"))

    site.requests.clear()
    crawl(db_path, base)
    assert article_requests(site) == set(), "an unchanged re-crawl fetches no article page"
    assert db["articles"].count == first_count
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    assert run["articles_new"] == 0 and run["not_modified"] >= 3  # feeds and listings answered 304

    young = publish_cao_article(site, 190001, "Bài mới thứ nhất về an ninh trật tự")
    site.requests.clear()
    crawl(db_path, base)
    assert article_requests(site) == {young}
    assert db["articles"].count == first_count + 1

    second = publish_cao_article(site, 190002, "Bài mới thứ hai về phòng cháy chữa cháy")
    third = publish_cao_article(site, 190003, "Bài mới thứ ba về giao thông")
    edit_article(site, young, "Bài số 190001.", "Bài số 190001 (đã cập nhật).")
    site.requests.clear()
    crawl(db_path, base, "-s", "NEWS_RECHECK_HOURS=0")
    assert article_requests(site) == {young, second, third}, "only the new and the young articles"
    assert db["articles"].count == first_count + 3
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    assert (run["articles_new"], run["articles_updated"]) == (2, 1)

    history = newscrawl(db_path, "history", canonical_url(site.real_base + young))
    assert history.returncode == 0
    assert [line.split()[0] for line in history.stdout.splitlines()] == ["v1", "v2"]
    assert "body" in history.stdout.splitlines()[1]
    explained = newscrawl(db_path, "explain", site.real_base + young + "?utm_source=zalo")
    assert "stored:" in explained.stdout and "version 2" in explained.stdout


def test_an_edit_is_found_while_every_feed_answers_304(server: ReplicaServer, tmp_path: Path) -> None:
    # Issue 25: a young article edited on the site, and nothing else changed, so feeds and
    # listings answer 304 and list nothing; only --backfill used to find the edit.
    site, base, db_path = server.sites["cao"], server.base_url("cao"), tmp_path / "news.sqlite3"
    young = publish_cao_article(site, 190011, "Bài mới về an ninh mạng")
    crawl(db_path, base)
    crawl(db_path, base)  # the entry points' validators now match what the replica serves
    edit_article(site, young, "Bài số 190011.", "Bài số 190011 (đã sửa sau khi đăng).")
    site.requests.clear()
    done = crawl(db_path, base, "-s", "NEWS_RECHECK_HOURS=0")
    db = sqlite_utils.Database(db_path)
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    assert run["not_modified"] >= 3, "feeds and listings answered 304"
    assert young in article_requests(site), "the young article was rechecked all the same"
    assert (run["articles_new"], run["articles_updated"]) == (0, 1)
    stored = next(db.query("select body, version from articles where url = ?", [canonical_url(site.real_base + young)]))
    assert stored["version"] == 2 and "(đã sửa sau khi đăng)" in stored["body"]
    # The summary says so: one updated, the rest unchanged, the 304s, and the database total.
    table = [re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines() if line.strip()]
    header = next(row for row in table if row[0] == "site")
    cao = dict(zip(header, next(row for row in table if row[0] == "cao"), strict=True))
    assert (cao["new"], cao["updated"], cao["not modified"]) == ("0", "1", str(run["not_modified"]))
    assert cao["in database"] == str(db["articles"].count)
    # An old article (outside NEWS_RECHECK_DAYS) is not refetched: the recheck stays bounded.
    assert len(article_requests(site)) == int(run["articles_updated"]) + int(run["articles_duplicate"])


def test_backfill_reaches_beyond_the_first_listing_pages(server: ReplicaServer, tmp_path: Path) -> None:
    site, base, db_path = server.sites["cao"], server.base_url("cao"), tmp_path / "news.sqlite3"
    crawl(db_path, base, "-s", "NEWS_MAX_LISTING_PAGES=1")
    db = sqlite_utils.Database(db_path)
    shallow = {row["url"] for row in db.query("select url from articles")}
    everything = {canonical_url(site.real_base + r.path) for r in site.routes_of("article")}
    assert shallow < everything, "the first listing pages and feeds do not hold every article"

    crawl(db_path, base, "--backfill", "--max-pages", "5")
    assert {row["url"] for row in db.query("select url from articles")} == everything


def test_sigkill_mid_run_loses_nothing(server: ReplicaServer, tmp_path: Path) -> None:
    site, base, db_path = server.sites["cao"], server.base_url("cao"), tmp_path / "news.sqlite3"
    # Slow enough that the kill lands mid-run even when the extraction workers (a forkserver
    # importing the extraction modules) take seconds to start on a loaded machine.
    slow = [sys.executable, "-m", "crawler.cli", *crawl_args(server, db_path, "cao", delay=1.0)]
    proc = subprocess.Popen(slow, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored < 2:
        time.sleep(0.05)
        if db_path.exists():
            try:
                stored = sqlite_utils.Database(db_path).execute("select count(*) from articles").fetchone()[0]
            except Exception:  # the schema may not exist yet
                stored = 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    total = len(site.routes_of("article"))
    assert 2 <= stored < total, "killed mid-run, after some articles were stored"

    crawl(db_path, base)
    db = sqlite_utils.Database(db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    urls = [row["url"] for row in db.query("select url from articles")]
    assert len(urls) == len(set(urls)) == total


def test_overlapping_crawls_one_runs_the_other_exits_locked(server: ReplicaServer, tmp_path: Path) -> None:
    base, db_path = server.base_url("cao"), tmp_path / "news.sqlite3"
    with CrawlLock(db_path):
        held = newscrawl(db_path, "crawl", "cao", base=base)
    assert held.returncode == 4
    assert "holds" in held.stderr and len(held.stderr.strip().splitlines()) == 1

    command = [sys.executable, "-m", "crawler.cli", *crawl_args(server, db_path, "cao", delay=0.1)]
    procs = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=240) for p in procs)
    assert codes == [0, 4]


def test_crawl_runs_rows_carry_per_site_stats(server: ReplicaServer, tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    crawl(db_path, server.base_url("cao"))
    runs = newscrawl(db_path, "runs")
    assert runs.returncode == 0 and " cao " in runs.stdout
    row = next(sqlite_utils.Database(db_path).query("select * from crawl_runs"))
    assert row["status"] == "ok" and row["duration_s"] > 0
    # the video page (article-shaped URL, listed) and the robots-disallowed preview link
    assert json.loads(row["dropped_by_reason"]) == {"not_article_type": 1, "robots": 1}
    assert json.loads(row["errors_by_kind"]) == {}
