"""Full-text search over articles that understands Vietnamese: exact and accent-folded.

Two FTS5 indexes over ``articles`` (title, lead, body), both external-content tables whose
content is ``articles`` itself, so ``snippet()`` and ``highlight()`` always show the stored text:

- :data:`EXACT_FTS` (``tokenize='unicode61 remove_diacritics 0'``): diacritics are significant,
  ``mã`` is not ``ma`` (case still folds: ``Công`` = ``công``);
- :data:`FOLDED_FTS` (``remove_diacritics 2``), indexed from the text with ``đ``/``Đ`` replaced
  by ``d``/``D``: ``cong an`` finds ``Công an`` and ``dong`` finds ``đồng``.

Why triggers with plain SQL and not a Python ``sync()`` called by the writer: the only fold that
unicode61 cannot do itself is ``đ -> d`` (``đ`` is a letter of its own, not ``d`` plus a mark),
and that one is two nested SQL ``replace()`` calls. So both indexes are kept in sync by
triggers on ``articles`` that any SQLite client can fire (the crawler, ``sqlite-utils``, the
``sqlite3`` shell): no registered function, no call to forget in ``save_article``.

Why only the exact index is declared with ``content="articles"`` (double quotes) and the folded
one with ``content='articles'``: sqlite-utils (``sqlite-utils search``, ``table.search()``) and
Datasette (``?_search=``) find a table's index by that double-quoted (or bracketed) spelling,
and take the first they find. They hand the typed words to MATCH as they are, which is right
for the exact index and wrong for the folded one (its ``đ`` must be folded first), so only the
exact index is made visible to them.

Old and new tone placement (``túy``/``tuý``, ``hòa``/``hoà``, ``thủy``/``thuỷ``,
``khỏe``/``khoẻ``) are the same word. The folded index drops every mark, so it never sees the
difference; the exact index keeps marks, so a query word ending in one of these vowel pairs is
searched in both spellings (:func:`tone_variants`). The index itself keeps the text as printed,
so the triggers stay plain SQL and ``sqlite-utils search`` / Datasette find the spelling typed.

Why the folded index can share the original text as its content table: replacing ``đ`` by
``d`` keeps every token boundary and token position, so the positions matched in the folded
index point at the right words of the original text when FTS5 builds a snippet. The catch is
that FTS5's ``'rebuild'`` would index the *unfolded* text; :func:`rebuild` re-indexes
correctly instead.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from storage.published import bound_params, on_or_after, on_or_before

EXACT_FTS = "articles_fts"
FOLDED_FTS = "articles_fold_fts"
_COLUMNS = ("title", "lead", "body")
# bm25 weights per column (title, lead, body): a hit in the title counts most.
WEIGHTS = "10.0, 4.0, 1.0"
_SNIPPET_TOKENS = 16
# Relevance ranks at most this many matches, the most recently stored (highest rowid): bm25 and
# the pair count over every match of a word most articles hold ("công an") took 150-400 ms at
# 100k articles, over 2,000 candidates about 25 ms (bench/RESULTS-search.md). A query matching
# fewer articles is ranked over all of them, exactly as before.
CANDIDATES = 2000
# Newest first without a filter: the newest articles are read from the date index and each is
# tested against the query (a rowid lookup in the index, 0.1-0.2 ms at a million articles) until
# ``limit`` match; a word most articles hold is answered after a few dozen tests, where finding
# all its matches first took 170-190 ms at a million. After PROBES articles without ``limit``
# matches (a rarer word), its match list is read instead, as is cheap for a rare word.
PROBES = 400


def fold_sql(expr: str) -> str:
    """SQL for the folded form of ``expr`` as the folded index stores it (``đ``/``Đ`` -> ``d``/``D``)."""
    return f"replace(replace({expr}, 'đ', 'd'), 'Đ', 'D')"


def fold(text: str) -> str:
    """Text without accents and case: NFD, combining marks dropped, ``đ`` -> ``d``, casefolded."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D").casefold()


