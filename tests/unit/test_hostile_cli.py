"""Hostile arguments and files against ``newscrawl`` in-process (issue 16): every refusal is one
line, the documented exit code, and happens before a crawl, a server or a dump starts.

Starting a crawl, a server or a schedule fails these tests (those entry points are replaced),
so a refusal that came too late is caught and no socket is ever opened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawler import cli
from crawler.crawl.quality import QualityConfig, Sample, record_run
from crawler.crawl.runner import project_settings
from crawler.exit_codes import EXIT_INTERNAL
from crawler.extract.urls import url_hash
from storage.batch import ArticleWrite, save_one
from storage.db import open_db
from storage.runs import finish_run, start_run
from storage.text import content_hash

HUGE = "9223372036854775808"
CLOSED = "cao=http://127.0.0.1:9"  # never reached: every case is refused before the crawl


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def started(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a crawl, server or schedule started before the arguments were refused")

    monkeypatch.setattr("crawler.crawl.runner.run_crawl", started)
    monkeypatch.setattr("crawler.cli.data.serve", started)
    monkeypatch.setattr("crawler.distributed.ingest.run_ingest", started)
    monkeypatch.setattr("crawler.crawl.probe.run_probe", started)
    monkeypatch.setattr("crawler.testing.server.ReplicaServer.start", started)
    monkeypatch.setattr("subprocess.run", started)
    monkeypatch.setattr("subprocess.Popen", started)  # schedule starts its crawls with Popen


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``newscrawl ARGV`` run in-process."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, err: str, expected: int, *words: str) -> None:
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


def record(url: str, title: str, site: str = "cao") -> dict[str, Any]:
    lead = "(CAO) Một đoạn mở đầu có ký tự điều khiển \x1b]0;owned\x07 ở giữa."
    body = "\n".join(f"Đoạn thứ {i} kể lại vụ việc bằng lời của chúng tôi, không chép của ai." for i in range(12))
    return {
        "site": site,
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


URL_A = "https://congan.com.vn/vu-an/vu-an-dieu-khien_900.html"
URL_B = "https://thanhtra.com.vn/vu-an/vu-an-dieu-khien-901.html"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A newscrawl database with one finished, judged run and two copies of one story whose
    stored text carries terminal escapes and bidi overrides (as a database written by an older
    version, or by hand, may hold)."""
    path = tmp_path / "news.sqlite3"
    db = open_db(path)
    run_id = start_run(db, "cao")
    finish_run(db, run_id, "ok", "finished", {}, {})
    record_run(db, "cao", run_id, Sample(), QualityConfig.from_settings(project_settings()))
    save_one(db, ArticleWrite(record(URL_A, "Vụ án \x1b[2J\x1b[31mđỏ\x07")))
    save_one(db, ArticleWrite(record(URL_B, "Vụ án \u202eđảo ngược\u202c", site="thanhtra")))
    db.close()
    return path


def state_file(path: Path, rowid: Any) -> str:
    selection = {"site": None, "since": None, "since_field": "published", "one_per_cluster": False}
    path.write_text(json.dumps({"last_version_rowid": rowid, "selection": selection}), encoding="utf-8")
    return str(path)


# --- 6. bad arguments: one line, exit 2 ----------------------------------------------------------

