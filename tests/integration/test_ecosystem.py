"""The database fits the tools people already use (issue 15): `sqlite-utils search` and plain
`datasette` find the exact full-text index by themselves, also in a database made before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from storage.db import open_db
from storage.search import EXACT_FTS, FOLDED_FTS, create_indexes, drop_indexes
from tests.helpers import build_replica_db

BIN = Path(sys.executable).parent
MA_TUY = "Triệt phá đường dây đưa ma túy từ TP.HCM lên Đà Lạt phục vụ “tiệc bay lắc”"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eco") / "news.sqlite3"
    build_replica_db(path).close()
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, check=False)


def test_sqlite_utils_search_finds_articles(db_path: Path) -> None:
    done = run(str(BIN / "sqlite-utils"), "search", str(db_path), "articles", "ma túy", "-c", "title")
    assert done.returncode == 0, done.stderr
    titles = [row["title"] for row in json.loads(done.stdout)]
    assert MA_TUY in titles


def test_datasette_search_finds_articles(db_path: Path) -> None:
    done = run(
        str(BIN / "datasette"), str(db_path), "--get", f"/{db_path.stem}/articles.json?_search=ma+túy&_shape=array"
    )
    assert done.returncode == 0, done.stderr
    titles = [row["title"] for row in json.loads(done.stdout)]
    assert MA_TUY in titles


def test_a_database_made_before_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    build_replica_db(path).close()
    # As databases were made before: both tables with content='articles', which no tool detects.
    db = sqlite_utils.Database(path)
    drop_indexes(db)
    for table, diacritics in ((EXACT_FTS, 0), (FOLDED_FTS, 2)):
        db.execute(
            f"create virtual table {table} using fts5(title, lead, body, content='articles', "
            f"content_rowid='rowid', tokenize='unicode61 remove_diacritics {diacritics}')"
        )
    db.execute("delete from _sqlite_migrations where name = 'm019_fts_detectable'")
    assert db["articles"].detect_fts() is None
    db.close()
    db = open_db(path)
    assert db["articles"].detect_fts() == EXACT_FTS
    # The recreated indexes hold every article, and their triggers are back.
    assert list(db["articles"].search("ma túy", columns=["title"]))
    assert db.execute(f"select count(*) from {FOLDED_FTS} where {FOLDED_FTS} match 'dat'").fetchone()[0] > 0
    triggers = {r[0] for r in db.execute("select name from sqlite_master where type = 'trigger'")}
    assert {f"{t}_{s}" for t in (EXACT_FTS, FOLDED_FTS) for s in ("ai", "ad", "au")} <= triggers
    db.close()


def test_create_indexes_twice_changes_nothing() -> None:
    db = open_db(":memory:")
    before = list(db.execute("select name, sql from sqlite_master order by name"))
    create_indexes(db)
    assert list(db.execute("select name, sql from sqlite_master order by name")) == before
