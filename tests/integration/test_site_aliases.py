"""A site that moves to its www. alias is followed, and its articles keyed to the site (issue #12).

The crawl runs against the real host names, offline: Scrapy's HTTP proxy support sends every
request to a local proxy, which answers for thanhtra.com.vn with a 301 to www.thanhtra.com.vn
(as a site moving to www would) and serves the thanhtra replica as www.thanhtra.com.vn.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlite_utils

from crawler.testing.replica import SITES_DIR, SiteReplica
from tests.helpers import REPO, QuietHandler, serving

WWW = "http://www.thanhtra.com.vn"


class _Proxy(ThreadingHTTPServer):
    def __init__(self, site: SiteReplica) -> None:
        self.site = site
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(QuietHandler):
    server: _Proxy

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.seen.append(self.path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.hostname == "thanhtra.com.vn":
            self.send(301, b"", {"Location": WWW + path})
            return
        route = self.server.site.lookup(path) if parts.hostname == "www.thanhtra.com.vn" else None
        if route is None:
            self.send(404, b"<html><body>404</body></html>", {"Content-Type": "text/html"})
            return
        self.send(200, self.server.site.render(route, WWW), {"Content-Type": route.mime})


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy(SiteReplica(SITES_DIR / "thanhtra"))
    with serving(server):
        yield server


def test_redirect_to_www_is_followed_and_stored_under_the_site_url(proxy: _Proxy, tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    env = {**os.environ, "http_proxy": f"http://127.0.0.1:{proxy.server_address[1]}", "no_proxy": ""}
    args = ["crawl", "thanhtra", "--db", str(db), "--base-url", "thanhtra=http://thanhtra.com.vn"]
    args += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(url.startswith("http://thanhtra.com.vn/") for url in proxy.seen)
    assert any(url.startswith(WWW + "/") for url in proxy.seen)
    rows = list(sqlite_utils.Database(db).query("select url from articles"))
    assert len(rows) == len(proxy.site.routes_of("article"))
    assert all(row["url"].startswith("https://thanhtra.com.vn/") for row in rows), rows
