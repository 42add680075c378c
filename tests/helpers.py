"""Helpers of the tests: replica pages, CLI runs, a replica database, test servers, Chromium.

Tests import these from here; fixtures live in tests/conftest.py. The helpers the benchmarks
share live in ``crawler/testing/`` (``corpus.py``, ``commands.py``) and are re-exported here:
``bench/`` never imports ``tests`` (an import-linter contract).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.test import get_crawler

from crawler.crawl.runner import project_settings
from crawler.testing.commands import run_cli as run_cli
from crawler.testing.corpus import FETCHED_AT as FETCHED_AT
from crawler.testing.corpus import build_replica_db as build_replica_db
from crawler.testing.corpus import real_page as real_page
from crawler.testing.corpus import replica as replica
from crawler.testing.corpus import replica_items as replica_items
from crawler.testing.corpus import site_keys as site_keys
from crawler.testing.replica import SITES_DIR, SiteReplica
from crawler.testing.server import ReplicaServer

REPO = Path(__file__).resolve().parent.parent
VARIANT = REPO / "tests" / "sites_variants" / "cao" / "redesign.json"  # CAO's article template changed


def fresh_python(code: str) -> str:
    """What ``code`` prints when run by a fresh interpreter from the repository: for what a
    process loads (``sys.modules``), which this test process has long since loaded."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout


def declared_copies() -> dict[tuple[str, str], tuple[str, str]]:
    """Republications the replicas declare: (site, name) of a copy -> (site, name) of its original.

    A copy's truth.json entry says ``"copy_of": {"site": ..., "name": ...}``; a new site's
    replica brings its republished stories to every dedup test this way, unedited.
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for key in site_keys():
        truth = json.loads((SITES_DIR / key / "truth.json").read_text(encoding="utf-8"))
        for name, facts in truth.items():
            if facts.get("copy_of"):
                found[(key, name)] = (facts["copy_of"]["site"], facts["copy_of"]["name"])
    return found


def crawl_args(server: ReplicaServer, db: Path, *keys: str, delay: float = 0.0) -> list[str]:
    """Arguments of ``newscrawl crawl`` for replica sites (all when no key is given) into ``db``.

    Politeness delays are off (``delay`` seconds between requests, no jitter, no AutoThrottle):
    the server is the test's own; robots.txt is still obeyed.
    """
    args = ["crawl", *keys, "--db", str(db)]
    for key in keys or tuple(server.sites):
        args += ["--base-url", f"{key}={server.base_url(key)}"]
    return [*args, "-s", f"DOWNLOAD_DELAY={delay}", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def project_crawler(spidercls: type[Spider] = Spider, **overrides: Any) -> Crawler:
    """Scrapy's test crawler (``get_crawler``) with crawler/settings.py and ``overrides`` applied.

    Only the project's own settings are passed: Scrapy's defaults stay get_crawler's, which
    match the reactor (or its absence) of the test process.
    """
    settings = project_settings(overrides)
    own = {name: settings[name] for name in settings if settings.getpriority(name) >= SETTINGS_PRIORITIES["project"]}
    return get_crawler(spidercls, own)


def build_variant(spec_path: Path, into: Path) -> str:
    """Copy every replica into ``into`` and apply the variant there; return its site key."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    shutil.copytree(SITES_DIR, into)
    site = SiteReplica(into / spec["site"])
    changed = [route for kind in spec["kinds"] for route in site.routes_of(kind)]
    assert changed, f"variant {spec_path.name} changes no route"
    used: set[str] = set()
    for route in changed:
        assert route.file is not None
        page = site.folder / "pages" / route.file
        text = page.read_text(encoding="utf-8")
        # A page need not hold every replaced string (a 2025-shaped CAO page has no lead class),
        # but each page must change, and each replacement must change some page.
        found = [(old, new) for old, new in spec["replace"] if old in text]
        assert found, f"variant {spec_path.name}: nothing to replace in {route.file} (stale variant?)"
        for old, new in found:
            text = text.replace(old, new)
            used.add(old)
        page.write_text(text, encoding="utf-8")
    unused = [old for old, _ in spec["replace"] if old not in used]
    assert not unused, f"variant {spec_path.name}: {unused} in no page (stale variant?)"
    return str(spec["site"])


class QuietHandler(BaseHTTPRequestHandler):
    """A test server's request handler: HTTP/1.1, one ``send`` for a whole answer, no log."""

    protocol_version = "HTTP/1.1"

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """``server`` answering on its own thread for the block, shut down after it."""
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def newscrawl_serve(db_path: Path) -> Iterator[str]:
    """`newscrawl serve --port 0` on ``db_path`` for the block; yields the root URL it serves."""
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "serve", "--db", str(db_path), "--port", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        # serve prints the dashboard's URL: "serving http://127.0.0.1:PORT/-/dashboards/overview"
        assert re.match(r"serving http://127\.0\.0\.1:\d+/-/dashboards/overview$", line.strip()), line + (
            server.stderr.read() if server.stderr else ""
        )
        root = line.split()[1].split("/-/")[0]
        # The line promises a listening socket: one connection attempt, no retry, must succeed.
        port = int(root.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=30).close()
        yield root
    finally:
        server.terminate()
        server.communicate(timeout=30)


@contextmanager
def plain_datasette(db_path: Path) -> Iterator[str]:
    """Plain ``datasette DB -p 0`` (no newscrawl command: the plugin comes from the package's entry
    point) for the block; yields the root URL, read from uvicorn's "running on" line, which it
    prints once the socket listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db_path), "-p", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    drain = None
    try:
        assert server.stderr is not None
        seen = []
        for line in server.stderr:
            seen.append(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        else:
            raise AssertionError("datasette never listened: " + "".join(seen))
        # stderr is drained in the background, so a chatty server never blocks on a full pipe.
        drain = threading.Thread(target=server.stderr.read, daemon=True)
        drain.start()
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if drain is not None:
            drain.join(timeout=30)
        for pipe in (server.stdout, server.stderr):
            if pipe is not None:
                pipe.close()


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@contextmanager
def headless_chromium(profile: Path, window: str, browser_log: bool = False) -> Iterator[Any]:
    """A Selenium driver of Debian's headless Chromium (``scripts/system-deps.sh`` installs it;
    Selenium is given the driver's path, so it never downloads one). Without Chromium the test
    fails on CI and is skipped elsewhere. ``browser_log`` keeps the page's console messages."""
    import os

    import pytest
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver must be installed (scripts/system-deps.sh)")
        pytest.skip("apt-get install -y chromium chromium-driver to run the browser test")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--window-size={window}", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
