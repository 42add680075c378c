"""Hostile files, arguments and neighbours against the ``newscrawl`` command (issue 16).

Every case: a documented exit code, one line on stderr naming what failed, no traceback, and
nothing lost or changed that the command was not asked to change.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawler.replica import ReplicaServer
from crawler.text import content_hash
from crawler.urls import url_hash
from storage.batch import ArticleWrite, save_one
from storage.db import open_db
from storage.runs import start_run
from tests.conftest import REPO, crawl_args, run_cli


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


def test_export_refuses_a_directory(crawled: tuple[Path, str], tmp_path: Path) -> None:
    one_line_error(run_cli("export", "--db", str(crawled[0]), "-o", str(tmp_path)), 2, str(tmp_path))
    assert tmp_path.is_dir()


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

READ_COMMANDS = [
    ["search", "công an"],
    ["export", "-o", "-"],
    ["runs"],
    ["serve", "--port", "0"],
    ["health"],
    ["health", "--accept", "1"],
    ["history", "https://congan.com.vn/vu-an/x_1.html"],
    ["explain", "https://congan.com.vn/vu-an/x_1.html"],
    ["dupes"],
    ["dupes", "--backfill"],
    ["reextract"],
]


def another_apps_database(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, text text)")
    conn.execute("insert into notes (text) values ('ghi chú của ứng dụng khác')")
    conn.commit()
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [*READ_COMMANDS, ["crawl", "cao"]], ids=lambda c: " ".join(c))
def test_commands_refuse_another_applications_sqlite_file(tmp_path: Path, command: list[str]) -> None:
    other = tmp_path / "app.sqlite3"
    digest = another_apps_database(other)
    extra = ["--base-url", closed_base()] if command[0] == "crawl" else []
    done = run_cli(*command, "--db", str(other), *extra, timeout=60)
    one_line_error(done, 5, str(other), "not a newscrawl database")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest
    assert not Path(f"{other}-wal").exists()
    assert sqlite3.connect(other).execute("pragma journal_mode").fetchone()[0] == "delete"


@pytest.mark.parametrize("command", [c for c in READ_COMMANDS if c[0] not in ("serve", "reextract")], ids=" ".join)
def test_read_commands_do_not_migrate_an_older_newscrawl_database(
    crawled: tuple[Path, str], tmp_path: Path, command: list[str]
) -> None:
    db = copy_of(crawled[0], tmp_path)
    conn = sqlite3.connect(db)
    last = conn.execute("select name from _sqlite_migrations order by id desc limit 1").fetchone()[0]
    conn.execute("delete from _sqlite_migrations where name = ?", [last])  # as an older version left it
    conn.commit()
    conn.close()
    done = run_cli(*command, "--db", str(db), timeout=60)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: history of a URL never stored
    names = [r[0] for r in sqlite3.connect(db).execute("select name from _sqlite_migrations")]
    assert last not in names, "a read command migrated the database"


def test_search_on_a_read_only_database_works(crawled: tuple[Path, str], tmp_path: Path) -> None:
    db = copy_of(crawled[0], tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode = delete")  # a copy handed over as one file
    conn.close()
    with read_only(db):
        done = run_cli("search", "công an", "--db", str(db), "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1. ")


# --- 5. exit codes: unusable databases, busy databases, signals, killed runs ------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root: ``chattr +i`` as root, mode 0444 otherwise."""
    root = os.geteuid() == 0
    if root:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)


