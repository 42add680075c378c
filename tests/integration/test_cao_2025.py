"""CAO as SITES.md §3.3 describes it in 2025, crawled end to end (issue 24).

The replica's feeds are gone (a 404 each, as a site without public RSS answers): the listings
find every article, the run is ``ok`` with one warning per feed, and the 2025-shaped pages that
``/tin-chinh`` lists from other sections get their category from their own page.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlite_utils

from crawler.extract.urls import canonical_url, url_hash
from crawler.sites.cao import SITE as CAO
from crawler.testing.replica import SITES_DIR, SiteReplica
from crawler.testing.server import ReplicaServer
from tests.helpers import crawl_args, run_cli
from tests.unit.replica_checks import truth_failures

NEW_SHAPE = {"185402": "Quốc tế", "185467": "Đời sống"}  # 2025-shaped pages, listed on /tin-chinh


def test_cao_without_feeds_is_crawled_from_its_listings_with_every_field_right(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR, sites)
    spec_path = sites / "cao" / "site.json"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    feeds = [r["path"] for r in spec["routes"] if r["kind"] == "feed"]
    assert len(feeds) == 3
    spec["routes"] = [r for r in spec["routes"] if r["kind"] != "feed"]  # unknown paths answer 404
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    site = SiteReplica(sites / "cao")
    listed_by = {
        name: [r.path for r in site.routes_of("listing") if path in site.raw(r).decode("utf-8")]
        for r in site.routes_of("article")
        if (name := r.name) in NEW_SHAPE and (path := r.path)
    }
    assert listed_by == {name: ["/tin-chinh"] for name in NEW_SHAPE}, "found only through /tin-chinh"

    db_path = tmp_path / "news.sqlite3"
    with ReplicaServer(sites_dir=sites) as server:
        done = run_cli(*crawl_args(server, db_path, "cao"), "-v")
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line and "feed" in line]
    assert len(warnings) == len(feeds) and all("answered 404" in line for line in warnings), warnings

    db = sqlite_utils.Database(db_path)
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    stats = json.loads(run["stats"])
    assert run["status"] == "ok", run
    assert stats["newscrawl/dropped/feed_unavailable"] == len(feeds)
    assert not [k for k in stats if k.startswith("newscrawl/errors/")]

    truth = json.loads((sites / "cao" / "truth.json").read_text(encoding="utf-8"))
    # Every article a listing links on the site itself; one listing links 180721 by the real
    # domain only (off-site from the replica, on purpose): without feeds nothing reaches it.
    walked = [r for r in site.routes_of("listing") if r.path.startswith(CAO.listings)]  # not the home page
    listings = "".join(site.raw(r).decode("utf-8") for r in walked)
    articles = [r for r in site.routes_of("article") if f'href="{r.path}"' in listings]
    assert [r.name for r in site.routes_of("article") if r not in articles] == ["180721"]
    stored = {row["url"] for row in db.query("select url from articles")}
    assert stored == {canonical_url(site.real_base + r.path) for r in articles}
    for route in articles:
        row = db["articles"].get(url_hash(canonical_url(site.real_base + route.path)))
        facts = truth[route.name]
        assert row["extractor"] == "site", route.path
        # every field, as stored, against the facts written from the page's HTML
        record = {**row, "authors": json.loads(row["authors"]), "images": json.loads(row["images"])}
        assert truth_failures(record, facts) == [], route.path
        for furniture in facts["absent"]:
            assert furniture not in row["body"], (route.path, furniture)
    for name, category in NEW_SHAPE.items():
        route = next(r for r in articles if r.name == name)
        row = db["articles"].get(url_hash(canonical_url(site.real_base + route.path)))
        assert row["category"] == category != "Tin chính"