def create_indexes(db: sqlite_utils.Database) -> None:
    """Create both FTS tables and their triggers, and index the stored articles (a migration).

    The exact table first and with ``content="articles"``, the spelling sqlite-utils and
    Datasette detect (module docstring); the folded one with ``content='articles'``, hidden
    from them.
    """
    for table, diacritics, fold_it in ((EXACT_FTS, 0, False), (FOLDED_FTS, 2, True)):
        content = '"articles"' if not fold_it else "'articles'"
        db.execute(
            f"create virtual table if not exists {table} using fts5(title, lead, body, content={content}, "
            f"content_rowid='rowid', tokenize='unicode61 remove_diacritics {diacritics}')"
        )
        new = ", ".join(fold_sql(f"new.{c}") if fold_it else f"new.{c}" for c in _COLUMNS)
        old = ", ".join(fold_sql(f"old.{c}") if fold_it else f"old.{c}" for c in _COLUMNS)
        insert = f"insert into {table} (rowid, title, lead, body) values (new.rowid, {new});"
        delete = f"insert into {table} ({table}, rowid, title, lead, body) values ('delete', old.rowid, {old});"
        db.execute(f"create trigger if not exists {table}_ai after insert on articles begin {insert} end")
        db.execute(f"create trigger if not exists {table}_ad after delete on articles begin {delete} end")
        # Only a change of the indexed text re-indexes: a refetch that moves fetched_at does not.
        db.execute(
            f"create trigger if not exists {table}_au after update of title, lead, body on articles "
            f"begin {delete} {insert} end"
        )
    rebuild(db)


def drop_indexes(db: sqlite_utils.Database) -> None:
    """Drop both FTS tables and their triggers (to recreate them with :func:`create_indexes`)."""
    for table in (EXACT_FTS, FOLDED_FTS):
        for suffix in ("ai", "ad", "au"):
            db.execute(f"drop trigger if exists {table}_{suffix}")
        db.execute(f"drop table if exists {table}")


def detectable(db: sqlite_utils.Database) -> bool:
    """Whether sqlite-utils and Datasette find :data:`EXACT_FTS` as the index of ``articles``."""
    return bool(db.table("articles").detect_fts() == EXACT_FTS)


def rebuild(db: sqlite_utils.Database) -> None:
    """Re-index every article in both indexes (after a bulk load with triggers off, or a repair)."""
    with db.atomic():
        for table, fold_it in ((EXACT_FTS, False), (FOLDED_FTS, True)):
            db.execute(f"insert into {table} ({table}) values ('delete-all')")
            cols = ", ".join(fold_sql(c) if fold_it else c for c in _COLUMNS)
            db.execute(f"insert into {table} (rowid, title, lead, body) select rowid, {cols} from articles")


@dataclass(frozen=True)
class Hit:
    """One search result; ``snippet`` marks matched words with the caller's markers."""

    title: str
    site: str
    published_at: str | None
    url: str
    snippet: str
    score: float
    url_hash: str

    def record(self) -> dict[str, Any]:
        """The hit as a JSON-ready dict, fields in a stable order."""
        return {
            "title": self.title,
            "site": self.site,
            "published_at": self.published_at,
            "url": self.url,
            "snippet": self.snippet,
            "score": self.score,
            "url_hash": self.url_hash,
        }


class QueryError(ValueError):
    """A query with no searchable word in it, or operators FTS5 could not take as placed."""


# A term: an optional "-" (NOT), then a "quoted phrase" or a run of non-space characters.
_TERMS = re.compile(r'(-?)"([^"]*)"|(\S+)')
# Upper case only, as FTS5 has them: a lower-case "or" is a word like any other.
_OPERATORS = ("OR", "AND", "NOT")


@dataclass(frozen=True)
class Term:
    """One typed term: its words (a phrase when several), a trailing ``*`` (prefix), a ``-``."""

    words: list[str]
    prefix: bool = False
    negated: bool = False


