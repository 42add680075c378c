"""Hostile files and neighbours against the ``newscrawl`` command in a subprocess (issue 16):
FIFOs, symlinks, the umask, read-only and busy databases, signals, Scrapy's remote control.

Every case: a documented exit code, one line on stderr naming what failed, no traceback, and
nothing lost or changed that the command was not asked to change. Bad arguments and other
applications' files are tested in-process, in tests/unit/test_hostile_cli.py.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from bench.attack import immutable, publish
from crawler.testing.server import ReplicaServer
from storage.db import open_db
from storage.runs import start_run
from tests.helpers import REPO, crawl_args, run_cli


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(["cao"]) as running:
        yield running


@pytest.fixture(scope="module")
def crawled(server: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database after one replica crawl, and that crawl's log."""
    db = tmp_path_factory.mktemp("crawled") / "news.sqlite3"
    done = run_cli(*crawl_args(server, db, "cao"))
    assert done.returncode == 0, done.stderr[-3000:]
    return db, done.stderr


def copy_of(db: Path, folder: Path) -> Path:
    """A copy of a database (through SQLite's backup, so the WAL comes along)."""
    target = folder / db.name
    source, dest = sqlite3.connect(db), sqlite3.connect(target)
    source.backup(dest)
    source.close()
    dest.close()
    return target


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def closed_base() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"cao=http://127.0.0.1:{probe.getsockname()[1]}"


# --- 1. export -o: symlinks, FIFOs, devices, the umask ------------------------------------


