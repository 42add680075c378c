"""What a crawl of the replicas stores, as exported, must not change when storage gets faster.

The golden file was written by the code before the storage path was batched (issue 17), with
``pytest tests/integration/test_export_golden.py --update-golden``; every later version must
export the same records. Three crawls into one database: the replicas (aliases, canonical
links, a republished story), a synthetic replica of 40 articles per site (one crowded
near-duplicate cluster per site, as its articles share a template), and a re-crawl of the
replicas with one article edited and every article due for a recheck (duplicates, a new
version). Volatile fields are left out: times of fetching, and the cluster number (it depends
on which page a crawl happened to store first), which becomes the smallest URL of its cluster;
the replica's port in image URLs becomes ``{{REPLICA}}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from crawler.testing.server import ReplicaServer
from tests.helpers import crawl_args, run_cli
from tests.integration.replica_edit import edit_article

GOLDEN = Path(__file__).parent / "golden" / "export.jsonl"
VOLATILE = ("fetched_at", "first_seen_at")
EDITED = "182045"  # the CAO article edited before the re-crawl (its truth.json key)


def _crawl(server: ReplicaServer, db: Path, *extra: str) -> None:
    # The synthetic articles have no bylines: the quality gate (not under test here) would flag
    # the site against its replica baseline.
    done = run_cli(*crawl_args(server, db), "-s", "NEWS_QUALITY_MIN_BASELINE=1000000", *extra, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _export(db: Path, *extra: str) -> list[dict[str, Any]]:
    done = run_cli("export", "--db", str(db), "-o", "-", *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def _stable(records: list[dict[str, Any]], originals: set[str]) -> list[dict[str, Any]]:
    clusters: dict[Any, str] = {}
    for r in records:
        if r["cluster_id"] is not None:
            clusters[r["cluster_id"]] = min(clusters.get(r["cluster_id"], r["url"]), r["url"])
    out = []
    for r in sorted(records, key=lambda r: r["url"]):
        kept = {k: v for k, v in r.items() if k not in VOLATILE}
        kept["cluster_id"] = clusters.get(r["cluster_id"])
        kept["one_per_cluster"] = r["url"] in originals
        out.append(kept)
    return out


def test_export_of_the_replica_crawls_matches_the_golden_file(tmp_path: Path, update_golden: bool) -> None:
    db = tmp_path / "news.sqlite3"
    with ReplicaServer() as server:
        _crawl(server, db)
        cao = server.sites["cao"]
        [route] = [r for r in cao.routes_of("article") if r.name == EDITED]
        first = json.loads((cao.folder / "truth.json").read_text(encoding="utf-8"))[EDITED]["body_first"]
        edit_article(cao, route.path, first, first.rstrip(".") + " (bản cập nhật).")
        with ReplicaServer(synthetic=40) as synthetic:
            _crawl(synthetic, db)
        _crawl(server, db, "-s", "NEWS_RECHECK_DAYS=36500", "-s", "NEWS_RECHECK_HOURS=0")
    originals = {r["url"] for r in _export(db, "--one-per-cluster")}
    got = _stable(_export(db), originals)
    assert len(got) > 140 and sum(r["version"] > 1 for r in got) == 1
    # Image URLs keep the origin they were fetched from: the replica's port changes every run.
    lines = [
        re.sub(r"http://127\.0\.0\.1:\d+", "{{REPLICA}}", json.dumps(r, ensure_ascii=False, sort_keys=True))
        for r in got
    ]
    if update_golden:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert json.loads(line) == json.loads(want)
