"""bocongan as the live site is (SITES.md §1.4b): RSS and page 1 only, at the site's pace (issue #12)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import sqlite_utils

from crawler.replica import ReplicaServer, route_key
from tests.conftest import run_cli

SCALE = 0.15  # the site's 2-4 s pace shortened to 0.3-0.6 s to keep the test short


def test_bocongan_crawl_uses_only_real_urls_at_the_site_pace(tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    with ReplicaServer(["bocongan"]) as server:
        site = server.sites["bocongan"]
        done = run_cli(
            "crawl", "bocongan", "--db", str(db), "--base-url", f"bocongan={server.base_url('bocongan')}",
            "-s", f"NEWS_DELAY_SCALE={SCALE}", "-s", "AUTOTHROTTLE_ENABLED=False",
        )  # fmt: skip
        timeline = list(site.timeline)
    assert done.returncode == 0, done.stderr[-3000:]
    paths = [path for _, path in timeline]
    # Only URLs the real site has: no ?page=N (the firewall answers it with a challenge), no 404.
    assert not [p for p in paths if "page" in p.split("?", 1)[-1] and "?" in p], paths
    assert [p for p in paths if site.lookup(p) is None] == [], "requested URLs the site does not have"
    # Feeds named by the /rss index page are read too, beside the configured 34-36.
    feeds = {route_key(r.path) for r in site.routes_of("feed")}
    assert feeds <= {route_key(p) for p in paths}
    stored = {row["url"] for row in sqlite_utils.Database(db).query("select url from articles")}
    expected = {site.real_base + r.path for r in site.routes_of("article")}
    assert stored == expected
    # One request at a time, never closer than the site's shortest gap (2 s x SCALE).
    gaps = [b - a for (a, _), (b, _) in pairwise(timeline)]
    assert min(gaps) >= 2.0 * SCALE - 0.02, sorted(gaps)[:5]