BAD_ARGUMENTS: list[tuple[str, list[str], str]] = [
    ("search limit", ["search", "x", "--limit", HUGE], "--limit"),
    ("runs limit", ["runs", "--limit", HUGE], "--limit"),
    ("health runs", ["health", "--runs", HUGE], "--runs"),
    ("accept float", ["health", "--accept", "1e20"], "--accept"),
    ("accept huge", ["health", "--accept", "100000000000000000000"], "--accept"),
    ("serve port", ["serve", "--port", "99999"], "--port"),
    ("serve host", ["serve", "--host", "bad", "--port", "0"], "--host"),
    ("setting type", ["crawl", "cao", "--base-url", CLOSED, "-s", "CONCURRENT_REQUESTS=abc"], "CONCURRENT_REQUESTS"),
    ("setting bool", ["crawl", "cao", "--base-url", CLOSED, "-s", "ROBOTSTXT_OBEY=maybe"], "ROBOTSTXT_OBEY"),
    ("setting dict", ["crawl", "cao", "--base-url", CLOSED, "-s", "ITEM_PIPELINES={bad"], "ITEM_PIPELINES"),
    ("base garbage", ["crawl", "cao", "--base-url", "cao=garbage"], "--base-url"),
    ("base ftp", ["crawl", "cao", "--base-url", "cao=ftp://127.0.0.1:21"], "--base-url"),
    ("base file", ["crawl", "cao", "--base-url", "cao=file:///etc"], "--base-url"),
    ("base port", ["crawl", "cao", "--base-url", "cao=http://127.0.0.1:99999"], "--base-url"),
    ("base ipv6", ["crawl", "cao", "--base-url", "cao=http://[::1"], "--base-url"),
    ("explain url", ["explain", "http://[::1"], "http://[::1"),
    ("history url", ["history", "http://[::1"], "http://[::1"),
    ("extract url", ["extract", "--url", "http://[::1", "/dev/null"], "http://[::1"),
    ("max pages", ["crawl", "cao", "--base-url", CLOSED, "--max-pages", HUGE], "--max-pages"),
    ("state path", ["export", "-o", "OUT", "--incremental", "/proc/newscrawl-state.json"], "/proc/newscrawl-state"),
    ("state fifo", ["export", "-o", "OUT", "--incremental", "FIFO"], "FIFO"),
    ("state text", ["export", "-o", "OUT", "--incremental", "STATE:abc"], "STATE"),
    ("state huge", ["export", "-o", "OUT", "--incremental", "STATE:" + HUGE + "0"], "STATE"),
    ("state negative", ["export", "-o", "OUT", "--incremental", "STATE:-5"], "STATE"),
    ("output dir", ["export", "-o", "DIR"], "DIR"),
    ("output missing dir", ["export", "-o", "DIR/no/such/dump.jsonl"], "no such directory"),
    ("schedule every", ["schedule", "--every", "99999999999999999999d"], "--every"),
    ("replica port", ["replica", "--port", "70000"], "--port"),
    ("ingest batch", ["ingest", "--redis", "redis://127.0.0.1:9/0", "--batch", HUGE], "--batch"),
    ("unknown option", ["search", "x", "--colour"], "--colour"),
    ("probe base", ["probe", "cao", "--base-url", "cao=file:///etc"], "--base-url"),
    ("probe setting", ["probe", "cao", "--base-url", CLOSED, "-s", "DOWNLOAD_DELAY=slow"], "DOWNLOAD_DELAY"),
]


@pytest.mark.parametrize(("case", "args", "word"), BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path, case: str, args: list[str], word: str
) -> None:
    import os

    out, state, fifo = tmp_path / "dump.jsonl", tmp_path / "state.json", tmp_path / "state.pipe"
    os.mkfifo(fifo)
    swap = {"OUT": str(out), "FIFO": str(fifo), "DIR": str(tmp_path)}
    argv = []
    for arg in args:
        if arg.startswith("STATE:"):
            value = arg[6:]
            arg = state_file(state, int(value) if value.lstrip("-").isdigit() else value)
        for key, value in swap.items():
            arg = arg.replace(key, value) if arg.startswith(key) else arg
        argv.append(arg)
    word = word.replace("STATE", str(state)).replace("FIFO", str(fifo)).replace("DIR", str(tmp_path))
    if argv[0] not in ("schedule", "replica", "extract", "probe"):
        argv += ["--db", str(db_path)]
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    code, _, err = run(capsys, *argv)
    one_line(code, err, 2, word)
    assert not out.exists(), "the dump was written before the arguments were checked"
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


# --- 2. other applications' files, older newscrawl files --------------------------------------

