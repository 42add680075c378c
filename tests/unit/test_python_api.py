"""The Python API of README "Python API" (issue 15): extract_article and open_archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler import NotAnArticle, extract_article, site_of
from crawler.api import article_verdict
from storage import open_archive
from storage.db import StorageError
from tests.helpers import REPO, build_replica_db, fresh_python

PAGE = REPO / "tests/sites/cao/pages/articles/177958.html"
URL = (
    "https://congan.com.vn/vu-an/phong-chong-ma-tuy/"
    "triet-pha-duong-day-dua-ma-tuy-tu-tphcm-len-da-lat-phuc-vu-tiec-bay-lac_177958.html"
)


def page() -> str:
    return PAGE.read_text(encoding="utf-8").replace("{{BASE}}", "https://congan.com.vn")


def test_extract_article_gives_the_record() -> None:
    record = extract_article(page(), URL + "?utm_source=fb", "cao")
    assert record["url"] == URL and record["site"] == "cao" and record["extractor"] == "site"
    assert record["title"] == "Triệt phá đường dây đưa ma túy từ TP.HCM lên Đà Lạt phục vụ “tiệc bay lắc”"
    assert list(record)[:3] == ["site", "url", "title"] and "Bình luận" not in record["body"]


def test_extract_article_finds_the_url_the_page_declares() -> None:
    assert extract_article(page(), site="cao") == extract_article(page(), URL, "cao")
    # Issue 25: without site=, the site the URL is on (it was the generic extractor).
    detected = extract_article(page().encode("utf-8"))
    assert detected["url"] == URL and detected["site"] == "cao" and detected["extractor"] == "site"
    generic = extract_article(page().encode("utf-8"), generic=True)
    assert generic["url"] == URL and generic["extractor"] == "generic"
    assert site_of(URL) == "cao" and site_of("https://example.com/") is None


def test_extract_article_refuses_what_is_no_article() -> None:
    with pytest.raises(NotAnArticle) as caught:
        extract_article("<html><body><p>Trang chủ</p></body></html>", "https://congan.com.vn/")
    assert caught.value.reason
    with pytest.raises(ValueError, match="declares no URL"):
        extract_article("<html><body><p>x</p></body></html>")


TAG_PAGE = REPO / "tests/sites/cao/pages/traps/tag_da-lat.html"
TAG_URL = "https://congan.com.vn/tag/%C4%90%C3%A0+L%E1%BA%A1t.html"


def test_a_page_with_text_gets_its_record_and_strict_refuses_what_is_no_article() -> None:
    html = TAG_PAGE.read_text(encoding="utf-8").replace("{{BASE}}", "https://congan.com.vn")
    # On the generic path (the URL names CAO, so generic=True asks for it), extraction returns
    # the text; the verdict is apart.
    record = extract_article(html, TAG_URL, generic=True)
    assert record["body"] and record["extractor"] == "generic"
    assert (article_verdict(html, TAG_URL) or "").startswith("not_article: ")
    with pytest.raises(NotAnArticle) as caught:
        extract_article(html, TAG_URL, generic=True, strict=True)
    assert caught.value.reason == "not_article"
    assert article_verdict(page(), URL) is None and extract_article(page(), URL, strict=True)["url"] == URL
    for site in ("cao", None):  # a known site decides, named or found from the URL: a tag page is refused
        with pytest.raises(NotAnArticle):
            extract_article(html, TAG_URL, site)


LATIN1_PARAGRAPH = (
    "Die Stadtverwaltung öffnet das Bürgerbüro ab Montag wieder für alle Anliegen, "
    "teilte die Sprecherin am Freitag mit; Termine müssen nicht mehr vorab gebucht werden."
)


def test_saved_bytes_are_decoded_as_the_page_declares() -> None:
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Bürgerbüro öffnet wieder</title></head><body>'
        f"<article><h1>Bürgerbüro öffnet wieder</h1><p>{LATIN1_PARAGRAPH}</p><p>{LATIN1_PARAGRAPH}</p>"
        "</article></body></html>"
    ).encode("iso-8859-1")
    record = extract_article(html, "https://stadt.example.de/aktuelles/buergerbuero-oeffnet-wieder")
    assert LATIN1_PARAGRAPH in record["body"] and "\ufffd" not in record["body"]


def test_open_archive_iterates_and_searches(tmp_path: Path) -> None:
    build_replica_db(tmp_path / "news.sqlite3").close()
    with open_archive(tmp_path / "news.sqlite3") as archive:
        records = list(archive)
        assert len(records) == len(archive) > 0
        assert {r["site"] for r in archive.records(site="cao")} == {"cao"}
        hits = archive.search("ma túy", site="cao")
        assert hits[0]["url"] == URL
        assert archive.search("ma tuy", folded=True)
        stored = archive.get(URL)
        assert stored is not None and stored["title"] == hits[0]["title"]
        assert archive.get(URL + "x") is None
    with pytest.raises(StorageError):
        open_archive(tmp_path / "missing.sqlite3")


def test_importing_crawler_does_not_load_the_extractor() -> None:
    code = "import sys, crawler, storage; print('trafilatura' in sys.modules, 'storage.archive' in sys.modules)"
    assert fresh_python(code).split() == ["False", "False"]
