"""Vietnamese as people type it (issue 15): tone placement, NFD input, phrase-first ranking.

A small database of our own text: each article is built so that a plain bm25 ranking would
put the wrong one first (the distractors repeat the query's words in their titles, apart).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
import sqlite_utils

from storage.articles import save_article
from storage.db import open_db
from storage.search import count, match_expression, search, tone_variants
from storage.text import hash_key

ARTICLES = {
    "danang": (
        "Bắt nhóm đối tượng trộm xe máy",
        "Công an Đà Nẵng vừa bắt giữ ba đối tượng trộm cắp xe máy ở quận Hải Châu.",
    ),
    "distractor_danang": (
        "Công an xã đã tập huấn năng lực, đã năng động hơn",
        "Lực lượng công an phường đã tổ chức tập huấn năng lực cho cán bộ; đã có nhiều kết quả, năng suất tăng.",
    ),
    "matuy_old": (
        "Triệt phá đường dây ma túy liên tỉnh",
        "Cơ quan điều tra thu giữ nhiều ma túy tổng hợp.",
    ),
    "matuy_new": (
        "Khởi tố đối tượng tàng trữ ma tuý",
        "Đối tượng khai nhận mua ma tuý để sử dụng.",
    ),
    "hoa_old": ("Hòa giải thành tranh chấp đất đai", "Tổ hòa giải ở cơ sở đã giúp hai gia đình hòa thuận."),
    "thuy_new": ("Cảnh sát đường thuỷ tuần tra trên sông", "Lực lượng cảnh sát đường thuỷ tăng cường tuần tra."),
    "khoe_new": ("Chăm lo sức khoẻ cho cán bộ", "Đơn vị tổ chức khám sức khoẻ định kỳ."),
    "hoan_only": ("Hoàn thành kế hoạch năm", "Đơn vị hoàn thành toàn bộ chỉ tiêu được giao."),
    "quy": ("Quý báu những tấm gương", "Tấm gương quý trong công tác phòng chống tội phạm."),
}


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite_utils.Database]:
    database = open_db(":memory:")
    for key, (title, body) in ARTICLES.items():
        url = f"https://congan.com.vn/vu-an/{key}_1.html"
        save_article(
            database,
            {
                "site": "cao", "url": url, "title": title, "lead": None, "body": body, "authors": [],
                "source": None, "published_at": "2026-01-02T08:00:00+07:00", "published_at_raw": "02/01/2026 08:00",
                "category": "Vụ án", "tags": [], "images": [], "language": "vi", "extractor": "site",
                "url_hash": hash_key(url), "content_hash": hash_key(title + body), "fetched_at": "2026-01-02T01:00:00+00:00",
            },
        )  # fmt: skip
    yield database
    database.close()


def key_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix("_1.html")


# query, folded?, the key of the expected top hit (None: any of them), and every key found
CASES = [
    ("cong an da nang", True, "danang", {"danang", "distractor_danang"}),
    ("Công an Đà Nẵng", False, "danang", {"danang"}),
    ("công an đà nẵng", True, "danang", {"danang", "distractor_danang"}),
    # Both spellings are the same word: either may come first, both must be found.
    ("ma túy", False, None, {"matuy_old", "matuy_new"}),
    ("ma tuý", False, None, {"matuy_old", "matuy_new"}),
    ("MA TUÝ", False, None, {"matuy_old", "matuy_new"}),
    ("ma tuy", True, None, {"matuy_old", "matuy_new"}),
    ("hoà giải", False, "hoa_old", {"hoa_old"}),
    ("đường thủy", False, "thuy_new", {"thuy_new"}),
    ("sức khỏe", False, "khoe_new", {"khoe_new"}),
    ("hoàn thành", False, "hoan_only", {"hoan_only"}),
    ("quý", False, "quy", {"quy"}),
]


@pytest.mark.parametrize(
    ("query", "folded", "top", "found"), CASES, ids=[c[0] + ("/folded" if c[1] else "") for c in CASES]
)
def test_query_finds_the_expected_top_result(
    db: sqlite_utils.Database, query: str, folded: bool, top: str | None, found: set[str]
) -> None:
    hits = search(db, query, folded=folded, limit=20)
    assert hits, query
    assert top is None or key_of(hits[0].url) == top, [h.title for h in hits]
    assert {key_of(h.url) for h in hits} == found
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(("query", "folded", "top", "found"), CASES)
def test_nfd_input_finds_the_same(
    db: sqlite_utils.Database, query: str, folded: bool, top: str, found: set[str]
) -> None:
    decomposed = unicodedata.normalize("NFD", query)
    nfc = [h.url for h in search(db, query, folded=folded)]
    assert nfc
    assert [h.url for h in search(db, decomposed, folded=folded)] == nfc


def test_plain_bm25_alone_would_rank_the_distractor_first(db: sqlite_utils.Database) -> None:
    # Why the pair ranking exists: without it the title full of "công an", "đã", "năng" wins.
    row = db.execute(
        "select a.url from articles_fold_fts f join articles a on a.rowid = f.rowid "
        "where articles_fold_fts match ? order by bm25(articles_fold_fts, 10.0, 4.0, 1.0) limit 1",
        [match_expression("cong an da nang", folded=True)],
    ).fetchone()
    assert key_of(row[0]) == "distractor_danang"


@pytest.mark.parametrize(
    ("word", "variants"),
    [
        ("hoà", ["hoà", "hòa"]),
        ("hòa", ["hòa", "hoà"]),
        ("thuỷ", ["thuỷ", "thủy"]),
        ("khoẻ", ["khoẻ", "khỏe"]),
        ("tuý", ["tuý", "túy"]),
        ("hoàn", ["hoàn"]),
        ("quý", ["quý"]),
        ("công", ["công"]),
    ],
)
def test_tone_variants(word: str, variants: list[str]) -> None:
    assert tone_variants(word) == variants


def test_count_says_what_the_folded_search_would_find(db: sqlite_utils.Database) -> None:
    assert count(db, "cong an") == 0
    assert count(db, "cong an", folded=True) == 2
