"""Search as an analyst uses it (issue 25): OR / NOT / phrases with FTS5's meaning, sort by
date, an end date, "N of M shown", several sites, and the dates people type."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from crawler.cli import main
from storage.search import QueryError, count, match_expression, search
from storage.when import DateError, parse_when
from tests.helpers import build_replica_db


@pytest.fixture(scope="module")
def replica_db() -> Iterator[sqlite_utils.Database]:
    database = build_replica_db()
    yield database
    database.close()


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("search") / "news.sqlite3"
    build_replica_db(path).close()
    return str(path)


def urls(hits: list[object]) -> set[str]:
    return {hit.url for hit in hits}  # type: ignore[attr-defined]


def test_or_finds_either_phrase(replica_db: sqlite_utils.Database) -> None:
    fraud = urls(search(replica_db, '"lừa đảo"', limit=None))
    drugs = urls(search(replica_db, '"ma túy"', limit=None))
    either = urls(search(replica_db, '"lừa đảo" OR "ma túy"', limit=None))
    assert fraud and drugs and fraud != drugs
    assert either == fraud | drugs


def test_minus_excludes_and_never_requires(replica_db: sqlite_utils.Database) -> None:
    drugs = urls(search(replica_db, "ma túy", limit=None))
    heroin = urls(search(replica_db, "ma túy heroin", limit=None))
    assert heroin and heroin < drugs
    assert urls(search(replica_db, "ma túy -heroin", limit=None)) == drugs - heroin
    assert urls(search(replica_db, "ma túy NOT heroin", limit=None)) == drugs - heroin
    folded = urls(search(replica_db, "ma tuy", folded=True, limit=None))
    folded_heroin = urls(search(replica_db, "ma tuy heroin", folded=True, limit=None))
    assert urls(search(replica_db, "ma tuy -heroin", folded=True, limit=None)) == folded - folded_heroin


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("-heroin", "only excluded words"),
        ("ma OR", "OR needs a term after it"),
        ("OR ma", "OR needs a term before it"),
        ("ma OR -heroin", "-word after OR is not supported"),
        ("ma AND NOT heroin", "NOT needs a term before it"),
    ],
)
def test_what_fts5_cannot_take_is_refused_in_one_line(query: str, says: str) -> None:
    with pytest.raises(QueryError, match=says):
        match_expression(query)


def test_adjacent_pairs_never_span_an_operator() -> None:
    from storage.search import phrase_expressions

    assert phrase_expressions("lừa đảo OR ma túy -heroin") == ['"lừa đảo"', '("ma túy" OR "ma tuý")']


def test_sort_by_date_is_newest_first_and_keeps_the_same_hits(replica_db: sqlite_utils.Database) -> None:
    relevance = search(replica_db, "công an", limit=None)
    by_date = search(replica_db, "công an", limit=None, sort="date")
    assert urls(relevance) == urls(by_date) and len(by_date) > 5
    dates = [hit.published_at or "" for hit in by_date]
    assert dates == sorted(dates, reverse=True) and dates != [hit.published_at or "" for hit in relevance]
    assert [h.url for h in search(replica_db, "công an", limit=3, sort="date")] == [h.url for h in by_date[:3]]


def test_until_is_inclusive_of_its_whole_day(replica_db: sqlite_utils.Database) -> None:
    everything = search(replica_db, "ma túy", limit=None)
    day = "2025-09-24"  # the bocongan heroin story is published at 15:03 that day
    assert any((h.published_at or "").startswith(day) for h in everything)
    until = parse_when("24/09/2025", end=True)
    bounded = search(replica_db, "ma túy", until=until, limit=None)
    assert {h.url for h in bounded} == {h.url for h in everything if (h.published_at or "")[:10] <= day}
    assert count(replica_db, "ma túy", until=until) == len(bounded)


def test_several_sites(replica_db: sqlite_utils.Database) -> None:
    hits = search(replica_db, "công an", site=["cao", "thanhtra"], limit=None)
    assert {h.site for h in hits} == {"cao", "thanhtra"}
    assert count(replica_db, "công an", site=["cao", "thanhtra"]) == len(hits)


def test_cli_says_how_many_of_how_many(db_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    total = count(build_replica_db(), "công an")
    assert main(["search", "công an", "--limit", "3", "--db", db_file]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n1. ") + captured.out.startswith("1. ") == 1
    assert captured.err.strip().endswith(f"3 of {total} shown (--all or --limit N for more)")
    assert main(["search", "công an", "--all", "--json", "--db", db_file]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == total and captured.err.strip().endswith(f"{total} of {total} shown")


def test_cli_repeated_site_sort_until(db_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "công an", "--site", "cao", "--site", "thanhtra", "--sort", "date", "--all", "--json"]
    assert main([*args, "--until", "31/12/2025", "--db", db_file]) == 0
    import json

    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hits and {h["site"] for h in hits} == {"cao", "thanhtra"}
    assert [h["published_at"] for h in hits] == sorted((h["published_at"] for h in hits), reverse=True)
    assert all(h["published_at"][:10] <= "2025-12-31" for h in hits)


def test_cli_refuses_a_query_it_cannot_honour(db_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "ma OR -heroin", "--db", db_file]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not supported" in err


NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam


@pytest.mark.parametrize(
    ("typed", "end", "expected"),
    [
        ("2025-09-24", False, "2025-09-24T00:00:00+07:00"),
        ("2025-09-24", True, "2025-09-24T23:59:59+07:00"),
        ("24/09/2025", False, "2025-09-24T00:00:00+07:00"),
        ("4.9.2025", True, "2025-09-04T23:59:59+07:00"),
        ("yesterday", False, "2026-03-09T00:00:00+07:00"),
        ("today", True, "2026-03-10T23:59:59+07:00"),
        ("7d", False, "2026-03-03T12:00:00+07:00"),
        ("24h", False, "2026-03-09T12:00:00+07:00"),
        ("2w", True, "2026-02-24T12:00:00+07:00"),
        ("2025-09-24T10:00:00Z", False, "2025-09-24T17:00:00+07:00"),
        ("2025-09-24T10:00", False, "2025-09-24T10:00:00+07:00"),
    ],
)
def test_dates_people_type(typed: str, end: bool, expected: str) -> None:
    assert parse_when(typed, end=end, now=NOW) == expected


@pytest.mark.parametrize("typed", ["31/31/2026", "someday", "09/2025", "7 days", ""])
def test_a_date_that_is_none_of_the_forms_is_refused(typed: str) -> None:
    with pytest.raises(DateError, match="must be a date like"):
        parse_when(typed)


def test_relative_dates_on_the_command_line(db_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "công an", "--since", "7d", "--db", db_file]) == 0
    assert "no match" in capsys.readouterr().err  # the replicas' articles are older than a week
    assert main(["search", "công an", "--since", "01/01/2026", "--db", db_file]) == 0
    assert " of " in capsys.readouterr().err
    assert main(["search", "công an", "--since", "31/31/2026", "--db", db_file]) == 2
    assert "--since must be a date like" in capsys.readouterr().err


def test_a_relative_default_path_that_is_missing_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["runs", "--db", "data/news.sqlite3"]) == 5
    err = capsys.readouterr().err
    assert f"looked in {tmp_path}" in err and "--db" in err and len(err.strip().splitlines()) == 1
