"""Hostile pages (issue 16): what a page can put in front of the extractor, and what comes out.

Each test takes a replica page (our own markup and text) and adds one hostile construct to it.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.crawl.news_spider import NewsSpider
from crawler.crawl.pool import ExtractionPool, extract_page
from crawler.crawl.site_spiders import spiders
from crawler.extract import article as extraction
from crawler.extract.article import Rejection, extract
from crawler.extract.dates import parse_published
from crawler.extract.encodings import decode_page_as
from crawler.extract.items import UrlEvent
from crawler.extract.pagemeta import MAX_AUTHORS, MAX_IMAGES, MAX_TAGS
from crawler.extract.urls import url_hash
from crawler.sites.registry import sites
from storage.articles import SETTLED_DROPS, known_url_hashes, save_article
from storage.crawlstate import log_url, retry_urls
from storage.db import open_db
from storage.text import clean_line, clean_text
from tests import faulty_extraction
from tests.helpers import project_crawler, real_page, replica

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
    assert not isinstance(result, Rejection), result
    assert result.title == facts["title"] and facts["body_last"] in result.body


def test_any_exception_inside_extraction_is_a_drop_retried_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    page, _ = cao_page()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(extraction, "read_meta", broken)
    result = extract(page, URL, sites()["cao"])
    assert isinstance(result, Rejection)
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
    assert isinstance(result, Rejection), "a truncated page must not be stored as the article"
    assert result.reason == "parse_depth" and result.reason not in SETTLED_DROPS
    # The same page without the nest is an article: the fault is the depth, nothing else.
    assert not isinstance(extract(page, URL, sites()["cao"]), Rejection)


CONTROLS = "\x1b[2J\x07\u202e\u2066\x9b\x00"


def test_control_characters_are_stripped_at_extraction() -> None:
    page, facts = cao_page()
    title_html = facts["title"].replace(" ", " \x1b[31m", 1) + "\u202e"
    hostile = page.replace(facts["title"], title_html).replace(
        facts["body_last"], facts["body_last"][:20] + "\x07\u2067\u202a" + facts["body_last"][20:], 1
    )
    result = extract(hostile, URL, sites()["cao"])
    assert not isinstance(result, Rejection), result
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
    assert not isinstance(result, Rejection), result
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


# --- page metadata of any shape (issue 22 §3) ---------------------------------------------------


def with_json_ld(page: str, *objects: Any) -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(o)}</script>' for o in objects)
    return page.replace("</head>", scripts + "</head>", 1)


ARTICLE_LD: dict[str, Any] = {"@context": "https://schema.org", "@type": "NewsArticle"}


@pytest.mark.parametrize(
    "ld",
    [
        {**ARTICLE_LD, "author": 42},  # TypeError: expected string ..., got 'int'
        {**ARTICLE_LD, "author": [1.5, True, None, ["Lồng", ["nhau"]]]},
        {**ARTICLE_LD, "author": {"@type": "Person", "name": ["Trần Văn A", "Lê Thị B"]}},  # got 'list'
        {**ARTICLE_LD, "author": {"name": {"@value": 7}}},
        {"@type": 7, "headline": "Số"},  # 'int' object is not iterable
        {"@type": [["NewsArticle"]], "headline": "Danh sách lồng"},  # unhashable type: 'list'
        {"@type": {"name": "NewsArticle"}},
        {**ARTICLE_LD, "headline": 2026, "datePublished": 1737331800},
        {**ARTICLE_LD, "datePublished": "0001-01-01T00:00:00+14:00"},  # OverflowError
        {**ARTICLE_LD, "datePublished": "9999-12-31T23:59:59-12:00"},  # OverflowError
        {**ARTICLE_LD, "articleSection": [[["Pháp luật"]]], "keywords": {"a": 1}},
        {"@graph": {"@graph": [{"@graph": {**ARTICLE_LD, "author": [{"name": 3}]}}]}},
        {"@graph": [None, 1, "x", [ARTICLE_LD]]},
        [[{**ARTICLE_LD, "author": {"name": None}}]],
    ],
    ids=lambda ld: json.dumps(ld)[:60],
)
@pytest.mark.parametrize("site_key", ["cao", None])
def test_json_ld_of_any_shape_leaves_the_article_stored(ld: Any, site_key: str | None) -> None:
    page, facts = cao_page()
    result = extract(with_json_ld(page, ld), URL, sites()[site_key] if site_key else None)
    assert not isinstance(result, Rejection), result
    assert facts["body_last"] in result.body
    assert all(isinstance(a, str) and a for a in result.authors), result.authors


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    keys = ["@type", "@graph", "@value", "name", "author", "headline", "datePublished", "articleSection"]
    scalars: list[Any] = [
        rng.randint(-(10**20), 10**20),
        rng.random() * 1e300,
        rng.choice([True, False, None]),
        rng.choice(["", " ", "NewsArticle", "VideoObject", "Nguyễn Văn A", "2024-02-30", "0000-00-00"]),
        rng.choice(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "99/99/9999 99:99", "1e400"]),
    ]
    if depth >= 3 or rng.random() < 0.4:
        return rng.choice(scalars)
    if rng.random() < 0.5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_random_json_ld_never_drops_the_article() -> None:
    """The class, not the instances above: any JSON value in any JSON-LD field (seeded)."""
    page, _ = cao_page()
    rng = random.Random(22)
    for n in range(200):
        ld = _random_json(rng)
        if isinstance(ld, dict) and rng.random() < 0.7:
            ld["@type"] = "NewsArticle"
        site = None if n % 10 == 0 else sites()["cao"]  # the generic path is slower: one in ten
        result = extract(with_json_ld(page, ld), URL, site)
        assert not isinstance(result, Rejection) or result.reason != "extract_error", (ld, result)


def test_thousands_of_authors_tags_and_images_are_capped() -> None:
    page, facts = cao_page()
    ld = {**ARTICLE_LD, "author": [{"@type": "Person", "name": f"Phóng viên {i}"} for i in range(5000)]}
    tags = "".join(f'<a href="/tag/{i}">thẻ {i}</a>' for i in range(2000))
    images = "".join(f'<img src="/anh/{i}.jpg">' for i in range(2000))
    hostile = with_json_ld(page, ld).replace("</body>", f'<div class="article_tags">{tags}</div></body>', 1)
    hostile = hostile.replace(facts["body_last"], images + facts["body_last"], 1)
    result = extract(hostile, URL, sites()["cao"])
    assert not isinstance(result, Rejection), result
    assert len(result.tags) == MAX_TAGS and "thẻ 0" in result.tags
    assert len(result.images) == MAX_IMAGES
    generic = extract(with_json_ld(page, ld), URL, None)
    assert not isinstance(generic, Rejection), generic
    assert generic.authors == [f"Phóng viên {i}" for i in range(MAX_AUTHORS)]


# --- dates and hidden text (issue 22 §3) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0001-01-01", None),
        ("1899-12-31T23:00:00+07:00", None),
        ("01/01/1970 07:00", "1970-01-01T07:00:00+07:00"),
        ("2026-12-06", "2026-12-06"),  # tomorrow: a page in another time zone may be ahead
        ("2026-12-07T00:00:00+07:00", None),
        ("Thứ Hai, 01/01/2199 08:00", None),
        ("Fri, 31 Dec 9999 23:59:59 -1200", None),  # OverflowError before
    ],
)
def test_implausible_publication_dates_are_not_stored(raw: str, expected: str | None) -> None:
    assert parse_published(raw, today=date(2026, 12, 5))[0] == expected


def test_an_implausible_date_falls_back_to_the_next_source_and_keeps_its_raw_text() -> None:
    page, facts = cao_page()
    date_node = re.search(r"<[^>]*white-space: ?nowrap[^>]*>([^<]*)<", page)
    assert date_node is not None
    # The date line reads year 0001: the JSON-LD date is used instead.
    broken = page.replace(date_node.group(1), "Thứ Hai, 20/01/0001 07:30", 1)
    result = extract(
        with_json_ld(broken, {**ARTICLE_LD, "datePublished": "2026-01-20T07:30:00+07:00"}), URL, sites()["cao"]
    )
    assert not isinstance(result, Rejection), result
    assert result.published_at == facts["published_at"]
    assert result.field_sources["published_at"] == "generic:jsonld_date"
    # No other date: stored undated, the page's text kept for a person to read.
    alone = extract(broken, URL, sites()["cao"])
    assert not isinstance(alone, Rejection), alone
    assert alone.published_at is None and alone.published_at_raw == "Thứ Hai, 20/01/0001 07:30"


HIDDEN = (
    '<script>var tieuDe = "MÃ KỊCH BẢN";</script><style>.a{content:"MÃ KIỂU"}</style>'
    "<noscript>MÃ NOSCRIPT</noscript><template><p>MÃ KHUÔN MẪU</p></template>"
)


@pytest.mark.parametrize("site_key", ["cao", None])
def test_script_style_noscript_and_template_text_never_enters_title_lead_or_body(site_key: str | None) -> None:
    page, facts = cao_page()
    hostile = page.replace('<h1 class="article_title">', '<h1 class="article_title">' + HIDDEN, 1)
    hostile = hostile.replace(facts["lead"][:30], HIDDEN + facts["lead"][:30], 1)
    hostile = hostile.replace(facts["body_last"], HIDDEN + facts["body_last"], 1)
    result = extract(hostile, URL, sites()[site_key] if site_key else None)
    assert not isinstance(result, Rejection), result
    assert result.title == facts["title"]
    for text in (result.title, result.lead or "", result.body, *result.authors, *result.tags):
        assert "MÃ " not in text and "tieuDe" not in text, text


# --- encodings (issue 22 §3) ------------------------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # the five tone marks windows-1258 writes as combining


def to_cp1258(text: str) -> bytes:
    """``text`` as windows-1258 writes Vietnamese: letter shapes precomposed, tone marks
    combining (what Python's cp1258 encoder needs; characters it lacks become references)."""
    out: list[str] = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tones)
    return "".join(out).encode("cp1258", errors="xmlcharrefreplace")


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="windows-1258">',
        "<meta charset=windows-1258>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">',
    ],
)
def test_a_charset_declared_only_in_the_page_is_honoured(declaration: str) -> None:
    page, facts = cao_page()
    raw = to_cp1258(page.replace('<meta charset="utf-8">', declaration, 1))
    done = extract_page(raw, URL, BASE, "cao", declared=None)  # no charset in the HTTP header
    assert done.fault is None, done.fault
    result = done.result
    assert not isinstance(result, Rejection), result
    assert result.title == facts["title"] and facts["body_last"] in result.body
    assert "\ufffd" not in result.body


