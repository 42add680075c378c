"""Text normalisation and hashing, URL canonicalisation, dates: the keys everything is stored by."""

from __future__ import annotations

import unicodedata

import pytest
from lxml import html as lxml_html

from crawler.extract.dates import parse_any, parse_iso, parse_rfc822, parse_vn_date, to_vn_iso
from crawler.extract.urls import canonical_url, origin, rebase, url_hash
from storage.text import clean_line, clean_text, content_hash, normalize_for_hash, shingles

TITLE = "Công an TP.HCM triệt phá đường dây ma túy"
BODY = "Lực lượng công an đã bắt giữ 5 đối tượng.\nTang vật gồm nhiều gói ma túy tổng hợp."


def test_nfc_nfd_and_entities_give_one_content_hash() -> None:
    nfd = (unicodedata.normalize("NFD", TITLE), unicodedata.normalize("NFD", BODY))
    # Entities are decoded once, by the HTML parser; text reaching clean_text is already text.
    escaped = "C&ocirc;ng an TP.HCM tri&#7879;t ph&aacute; &#273;&#432;&#7901;ng d&acirc;y ma t&uacute;y"
    entities = (lxml_html.fromstring(f"<p>{escaped}</p>").text_content(), BODY)
    spaced = ("  Công an\u00a0TP.HCM  triệt phá đường dây ma túy ", BODY.replace("\n", "\n\n  "))
    reference = content_hash(TITLE, None, BODY)
    for title, body in (nfd, entities, spaced):
        assert content_hash(title, None, body) == reference
    assert content_hash(TITLE, None, BODY + " Thêm một câu.") != reference
    assert content_hash(TITLE, "Sa pô.", BODY) != reference  # the lead is part of the content
    assert clean_text("a &lt; b") == "a &lt; b"  # a literal entity in the text is text (no second decode)


def test_clean_text_and_normalize_for_hash() -> None:
    assert clean_text("  a\u200b b \n\n\n  c  ") == "a b\nc"
    assert clean_line("dòng một\ndòng   hai") == "dòng một dòng hai"
    assert clean_text(None) == ""
    assert normalize_for_hash("“Công an”, TP.HCM!") == normalize_for_hash("công an tp hcm")


def test_fast_paths_equal_the_definitions_on_random_text() -> None:
    """clean_line and normalize_for_hash skip clean_text's per-line work; they must give exactly
    what their definitions give (content hashes depend on it), whitespace, controls, bidi marks,
    NFD and case-folding expansions included."""
    import random

    from storage.text import _PUNCTUATION_TO_SPACE

    def normalize_by_definition(text: str) -> str:
        return " ".join(clean_text(text).casefold().translate(_PUNCTUATION_TO_SPACE).split())

    alphabet = [
        *"aăâbdđeêioôơuưyAĂĐ ,.;:!?\"'“”–-&<>\n\t\r\x0b\x0c\x00\x1b\x1f\x7f\x85\x9b",
        *"\u00a0\u200b\u2009\u202f\ufeff\u200e\u202e\u2066\u2028\u3000ßﬁİ\u0301\u0323",
        unicodedata.normalize("NFD", "ệ"),
    ]
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert clean_line(text) == " ".join(clean_text(text).split()), repr(text)
        assert normalize_for_hash(text) == normalize_by_definition(text), repr(text)


def test_shingles_are_overlapping_windows_and_a_short_text_is_one() -> None:
    assert shingles(["a", "b", "c", "d", "e"], 4) == [("a", "b", "c", "d"), ("b", "c", "d", "e")]
    assert shingles(["a", "b"], 4) == [("a", "b")]
    assert shingles(["a", "b", "c", "d"], 4) == [("a", "b", "c", "d")]
    assert shingles([], 4) == []
    assert shingles(["x", "x", "x"], 1) == [("x",), ("x",), ("x",)]  # a multiset


def test_canonical_url_drops_tracking_and_fragment_and_sorts_the_query() -> None:
    url = "https://congan.com.vn/vu-an/x_1.html?utm_source=fb&b=2&fbclid=abc&a=1#comments"
    assert canonical_url(url) == "https://congan.com.vn/vu-an/x_1.html?a=1&b=2"
    assert canonical_url("https://congan.com.vn/vu-an/x_1.html?zarsrc=30&ref=home") == (
        "https://congan.com.vn/vu-an/x_1.html"
    )
    assert url_hash(url) == url_hash("https://congan.com.vn/vu-an/x_1.html?a=1&b=2")
    assert url_hash(url) != url_hash("https://congan.com.vn/vu-an/x_2.html")


def test_origin_and_rebase_key_a_replica_page_to_the_real_site() -> None:
    assert origin("HTTP://127.0.0.1:8001/a?b=1") == "http://127.0.0.1:8001"
    replica = "http://127.0.0.1:8001/vu-an/x_1.html?a=1"
    assert (
        rebase(replica, "http://127.0.0.1:8001", "https://congan.com.vn") == "https://congan.com.vn/vu-an/x_1.html?a=1"
    )
    assert rebase("https://example.org/x", "http://127.0.0.1:8001", "https://congan.com.vn") == "https://example.org/x"


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Thứ Tư, 20/01/2021 16:10", "2021-01-20T16:10:00+07:00"),
        ("Thứ sáu, 29/01/2021 - 18:25", "2021-01-29T18:25:00+07:00"),
        ("08:00 22/11/2024", "2024-11-22T08:00:00+07:00"),
        ("21/01/2021", "2021-01-21T00:00:00+07:00"),
        ("5.3.2025 9h05", "2025-03-05T09:05:00+07:00"),
    ],
)
def test_visible_day_first_dates(raw: str, iso: str) -> None:
    assert parse_vn_date(raw) == iso
    assert parse_any(raw) == iso


def test_machine_dates_become_vietnam_time() -> None:
    assert parse_iso("2026-10-06T02:30:00Z") == "2026-10-06T09:30:00+07:00"
    assert parse_iso("2026-10-06T09:30:00") == "2026-10-06T09:30:00+07:00"  # naive: already Vietnam time
    assert parse_rfc822("Tue, 06 Oct 2026 02:30:00 GMT") == "2026-10-06T09:30:00+07:00"
    assert parse_any("Tue, 06 Oct 2026 02:30:00 UTC") == "2026-10-06T09:30:00+07:00"


def test_impossible_or_missing_dates_are_none() -> None:
    assert parse_vn_date("31/02/2024") is None
    assert parse_vn_date("không có ngày") is None
    assert parse_iso("hôm qua") is None
    assert parse_rfc822("") is None
    assert parse_any(None) is None and parse_any("   ") is None


def test_to_vn_iso_drops_microseconds() -> None:
    from datetime import UTC, datetime

    assert to_vn_iso(datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)) == "2026-01-01T07:00:00+07:00"