_TONED = {"a": "àáảãạ", "e": "èéẻẽẹ", "y": "ỳýỷỹỵ", "o": "òóỏõọ", "u": "ùúủũụ"}
# The syllable endings spelt two ways: the mark on the first vowel ("hòa", "túy": the older
# convention, most of the press) or on the second ("hoà", "tuý"). Only at the end of a word:
# with a final consonant ("hoàn", "khoét", "huỳnh") both conventions mark the second vowel.
_SPELLINGS: dict[str, str] = {}
for _first, _second in (("o", "a"), ("o", "e"), ("u", "y")):
    for _tone in range(5):
        _old = _TONED[_first][_tone] + _second
        _new = _first + _TONED[_second][_tone]
        _SPELLINGS[_old], _SPELLINGS[_new] = _new, _old
_VARIANTS_CAP = 8  # alternatives per term: a phrase of many such words is searched as typed beyond


def tone_variants(word: str) -> list[str]:
    """``word`` (lower-case NFC) in both tone placements when it ends in one of the pairs
    spelt both ways (``hoà`` -> ``["hoà", "hòa"]``); else ``[word]``. ``qu`` + ``y`` is left
    alone: its ``u`` belongs to the consonant (``quý`` is spelt one way)."""
    ending = word[-2:]
    other = _SPELLINGS.get(ending)
    if other is None or word[-3:-2] == "q":
        return [word]
    return [word, word[:-2] + other]


def _alternatives(words: list[str]) -> list[str]:
    """Every spelling of a run of words (as a phrase), the typed one first, at most a few."""
    found = [""]
    for word in words:
        found = [f"{prefix} {v}".strip() for prefix in found for v in tone_variants(word)][:_VARIANTS_CAP]
    return found


