"""Hashes against their definition, and text hygiene: entities decoded exactly once.

The golden files hold no hashes (a person cannot review one); the record's hashes are checked
here against the README's definition, computed with hashlib rather than the project's helper:
``url_hash`` is the SHA-256 of the canonical URL, ``content_hash`` the SHA-256 of the
normalised title, lead and body (NFC, case-folded, punctuation and whitespace folded).
"""

from __future__ import annotations

import hashlib
import unicodedata

import pytest

from crawler.extract.article import Rejection, extract
from crawler.sites.registry import sites
from storage.text import clean_text, normalize_for_hash
from tests.helpers import real_page, replica
from tests.unit.replica_checks import extract_record
from tests.unit.test_golden import ARTICLES


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _folded(text: str) -> str:
    """The definition of the normalised text, spelled out character by character."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join("".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text).split())


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_record_hashes_follow_their_definition(key: str, path: str) -> None:
    record, _ = extract_record(key, path, sites()[key])
    assert record["url_hash"] == _sha256(record["url"])
    parts = "\n".join(p for p in (record["title"], record["lead"], record["body"]) if p)
    assert record["content_hash"] == _sha256(_folded(parts))


def test_normalised_text_matches_its_definition_on_hard_characters() -> None:
    text = "Đ\u0300a\u0301 “Tô Lâm” — 5\u00a0<\u00a07; A_B & C… Ǆ ß İ 𝔘 ①\tx\u200by"
    assert normalize_for_hash(text) == _folded(clean_text(text))


CAO = "cao"
CAO_PATH = "/tin-chinh/cong-an-tp-ha-noi-ra-quan-dam-bao-tuyet-doi-an-ninh-an-toan-dai-hoi-xiii-cua-dang_104123.html"
FIRST_WORDS = "<p>Thượng tướng Bùi Văn Nam"


def _cao_page_with(paragraph: str) -> bytes:
    """The CAO replica article with ``paragraph`` (HTML) as the first paragraph of its body."""
    site = replica(CAO)
    route = site.lookup(CAO_PATH)
    assert route is not None
    html = real_page(site, route).decode("utf-8")
    assert html.count(FIRST_WORDS) == 1
    return html.replace(FIRST_WORDS, f"<p>{paragraph}</p>{FIRST_WORDS}").encode("utf-8")


def _extract_cao(page: bytes, generic: bool = False) -> dict[str, object]:
    site = replica(CAO)
    result = extract(page, site.real_base + CAO_PATH, None if generic else sites()[CAO])
    assert not isinstance(result, Rejection), result
    return result.record()


@pytest.mark.parametrize("generic", [False, True], ids=["site path", "generic path"])
def test_a_literal_entity_in_the_text_survives(generic: bool) -> None:
    # The page's HTML holds &amp;lt; (the article writes "&lt;" as text) and &lt; (a "<").
    page = _cao_page_with("Trong mã nguồn, ký hiệu &amp;lt; được viết thay cho dấu &lt; và &amp;amp; thay cho &amp;.")
    body = str(_extract_cao(page, generic)["body"])
    assert "ký hiệu &lt; được viết thay cho dấu < và &amp; thay cho &." in body


@pytest.mark.parametrize("generic", [False, True], ids=["site path", "generic path"])
def test_nfc_nfd_and_entity_forms_give_one_content_hash(generic: bool) -> None:
    sentence = "Lực lượng chức năng đã kiểm tra, xử lý nghiêm các trường hợp vi phạm về trật tự đô thị."
    nfd = unicodedata.normalize("NFD", sentence)
    entities = "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in sentence)
    assert nfd != sentence and "&#" in entities
    records = [_extract_cao(_cao_page_with(form), generic) for form in (sentence, nfd, entities)]
    assert len({r["content_hash"] for r in records}) == 1
    assert all(sentence in str(r["body"]) for r in records)  # stored in NFC, entities decoded once


def test_a_changed_word_changes_the_content_hash() -> None:
    one = _extract_cao(
        _cao_page_with("Đoàn kiểm tra làm việc tại phường Bến Thành trong ngày thứ hai của đợt cao điểm.")
    )
    two = _extract_cao(
        _cao_page_with("Đoàn kiểm tra làm việc tại phường Bến Nghé trong ngày thứ hai của đợt cao điểm.")
    )
    assert one["content_hash"] != two["content_hash"]