COMMANDS = [
    ["search", "công an"],
    ["export", "-o", "-"],
    ["runs"],
    ["serve", "--port", "0"],
    ["health"],
    ["health", "--accept", "1"],
    ["history", URL_A],
    ["explain", URL_A],
    ["dupes"],
    ["dupes", "--backfill"],
    ["reextract", "--workers", "0"],
    ["crawl", "cao", "--base-url", CLOSED],
]


def another_apps_database(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, text text)")
    conn.execute("insert into notes (text) values ('ghi chú của ứng dụng khác')")
    conn.commit()
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_commands_refuse_another_applications_sqlite_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    other = tmp_path / "app.sqlite3"
    digest = another_apps_database(other)
    code, _, err = run(capsys, *command, "--db", str(other))
    one_line(code, err, 5, str(other), "not a newscrawl database")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest
    assert not Path(f"{other}-wal").exists()
    assert sqlite3.connect(other).execute("pragma journal_mode").fetchone()[0] == "delete"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] not in ("serve", "reextract", "crawl")], ids=" ".join)
def test_read_commands_do_not_migrate_an_older_newscrawl_database(
    capsys: pytest.CaptureFixture[str], db_path: Path, command: list[str]
) -> None:
    conn = sqlite3.connect(db_path)
    last = conn.execute("select name from _sqlite_migrations order by id desc limit 1").fetchone()[0]
    conn.execute("delete from _sqlite_migrations where name = ?", [last])  # as an older version left it
    conn.commit()
    conn.close()
    code, _, err = run(capsys, *command, "--db", str(db_path))
    assert code == 0, err
    names = [r[0] for r in sqlite3.connect(db_path).execute("select name from _sqlite_migrations")]
    assert last not in names, "a command that only reads (or writes one row) migrated the database"


def test_a_missing_table_is_one_line_exit_5(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("drop table dup_members")  # a database from before near-duplicate clusters
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "dupes", "--db", str(db_path))
    one_line(code, err, 5, str(db_path), "dup_members", "newscrawl crawl")


# --- 5. unusable --db paths ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["/proc/newscrawl-test.sqlite3", "FILE/news.sqlite3", "/sys/news.sqlite3", "DIR"])
def test_an_unusable_db_path_is_one_line_exit_5(capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str) -> None:
    (tmp_path / "FILE").write_text("a file, not a directory", encoding="utf-8")
    path = where.replace("FILE", str(tmp_path / "FILE")).replace("DIR", str(tmp_path))
    code, _, err = run(capsys, "crawl", "cao", "--base-url", CLOSED, "--db", path)
    one_line(code, err, 5, path)
    assert not Path(f"{path}.lock").exists(), "the lock was taken before the path was checked"


# --- 9. extract reads at most what a crawl would download -----------------------------------------


@pytest.mark.parametrize("source", ["big", "/dev/zero"])
def test_extract_caps_its_input(capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str) -> None:
    if source == "big":
        path = tmp_path / "big.html"
        with open(path, "wb") as out:
            out.write(b"<html><body>" + b"<p>chu</p>" * (17 * 1024 * 1024 // 10) + b"</body></html>")
        source = str(path)
    code, _, err = run(capsys, "extract", "--site", "cao", "--url", URL_A, source)
    one_line(code, err, 2, source, "DOWNLOAD_MAXSIZE")


# --- 4. control characters are escaped when printed ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["search", "Vụ án"],
        ["search", "Vụ án", "--json"],
        ["history", URL_A],
        ["explain", URL_A],
        ["dupes"],
        ["dupes", "--json"],
    ],
    ids=" ".join,
)
def test_stored_control_characters_are_escaped_when_printed(
    capsys: pytest.CaptureFixture[str], db_path: Path, command: list[str]
) -> None:
    code, out, err = run(capsys, *command, "--db", str(db_path))
    assert code == 0, err
    printed = out + err
    assert "đỏ" in printed or "\\u0111\\u1ecf" in printed, printed[:2000]
    for raw in ("\x1b", "\x07", "\u202e", "\u202c"):
        assert raw not in printed, f"{raw!r} printed raw"
    if "--json" in command:
        for line in out.splitlines():
            json.loads(line)


