"""Failing storage and bad input: a clear one-line error, a documented exit code, nothing lost."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from crawler.testing.server import ReplicaServer
from storage.db import open_db
from tests.helpers import REPO

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(["cao"]) as running:
        yield running


def newscrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )


def crawl_cao(server: ReplicaServer, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return newscrawl("crawl", "cao", "--db", str(db), "--base-url", f"cao={server.base_url('cao')}", *FAST, *extra)


def test_full_disk_stops_cleanly_and_the_next_run_completes(server: ReplicaServer, tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    empty = open_db(db_path)
    schema_pages = empty.execute("pragma page_count").fetchone()[0]
    empty.close()
    full = crawl_cao(server, db_path, "-s", f"NEWS_DB_MAX_PAGES={schema_pages + 12}")
    assert full.returncode == 5, full.stderr[-2000:]
    assert "database is full" in full.stderr
    db = sqlite_utils.Database(db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    stored = db["articles"].count
    assert 0 < stored < len(server.sites["cao"].routes_of("article")), "stopped part-way"
    # No half-written article: every stored row has its raw page and its first version.
    assert db.execute("select count(*) from pages").fetchone()[0] == stored
    assert db.execute("select count(*) from article_versions").fetchone()[0] == stored

    again = crawl_cao(server, db_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert db["articles"].count == len(server.sites["cao"].routes_of("article"))


def test_a_database_held_by_another_writer_is_waited_for(server: ReplicaServer, tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    open_db(db_path).close()
    locked, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        conn = sqlite3.connect(db_path)
        conn.execute("begin immediate")  # like someone's long UPDATE in the sqlite3 shell
        reader = sqlite3.connect(db_path)
        reader.execute("begin")
        reader.execute("select count(*) from articles").fetchone()  # and a long reader
        locked.set()
        release.wait(3)
        conn.rollback()
        conn.close()
        reader.close()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert locked.wait(10)
    done = crawl_cao(server, db_path)
    release.set()
    holder.join()
    assert done.returncode == 0, done.stderr[-2000:]
    assert sqlite_utils.Database(db_path)["articles"].count == len(server.sites["cao"].routes_of("article"))


@pytest.mark.parametrize("command", [["crawl", "cao"], ["export", "-o", "-"], ["runs"]])
def test_not_a_database_is_one_line_naming_the_file(tmp_path: Path, command: list[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\n" * 500, encoding="utf-8")
    done = newscrawl(*command, "--db", str(notes))
    assert done.returncode == 5
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(notes) in lines[0] and "Traceback" not in done.stderr


def test_corrupt_database_is_one_line_naming_the_file(tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    db = open_db(db_path)
    db["articles"].insert(
        {"url_hash": "x", "site": "cao", "url": "u", "title": "t", "body": "b" * 5000, "content_hash": "h"}
    )
    db.close()
    data = bytearray(db_path.read_bytes())
    data[4096:12288] = b"\xde\xad\xbe\xef" * 2048  # overwrite pages after the header page
    db_path.write_bytes(bytes(data))
    done = newscrawl("export", "--db", str(db_path), "-o", "-")
    assert done.returncode == 5, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and str(db_path) in done.stderr


def _refusing_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["crawl", "nosuchsite"], 2, "unknown site nosuchsite"),
        (["crawl", "cao", "--base-url", "cao"], 2, "NAME=VALUE"),
        (["crawl", "--until", "31/31/2026"], 2, "--until must be a date"),
        (["export", "--since", "someday", "-o", "-"], 2, "--since must be a date"),
        (["export", "-o", "/proc/no/such/dir/dump.jsonl"], 2, "cannot write"),
        (["schedule", "--every", "often"], 2, "--every must look like"),
    ],
)
def test_bad_cli_input_is_a_clear_line_and_exit_code(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    db_path = tmp_path / "news.sqlite3"
    open_db(db_path).close()
    done = newscrawl(*args, "--db", str(db_path)) if args[0] != "schedule" else newscrawl(*args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_base_url_refusing_connections_exits_nothing_fetched(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_refusing_port()}"
    done = newscrawl(
        "crawl", "cao", "--db", str(tmp_path / "n.sqlite3"), "--base-url", f"cao={base}", *FAST, "-s", "RETRY_TIMES=0"
    )
    assert done.returncode == 3, done.stderr[-2000:]
    # stopped at its first request, in one line (issue 22: no retries, no tracebacks)
    assert "cao: nothing could be fetched (unreachable: " in done.stderr and "connection refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_quiet_failing_run_heads_its_lines_with_a_timestamp(tmp_path: Path) -> None:
    # Issue 25: runs appended to one cron log had no line saying when each started.
    base = f"http://127.0.0.1:{_refusing_port()}"
    done = newscrawl(
        "crawl", "cao", "-q", "--db", str(tmp_path / "n.sqlite3"), "--base-url", f"cao={base}", *FAST,
        "-s", "RETRY_TIMES=0",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("newscrawl crawl "))
    assert re.match(r"newscrawl crawl \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d: cao into ", lines[header])
    assert any("cao: nothing could be fetched" in line for line in lines[header + 1 :])
