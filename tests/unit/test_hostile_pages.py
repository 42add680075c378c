"""Hostile pages (issue 16): what a page can put in front of the extractor, and what comes out.

Each test takes a replica page (our own markup and text) and adds one hostile construct to it.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from crawler.extract import article as extraction
from crawler.extract.article import NotArticle, extract
from crawler.extract.urls import url_hash
from crawler.sites.registry import sites
from storage.articles import SETTLED_DROPS, known_url_hashes, save_article
from storage.crawlstate import log_url, retry_urls
from storage.db import open_db
from storage.text import clean_line, clean_text
from tests.helpers import real_page, replica

PATH = "/tin-chinh/cong-an-tphcm-trien-khai-cao-diem-bao-dam-an-ninh-trat-tu-tet-nguyen-dan-binh-ngo-2026_184612.html"
URL = "https://congan.com.vn" + PATH


def cao_page() -> tuple[str, dict[str, Any]]:
    """The replica page of one CAO article as the real site serves it, and its facts."""
    site = replica("cao")
    route = site.lookup(PATH)
    assert route is not None and route.name
    facts = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))[route.name]
    return real_page(site, route).decode("utf-8"), facts


def test_deeply_nested_json_ld_does_not_lose_the_article() -> None:
    # 100,000 nested arrays: json.loads raises RecursionError, which is no ValueError.
    page, facts = cao_page()
    bomb = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    result = extract(page.replace("</head>", bomb + "</head>", 1), URL, sites()["cao"])
    assert not isinstance(result, NotArticle), result
    assert result.title == facts["title"] and facts["body_last"] in result.body


def test_any_exception_inside_extraction_is_a_drop_retried_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    page, _ = cao_page()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(extraction, "read_meta", broken)
    result = extract(page, URL, sites()["cao"])
    assert isinstance(result, NotArticle)
    assert result.reason == "extract_error" and "RecursionError" in result.detail
    # Logged as a drop, it is not a settled one: the next run fetches the URL again.
    assert result.reason not in SETTLED_DROPS
    db = open_db(":memory:")
    event = {"site": "cao", "url": URL, "url_hash": url_hash(URL), "outcome": "dropped", "reason": result.reason}
    log_url(db, {**event, "detail": result.detail})
    assert retry_urls(db, "cao", SETTLED_DROPS) == [URL]
    assert url_hash(URL) not in known_url_hashes(db, "cao")


def test_fifty_thousand_nested_divs_are_a_parse_depth_fault_not_a_truncated_article() -> None:
    # libxml2 stops building the tree at depth 256: everything after the nest would be lost.
    page, facts = cao_page()
    nest = "<div>" * 50_000 + "<p>Đoạn văn nằm sâu.</p>" + "</div>" * 50_000
    deep = page.replace(facts["body_last"], nest + facts["body_last"], 1)
    result = extract(deep, URL, sites()["cao"])
    assert isinstance(result, NotArticle), "a truncated page must not be stored as the article"
    assert result.reason == "parse_depth" and result.reason not in SETTLED_DROPS
    # The same page without the nest is an article: the fault is the depth, nothing else.
    assert not isinstance(extract(page, URL, sites()["cao"]), NotArticle)


CONTROLS = "\x1b[2J\x07\u202e\u2066\x9b\x00"


def test_control_characters_are_stripped_at_extraction() -> None:
    page, facts = cao_page()
    title_html = facts["title"].replace(" ", " \x1b[31m", 1) + "\u202e"
    hostile = page.replace(facts["title"], title_html).replace(
        facts["body_last"], facts["body_last"][:20] + "\x07\u2067\u202a" + facts["body_last"][20:], 1
    )
    result = extract(hostile, URL, sites()["cao"])
    assert not isinstance(result, NotArticle), result
    for text in (result.title, result.lead or "", result.body):
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in text), repr(text)
    assert result.title == facts["title"].replace(" ", " [31m", 1)
    assert facts["body_last"] in result.body and "\n" in result.body


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Công an\x1b[2J", "Công an[2J"),
        ("Công\u202e an", "Công an"),
        ("Công \x07an\u2066", "Công an"),
        ("Công an\x00\x9b", "Công an"),
        ("Công\u200ban", "Công an"),  # zero-width space stays a space, as before
    ],
)
def test_clean_text_drops_controls_but_keeps_lines(text: str, cleaned: str) -> None:
    assert clean_line(text) == cleaned
    assert clean_text("dòng một\n" + text) == "dòng một\n" + cleaned


@pytest.mark.parametrize(
    "src",
    ["javascript:alert(1)", " JavaScript:alert(1)", "data:image/png;base64,AAAA", "vbscript:x", "file:///etc/passwd"],
)
def test_script_and_data_image_urls_are_dropped(src: str) -> None:
    page, facts = cao_page()
    hostile = page.replace(facts["body_last"], f'<img src="{src}">' + facts["body_last"], 1)
    result = extract(hostile, URL, sites()["cao"])
    assert not isinstance(result, NotArticle), result
    assert result.images, "the page's own images are kept"
    assert all(str(img["url"]).startswith(("https://", "http://")) for img in result.images), result.images


BASE = "https://congan.com.vn"


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("/", None),  # the home page: would store the article under "/"
        ("https://congan.com.vn/tin-chinh", None),  # a listing
        ("https://congan.com.vn/tim-kiem?q=x", None),
        ("https://evil.example/vu-an/x_1.html", None),  # another site
        ("javascript:alert(1)", None),
        ("/vu-an/bai-khac_42.html", "https://congan.com.vn/vu-an/bai-khac_42.html"),
        (PATH + "?utm_source=fb", None),  # the page itself, once canonicalised: no move
    ],
)
def test_a_canonical_moves_the_record_only_to_an_article_url_of_the_site(declared: str, expected: str | None) -> None:
    from crawler.extract.urls import canonical_target

    site = sites()["cao"]
    assert canonical_target(declared, URL, {BASE}, site.is_article_path) == expected


def test_undated_articles_are_known_not_refetched_every_run() -> None:
    db = open_db(":memory:")
    url = "https://congan.com.vn/vu-an/khong-ngay_7.html"
    record = {
        "site": "cao",
        "url": url,
        "title": "Bài không ngày",
        "lead": None,
        "body": "Thân bài. " * 60,
        "authors": [],
        "published_at": None,
        "published_at_raw": None,
        "category": None,
        "tags": [],
        "images": [],
        "language": "vi",
        "extractor": "site",
        "url_hash": url_hash(url),
        "content_hash": "h-undated",
        "fetched_at": "2020-01-01T00:00:00+00:00",
    }
    save_article(db, record)
    # First seen long ago: outside any recheck window, so known.
    db.execute("update articles set first_seen_at = '2020-01-01T00:00:00+00:00'")
    assert url_hash(url) in known_url_hashes(db, "cao", recheck_days=3, recheck_hours=6)


def test_stored_text_with_replacement_characters_is_fetched_again() -> None:
    db = open_db(":memory:")
    clean_url = "https://congan.com.vn/vu-an/sach_1.html"
    broken_url = "https://congan.com.vn/vu-an/hong_2.html"
    for url, body in ((clean_url, "Thân bài. " * 60), (broken_url, "Th\ufffdn b\ufffdi. " * 60)):
        save_article(
            db,
            {
                "site": "cao",
                "url": url,
                "title": "Tiêu đề",
                "lead": None,
                "body": body,
                "authors": [],
                "published_at": "2020-01-01T08:00:00+07:00",
                "published_at_raw": None,
                "category": None,
                "tags": [],
                "images": [],
                "language": "vi",
                "extractor": "site",
                "url_hash": url_hash(url),
                "content_hash": url_hash(body),
                "fetched_at": "2020-01-01T02:00:00+00:00",
            },
        )
    known = known_url_hashes(db, "cao", recheck_days=3, recheck_hours=6)
    assert url_hash(clean_url) in known and url_hash(broken_url) not in known