@pytest.mark.parametrize(
    ("charset", "raw", "text"),
    [
        # Byte values from the charsets' tables (RFC 1456 for VISCII; TCVN 5712:1993).
        ("VISCII", b"\xd0\xe0 N\xc7ng, C\xf4ng an x\xe3 \xd5", "Đà Nẵng, Công an xã ạ"),
        ("viscii", b"Tr\xdf\xfeng", "Trượng"),
        ("TCVN3", b"\xa7\xb5 N\xbdng", "Đà Nẵng"),
        ("x-viet-tcvn5712", b"C\xabng an x\xb8c minh", "Công an xác minh"),
        ("windows-1258", b"Vi\xea\xf2t Nam", "Việt Nam"),
    ],
)
def test_legacy_vietnamese_charsets_are_read(charset: str, raw: bytes, text: str) -> None:
    page = b'<html><head><meta charset="' + charset.encode() + b'"></head><body><p>' + raw + b"</p></body></html>"
    decoded, used = decode_page_as(page)
    assert unicodedata.normalize("NFC", decoded).count(text) == 1, decoded
    assert used != "utf-8"


def test_utf8_bytes_win_over_a_declared_legacy_charset() -> None:
    # A wrong declaration is a common server and CMS mistake: valid UTF-8 is read as UTF-8.
    page = '<meta charset="windows-1258"><p>Công an xã</p>'.encode()
    assert decode_page_as(page) == ('<meta charset="windows-1258"><p>Công an xã</p>', "utf-8")
    assert decode_page_as(page, "iso-8859-1")[0].endswith("Công an xã</p>")


