"""A hostile network: a crawl with faulted responses, then a clean one, loses and spoils nothing."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import sqlite_utils

from crawler.extract.urls import canonical_url
from crawler.testing.faults import KINDS, FaultPlan
from crawler.testing.server import ReplicaServer
from storage.text import content_hash
from tests.helpers import crawl_args, run_cli

# How the crawler names what each injected fault looks like from its side.
SEEN_AS = {
    "http_500": "http_500",
    "http_503": "http_503",
    "http_429": "http_429",
    "reset": "connection_lost",
    "slow": "timeout",
    "truncated": "truncated",
    "bad_utf8": "invalid_utf8",
    "wrong_charset": "charset_mismatch",
    "redirect_loop": "redirect_loop",
    "redirect_other_port": "offsite_redirect",
    "redirect_private": "offsite_redirect",
    "empty": "empty",
    "challenge": "challenge",
    "huge": "too_large",
    "gzip_bomb": "too_large",
    "billion_laughs": "xml_entities",
}


def crawl(server: ReplicaServer, db: Path) -> subprocess.CompletedProcess[str]:
    short = ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "NEWS_BACKOFF_START=0.2", "-s", "NEWS_BACKOFF_MAX=1"]
    return run_cli(*crawl_args(server, db), *short, timeout=300)


def _last_run_id(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    return int(sqlite_utils.Database(db_path).execute("select coalesce(max(id), 0) from crawl_runs").fetchone()[0])


def test_faulted_then_clean_crawl_stores_every_article_once_unspoiled(tmp_path: Path) -> None:
    plan = FaultPlan(0.2, seed=6, slow_seconds=3)
    db_path = tmp_path / "news.sqlite3"
    with ReplicaServer(faults=plan) as server:
        # The small replicas answer ~100 requests a run: two faulted runs at 20% meet all 16
        # fault kinds.
        for _ in range(2):
            before = _last_run_id(db_path)
            faulty = crawl(server, db_path)
            db = sqlite_utils.Database(db_path)
            # Every site's run of this crawl (one row each), whichever site the faults hit.
            last = {r["status"] for r in db.query("select status from crawl_runs where id > ?", [before])}
            assert len(list(db.query("select id from crawl_runs where id > ?", [before]))) == len(server.sites)
            assert faulty.returncode == (1 if "errors" in last else 0), faulty.stderr[-2000:]
        assert set(plan.injected) == set(KINDS), f"not every fault kind was injected: {plan.injected}"
        runs = list(db.query("select * from crawl_runs"))
        seen: Counter[str] = Counter()
        for run in runs:
            stats = json.loads(run["stats"])
            seen.update(
                {k.removeprefix("newscrawl/faults/"): v for k, v in stats.items() if k.startswith("newscrawl/faults/")}
            )
        for kind in plan.injected:
            assert seen[SEEN_AS[kind]] >= 1, f"fault {kind} is not counted as {SEEN_AS[kind]}: {dict(seen)}"
        # Every request went to a replica: the private and other-port redirects were never followed.
        total_requests = sum(json.loads(r["stats"]).get("downloader/request_count", 0) for r in runs)
        assert total_requests == sum(sum(site.requests.values()) for site in server.sites.values())

        plan.rate = 0.0
        clean = crawl(server, db_path)
        assert clean.returncode == 0, clean.stderr[-2000:]

        for key, site in server.sites.items():
            expected = {canonical_url(site.real_base + r.path): r.name for r in site.routes_of("article")}
            rows = list(db.query("select url, content_hash from articles where site = ?", [key]))
            assert sorted(r["url"] for r in rows) == sorted(expected), f"{key}: stored set differs"
            for row in rows:
                golden = json.loads((site.folder / "expected" / f"{expected[row['url']]}.json").read_text("utf-8"))
                want = content_hash(golden["title"], golden["lead"], golden["body"])  # goldens hold no hashes
                assert row["content_hash"] == want, f"{row['url']} stored spoiled"
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
