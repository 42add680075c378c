"""Hostile files and neighbours at the storage layer (issue 16): other applications' databases,
failed migrations, state files, Redis records, and what the terminal is shown."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from storage import schema
from storage.db import StorageError, open_db
from storage.export import Selection, StateError, read_state


def _fails_half_way(db: sqlite_utils.Database) -> None:
    db.execute("create table half_done (x)")
    db.execute("insert into half_done values (1)")
    raise sqlite3.OperationalError("disk I/O error")


@pytest.fixture
def failing_migration() -> Iterator[None]:
    """A migration that fails half-way (after creating a table), registered last."""
    schema.migrations._migrations.append(schema.migrations._Migration("m999_fails", _fails_half_way))
    try:
        yield
    finally:
        schema.migrations._migrations.pop()


def test_a_new_database_whose_migration_fails_is_removed(tmp_path: Path, failing_migration: None) -> None:
    path = tmp_path / "data" / "news.sqlite3"
    with pytest.raises(StorageError) as caught:
        open_db(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert not path.exists() and not Path(f"{path}-wal").exists() and not (tmp_path / "data").exists()


def test_a_failed_migration_leaves_an_existing_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    open_db(path).close()
    before = sorted(sqlite_utils.Database(path).table_names())
    # The next version brings two migrations; the second fails half-way.
    schema.migrations._migrations.append(
        schema.migrations._Migration("m998_fine", lambda db: db.execute("create table new_one (x)"))
    )
    schema.migrations._migrations.append(schema.migrations._Migration("m999_fails", _fails_half_way))
    try:
        with pytest.raises(StorageError):
            open_db(path)
    finally:
        del schema.migrations._migrations[-2:]
    db = sqlite_utils.Database(path)
    assert sorted(db.table_names()) == before
    assert not {"m998_fine", "m999_fails"} & {r["name"] for r in db.query("select name from _sqlite_migrations")}


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("create table invoices (id integer primary key, total real)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for options in ({}, {"readonly": True}, {"create": False}):
        with pytest.raises(StorageError, match="not a newscrawl database"):
            open_db(path, **options)  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert sqlite3.connect(path).execute("pragma journal_mode").fetchone()[0] == "delete"


def test_read_only_open_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    open_db(path).close()
    db = open_db(path, readonly=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("insert into url_log (url_hash) values ('x')")
    db.close()


@pytest.mark.parametrize(
    "content",
    [
        {"last_version_rowid": "abc"},
        {"last_version_rowid": 2**70},
        {"last_version_rowid": -1},
        {"last_version_rowid": True},
        {"last_version_rowid": 1.5},
        {"last_version_rowid": 3, "records": "many"},
        {"last_version_rowid": 3, "selection": ["site"]},
    ],
)
def test_a_state_file_with_a_bad_rowid_is_refused(tmp_path: Path, content: dict[str, Any]) -> None:
    selection = Selection()
    state = tmp_path / "state.json"
    data = {"last_version_rowid": 0, "selection": {"site": None, "since": None, "since_field": "published",
                                                   "one_per_cluster": False}, **content}  # fmt: skip
    state.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError) as caught:
        read_state(state, selection)
    assert str(state) in str(caught.value)


def test_a_zlib_bomb_in_a_redis_record_is_refused() -> None:
    from crawler.distributed.stream import decode_record

    data = {
        "site": "cao", "url": "u", "title": "t", "lead": None, "body": "b", "authors": [], "published_at": None,
        "published_at_raw": None, "category": None, "tags": [], "images": [], "language": "vi",
        "extractor": "site", "url_hash": "h", "content_hash": "c",
    }  # fmt: skip
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 KB in Redis, 64 MB once inflated
    assert len(bomb) < 100_000
    fields = {b"type": b"article", b"data": json.dumps(data).encode(), b"html": bomb}
    with pytest.raises(ValueError, match="more than"):
        decode_record(fields, max_html=16 * 1024 * 1024)
    fields[b"html"] = zlib.compress(b"<html>trang</html>")
    assert decode_record(fields).raw_html == b"<html>trang</html>"  # type: ignore[union-attr]


def test_deeply_nested_json_in_a_redis_record_is_refused() -> None:
    from crawler.distributed.stream import decode_record

    with pytest.raises(ValueError):
        decode_record({b"type": b"url_event", b"data": b"[" * 100_000 + b"]" * 100_000})


@pytest.mark.parametrize(
    ("url", "insecure", "refused"),
    [
        ("redis://10.0.0.5:6379/0", False, True),
        ("redis://redis.example:6379/0", False, True),
        ("rediss://10.0.0.5:6380/0", False, True),
        ("redis://:s3cret@10.0.0.5:6379/0", False, False),
        ("redis://newscrawl:s3cret@10.0.0.5:6379/0", False, False),
        ("redis://10.0.0.5:6379/0?password=s3cret", False, False),
        ("redis://10.0.0.5:6379/0", True, False),
        ("redis://127.0.0.1:6379/0", False, False),
        ("redis://[::1]:6379/0", False, False),
        ("redis://localhost/0", False, False),
        ("unix:///run/redis/redis.sock", False, False),
    ],
)
def test_workers_need_a_password_for_a_redis_on_another_machine(url: str, insecure: bool, refused: bool) -> None:
    from crawler.cli.args import UsageError, check_redis_url

    if refused:
        with pytest.raises(UsageError, match="password"):
            check_redis_url(url, insecure)
    else:
        check_redis_url(url, insecure)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Công an TP.HCM", "Công an TP.HCM"),
        ("đỏ\x1b[2J", "đỏ\\x1b[2J"),
        ("\u202eđảo", "\\u202eđảo"),
        ("chuông\x07", "chuông\\x07"),
        ("dòng\nmới", "dòng\\nmới"),
    ],
)
def test_printed_text_escapes_what_is_not_printable(text: str, shown: str) -> None:
    from crawler.cli.safe_print import json_line, printable

    assert printable(text) == shown
    line = json_line({"title": text})
    assert line.isprintable() and json.loads(line) == {"title": text}


def test_json_lines_escape_characters_outside_the_basic_plane() -> None:
    from crawler.cli.safe_print import json_line

    text = "thẻ \U000e0041 ẩn"  # a tag character: invisible, non-printable
    line = json_line(text)
    assert line.isprintable() and json.loads(line) == text