# --- pathological sizes: listings, dead links, pages over the extraction budget (issue 22 §3) -----

LISTING_URL = "https://congan.com.vn/vu-an"


def cao_spider(db_path: Path) -> NewsSpider:
    """A CAO spider whose crawl state is read from ``db_path`` (as a new run's is)."""
    made = project_crawler(spiders()["cao"], NEWS_DB_PATH=str(db_path))._create_spider()
    assert isinstance(made, NewsSpider)
    return made


def test_a_listing_with_100k_article_links_is_capped(tmp_path: Path) -> None:
    s = cao_spider(tmp_path / "news.sqlite3")
    items = "".join(f'<li><h3><a href="/vu-an/tin-{i}_{200000 + i}.html">Tin {i}</a></h3></li>' for i in range(100_000))
    body = f'<html><body><ul class="list_news">{items}</ul></body></html>'.encode()
    request = Request(LISTING_URL, meta={"kind": "listing"})
    response = HtmlResponse(LISTING_URL, body=body, encoding="utf-8", request=request)
    out = list(s.parse_listing(response, path="/vu-an", page=1))
    articles = [r for r in out if isinstance(r, Request) and r.callback == s.parse_article]
    assert len(articles) == s.max_links == 1000  # NEWS_MAX_PAGE_LINKS
    assert articles[0].url.endswith("/vu-an/tin-0_200000.html")  # the first ones, in page order
    assert s.crawler.stats is not None and s.crawler.stats.get_value("newscrawl/links/capped") == 1


