"""`newscrawl export`: schema-valid records, stable order, CSV, --since, incremental dumps (issue 5)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import pty
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlite_utils

from crawler.cli import main
from crawler.extract.urls import url_hash
from storage.articles import save_article
from storage.db import open_db
from storage.export import EXPORT_FIELDS, iter_records, write_jsonl
from storage.prepared import RECORD_FIELDS
from storage.text import content_hash
from tests.helpers import REPO, build_replica_db

SCHEMA = json.loads((REPO / "schema" / "article.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "news.sqlite3"
    build_replica_db(path).close()
    return path


def export(db_path: Path, *args: str) -> int:
    return main(["export", "--db", str(db_path), *args])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        VALIDATOR.validate(record)
        assert tuple(record) == EXPORT_FIELDS, "field order is part of the format"
    return records


def stored(db_path: Path) -> dict[str, Any]:
    return {row["url_hash"]: row for row in sqlite_utils.Database(db_path).query("select * from articles")}


def test_schema_lists_exactly_the_exported_fields() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert tuple(SCHEMA["required"]) == EXPORT_FIELDS == tuple(SCHEMA["properties"])


def test_readme_record_table_lists_every_record_field() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## The record") :].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for name in RECORD_FIELDS:
        assert any(f"`{name}`" in row.split(" | ")[0] for row in rows), f"README record table lacks {name}"


def test_full_export_validates_and_keeps_every_article(db_path: Path, tmp_path: Path) -> None:
    assert export(db_path, "-o", str(tmp_path / "all.jsonl.gz")) == 0
    records = read_jsonl(tmp_path / "all.jsonl.gz")
    assert {r["url_hash"] for r in records} == set(stored(db_path))
    assert {r["change"] for r in records} == {"new"}
    assert all(isinstance(r["authors"], list) and isinstance(r["images"], list) for r in records)


def test_since_applies_to_publication_or_fetch_time(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert export(db_path, "--since", "2025-01-01", "-o", str(out)) == 0
    recent = read_jsonl(out)
    assert recent and all(r["published_at"] >= "2025-01-01" for r in recent)
    assert len(recent) < len(stored(db_path))
    # Every replica article was fetched at 2026-02-01T03:00Z = 10:00 in Vietnam time.
    assert export(db_path, "--since", "2026-02-01T10:00:00+07:00", "--since-field", "fetched", "-o", str(out)) == 0
    assert len(read_jsonl(out)) == len(stored(db_path))
    assert export(db_path, "--since", "2026-02-01T10:00:01+07:00", "--since-field", "fetched", "-o", str(out)) == 0
    assert read_jsonl(out) == []


def test_csv_has_the_same_columns_with_lists_as_json(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert export(db_path, "--format", "csv", "--site", "cao", "-o", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows and tuple(rows[0]) == EXPORT_FIELDS
    by_hash = stored(db_path)
    for row in rows:
        assert row["site"] == "cao"
        assert json.loads(row["authors"]) == json.loads(by_hash[row["url_hash"]]["authors"])
        assert row["body"] == by_hash[row["url_hash"]]["body"], "newlines survive CSV quoting"


def new_version(db: sqlite_utils.Database, url: str, **changes: Any) -> dict[str, Any]:
    """A record for ``url`` (a copy of a stored article with ``changes``), as extraction gives it."""
    row = dict(next(db.query("select * from articles where site = 'cao' order by rowid limit 1")))
    for name in ("authors", "tags", "images"):
        row[name] = json.loads(row[name])
    row = {**row, "url": url, "url_hash": url_hash(url), "fetched_at": "2026-02-02T03:00:00+00:00", **changes}
    row["content_hash"] = content_hash(row["title"], row["lead"], row["body"])
    for name in ("first_seen_at", "version"):
        row.pop(name)
    return row


def test_incremental_export_neither_misses_nor_repeats(db_path: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "export.json"
    first, second, third = (tmp_path / f"dump{i}.jsonl" for i in (1, 2, 3))
    assert export(db_path, "--incremental", str(state), "-o", str(first)) == 0
    assert {r["url_hash"] for r in read_jsonl(first)} == set(stored(db_path))
    assert json.loads(state.read_text())["last_version_rowid"] > 0

    db = sqlite_utils.Database(db_path)
    victim = next(db.query("select * from articles where site = 'thanhtra' order by rowid limit 1"))
    fresh = new_version(db, "https://congan.com.vn/tin-chinh/bai-moi_999001.html", title="Bài mới hoàn toàn")
    assert save_article(db, fresh) == "new"
    updated = new_version(db, victim["url"], title=victim["title"] + " (cập nhật)", site="thanhtra")
    assert save_article(db, updated) == "updated"
    unchanged = next(db.query("select * from articles where site = 'bocongan' limit 1"))
    refetch = new_version(db, unchanged["url"], site="bocongan")
    refetch.update({k: unchanged[k] for k in ("title", "lead", "body", "content_hash")})
    assert save_article(db, refetch) == "duplicate"
    db.close()

    assert export(db_path, "--incremental", str(state), "-o", str(second)) == 0
    records = read_jsonl(second)
    assert [(r["url"], r["change"], r["version"]) for r in records] == [
        (fresh["url"], "new", 1),
        (victim["url"], "updated", 2),
    ]
    assert records[1]["title"].endswith("(cập nhật)")

    assert export(db_path, "--incremental", str(state), "-o", str(third)) == 0
    assert read_jsonl(third) == [], "nothing new: nothing repeated"


def test_state_moves_only_after_a_complete_dump(db_path: Path, tmp_path: Path) -> None:
    state = tmp_path / "export.json"
    bad = tmp_path / "no-such-dir" / "dump.jsonl"
    assert export(db_path, "--incremental", str(state), "-o", str(bad)) == 2
    assert not state.exists() and not bad.exists()
    assert export(db_path, "--incremental", str(state), "-o", str(tmp_path / "ok.jsonl")) == 0
    assert len(read_jsonl(tmp_path / "ok.jsonl")) == len(stored(db_path))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary file left"


def test_state_file_of_another_selection_is_refused(db_path: Path, tmp_path: Path) -> None:
    state = tmp_path / "export.json"
    assert export(db_path, "--site", "cao", "--incremental", str(state), "-o", str(tmp_path / "a.jsonl")) == 0
    assert export(db_path, "--site", "thanhtra", "--incremental", str(state), "-o", str(tmp_path / "b.jsonl")) == 2
    state.write_text("not json")
    assert export(db_path, "--site", "cao", "--incremental", str(state), "-o", str(tmp_path / "c.jsonl")) == 2


@pytest.mark.slow  # a subprocess on a pseudo-terminal
def test_progress_bar_only_on_a_terminal(db_path: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert export(db_path, "-o", str(tmp_path / "a.jsonl")) == 0
    assert "exporting" not in capfd.readouterr().err.replace("exported", "")
    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "export", "--db", str(db_path), "-o", str(tmp_path / "b.jsonl")],
        cwd=REPO, stderr=follower, stdout=subprocess.DEVNULL, timeout=120, check=False,
    )  # fmt: skip
    os.close(follower)
    shown = os.read(leader, 65536).decode("utf-8")
    os.close(leader)
    assert done.returncode == 0
    count = len(stored(db_path))
    assert "exporting" in shown and f"{count}/{count}" in shown  # rich's bar, completed


@pytest.mark.slow  # builds and dumps a database of thousands of rows
def test_export_memory_does_not_grow_with_the_database() -> None:
    def peak(rows: int) -> int:
        db = open_db(":memory:")
        db.table("articles").insert_all(
            {"rowid": i, "site": "cao", "url": f"https://x/{i}", "title": "t", "lead": None, "body": "b" * 2000,
             "authors": "[]", "tags": "[]", "images": "[]", "url_hash": str(i), "content_hash": str(i), "version": 1}
            for i in range(rows)
        )  # fmt: skip
        with open(os.devnull, "w", encoding="utf-8") as sink:
            tracemalloc.start()
            assert write_jsonl(iter_records(db), sink) == rows
            _, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        db.close()
        return top

    small, large = peak(500), peak(5000)
    assert large < small * 2 + 200_000, (small, large)


def test_the_incremental_state_machine_lives_in_storage(db_path: Path, tmp_path: Path) -> None:
    """storage.export runs an incremental export without the CLI: the first run hands the sink
    every record, the state moves only through advance_state, and a sink that fails mid-dump
    leaves it where it was (the next run writes those records again)."""
    from storage import export as ex

    state_path = tmp_path / "state.json"
    db = open_db(db_path, readonly=True)
    total = db.execute("select count(*) from articles").fetchone()[0]
    seen: list[tuple[int, int]] = []

    def sink(records: Any, count: int) -> int:
        written = sum(1 for _ in records)
        seen.append((written, count))
        return written

    def broken(records: Any, count: int) -> int:
        next(iter(records))
        raise BrokenPipeError

    state = ex.read_state(state_path, ex.Selection())
    with pytest.raises(BrokenPipeError):
        ex.export_records(db, ex.Selection(), state, broken)
    assert not state_path.exists() and state.last_version_rowid == 0
    first = ex.export_records(db, ex.Selection(), state, sink, count=True)
    assert first.written == total > 0 and seen == [(total, total)] and first.upto is not None
    ex.advance_state(state_path, state, first)
    again = ex.export_records(db, ex.Selection(), ex.read_state(state_path, ex.Selection()), sink)
    assert again.written == 0 and seen[-1] == (0, 0)
    full = ex.export_records(db, ex.Selection(), None, sink)
    assert full == ex.Exported(total)
    with pytest.raises(ValueError):
        ex.advance_state(state_path, state, full)
    db.close()
