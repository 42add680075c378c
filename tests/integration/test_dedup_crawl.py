"""Crawling the replicas links each cross-site republication into one story."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from crawler.extract.urls import canonical_url, url_hash
from crawler.testing.server import ReplicaServer
from tests.helpers import crawl_args, declared_copies, run_cli

STORY = {"bocongan": "1783311539", "cao": "185236", "thanhtra": "b81f4c2d7"}  # one statement, three outlets
UNRELATED = ("cao", "185311")  # same ministry, same kind of event, another story


def test_republished_copies_share_one_cluster_and_dumps_can_keep_one(tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    with ReplicaServer() as server:
        done = run_cli(*crawl_args(server, db_path), timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        hashes = {}
        for key, site in server.sites.items():
            for route in site.routes_of("article"):
                hashes[(key, route.name)] = url_hash(canonical_url(site.real_base + route.path))
        total = sum(len(site.routes_of("article")) for site in server.sites.values())

    db = sqlite_utils.Database(db_path)
    assert db["articles"].count == total, "every copy is kept"
    member = {r["url_hash"]: r["cluster_id"] for r in db.query("select url_hash, cluster_id from dup_members")}
    story = {member.get(hashes[(key, name)]) for key, name in STORY.items()}
    assert len(story) == 1 and None not in story, "the three copies are one story"
    assert member.get(hashes[UNRELATED]) not in story, "the unrelated article is not in it"
    copies = declared_copies()  # the other republications the replicas declare (truth.json copy_of)
    for copy, original in copies.items():
        assert member.get(hashes[copy]) == member.get(hashes[original]) is not None, f"{copy} is {original}'s copy"
        assert member.get(hashes[copy]) not in story
    cluster = story.pop()
    original = db.execute("select original from dup_clusters where cluster_id = ?", [cluster]).fetchone()[0]
    assert original == hashes[("bocongan", STORY["bocongan"])], "the earliest copy is the original"

    dump = tmp_path / "one.jsonl"
    exported = run_cli("export", "--db", str(db_path), "--one-per-cluster", "-o", str(dump))
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(records) == total - 2 - len(copies)
    assert [r["url_hash"] for r in records if r["cluster_id"] == cluster] == [original]