def _runs(db_path: Path, fail: Callable[[NewsSpider], UrlEvent]) -> list[tuple[str, str, bool]]:
    """Three runs meeting the same failure: each run's event, and whether the next run still
    fetches the URL (retried or rediscovered: not known)."""
    seen: list[tuple[str, str, bool]] = []
    for _ in range(3):
        s = cao_spider(db_path)
        if seen and not seen[-1][2]:
            break
        event = fail(s)
        db = open_db(db_path)
        log_url(db, {f: getattr(event, f) for f in ("site", "url", "url_hash", "outcome", "reason", "detail")})
        db.close()
        after = cao_spider(db_path)
        fetched_again = event.url_hash not in after.state.known or event.url in after.state.retry
        seen.append((event.outcome, event.reason, fetched_again))
    return seen


DEAD = "https://congan.com.vn/vu-an/bai-da-go_123456.html"


def test_a_dead_article_link_is_requested_twice_then_never_again(tmp_path: Path) -> None:
    def dead(s: NewsSpider) -> UrlEvent:
        request = Request(DEAD, meta={"kind": "article"})
        failure = Failure(HttpError(HtmlResponse(DEAD, status=404, request=request)))
        failure.request = request  # type: ignore[attr-defined]
        [event] = list(s.on_error(failure))
        return event

    assert _runs(tmp_path / "news.sqlite3", dead) == [("error", "http_404", True), ("dropped", "gone", False)]


@pytest.mark.parametrize("kind", ["extract_timeout", "extract_crash", "extract_memory"])
def test_a_page_over_the_extraction_budget_is_retried_once_then_logged_over_budget(tmp_path: Path, kind: str) -> None:
    def over(s: NewsSpider) -> UrlEvent:
        return s._strike(URL, kind)

    assert _runs(tmp_path / "news.sqlite3", over) == [("error", kind, True), ("dropped", "over_budget", False)]
    assert "over_budget" in SETTLED_DROPS


def test_a_page_over_the_memory_budget_ends_in_extract_memory_not_in_a_dead_worker() -> None:
    page, _ = cao_page()
    hog = (page + "<!-- TEST-MEMORY -->").encode()  # asks for 512 MB
    with ExtractionPool(1, 120, initializer=faulty_extraction.install, memory_mb=256) as pool:
        over = pool.submit(hog, URL, BASE, "cao").result()
        fine = pool.submit(page.encode(), URL, BASE, "cao").result()  # the same worker goes on
    assert isinstance(over.result, Rejection) and over.result.reason == "extract_memory", over.result
    assert not isinstance(fine.result, Rejection), fine.result
    # The budget is what refused it: without one, the same page is extracted.
    with ExtractionPool(1, 120, initializer=faulty_extraction.install, memory_mb=0) as pool:
        unlimited = pool.submit(hog, URL, BASE, "cao").result()
    assert not isinstance(unlimited.result, Rejection), unlimited.result
