"""Publication dates say how precise they are, and every date filter takes both forms (issue 14).

A page that prints only a day (bocongan's era-A pages: ``15/03/2024``) gets ``published_at``
``2024-03-15`` with precision ``day``, never an invented midnight. ``export --since``,
``search --since``, ``dupes --since`` and ``reextract --since`` count such a date as its whole
day; ``crawl --until`` compares listing dates, which stay full times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from crawler.cli import main
from crawler.extract.dates import parse_any, parse_published
from storage import dedup
from storage.articles import save_article
from storage.db import open_db
from storage.export import iter_records
from storage.search import search
from tests.unit.test_storage import record

DAY_ONLY = "https://congan.com.vn/tin-chinh/ngay_1.html"
MORNING = "https://congan.com.vn/tin-chinh/sang_2.html"
EVE = "https://congan.com.vn/tin-chinh/hom-truoc_3.html"


@pytest.mark.parametrize(
    ("raw", "value", "precision"),
    [
        ("15/03/2024", "2024-03-15", "day"),
        ("2024-03-15", "2024-03-15", "day"),
        ("Thứ sáu, 29/01/2021 - 18:25", "2021-01-29T18:25:00+07:00", "minute"),
        ("Thứ Tư, 20/01/2021 16:10", "2021-01-20T16:10:00+07:00", "minute"),
        ("2021-01-20T16:10+07:00", "2021-01-20T16:10:00+07:00", "minute"),
        ("2026-10-05T09:47:12.640Z", "2026-10-05T16:47:12+07:00", "second"),
        ("Wed, 20 Jan 2021 09:10:05 +0000", "2021-01-20T16:10:05+07:00", "second"),
        ("31/02/2024", None, None),
        ("hôm qua", None, None),
        (None, None, None),
    ],
)
def test_a_date_is_as_precise_as_its_page(raw: str | None, value: str | None, precision: str | None) -> None:
    assert parse_published(raw) == (value, precision)


def test_listing_dates_for_crawl_until_stay_full_times() -> None:
    # crawl --until compares listing dates with the bound as strings: both stay full times.
    assert parse_any("15/03/2024") == "2024-03-15T00:00:00+07:00"
    assert parse_any("08:00 15/03/2024") == "2024-03-15T08:00:00+07:00"


@pytest.fixture
def db() -> sqlite_utils.Database:
    database = open_db(":memory:")
    for url, published, title in (
        (DAY_ONLY, "2024-03-15", "Kiểm tra phòng cháy tại chợ, chỉ ghi ngày"),
        (MORNING, "2024-03-15T08:00:00+07:00", "Kiểm tra phòng cháy tại chợ, buổi sáng"),
        (EVE, "2024-03-14T23:00:00+07:00", "Kiểm tra phòng cháy tại chợ, hôm trước"),
    ):
        row = record(url, title=title, published=published, body=f"{title}. Kiểm tra phòng cháy chữa cháy. " * 20)
        row["published_at_precision"] = "day" if len(published) == 10 else "minute"
        save_article(database, row)
    return database


def _exported(db: sqlite_utils.Database, since: str) -> set[str]:
    return {r["url"] for r in iter_records(db, since=since)}


def test_export_since_counts_a_date_as_its_whole_day(db: sqlite_utils.Database) -> None:
    assert _exported(db, "2024-03-15T00:00:00+07:00") == {DAY_ONLY, MORNING}
    assert _exported(db, "2024-03-15T10:00:00+07:00") == {DAY_ONLY}  # same day, after the morning one
    assert _exported(db, "2024-03-14T22:00:00+07:00") == {DAY_ONLY, MORNING, EVE}
    assert _exported(db, "2024-03-16T00:00:00+07:00") == set()


def test_search_since_counts_a_date_as_its_whole_day(db: sqlite_utils.Database) -> None:
    urls = {hit.url for hit in search(db, "phòng cháy", since="2024-03-15T10:00:00+07:00", limit=10)}
    assert urls == {DAY_ONLY}
    urls = {hit.url for hit in search(db, "phòng cháy", since="2024-03-15T00:00:00+07:00", limit=10)}
    assert urls == {DAY_ONLY, MORNING}


def test_dupes_since_counts_a_date_as_its_whole_day(db: sqlite_utils.Database) -> None:
    dedup.index_stored(db)
    clusters = dedup.list_clusters(db, since="2024-03-15T10:00:00+07:00")
    assert clusters, "the three near-identical texts form a cluster"
    assert dedup.list_clusters(db, since="2024-03-16T00:00:00+07:00") == []


def test_cli_export_and_search_since_on_both_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "news.sqlite3"
    database = open_db(path)
    save_article(database, record(DAY_ONLY, published="2024-03-15", title="Tin chỉ ghi ngày"))
    save_article(database, record(MORNING, published="2024-03-15T08:00:00+07:00", title="Tin ghi giờ"))
    database.close()
    out = tmp_path / "out.jsonl"
    assert main(["export", "--db", str(path), "--since", "2024-03-15T09:00", "-o", str(out)]) == 0
    assert [json.loads(line)["url"] for line in out.read_text(encoding="utf-8").splitlines()] == [DAY_ONLY]
    assert main(["export", "--db", str(path), "--since", "2024-03-15", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    capsys.readouterr()
    assert main(["search", "--db", str(path), "--since", "2024-03-15T09:00", "--json", "Tin"]) == 0
    assert [json.loads(line)["url"] for line in capsys.readouterr().out.splitlines()] == [DAY_ONLY]
