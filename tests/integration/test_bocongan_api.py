"""bocongan backfill beyond page 1 through the portal's JSON API (issue #12).

The API's request form is inferred, so the backfill is off by default; when on, exactly the
API's origin is allowed beside the site's, and an answer that is not JSON ends the backfill
with one WARNING and no error exit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlite_utils

from crawler.testing.faults import CHALLENGE_PAGE
from crawler.testing.server import ReplicaServer
from tests.helpers import QuietHandler, crawl_args, run_cli, serving

ARCHIVE = "/bai-viet/hoi-nghi-tong-ket-cong-tac-nam-cu-chi-co-trong-api-1700000123"


class _Api(ThreadingHTTPServer):
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ApiHandler)


class _ApiHandler(QuietHandler):
    server: _Api

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/robots.txt":
            self.send(404, b"", {"Content-Type": "text/plain"})
        elif self.server.mode == "challenge":
            self.send(200, CHALLENGE_PAGE, {"Content-Type": "text/html"})
        else:
            page = int(parse_qs(parts.query).get("page", ["0"])[0])
            items = [{"slug": ARCHIVE.removeprefix("/bai-viet/"), "title": "x"}] if page == 1 else []
            self.send(200, json.dumps({"data": {"content": items}}).encode(), {"Content-Type": "application/json"})


def _serve(mode: str) -> Iterator[_Api]:
    server = _Api(mode)
    with serving(server):
        yield server


@pytest.fixture
def api() -> Iterator[_Api]:
    yield from _serve("json")


@pytest.fixture
def challenge_api() -> Iterator[_Api]:
    yield from _serve("challenge")


def _crawl(server: ReplicaServer, db: Path, api: _Api, *extra: str) -> Any:
    base = f"http://127.0.0.1:{api.server_address[1]}/backend-portal"
    return run_cli(
        *crawl_args(server, db, "bocongan"), "-s", f"NEWS_API_BASES={json.dumps({'bocongan': base})}", *extra
    )


def _publish_archive_article(server: ReplicaServer) -> None:
    site = server.sites["bocongan"]
    source = site.routes_of("article")[0]
    page = site.raw(source).decode("utf-8").replace(source.path, ARCHIVE)
    # its own text, or it would be stored as an alias of the article it was copied from
    extra = "<p>Bài lưu trữ này chỉ còn được liệt kê qua giao diện lập trình của cổng thông tin, không còn trên trang 1.</p>"
    body_start = page.index("tinymce-content")
    close = page.index(">", body_start) + 1
    site.publish(ARCHIVE, (page[:close] + extra + page[close:]).encode("utf-8"))


def test_api_backfill_is_off_by_default(api: _Api, tmp_path: Path) -> None:
    with ReplicaServer(["bocongan"]) as server:
        _publish_archive_article(server)
        done = _crawl(server, tmp_path / "news.sqlite3", api, "--backfill")
    assert done.returncode == 0, done.stderr[-2000:]
    assert api.seen == []


def test_api_backfill_finds_articles_beyond_page_one(api: _Api, tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    with ReplicaServer(["bocongan"]) as server:
        _publish_archive_article(server)
        done = _crawl(server, db, api, "--backfill", "-s", "NEWS_API_BACKFILL=True")
        assert server.sites["bocongan"].fetched(ARCHIVE) == 1
    assert done.returncode == 0, done.stderr[-2000:]
    assert any("category_slug=" in p and "page=1" in p for p in api.seen), api.seen
    urls = {row["url"] for row in sqlite_utils.Database(db).query("select url from articles")}
    assert "https://bocongan.gov.vn" + ARCHIVE in urls


def test_an_api_that_answers_with_html_is_unavailable_not_an_error(challenge_api: _Api, tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    with ReplicaServer(["bocongan"]) as server:
        done = _crawl(server, db, challenge_api, "--backfill", "-s", "NEWS_API_BACKFILL=True")
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [line for line in done.stderr.splitlines() if "listing API unavailable" in line]
    assert len(warnings) == 1, done.stderr[-3000:]
    assert sqlite_utils.Database(db)["articles"].count > 0  # page 1 and the feeds still crawled
