"""Full-text search over the replica articles: exact vs folded, snippets, filters, sync (issue 5)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawler.cli import main
from storage.articles import save_article
from storage.search import EXACT_FTS, FOLDED_FTS, QueryError, fold, match_expression, rebuild, search
from tests.helpers import build_replica_db, site_keys


@pytest.fixture(scope="module")
def replica_db() -> Iterator[sqlite_utils.Database]:
    """The replica articles, stored once for the module (the tests only read)."""
    database = build_replica_db()
    yield database
    database.close()


def titles(hits: list[Any]) -> set[str]:
    return {hit.title for hit in hits}


def test_fold_strips_accents_and_folds_d_bar() -> None:
    assert fold("Công an Đà Nẵng đường dây MA TÚY") == "cong an da nang duong day ma tuy"
    assert fold("Ưu Ơn") == "uu on"


def test_exact_search_treats_diacritics_as_significant(replica_db: sqlite_utils.Database) -> None:
    ma = titles(search(replica_db, "ma", limit=100))
    ma_accent = titles(search(replica_db, "mã", limit=100))
    assert ma and ma_accent
    assert "Triệt phá đường dây đưa ma túy từ TP.HCM lên Đà Lạt phục vụ “tiệc bay lắc”" in ma
    assert not any("ma túy" in t for t in ma_accent), "'mã' must not find 'ma túy'"
    assert all(" mã " in " " + h.snippet + " " or "[mã]" in h.snippet for h in search(replica_db, "mã", limit=100))


def test_folded_search_finds_text_typed_without_accents(replica_db: sqlite_utils.Database) -> None:
    exact = titles(search(replica_db, "Công an", limit=100))
    folded = titles(search(replica_db, "cong an", folded=True, limit=100))
    assert exact and exact <= folded
    assert search(replica_db, "cong an", limit=100) == [], "unaccented words are other words in exact mode"
    # d finds đ (SQLite's own remove_diacritics leaves đ alone), and đ folds to d in the query.
    duong = titles(search(replica_db, "duong day ma tuy", folded=True))
    assert "Triệt phá đường dây đưa ma túy từ TP.HCM lên Đà Lạt phục vụ “tiệc bay lắc”" in duong
    assert titles(search(replica_db, "đường dây ma túy", folded=True)) == duong
    assert (
        titles(search(replica_db, "Đà Lạt", folded=True)) == titles(search(replica_db, "da lat", folded=True)) != set()
    )


def test_folded_search_bridges_old_and_new_tone_placement(replica_db: sqlite_utils.Database) -> None:
    # "túy" and "tuý" are the same word in the two Vietnamese spelling conventions.
    assert len(search(replica_db, "ma tuy", folded=True, limit=100)) >= len(search(replica_db, "ma túy", limit=100))


def test_snippet_highlights_the_original_words(replica_db: sqlite_utils.Database) -> None:
    hit = search(replica_db, "duong day", folded=True, markers=("<b>", "</b>"))[0]
    assert "<b>đường</b> <b>dây</b>" in hit.snippet.lower(), hit.snippet
    exact = search(replica_db, "Đà Lạt")[0]
    assert "[Đà] [Lạt]" in exact.snippet


def test_title_hits_rank_first(replica_db: sqlite_utils.Database) -> None:
    hits = search(replica_db, "ma túy", limit=100)
    assert "ma túy" in hits[0].title.lower()
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_filters_by_site_since_and_limit(replica_db: sqlite_utils.Database) -> None:
    everywhere = search(replica_db, "công an", limit=100)
    assert {h.site for h in everywhere} == set(site_keys())
    only_cao = search(replica_db, "công an", site="cao", limit=100)
    assert only_cao and {h.site for h in only_cao} == {"cao"}
    recent = search(replica_db, "công an", since="2025-01-01T00:00:00+07:00", limit=100)
    assert recent and all((h.published_at or "") >= "2025-01-01" for h in recent)
    assert len(recent) < len(everywhere)
    assert len(search(replica_db, "công an", limit=3)) == 3


def test_punctuation_is_never_parsed_as_fts_syntax(replica_db: sqlite_utils.Database) -> None:
    # OR / NOT / -word are FTS5's operators since issue 25 (tests/unit/test_search_analyst.py);
    # a lower-case "or" is still a word, and quotes, brackets and colons are text.
    assert (
        match_expression('công an or "ma túy" điều* col:x')
        == '"công" AND "an" AND "or" AND ("ma túy" OR "ma tuý") AND "điều"* AND "col x"'
    )
    assert search(replica_db, 'ma" túy (') is not None
    with pytest.raises(QueryError):
        match_expression(' " ( ')


def test_indexes_follow_inserts_updates_and_deletes() -> None:
    db = build_replica_db()
    row = next(db.query("select * from articles where site = 'cao' limit 1"))
    assert not search(db, "xylophonist")
    edited = {**row, "body": row["body"] + " Một xylophonist đồng ý.", "content_hash": "0" * 64}
    for name in ("authors", "tags", "images"):
        edited[name] = []
    assert save_article(db, edited) == "updated"
    assert [h.url for h in search(db, "xylophonist đồng")] == [row["url"]]
    assert [h.url for h in search(db, "xylophonist dong", folded=True)] == [row["url"]]
    db.execute("delete from articles where url_hash = ?", [row["url_hash"]])
    assert not search(db, "xylophonist") and not search(db, "xylophonist", folded=True)
    # The exact index must equal its content table (FTS5 checks); the folded one differs by design.
    db.execute(f"insert into {EXACT_FTS} ({EXACT_FTS}) values ('integrity-check')")


def test_refetch_without_change_does_not_reindex() -> None:
    db = build_replica_db()
    row = next(db.query("select * from articles limit 1"))
    before = db.execute(f"select count(*) from {FOLDED_FTS}_data").fetchone()[0]
    db.execute("update articles set fetched_at = ? where url_hash = ?", ["2026-03-01T00:00:00+00:00", row["url_hash"]])
    assert db.execute(f"select count(*) from {FOLDED_FTS}_data").fetchone()[0] == before


def test_rebuild_restores_the_folded_index() -> None:
    db = build_replica_db()
    expected = titles(search(db, "dang", folded=True, limit=100))
    db.execute(f"insert into {FOLDED_FTS} ({FOLDED_FTS}) values ('delete-all')")
    assert not search(db, "dang", folded=True)
    rebuild(db)
    assert titles(search(db, "dang", folded=True, limit=100)) == expected


def test_plain_sqlite3_writer_keeps_the_index_in_sync(tmp_path: Path) -> None:
    # Triggers use SQL only: a client without our code (the sqlite3 module here) can write.
    build_replica_db(tmp_path / "news.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "news.sqlite3")
    conn.execute("update articles set title = title || ' Đặc biệt zyx' where rowid = 1")
    conn.commit()
    conn.close()
    db = sqlite_utils.Database(tmp_path / "news.sqlite3")
    assert len(search(db, "dac biet zyx", folded=True)) == 1


def test_cli_search_prints_ranked_hits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_replica_db(tmp_path / "news.sqlite3").close()
    code = main(["search", "duong day", "--folded", "--site", "cao", "--db", str(tmp_path / "news.sqlite3")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("1. ") and "https://congan.com.vn/" in out and "[đường] [dây]" in out.lower()
    code = main(["search", "công an", "--json", "--limit", "2", "--db", str(tmp_path / "news.sqlite3")])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 2
    assert list(json.loads(lines[0])) == [
        "title", "site", "published_at", "url", "snippet", "score", "url_hash"
    ]  # fmt: skip
    assert main(["search", "((", "--db", str(tmp_path / "news.sqlite3")]) == 2
