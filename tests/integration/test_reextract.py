"""``reextract`` re-runs extraction over stored pages and stores exactly what changed."""

from __future__ import annotations

import json
import subprocess
import zlib
from pathlib import Path

import sqlite_utils

from crawler.extract.urls import canonical_url, url_hash
from crawler.testing.server import ReplicaServer
from tests.helpers import crawl_args, run_cli


def reextract(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("reextract", *args)


def test_reextract_updates_exactly_the_changed_records(tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    with ReplicaServer(["cao"]) as server:
        site = server.sites["cao"]
        done = run_cli(*crawl_args(server, db_path, "cao"))
    assert done.returncode == 0, done.stderr[-3000:]
    db = sqlite_utils.Database(db_path)
    total = db["articles"].count
    unchanged = reextract("--db", str(db_path), "--workers", "2")
    assert unchanged.returncode == 0, unchanged.stderr
    assert f"{total} unchanged, 0 updated" in unchanged.stdout

    # An extraction change, simulated: the stored pages of two articles now give other text.
    truth = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))
    changed = {}
    for route in site.routes_of("article")[:2]:
        key = url_hash(canonical_url(site.real_base + route.path))
        page = zlib.decompress(db["pages"].get(key)["html_gz"]).decode("utf-8")
        first = truth[route.name]["body_first"]
        assert first in page
        page = page.replace(first, first + " Câu được thêm khi trích xuất lại.")
        db.execute("update pages set html_gz = ? where url_hash = ?", [zlib.compress(page.encode()), key])
        changed[key] = db["articles"].get(key)["fetched_at"]
    db.conn.commit()

    done = reextract("--db", str(db_path), "--site", "cao", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert f"{total - 2} unchanged, 2 updated, 0 metadata only, 0 failed" in done.stdout
    versions = {r["url_hash"]: r["version"] for r in db.query("select url_hash, version from articles")}
    assert {k for k, v in versions.items() if v == 2} == set(changed)
    for key, fetched_at in changed.items():
        row = db["articles"].get(key)
        assert "Câu được thêm khi trích xuất lại." in row["body"]
        assert row["fetched_at"] == fetched_at, "a re-extraction keeps the time of the fetch"
    again = reextract("--db", str(db_path), "--workers", "0")
    assert f"{total} unchanged, 0 updated" in again.stdout
