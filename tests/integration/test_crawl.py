"""Crawl each replica with ``scrapy crawl KEY -a base_url=...`` in a subprocess, as users do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from crawler.extract.urls import canonical_url, url_hash
from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, site_keys
from tests.unit.replica_checks import truth_failures


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer() as running:
        yield running


def scrapy_crawl(key: str, base_url: str, db_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWS_DB_PATH": str(db_path)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            key,
            "-a",
            f"base_url={base_url}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "LOG_LEVEL=INFO",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize("key", site_keys())
def test_crawl_stores_every_article_once_and_nothing_else(key: str, server: ReplicaServer, tmp_path: Path) -> None:
    site = server.sites[key]
    site.requests.clear()
    db_path = tmp_path / "news.sqlite3"
    done = scrapy_crawl(key, server.base_url(key), db_path)
    assert done.returncode == 0, done.stderr[-3000:]

    db = sqlite_utils.Database(db_path)
    stored = [row["url"] for row in db.query("select url from articles where site = ?", [key])]
    expected = {canonical_url(site.real_base + r.path) for r in site.routes_of("article")}
    assert len(stored) == len(set(stored)), "an article is stored twice"
    assert set(stored) == expected
    for row in db.query("select * from articles"):
        assert row["title"] and row["body"] and row["content_hash"] and row["language"] == "vi"
        # a time in Vietnam time, or a date where the page prints only a day
        day_only = row["published_at_precision"] == "day"
        assert row["published_at"] and (
            len(row["published_at"]) == 10 if day_only else row["published_at"].endswith("+07:00")
        )
        assert row["extractor"] == "site"
    assert db["pages"].count == len(expected), "raw HTML kept for every article"

    truth = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))
    for route in site.routes_of("article"):
        row = db["articles"].get(url_hash(canonical_url(site.real_base + route.path)))
        facts = truth[route.name]
        assert row["lead"] == facts["lead"], "the lead is kept"
        # Every field a person checked on the page: the 2025-shaped CAO pages and the class
        # variant of Báo Thanh tra included (issue 24).
        assert (row["title"], row["category"], row["source"]) == (
            facts["title"],
            facts["category"],
            facts.get("source"),
        )
        assert json.loads(row["authors"]) == facts["authors"], route.path
        # every field, as stored, against the facts written from the page's HTML
        record = {**row, "authors": json.loads(row["authors"]), "images": json.loads(row["images"])}
        assert truth_failures(record, facts) == [], route.path
        assert (row["published_at"], row["published_at_precision"]) == (
            facts["published_at"],
            facts["published_at_precision"],
        )
        for furniture in facts["absent"]:
            assert furniture not in row["body"], f"furniture {furniture!r} stored in {route.path}"

    for route in site.routes.values():
        if route.kind == "disallowed":
            assert site.fetched(route.path) == 0, f"robots.txt-disallowed {route.path} was requested"
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    stats = json.loads(run["stats"])
    assert run["status"] == "ok" and run["articles_new"] == len(expected)
    # Every request the crawler made reached this replica: nothing went off-site.
    assert stats["downloader/request_count"] == sum(site.requests.values())

    again = scrapy_crawl(key, server.base_url(key), db_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert db["articles"].count == len(expected)
    second = next(db.query("select * from crawl_runs order by id desc limit 1"))
    assert second["articles_new"] == 0 and second["id"] != run["id"]