def _quote(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def _tokens(query: str, folded: bool) -> list[Term | str]:
    """What a person typed: terms, and the operators ``OR``, ``AND``, ``NOT`` between them."""
    text = unicodedata.normalize("NFC", query)
    tokens: list[Term | str] = []
    for minus, phrase, word in _TERMS.findall(text):
        if word in _OPERATORS:
            tokens.append(word)
            continue
        negated = bool(minus) or (word.startswith("-") and len(word) > 1)
        raw = phrase if minus or phrase else word.removeprefix("-")
        prefix = bool(word) and word.endswith("*")
        raw = raw.rstrip("*") if prefix else raw
        raw = fold(raw) if folded else raw.lower()
        # Drop what the tokenizer would drop anyway, so "an," or "(CAO)" still match.
        words = re.findall(r"\w+", raw)
        if words:
            tokens.append(Term(words, prefix, negated))
    return tokens


def _terms(query: str, folded: bool) -> list[tuple[list[str], bool]]:
    """The positive terms typed: (the words of each term, prefix?)."""
    return [(t.words, t.prefix) for t in _tokens(query, folded) if isinstance(t, Term) and not t.negated]


def _term_expression(words: list[str], prefix: bool, folded: bool) -> str:
    if prefix or folded:  # the folded index has no marks; a prefix is searched as typed
        return _quote(" ".join(words)) + ("*" if prefix else "")
    spellings = _alternatives(words)
    if len(spellings) == 1:
        return _quote(spellings[0])
    return "(" + " OR ".join(_quote(s) for s in spellings) + ")"


def match_expression(query: str, folded: bool = False) -> str:
    """The FTS5 MATCH expression for what a person typed, with FTS5's own meaning.

    Words must all occur (AND); ``"two words"`` is a phrase; a trailing ``*`` makes a prefix
    (``điều*``); ``OR``, ``AND`` and ``NOT`` (upper case, as FTS5 spells them) and ``-word``
    (NOT) are FTS5's operators, with FTS5's precedence. Every word is quoted, so punctuation
    typed by a person is searched as text, never parsed. What FTS5 cannot take (an operator
    with nothing on one side, a query of exclusions only, ``-word`` after an operator) is
    refused with a :class:`QueryError` naming it, never silently read another way.
    ``folded`` folds the words as :func:`fold` does; exact words are lower-cased (the
    tokenizer folds case too) and searched in both tone placements (:func:`tone_variants`).
    Input in NFD is composed first.
    """
    tokens = _tokens(query, folded)
    if not any(isinstance(t, Term) and not t.negated for t in tokens):
        if any(isinstance(t, Term) for t in tokens):
            raise QueryError(f"{query!r}: only excluded words; add a word to search for (-word means NOT word)")
        raise QueryError(f"nothing to search for in {query!r}")
    parts: list[str] = []
    previous: Term | str | None = None
    for token in tokens:
        if isinstance(token, str):
            if not isinstance(previous, Term):
                raise QueryError(f"{query!r}: {token} needs a term before it")
            parts.append(token)
        else:
            expression = _term_expression(token.words, token.prefix, folded)
            if token.negated:
                if previous is None:
                    raise QueryError(f"{query!r}: a query cannot start with -word; put what to search for first")
                if isinstance(previous, str):
                    raise QueryError(f"{query!r}: -word after {previous} is not supported; write NOT word alone")
                parts.extend(("NOT", expression))
            else:
                if isinstance(previous, Term):
                    parts.append("AND")
                parts.append(expression)
        previous = token
    if isinstance(previous, str):
        raise QueryError(f"{query!r}: {previous} needs a term after it")
    return " ".join(parts)


def phrase_expressions(query: str, folded: bool = False) -> list[str]:
    """MATCH expressions for each pair of adjacent typed words (outside quotes and prefixes),
    as a phrase: ``cong an da nang`` -> ``"cong an"``, ``"an da"``, ``"da nang"``. A hit holding
    more of them keeps the words together as typed, and ranks first. An operator, a prefix or
    an excluded term ends a run: no pair spans ``a OR b``."""
    words: list[str] = []
    runs: list[list[str]] = []
    for token in _tokens(query, folded):
        if isinstance(token, str) or token.prefix or token.negated:
            runs.append(words)
            words = []
            continue
        words.extend(token.words)
    runs.append(words)
    return [_term_expression([a, b], False, folded) for run in runs for a, b in itertools.pairwise(run)]


Sort = Literal["relevance", "date"]


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    folded: bool = False,
    site: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = 20,
    sort: Sort = "relevance",
    markers: tuple[str, str] = ("[", "]"),
) -> list[Hit]:
    """Articles matching ``query``, best first (``sort="date"``: newest first).

    Rank: first the number of adjacent typed word pairs found next to each other (so ``cong an
    da nang`` puts "Công an Đà Nẵng" above a text with "công an", "đã" and "năng" apart), then
    bm25 with the title weighted over the lead over the body. ``Hit.score`` is that pair count
    plus bm25 mapped into [0, 1): higher is better. When more than :data:`CANDIDATES` articles
    match (and ``limit`` is set), only the :data:`CANDIDATES` most recently stored of them are
    ranked: a word most articles hold would otherwise be scored in every one. ``folded`` searches without accents (see
    the module docstring); ``site`` is one key or several; ``since`` and ``until`` are ISO
    timestamps compared with ``published_at`` (inclusive; a date-only ``published_at`` counts
    as its whole day); ``limit`` None returns every hit; the snippet is about
    :data:`_SNIPPET_TOKENS` tokens around the best match, matched words between ``markers``.
    """
    table = FOLDED_FTS if folded else EXACT_FTS
    params: dict[str, Any] = {"match": match_expression(query, folded), "open": markers[0], "close": markers[1]}
    params["limit"] = -1 if limit is None else limit  # SQLite: a negative limit is none
    pairs = phrase_expressions(query, folded)
    for i, pair in enumerate(pairs):
        params[f"pair{i}"] = pair
    # Each pair's matching rowids are computed once (SQLite materialises an IN subquery).
    allowed = _allowed(site, since, until, params)
    # Walking the matches newest first without scoring them is cheap (a doclist read backwards);
    # rows below the floor are never scored nor tested for pairs. rowid >= 0 keeps every match.
    params["floor"] = 0
    if sort == "relevance" and limit is not None:
        floor = db.execute(
            f"select rowid from {table} where {table} match :match {allowed} order by rowid desc limit 1 offset :skip",
            {**params, "skip": max(CANDIDATES, limit) - 1},
        ).fetchone()
        params["floor"] = floor[0] if floor else 0
    together = " + ".join(
        f"(rowid in (select rowid from {table} where {table} match :pair{i} and rowid >= :floor))"
        for i in range(len(pairs))
    )
    # bm25 is negative, more negative is better: -bm25 / (1 - bm25) maps it into [0, 1).
    relevance = f"(-bm25({table}, {WEIGHTS}) / (1.0 - bm25({table}, {WEIGHTS})))"
    columns = "a.title, a.site, a.published_at, a.url, a.url_hash"
    snippet = f"snippet({table}, -1, :open, :close, '…', {_SNIPPET_TOKENS}) as snippet"
    if limit is None:
        # Every hit is shown: one walk of the matches computes each one's score and snippet.
        # The joins below look each shown row up in the index by rowid, which FTS5 answers by
        # evaluating the MATCH again for that row (about 2 ms a row at 100k articles: 48 s for
        # the 21,400 hits of `khởi tố`).
        order = "hits.score desc, hits.rowid desc" if sort == "relevance" else "a.published_at desc, hits.rowid desc"
        sql = (
            f"with hits as (select rowid, {together or '0'} + {relevance} as score, {snippet} from {table} "
            f"where {table} match :match {allowed}) "
            f"select {columns}, hits.score, hits.snippet from hits join articles a on a.rowid = hits.rowid "
            f"order by {order}"
        )
    elif sort == "relevance":
        # Rank first, touching only the index; then snippets and article rows for the top hits only.
        # CROSS JOIN keeps "top" the outer loop: otherwise SQLite may walk every match of the
        # index to join the few top rows (the snippet join once cost 100 ms at 100k).
        sql = (
            f"with top as (select rowid, {together or '0'} + {relevance} as score from {table} "
            f"where {table} match :match and rowid >= :floor {allowed} order by score desc, rowid desc limit :limit) "
            f"select {columns}, top.score, {snippet} "
            f"from top cross join {table} on {table}.rowid = top.rowid join articles a on a.rowid = top.rowid "
            f"where {table} match :match order by top.score desc, top.rowid desc"
        )
    else:
        # Newest first: walk the published_at index downwards, keeping the matching rowids
        # (materialised once), so only the hits shown are scored and read. "+rowid": with a
        # plain rowid IN (...), SQLite looked each match's row up for its published_at (read
        # through the body's overflow pages) and sorted them all: 1.6 s for `công an` at a
        # million articles, 188 ms this way, the same hits (bench/RESULTS-search.md).
        # The pair phrases are tested on the rows shown only (a phrase of a common pair matches
        # most of the archive: materialising its matches cost 100-300 ms at 100k articles).
        # The shown rows are scored in one walk of the matches between their smallest and largest
        # rowid ("+rowid in": a filter, not one index lookup per row). Looked up row by row, FTS5
        # opened a cursor for each, and bm25 counts each phrase's matches in every cursor it
        # opens: 4.5-6.5 ms a row for a common word at 100k articles, 70 ms at a million.
        shown_together = " + ".join(
            f"({table}.rowid in (select rowid from {table} where {table} match :pair{i} "
            f"and rowid in (select rowid from top)))"
            for i in range(len(pairs))
        )
        newest = _newest_by_probing(db, table, params) if not allowed else None
        if newest is not None:
            params["top"] = json.dumps(newest)
            top = (
                "top(rowid, published_at) as "
                "(select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(:top))"
            )
        else:
            top = (
                f"top as (select rowid, published_at from articles where +rowid in "
                f"(select rowid from {table} where {table} match :match {allowed}) "
                f"order by published_at desc, rowid desc limit :limit)"
            )
        sql = (
            f"with {top}, "
            f"scored as materialized (select rowid, {shown_together or '0'} + {relevance} as score, {snippet} "
            f"from {table} where {table} match :match "
            f"and rowid between (select min(rowid) from top) and (select max(rowid) from top) "
            f"and +rowid in (select rowid from top)) "
            f"select {columns}, scored.score, scored.snippet from top join scored on scored.rowid = top.rowid "
            f"join articles a on a.rowid = top.rowid order by top.published_at desc, top.rowid desc"
        )
    return [
        Hit(r["title"], r["site"], r["published_at"], r["url"], r["snippet"], round(r["score"], 4), r["url_hash"])
        for r in db.query(sql, params)
    ]