# --- 15. Redis: a password, or loopback, or --insecure-redis ---------------------------------------


@pytest.mark.parametrize("command", ["crawl", "ingest"])
def test_a_worker_refuses_a_remote_redis_without_a_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    url = "redis://redis-host.invalid:6379/0"
    extra = ["cao", "--base-url", CLOSED] if command == "crawl" else []
    db = tmp_path / "worker.sqlite3"
    code, _, err = run(capsys, command, *extra, "--redis", url, "--db", str(db))
    one_line(code, err, 2, "password", "--insecure-redis")
    assert not db.exists()
    # Accepted with --insecure-redis: it goes on to start (ingest meets the stand-in above; a
    # crawl first asks Redis, and finds none at that name: one line).
    code, _, err = run(capsys, command, *extra, "--redis", url, "--insecure-redis", "--db", str(db))
    if command == "ingest":
        assert code == EXIT_INTERNAL and "started before the arguments were refused" in err
    else:
        one_line(code, err, 2, url)
        assert "password" not in err


def test_reading_leaves_the_database_file_unchanged(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    before = sqlite_utils.Database(db_path).execute("pragma journal_mode").fetchone()[0]
    digest = hashlib.sha256(db_path.read_bytes()).hexdigest()
    for command in (["search", "án"], ["runs"], ["health"], ["dupes"], ["export", "-o", "-"], ["history", URL_A]):
        code, _, err = run(capsys, *command, "--db", str(db_path))
        assert code == 0, (command, err)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == digest
    assert sqlite_utils.Database(db_path).execute("pragma journal_mode").fetchone()[0] == before


# --- issue 22: no output names an input ------------------------------------------------------------

# (command, the output options; DB is the database, OUT a dump, STATE a state file). Every one
# names the database, a file beside it, or another output of the same command, some other way.
CLOBBERS: list[tuple[str, list[str]]] = [
    ("export -o the database", ["export", "-o", "DB"]),
    ("export -o a symlink to it", ["export", "-o", "LINK"]),
    ("export -o a hard link to it", ["export", "-o", "HARD"]),
    ("export -o it through ..", ["export", "-o", "DOTDOT"]),
    ("export -o its -wal", ["export", "-o", "DB-wal"]),
    ("export -o its -shm", ["export", "-o", "DB-shm"]),
    ("export -o its .lock", ["export", "-o", "DB.lock"]),
    ("export -o a symlink to its .lock", ["export", "-o", "LOCKLINK"]),
    ("export --log-file the database", ["export", "-o", "OUT", "--log-file", "DB"]),
    ("export --incremental the database", ["export", "-o", "OUT", "--incremental", "DB"]),
    ("export -o the state file", ["export", "-o", "STATE", "--incremental", "STATE"]),
    ("export --log-file the dump", ["export", "-o", "OUT", "--log-file", "OUT"]),
    ("export --log-file the state file", ["export", "-o", "OUT", "--incremental", "STATE", "--log-file", "STATE"]),
    ("crawl --log-file the database", ["crawl", "cao", "--base-url", CLOSED, "--log-file", "DB"]),
    ("crawl --log-file a symlink to it", ["crawl", "cao", "--base-url", CLOSED, "--log-file", "LINK"]),
    ("crawl -s LOG_FILE=the database", ["crawl", "cao", "--base-url", CLOSED, "-s", "LOG_FILE=DB"]),
    ("reextract --log-file the database", ["reextract", "--log-file", "HARD"]),
    ("ingest --log-file its -wal", ["ingest", "--redis", "redis://127.0.0.1:9/0", "--log-file", "DB-wal"]),
    ("demo -o the database", ["demo", "-o", "DB"]),
]


@pytest.mark.parametrize(("case", "args"), CLOBBERS, ids=[c[0] for c in CLOBBERS])
def test_no_output_may_name_an_input(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path, case: str, args: list[str]
) -> None:
    import os

    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "LINK").symlink_to(db_path)
    os.link(db_path, folder / "HARD")
    (folder / "LOCKLINK").symlink_to(f"{db_path}.lock")  # the lock need not exist yet
    state = tmp_path / "state.json"
    swap = {
        "DB": str(db_path),
        "LINK": str(folder / "LINK"),
        "HARD": str(folder / "HARD"),
        "DOTDOT": str(folder / ".." / db_path.name),
        "LOCKLINK": str(folder / "LOCKLINK"),
        "OUT": str(tmp_path / "dump.jsonl"),
        "STATE": str(state),
    }
    argv = []
    for arg in args:
        for key in sorted(swap, key=len, reverse=True):
            if arg.startswith(key) or arg.startswith(f"LOG_FILE={key}"):
                arg = arg.replace(key, swap[key], 1)
                break
        argv.append(arg)
    before = sorted(p.name for p in tmp_path.iterdir())
    digest = hashlib.sha256(db_path.read_bytes()).hexdigest()
    code, out, err = run(capsys, *argv, "--db", str(db_path))
    database = any(a.split("=")[-1].startswith(("DB", "LINK", "HARD", "DOTDOT", "LOCKLINK")) for a in args)
    one_line(code, err, 2, "never replaces an input" if database else "each output needs its own file")
    assert out == ""
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a file was created or removed"