def test_export_writes_through_a_symlink_to_its_target(crawled: tuple[Path, str], tmp_path: Path) -> None:
    target = tmp_path / "store" / "dump.jsonl"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "dump.jsonl"
    link.symlink_to(target)
    done = run_cli("export", "--db", str(crawled[0]), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == target
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == sqlite_utils.Database(crawled[0])["articles"].count and lines[0].startswith("{")


def test_export_into_a_fifo_writes_to_its_reader(crawled: tuple[Path, str], tmp_path: Path) -> None:
    fifo = tmp_path / "dump.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as pipe:
            received.append(pipe.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done = run_cli("export", "--db", str(crawled[0]), "-o", str(fifo), timeout=60)
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    assert received and received[0].count(b"\n") == sqlite_utils.Database(crawled[0])["articles"].count


def test_export_to_dev_stdout_writes_to_stdout(crawled: tuple[Path, str]) -> None:
    done = run_cli("export", "--db", str(crawled[0]), "-o", "/dev/stdout")
    assert done.returncode == 0, done.stderr
    assert (
        os.path.islink("/dev/stdout") and done.stdout.count("\n") == sqlite_utils.Database(crawled[0])["articles"].count
    )


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_dumps_and_state_files_follow_the_umask(
    crawled: tuple[Path, str], tmp_path: Path, umask: int, mode: int
) -> None:
    dump, state = tmp_path / "dump.jsonl.gz", tmp_path / "state.json"
    command = ["export", "--db", str(crawled[0]), "-o", str(dump), "--incremental", str(state)]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=umask,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(dump.stat().st_mode) == mode
    assert stat.S_IMODE(state.stat().st_mode) == mode


# --- 2. read commands open read-only and refuse other applications' files --------------------


def test_search_on_a_read_only_database_works(crawled: tuple[Path, str], tmp_path: Path) -> None:
    db = copy_of(crawled[0], tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode = delete")  # a copy handed over as one file
    conn.close()
    with immutable(db):
        done = run_cli("search", "công an", "--db", str(db), "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1. ")


# --- 5. exit codes: unusable databases, busy databases, signals, killed runs ------------------


def test_an_immutable_database_is_refused_before_fetching(
    server: ReplicaServer, crawled: tuple[Path, str], tmp_path: Path
) -> None:
    db = copy_of(crawled[0], tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma journal_mode = wal").fetchone()[0] == "wal"  # as a crawl leaves it
    conn.close()
    server.sites["cao"].requests.clear()
    with immutable(db):
        done = run_cli(*crawl_args(server, db, "cao"))
    one_line_error(done, 5, str(db), "read-only")
    assert not server.sites["cao"].requests, "pages were fetched that could not be stored"


def test_a_database_held_busy_too_long_is_refused_before_fetching(server: ReplicaServer, tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    open_db(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("begin immediate")  # someone's long write, longer than the busy timeout
    server.sites["cao"].requests.clear()
    try:
        done = run_cli(*crawl_args(server, db, "cao"), "-s", "NEWS_DB_BUSY_TIMEOUT=1", timeout=120)
    finally:
        holder.execute("rollback")
        holder.close()
    one_line_error(done, 5, str(db), "busy")
    assert not server.sites["cao"].requests
    again = run_cli(*crawl_args(server, db, "cao"))
    assert again.returncode == 0, again.stderr[-2000:]
    assert [r["status"] for r in sqlite_utils.Database(db).query("select status from crawl_runs")] == ["ok"]


def test_a_run_whose_start_cannot_be_recorded_stops_before_fetching(server: ReplicaServer, tmp_path: Path) -> None:
    # The database passes the pre-flight write check, then refuses the run's row (as when
    # another writer takes the lock between the two): the crawl must not fetch unrecorded.
    db = tmp_path / "news.sqlite3"
    open_db(db).close()
    conn = sqlite3.connect(db)
    conn.execute("create trigger no_runs before insert on crawl_runs begin select raise(abort, 'refused'); end")
    conn.commit()
    conn.close()
    server.sites["cao"].requests.clear()
    done = run_cli(*crawl_args(server, db, "cao"))
    assert done.returncode == 5, done.stderr[-2000:]
    assert "could not be written" in done.stderr.strip().splitlines()[-1]
    assert not server.sites["cao"].requests


def test_sigterm_is_an_interrupted_run_not_nothing_fetched(server: ReplicaServer, tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    command = [sys.executable, "-m", "crawler.cli", *crawl_args(server, db, "cao", delay=0.5)]
    server.sites["cao"].requests.clear()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(server.sites["cao"].requests.values()) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 7, stderr[-2000:]
    assert "nothing could be fetched" not in stderr
    assert "interrupted" in stderr.strip().splitlines()[-1]
    status = [r["status"] for r in sqlite_utils.Database(db).query("select status from crawl_runs")]
    assert status == ["interrupted"]


def test_a_run_left_running_by_sigkill_is_marked_killed_by_the_next(server: ReplicaServer, tmp_path: Path) -> None:
    db_path = tmp_path / "news.sqlite3"
    db = open_db(db_path)
    ghost = start_run(db, "cao")  # what a SIGKILLed crawl leaves behind
    db.close()
    done = run_cli(*crawl_args(server, db_path, "cao"))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {r["id"]: r["status"] for r in sqlite_utils.Database(db_path).query("select id, status from crawl_runs")}
    assert rows[ghost] == "killed" and sorted(rows.values()) == ["killed", "ok"]


# --- 3, 4, 11. hostile pages in a crawl ------------------------------------------------------------


def test_hostile_pages_are_stored_clean_or_logged_and_retried(tmp_path: Path) -> None:
    ld = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    with ReplicaServer(["cao"]) as server:
        json_ld = publish(server.sites["cao"], 990001, lambda p: p.replace("</head>", ld + "</head>", 1))
        deep = publish(server.sites["cao"], 990002, lambda p: p.replace("<p>", "<div>" * 50_000 + "<p>", 1))
        controls = publish(server.sites["cao"], 990003, lambda p: p.replace("Tết", "T\x1b[2J\u202eết"))
        db = tmp_path / "news.sqlite3"
        first = run_cli(*crawl_args(server, db, "cao"))
        assert first.returncode == 0, first.stderr[-3000:]
        real = "https://congan.com.vn"
        store = sqlite_utils.Database(db)
        stored = {r["url"]: r for r in store.query("select url, title, body from articles")}
        assert real + json_ld in stored, "nested JSON-LD must not cost the article"
        assert real + controls in stored
        assert not any(ch in r["title"] + r["body"] for r in stored.values() for ch in "\x1b\u202e")
        assert real + deep not in stored, "a page the parser truncated is not stored"
        log = {r["url"]: r for r in store.query("select url, outcome, reason from url_log")}
        assert log[real + deep]["reason"] == "parse_depth"
        stats = json.loads(next(store.query("select stats from crawl_runs"))["stats"])
        assert stats["newscrawl/faults/parse_depth"] == 1
        store.close()

        server.sites["cao"].requests.clear()
        again = run_cli(*crawl_args(server, db, "cao"))
        assert again.returncode == 0, again.stderr[-3000:]
        assert server.sites["cao"].fetched(deep) == 1, "a parse_depth page is fetched again next run"
        assert server.sites["cao"].fetched(json_ld) == 0


# --- 8. Scrapy's remote-control endpoint ----------------------------------------------------------


def test_remote_control_is_off_unless_asked_for(
    server: ReplicaServer, crawled: tuple[Path, str], tmp_path: Path
) -> None:
    # -v: Scrapy's INFO lines (where the endpoint announces itself) are hidden by default.
    off = run_cli(*crawl_args(server, tmp_path / "off.sqlite3", "cao"), "-v")
    assert off.returncode == 0, off.stderr[-2000:]
    assert "Enabled extensions" in off.stderr  # the INFO log is there to read
    assert "RemoteControl" not in off.stderr and "Remote control" not in off.stderr
    jobs = tmp_path / "jobs"
    done = run_cli(
        *crawl_args(server, tmp_path / "on.sqlite3", "cao"),
        *["-s", "REMOTE_CONTROL_ENABLED=True", "-s", f"REMOTE_CONTROL_JOBS_DIR={jobs}", "-v"],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Remote control HTTP server listening" in done.stderr


# --- issue 22: stdout and stderr closed, full or gone ----------------------------------------------


def shell(command: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``command`` in bash, with ``newscrawl`` meaning this checkout's ``python -m crawler.cli``."""
    prefix = f'newscrawl() {{ {sys.executable} -m crawler.cli "$@"; }}; '
    return subprocess.run(
        ["bash", "-c", prefix + command], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("redirect", "words"),
    [(">/dev/full", ["No space left"]), (">&-", ["stdout is closed"])],
    ids=["stdout full", "stdout closed"],
)
@pytest.mark.parametrize("command", ["runs", "search án", "runs --json", "health"])
def test_results_that_cannot_be_written_are_one_line_exit_1(
    crawled: tuple[Path, str], command: str, redirect: str, words: list[str]
) -> None:
    done = shell(f"newscrawl {command} --db {crawled[0]} {redirect}")
    one_line_error(done, 1, "cannot write the results to stdout", *words)


def test_a_closed_stderr_keeps_the_exit_code_and_stdout_clean(tmp_path: Path) -> None:
    done = shell(f"newscrawl search x --db {tmp_path / 'missing.sqlite3'} 2>&-")
    assert done.returncode == 5
    assert done.stdout == "", "an error went to stdout"


def test_a_reader_that_goes_away_ends_quietly(crawled: tuple[Path, str]) -> None:
    # The reader is gone before the first write (its end of the pipe is closed before the export
    # starts), so the write fails every time: with `| head -c 10` it failed only when the output
    # outgrew the pipe's buffer before head exited, a race.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "export", "--db", str(crawled[0])],
            cwd=REPO, stdout=write, stderr=subprocess.PIPE, text=True, timeout=240, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_crawl_keeps_its_own_code_when_its_summary_cannot_be_printed(server: ReplicaServer, tmp_path: Path) -> None:
    args = " ".join(crawl_args(server, tmp_path / "news.sqlite3", "cao"))
    done = shell(f"newscrawl {args} >/dev/full")
    one_line_error(done, 0, "cannot write the results to stdout", "No space left")
    closed = shell(f"newscrawl {args} >&- 2>&-")
    assert closed.returncode == 0
    count = sqlite3.connect(tmp_path / "news.sqlite3").execute("select count(*) from articles").fetchone()[0]
    assert count > 0


# --- issue 22: a site that cannot be reached is one line, at once ---------------------------------


def test_an_unreachable_site_is_one_line_and_asked_once(tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    done = run_cli(
        *["crawl", "cao", "thanhtra", "--db", str(db), "--base-url", closed_base()],
        *["--base-url", "thanhtra=http://newscrawl-test.invalid", "-s", "DOWNLOAD_DELAY=0"],
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr[-3000:]
    assert "cao: nothing could be fetched (unreachable: 127.0.0.1:" in lines[0] and "connection refused" in lines[0]
    assert "thanhtra: nothing could be fetched (unreachable: newscrawl-test.invalid name not found" in lines[1]
    stats = {
        r["site"]: json.loads(r["stats"]) for r in sqlite_utils.Database(db).query("select site, stats from crawl_runs")
    }
    # Stopped at the first failure: no retry of it, no other request of the site sent.
    assert stats["cao"]["newscrawl/faults/connection_refused"] == 1
    assert stats["thanhtra"]["newscrawl/faults/dns"] == 1
    assert stats["cao"]["downloader/request_count"] == 1


def test_probe_without_a_network_ends_at_the_first_request_of_each_site(tmp_path: Path) -> None:
    report = tmp_path / "probe.json"
    done = run_cli(
        *["probe", "cao", "thanhtra", "--base-url", closed_base(), "--json", str(report)],
        *["--base-url", "thanhtra=http://newscrawl-test.invalid"],
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert done.stderr == "", done.stderr[-3000:]
    why = [line for line in done.stdout.splitlines() if " broken " in line]
    assert len(why) == 2 and all("unreachable" in line and "first request" in line for line in why), done.stdout
    sites = {s["key"]: s for s in json.loads(report.read_text(encoding="utf-8"))["sites"]}
    assert sites["cao"]["stats"]["downloader/request_count"] == 1
    assert sites["thanhtra"]["stats"]["downloader/request_count"] == 1