def _newest_by_probing(db: sqlite_utils.Database, table: str, params: dict[str, Any]) -> list[list[Any]] | None:
    """The ``limit`` newest matches as [rowid, published_at], found by testing the PROBES newest
    articles one by one (see PROBES); None when fewer match among them (the caller reads the
    match list), so the answer is always the newest ``limit`` matches in (published_at, rowid)
    order, the same rows either way."""
    limit = params["limit"]
    if limit < 0 or limit > PROBES:
        return None
    # A loop here rather than one statement: SQLite sorts the rows of a correlated EXISTS before
    # a LIMIT applies, so it would test all PROBES articles every time.
    probe = f"select 1 from {table} where {table} match :match and rowid = :rowid"
    newest = db.execute(
        "select rowid, published_at from articles order by published_at desc, rowid desc limit :more",
        {"more": PROBES + 1},  # one more than are tested: whether any article is left untested
    )
    found: list[list[Any]] = []
    for tested, (rowid, published_at) in enumerate(newest):
        if tested == PROBES:
            return None  # fewer than asked among the PROBES newest: the caller reads the match list
        if db.execute(probe, {"match": params["match"], "rowid": rowid}).fetchone():
            found.append([rowid, published_at])
            if len(found) == limit:
                return found
    return found  # every article tested: all the matches there are


