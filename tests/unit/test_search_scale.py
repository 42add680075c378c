"""Search at scale (issue 28): relevance ranks a bounded set of candidates, and the snippet
join reads only the rows shown. Figures: bench/RESULTS-search.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlite_utils

import storage.search
from storage.search import EXACT_FTS, FOLDED_FTS, Hit, match_expression, search
from tests.helpers import build_replica_db


@pytest.fixture(scope="module")
def replica_db() -> Iterator[sqlite_utils.Database]:
    database = build_replica_db()
    yield database
    database.close()


def newest_matches(db: sqlite_utils.Database, query: str, n: int) -> set[str]:
    rows = db.query(
        f"select a.url from {EXACT_FTS} f join articles a on a.rowid = f.rowid "
        f"where {EXACT_FTS} match :q order by f.rowid desc limit :n",
        {"q": query, "n": n},
    )
    return {r["url"] for r in rows}


def test_relevance_ranks_only_the_newest_candidates_when_more_match(
    replica_db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = search(replica_db, "công an", limit=None)
    assert len(everything) > 4
    monkeypatch.setattr(storage.search, "CANDIDATES", 4)
    capped = search(replica_db, "công an", limit=2)
    newest = newest_matches(replica_db, match_expression("công an"), 4)
    assert {h.url for h in capped} <= newest
    # Among the candidates the order is the full ranking's order.
    assert capped == [h for h in everything if h.url in newest][:2]
    # A limit above the cap ranks that many candidates.
    assert len(search(replica_db, "công an", limit=6)) == 6


@pytest.mark.parametrize("query", ["công an", "ma túy", "Bộ Công an", "khởi tố"])
def test_top_hits_are_the_full_ranking_when_the_matches_fit(replica_db: sqlite_utils.Database, query: str) -> None:
    assert storage.search.CANDIDATES >= len(search(replica_db, query, limit=None))
    assert search(replica_db, query, limit=5) == search(replica_db, query, limit=None)[:5]


def _search_and_plan(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, query: str, **options: Any
) -> tuple[list[Hit], list[Any]]:
    """The hits of ``search(db, query, **options)`` and SQLite's plan of the query it ran last,
    read with its parameters bound, as search runs it (with literals SQLite knows the limit
    and may plan otherwise)."""
    asked: list[tuple[str, dict[str, object]]] = []
    run = db.query

    def recording(sql: str, params: dict[str, object]) -> object:
        asked.append((sql, params))
        return run(sql, params)

    monkeypatch.setattr(db, "query", recording)
    hits = search(db, query, **options)
    sql, params = asked[-1]
    return hits, db.execute("explain query plan " + sql, params).fetchall()


@pytest.mark.parametrize(("folded", "sort"), [(False, "relevance"), (True, "relevance")])
def test_snippets_join_only_the_rows_shown(
    replica_db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, folded: bool, sort: str
) -> None:
    """The outer query looks the FTS row up by rowid for each top hit; walking every match
    to join ten rows cost 100-300 ms at 100k articles. The plan is read with the parameters
    bound, as search runs it: with literals SQLite knows the limit and plans well anyway."""
    _, plan = _search_and_plan(
        replica_db, monkeypatch, "cong an" if folded else "công an", folded=folded, limit=10, sort=sort
    )
    table = FOLDED_FTS if folded else EXACT_FTS
    outer = [detail for _, parent, _, detail in plan if parent == 0 and table in detail]
    assert outer and all("0:=M" in detail for detail in outer), plan


def test_newest_first_walks_the_date_index_and_reads_no_article_row(
    replica_db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sorting by date read every match's row for its publication date and sorted them all
    (1.6 s for a common word at a million articles), and found every match of each pair
    phrase; the date index holds the dates, newest first, and the phrases are tested on the
    rows shown. When the newest PROBES articles hold fewer than ``limit`` matches (here: PROBES
    set to 1), the match list is read while walking that index. The rows shown are scored in one
    walk between their smallest and largest rowid: looked up one by one, FTS5 opened a cursor for
    each, and bm25 counts every match of each phrase in each cursor (60 ms for `công an` at 100k
    articles, 30 ms this way)."""
    monkeypatch.setattr(storage.search, "PROBES", 1)
    hits, plan = _search_and_plan(replica_db, monkeypatch, "công an", limit=3, sort="date")
    (top,) = [node for node, _, _, detail in plan if detail in ("CO-ROUTINE top", "MATERIALIZE top")]
    inside = [detail for _, parent, _, detail in plan if parent == top]
    assert "SCAN articles USING COVERING INDEX idx_articles_published_at" in inside, plan
    assert not any(detail.startswith(("SEARCH articles", "USE TEMP B-TREE")) for detail in inside), plan
    # Every match is walked once (the match list), the shown rows' rowid range once more (their
    # scores and snippets: rowid > and <, "><"); the pair phrases only at the rows shown.
    walks = [detail for _, _, _, detail in plan if "VIRTUAL TABLE INDEX 0:M" in detail]  # not 0:=M, by rowid
    assert len(walks) == 2 and sum(walk.endswith("><") for walk in walks) == 1, plan
    # The same hits as the full list in date order.
    everything = search(replica_db, "công an", limit=None, sort="date")
    assert [h.url for h in hits] == [h.url for h in everything[:3]]


@pytest.mark.parametrize("query", ["công an", "ma túy", "Bộ Công an", "khởi tố", "heroin"])
@pytest.mark.parametrize("probes", [1, 3, 10, 1000])
def test_newest_first_tests_the_newest_articles_one_by_one_and_gives_the_same_hits(
    replica_db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, query: str, probes: int
) -> None:
    """A word most articles hold is answered by testing the newest articles (a rowid lookup
    each) instead of reading all its matches (170-190 ms at a million articles); any PROBES
    budget gives the hits, scores and snippets of the full date order."""
    everything = search(replica_db, query, limit=None, sort="date")
    monkeypatch.setattr(storage.search, "PROBES", probes)
    for limit in (1, 3, 5):
        shown = search(replica_db, query, limit=limit, sort="date")
        assert [(h.url, h.score, h.snippet) for h in shown] == [(h.url, h.score, h.snippet) for h in everything[:limit]]
    _, plan = _search_and_plan(replica_db, monkeypatch, query, limit=3, sort="date")
    walks = [detail for _, _, _, detail in plan if "VIRTUAL TABLE INDEX 0:M" in detail]
    if probes >= replica_db["articles"].count:  # every article tested: the match list is never read
        assert len(walks) == 1 and walks[0].endswith("><"), plan


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_every_hit_is_one_walk_of_the_matches(
    replica_db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """With no limit (``--all``), looking each hit up in the index by rowid makes FTS5 evaluate
    the MATCH again per hit (48 s for 21,400 hits at 100k articles): the match list and each
    pair phrase are walked once, and no row is looked up in the index."""
    everything, plan = _search_and_plan(replica_db, monkeypatch, "Bộ Công an", limit=None, sort=sort)
    # The match list and the two pair phrases ("bộ công", "công an"), each walked once.
    walks = [detail for _, _, _, detail in plan if "VIRTUAL TABLE INDEX 0:M" in detail]
    assert len(walks) == 3, plan
    assert not any("VIRTUAL TABLE INDEX 0:=M" in detail for _, _, _, detail in plan), plan
    # The limited search, which joins by rowid, gives the same first hits and scores.
    shown = search(replica_db, "Bộ Công an", limit=4, sort=sort)  # type: ignore[arg-type]
    assert [(h.url, h.score, h.snippet) for h in shown] == [(h.url, h.score, h.snippet) for h in everything[:4]]
