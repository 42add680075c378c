"""`newscrawl` behaves like a command-line tool (issue 15): progress and a summary table on a
terminal, quiet for cron, JSON that parses, pipes into `head`, a busy port, signals."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, build_replica_db, crawl_args, run_cli

CAO_URL = (
    "https://congan.com.vn/vu-an/phong-chong-ma-tuy/"
    "triet-pha-duong-day-dua-ma-tuy-tu-tphcm-len-da-lat-phuc-vu-tiec-bay-lac_177958.html"
)


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer() as running:
        yield running


@pytest.fixture(scope="module")
def crawled(server: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A crawl of every replica: runs, quality records, versions, clusters of copies."""
    path = tmp_path_factory.mktemp("crawled") / "news.sqlite3"
    done = run_cli(*crawl_args(server, path), "-q")
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tool") / "news.sqlite3"
    build_replica_db(path).close()
    return path


def run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (as in a shell) and stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=slave, text=True
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = proc.communicate(timeout=240)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


def test_crawl_draws_progress_on_a_terminal_and_prints_the_summary(server: ReplicaServer, tmp_path: Path) -> None:
    code, out, err = run_with_tty_stderr(*crawl_args(server, tmp_path / "news.sqlite3", "cao", "thanhtra"))
    assert code == 0, err[-3000:]
    assert "pages" in err and "articles stored" in err and "pages/s" in err, err[-2000:]
    assert "cao" in err and "thanhtra" in err
    started, header, *rows = [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]
    # Issue 25: one timestamped line per run (cron logs), this run's figures by outcome, and the
    # database total labelled as such (it read "stored", as the live line's this-run count).
    assert re.fullmatch(
        r"newscrawl crawl \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d: cao thanhtra into .+", started[0]
    )
    assert header == [
        "site", "status", "fetched", "new", "updated", "unchanged", "not modified", "dropped", "errors", "in database"
    ], out  # fmt: skip
    assert {r[0]: r[1] for r in rows} == {"cao": "ok", "thanhtra": "ok"}
    assert all(int(r[3]) > 0 and r[3] == r[9] for r in rows), out
    assert " INFO: " not in err, "Scrapy's INFO log is off by default"


def test_crawl_quiet_prints_nothing_and_default_stderr_holds_no_info(server: ReplicaServer, tmp_path: Path) -> None:
    quiet = run_cli(*crawl_args(server, tmp_path / "quiet.sqlite3", "cao"), "-q")
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert quiet.stdout == "" and quiet.stderr == ""
    plain = run_cli(*crawl_args(server, tmp_path / "plain.sqlite3", "cao"))
    assert plain.returncode == 0 and "[scrapy" not in plain.stderr and " INFO: " not in plain.stderr, plain.stderr
    assert plain.stdout.splitlines()[0].startswith("newscrawl crawl ")
    assert plain.stdout.splitlines()[1].split()[:2] == ["site", "status"]
    verbose = run_cli(
        *crawl_args(server, tmp_path / "verbose.sqlite3", "cao"), "-v", "--log-file", str(tmp_path / "log")
    )
    assert verbose.returncode == 0 and " INFO: " not in verbose.stderr
    assert " INFO: " in (tmp_path / "log").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "command",
    [
        ["runs", "--json"],
        ["health", "--json"],
        ["history", CAO_URL, "--json"],
        ["explain", CAO_URL + "?utm_source=fb", "--json"],
        ["dupes", "--json"],
        ["search", "ma túy", "--json"],
        ["export"],
    ],
)
def test_json_output_parses(command: list[str], crawled: Path) -> None:
    done = run_cli(*command, "--db", str(crawled))
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert objects and all(isinstance(o, dict) for o in objects), done.stdout[:500]


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("newscrawl ")


# Outputs larger than a pipe's buffer (64 KiB), so the writer does meet the closed pipe.
@pytest.mark.parametrize("command", ["export", "export --format csv"])
def test_output_piped_into_head_ends_quietly(command: str, db_path: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m crawler.cli {command} --db {db_path} | head -c 10",
        shell=True,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_exact_search_says_when_the_folded_one_would_find(db_path: Path) -> None:
    done = run_cli("search", "cong an", "--db", str(db_path))
    assert done.returncode == 0 and done.stdout == ""
    assert "no exact match" in done.stderr and "--folded" in done.stderr


def test_serve_on_a_busy_port_says_so_in_one_line(db_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--db", str(db_path), "--port", str(port), timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--port {port}" in lines[0] and "in use" in lines[0], lines


def test_extract_takes_the_url_from_the_page_and_reads_stdin(tmp_path: Path) -> None:
    page = (REPO / "tests/sites/cao/pages/articles/177958.html").read_text(encoding="utf-8")
    page = page.replace("{{BASE}}", "https://congan.com.vn")
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", "--site", "cao", "-"],
        input=page,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["url"] == CAO_URL and record["site"] == "cao" and record["extractor"] == "site"
    no_url = run_cli("extract", str(REPO / "tests/sites/cao/pages/articles/177958.html"))
    assert no_url.returncode == 2 and "--url" in no_url.stderr


def test_schedule_passes_sigterm_to_its_crawl_and_waits(tmp_path: Path) -> None:
    started, got = tmp_path / "started", tmp_path / "got"
    child = textwrap.dedent(f"""
        import pathlib, signal, sys, time
        def stop(signum, frame):
            time.sleep(0.5)  # a crawl closing cleanly takes a moment: the schedule must wait
            pathlib.Path({str(got)!r}).write_text(str(signum))
            sys.exit(1)
        signal.signal(signal.SIGTERM, stop)
        pathlib.Path({str(started)!r}).write_text("1")
        time.sleep(60)
    """)
    schedule = textwrap.dedent(f"""
        import sys
        import crawler.cli.crawl as crawl
        crawl.crawl_command = lambda args: [sys.executable, "-c", {child!r}]
        from crawler.cli import main
        sys.exit(main(["schedule", "--every", "1h"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", schedule], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the scheduled crawl never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert got.read_text() == str(int(signal.SIGTERM)), "the crawl received the signal"
    assert proc.returncode == 1, "the schedule ends with the interrupted crawl's exit code"
    assert "run 1 exited 1" in err