def count(
    db: sqlite_utils.Database,
    query: str,
    *,
    folded: bool = False,
    site: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> int:
    """How many articles match ``query`` within the filters (for "10 of 34 shown", and to say
    "the folded search would find N")."""
    table = FOLDED_FTS if folded else EXACT_FTS
    params: dict[str, Any] = {"match": match_expression(query, folded)}
    allowed = _allowed(site, since, until, params)
    sql = f"select count(*) from {table} where {table} match :match {allowed}"
    return int(db.execute(sql, params).fetchone()[0])


def _allowed(site: str | Sequence[str] | None, since: str | None, until: str | None, params: dict[str, Any]) -> str:
    # The filters pick rowids from the (site, published_at) index, never from the article rows:
    # published_at is stored after body, so reading it from a row walks the body's overflow pages.
    where = []
    keys = [site] if isinstance(site, str) else list(site or [])
    if keys:
        names = [f":site{i}" for i in range(len(keys))]
        where.append(f"site in ({', '.join(names)})")
        params.update({name[1:]: key for name, key in zip(names, keys, strict=True)})
    if since:
        where.append(on_or_after("published_at", ":since_day", ":since"))
        params["since_day"], params["since"] = bound_params(since)
    if until:
        where.append(on_or_before("published_at", ":until"))
        params["until"] = until
    # "+rowid": a plain rowid IN (...) is handed to FTS5, which then runs the MATCH once per
    # allowed rowid (minutes on 100k articles); the + keeps it a filter on the matches.
    return f"and +rowid in (select rowid from articles where {' and '.join(where)})" if where else ""