def drop_log_files() -> None:
    """Close and remove the log handlers a command set up in-process (``--log-file``): a closed
    FileHandler left in place would reopen its file at the next log record."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        handler.close()
        root.removeHandler(handler)


def test_outputs_that_name_nothing_else_are_accepted(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    dump, state, log = tmp_path / "dump.jsonl", tmp_path / "state.json", tmp_path / "export.log"
    argv = ["export", "--db", str(db_path), "-o", str(dump), "--incremental", str(state), "--log-file", str(log)]
    code, _, err = run(capsys, *argv)
    drop_log_files()
    assert code == 0, err
    assert dump.read_text(encoding="utf-8").count("\n") == 2 and state.exists() and log.exists()
    # /dev/null twice is no conflict: a character device is written straight into, never replaced.
    code, _, err = run(capsys, "export", "--db", str(db_path), "-o", "/dev/null", "--log-file", "/dev/null")
    drop_log_files()
    assert code == 0, err


# --- issue 22: settings are read and checked in main() -----------------------------------------

BAD_ENVIRONMENT = [
    ("NEWS_DB_BUSY_TIMEOUT", "abc"),
    ("NEWS_DB_BUSY_TIMEOUT", "-1"),
    ("NEWS_EXTRACT_WORKERS", "many"),
    ("NEWS_EXTRACT_WORKERS", "-3"),
    ("NEWS_RECHECK_DAYS", "1e9"),
    ("NEWS_RECHECK_HOURS", "nan"),
    ("NEWS_DB_MAX_PAGES", "1.5"),
    ("NEWS_DOWNLOAD_DELAY", "slow"),
    ("NEWS_BACKOFF_MAX", "inf"),
    ("NEWS_LOG_LEVEL", "LOUD"),
]


@pytest.mark.parametrize(("name", "value"), BAD_ENVIRONMENT, ids=["=".join(c) for c in BAD_ENVIRONMENT])
@pytest.mark.parametrize("command", [["runs"], ["crawl", "cao", "--base-url", CLOSED]], ids=" ".join)
def test_a_bad_environment_setting_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
    name: str,
    value: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(name, value)
    digest = hashlib.sha256(db_path.read_bytes()).hexdigest()
    code, _, err = run(capsys, *command, "--db", str(db_path))
    one_line(code, err, 2, f"{name}={value}", "takes")
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == digest


BAD_RANGES = [
    "NEWS_RECHECK_DAYS=1e9",
    "NEWS_EXTRACT_WORKERS=many",
    "NEWS_DB_BUSY_TIMEOUT=-1",
    "CONCURRENT_REQUESTS=0",
    "DOWNLOAD_DELAY=nan",
    "NEWS_STORE_BATCH=0",
]


@pytest.mark.parametrize("setting", BAD_RANGES)
@pytest.mark.parametrize("command", ["crawl", "probe"])
def test_a_setting_out_of_range_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, setting: str, command: str
) -> None:
    db = tmp_path / "news.sqlite3"
    extra = ["--db", str(db)] if command == "crawl" else []
    code, _, err = run(capsys, command, "cao", "--base-url", CLOSED, "-s", setting, *extra)
    one_line(code, err, 2, f"-s {setting}", "takes", " to ")
    assert not db.exists()


def test_settings_are_read_from_the_environment_when_a_command_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import crawler.settings
    from tests.helpers import REPO

    # Importing the settings reads nothing: a malformed variable is no traceback at import.
    monkeypatch.setenv("NEWS_DB_BUSY_TIMEOUT", "abc")
    monkeypatch.setenv("NEWS_EXTRACT_WORKERS", "many")
    importlib.reload(crawler.settings)
    assert "os.environ" not in (REPO / "crawler" / "settings.py").read_text(encoding="utf-8")
    monkeypatch.delenv("NEWS_DB_BUSY_TIMEOUT")
    monkeypatch.setenv("NEWS_DB_PATH", "/srv/news/news.sqlite3")
    monkeypatch.setenv("NEWS_DOWNLOAD_DELAY", "0")
    monkeypatch.setenv("NEWS_RECHECK_DAYS", "7")
    monkeypatch.setenv("NEWS_EXTRACT_WORKERS", "")  # empty: unset
    settings = project_settings()
    assert settings.get("NEWS_DB_PATH") == "/srv/news/news.sqlite3"
    assert settings.getbool("NEWS_DEMO_FALLBACK") is False
    assert settings.getfloat("DOWNLOAD_DELAY") == 0.0 and settings.getfloat("AUTOTHROTTLE_START_DELAY") == 1.0
    assert settings.getfloat("NEWS_RECHECK_DAYS") == 7.0 and settings.get("NEWS_EXTRACT_WORKERS") is None
    # -s still wins over the environment.
    assert project_settings({"NEWS_RECHECK_DAYS": 2}).getfloat("NEWS_RECHECK_DAYS") == 2.0


# --- issue 22: database paths that are no file ----------------------------------------------------

ODD_DATABASES = [":memory:", "/dev/null", "file:news.sqlite3", "file:news.sqlite3?mode=memory", "DIR", "FIFO"]


@pytest.mark.parametrize("where", ODD_DATABASES)
@pytest.mark.parametrize(
    "command", [["crawl", "cao", "--base-url", CLOSED], ["search", "x"], ["export", "-o", "-"], ["runs"]], ids=" ".join
)
def test_an_odd_database_path_is_refused_before_anything_is_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, command: list[str]
) -> None:
    import os

    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    path = {"DIR": str(tmp_path / "folder"), "FIFO": str(tmp_path / "pipe")}.get(where, where)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(capsys, *command, "--db", path)
    one_line(code, err, 5, path)
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "something was created (a lock, a database)"


def test_an_odd_database_path_from_the_environment_is_refused_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWS_DB_PATH", ":memory:")
    code, _, err = run(capsys, "crawl", "cao", "--base-url", CLOSED)
    one_line(code, err, 5, ":memory:", "not a database path")
    assert list(tmp_path.iterdir()) == []


# --- issue 22: Redis down is one line --------------------------------------------------------------


def test_a_crawl_whose_redis_does_not_answer_is_one_line_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    db = tmp_path / "worker.sqlite3"
    code, _, err = run(capsys, "crawl", "cao", "--base-url", CLOSED, "--redis", url, "--db", str(db))
    one_line(code, err, 2, url, "refused")
    assert not db.exists() and not Path(f"{db}.lock").exists()