def test_an_immutable_database_is_refused_before_fetching(
    server: ReplicaServer, crawled: tuple[Path, str], tmp_path: Path
) -> None:
    db = copy_of(crawled[0], tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma journal_mode = wal").fetchone()[0] == "wal"  # as a crawl leaves it
    conn.close()
    server.sites["cao"].requests.clear()
    with read_only(db):
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


@pytest.mark.parametrize("where", ["/proc/newscrawl-test.sqlite3", "FILE/news.sqlite3", "/sys/news.sqlite3"])
def test_an_unusable_db_path_is_one_line_exit_5(server: ReplicaServer, tmp_path: Path, where: str) -> None:
    (tmp_path / "FILE").write_text("a file, not a directory", encoding="utf-8")
    path = where.replace("FILE", str(tmp_path / "FILE"))
    done = run_cli(*crawl_args(server, Path(path), "cao"))
    one_line_error(done, 5, path)


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


# --- 6. bad arguments: one line, exit 2 --------------------------------------------------------

HUGE = "9223372036854775808"


def state_file(path: Path, rowid: Any) -> str:
    import json

    selection = {"site": None, "since": None, "since_field": "published", "one_per_cluster": False}
    path.write_text(json.dumps({"last_version_rowid": rowid, "selection": selection}), encoding="utf-8")
    return str(path)


BAD_ARGUMENTS: list[tuple[str, list[str], str]] = [
    ("search limit", ["search", "x", "--limit", HUGE], "--limit"),
    ("runs limit", ["runs", "--limit", HUGE], "--limit"),
    ("health runs", ["health", "--runs", HUGE], "--runs"),
    ("accept float", ["health", "--accept", "1e20"], "--accept"),
    ("accept huge", ["health", "--accept", "100000000000000000000"], "--accept"),
    ("serve port", ["serve", "--port", "99999"], "--port"),
    ("serve host", ["serve", "--host", "bad", "--port", "0"], "--host"),
    ("setting type", ["crawl", "cao", "-s", "CONCURRENT_REQUESTS=abc"], "CONCURRENT_REQUESTS"),
    ("setting bool", ["crawl", "cao", "-s", "ROBOTSTXT_OBEY=maybe"], "ROBOTSTXT_OBEY"),
    ("base garbage", ["crawl", "cao", "--base-url", "cao=garbage"], "--base-url"),
    ("base ftp", ["crawl", "cao", "--base-url", "cao=ftp://127.0.0.1:21"], "--base-url"),
    ("base file", ["crawl", "cao", "--base-url", "cao=file:///etc"], "--base-url"),
    ("base port", ["crawl", "cao", "--base-url", "cao=http://127.0.0.1:99999"], "--base-url"),
    ("explain url", ["explain", "http://[::1"], "http://[::1"),
    ("history url", ["history", "http://[::1"], "http://[::1"),
    ("max pages", ["crawl", "cao", "--max-pages", HUGE], "--max-pages"),
    ("state path", ["export", "-o", "OUT", "--incremental", "/proc/newscrawl-state.json"], "/proc/newscrawl-state"),
    ("state text", ["export", "-o", "OUT", "--incremental", "STATE:abc"], "STATE"),
    ("state huge", ["export", "-o", "OUT", "--incremental", "STATE:" + HUGE + "0"], "STATE"),
    ("state negative", ["export", "-o", "OUT", "--incremental", "STATE:-5"], "STATE"),
    ("schedule every", ["schedule", "--every", "99999999999999999999d"], "--every"),
    ("replica port", ["replica", "--port", "70000"], "--port"),
    ("unknown option", ["search", "x", "--colour"], "--colour"),
]


@pytest.mark.parametrize(("case", "args", "word"), BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_exit_2(
    crawled: tuple[Path, str], server: ReplicaServer, tmp_path: Path, case: str, args: list[str], word: str
) -> None:
    db = copy_of(crawled[0], tmp_path)
    out = tmp_path / "dump.jsonl"
    state = tmp_path / "state.json"
    argv = [a.replace("OUT", str(out)) for a in args]
    argv = [state_file(state, int(a[6:]) if a[6:].lstrip("-").isdigit() else a[6:]) if a.startswith("STATE:") else a
            for a in argv]  # fmt: skip
    word = word.replace("STATE", str(state))
    if argv[0] not in ("schedule", "replica"):
        argv += ["--db", str(db)]
    server.sites["cao"].requests.clear()
    done = run_cli(*argv, timeout=60)
    one_line_error(done, 2, word)
    assert not out.exists(), "the dump was written before the arguments were checked"
    assert not server.sites["cao"].requests


# --- 8. Scrapy's remote-control endpoint ----------------------------------------------------------


def test_remote_control_is_off_unless_asked_for(
    server: ReplicaServer, crawled: tuple[Path, str], tmp_path: Path
) -> None:
    assert "RemoteControl" not in crawled[1] and "Remote control" not in crawled[1]
    jobs = tmp_path / "jobs"
    done = run_cli(
        *crawl_args(server, tmp_path / "on.sqlite3", "cao"),
        *["-s", "REMOTE_CONTROL_ENABLED=True", "-s", f"REMOTE_CONTROL_JOBS_DIR={jobs}"],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Remote control HTTP server listening" in done.stderr


# --- 9. extract reads at most what a crawl would download -------------------------------------


@pytest.mark.parametrize("source", ["big", "/dev/zero"])
def test_extract_caps_its_input(tmp_path: Path, source: str) -> None:
    if source == "big":
        path = tmp_path / "big.html"
        with open(path, "wb") as out:
            out.write(b"<html><body>" + b"<p>chu</p>" * (17 * 1024 * 1024 // 10) + b"</body></html>")
        source = str(path)
    done = run_cli("extract", "--site", "cao", "--url", "https://congan.com.vn/vu-an/x_1.html", source, timeout=60)
    one_line_error(done, 2, source, "DOWNLOAD_MAXSIZE")


# --- 4. control characters are escaped on the terminal ---------------------------------------


def hostile_record(url: str, title: str) -> dict[str, Any]:
    lead = "(CAO) Một đoạn mở đầu có ký tự điều khiển \x1b]0;owned\x07 ở giữa."
    body = "\n".join(f"Đoạn thứ {i} kể lại vụ việc bằng lời của chúng tôi, không chép của ai." for i in range(12))
    return {
        "site": "cao",
        "url": url,
        "title": title,
        "lead": lead,
        "body": body,
        "authors": ["Tác giả \u202eđảo\u202c"],
        "published_at": "2026-11-20T08:00:00+07:00",
        "published_at_raw": "20/11/2026 08:00",
        "category": "Vụ án",
        "tags": [],
        "images": [],
        "language": "vi",
        "extractor": "site",
        "url_hash": url_hash(url),
        "content_hash": content_hash(title, lead, body),
        "fetched_at": "2026-11-20T02:00:00+00:00",
    }


@pytest.fixture
def hostile_db(crawled: tuple[Path, str], tmp_path: Path) -> Path:
    """Two copies of one story whose stored text carries terminal escapes and bidi overrides
    (as a database written by an older version, or by hand, may hold)."""
    path = copy_of(crawled[0], tmp_path)
    db = open_db(path)
    for i, title in enumerate(["Vụ án \x1b[2J\x1b[31mđỏ\x07", "Vụ án \u202eđảo ngược\u202c"]):
        record = hostile_record(f"https://congan.com.vn/vu-an/vu-an-dieu-khien_{900 + i}.html", title)
        record["site"] = ["cao", "thanhtra"][i]
        save_one(db, ArticleWrite(record))
    db.close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["search", "Vụ án"],
        ["search", "Vụ án", "--json"],
        ["history", "https://congan.com.vn/vu-an/vu-an-dieu-khien_900.html"],
        ["explain", "https://congan.com.vn/vu-an/vu-an-dieu-khien_900.html"],
        ["dupes"],
        ["dupes", "--json"],
    ],
    ids=lambda c: " ".join(c),
)
def test_stored_control_characters_are_escaped_when_printed(hostile_db: Path, command: list[str]) -> None:
    done = run_cli(*command, "--db", str(hostile_db))
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    assert "đỏ" in printed or "\\u0111\\u1ecf" in printed or "đảo" in printed, printed[:2000]
    for raw in ("\x1b", "\x07", "\u202e", "\u202c"):
        assert raw not in printed, f"{raw!r} printed raw"


# --- 15. Redis: password or loopback ---------------------------------------------------------


@pytest.mark.parametrize("command", ["crawl", "ingest"])
def test_a_worker_refuses_a_remote_redis_without_a_password(tmp_path: Path, command: str) -> None:
    url = "redis://redis-host.invalid:6379/0"
    extra = ["cao", "--base-url", closed_base()] if command == "crawl" else []
    done = run_cli(command, *extra, "--redis", url, "--db", str(tmp_path / "w.sqlite3"), timeout=60)
    one_line_error(done, 2, "password", "--insecure-redis")
    assert not (tmp_path / "w.sqlite3").exists()
    forced = run_cli(command, *extra, "--redis", url, "--insecure-redis", "--db", str(tmp_path / "w.sqlite3"))
    assert "--insecure-redis" not in forced.stderr and "password" not in forced.stderr
