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

Why the folded index can share the original text as its content table: replacing ``đ`` by
``d`` keeps every token boundary and token position, so the positions matched in the folded
index point at the right words of the original text when FTS5 builds a snippet. The catch is
that FTS5's ``'rebuild'`` would index the *unfolded* text; :func:`rebuild` re-indexes
correctly instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage.published import bound_params, on_or_after

EXACT_FTS = "articles_fts"
FOLDED_FTS = "articles_fold_fts"
_COLUMNS = ("title", "lead", "body")
# bm25 weights per column (title, lead, body): a hit in the title counts most.
_WEIGHTS = "10.0, 4.0, 1.0"
_SNIPPET_TOKENS = 16


def fold_sql(expr: str) -> str:
    """SQL for the folded form of ``expr`` as the folded index stores it (``đ``/``Đ`` -> ``d``/``D``)."""
    return f"replace(replace({expr}, 'đ', 'd'), 'Đ', 'D')"


def fold(text: str) -> str:
    """Text without accents and case: NFD, combining marks dropped, ``đ`` -> ``d``, casefolded."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D").casefold()


def create_indexes(db: sqlite_utils.Database) -> None:
    """Create both FTS tables and their triggers, and index the stored articles (a migration)."""
    for table, diacritics, fold_it in ((EXACT_FTS, 0, False), (FOLDED_FTS, 2, True)):
        db.execute(
            f"create virtual table if not exists {table} using fts5(title, lead, body, content='articles', "
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
    """A query with no searchable word in it."""


_TERMS = re.compile(r'"([^"]*)"|(\S+)')


def match_expression(query: str, folded: bool = False) -> str:
    """The FTS5 MATCH expression for what a person typed.

    Words must all occur (AND); ``"two words"`` is a phrase; a trailing ``*`` makes a prefix
    (``điều*``). Every word is quoted, so FTS5 operators and punctuation typed by a person are
    searched as text, never parsed. ``folded`` folds the words as :func:`fold` does.
    """
    text = unicodedata.normalize("NFC", query)
    parts: list[str] = []
    for phrase, word in _TERMS.findall(text):
        raw = phrase if phrase else word
        prefix = bool(word) and word.endswith("*")
        raw = raw.rstrip("*") if prefix else raw
        if folded:
            raw = fold(raw)
        # Drop what the tokenizer would drop anyway, so "an," or "(CAO)" still match.
        raw = " ".join(re.findall(r"\w+", raw))
        if raw:
            parts.append('"' + raw.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not parts:
        raise QueryError(f"nothing to search for in {query!r}")
    return " ".join(parts)


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    folded: bool = False,
    site: str | None = None,
    since: str | None = None,
    limit: int = 20,
    markers: tuple[str, str] = ("[", "]"),
) -> list[Hit]:
    """Articles matching ``query``, best first (bm25, title weighted over lead over body).

    ``folded`` searches without accents (see the module docstring); ``since`` is an ISO
    timestamp compared with ``published_at`` (``>=``); the snippet is about
    :data:`_SNIPPET_TOKENS` tokens around the best match, matched words between ``markers``.
    """
    table = FOLDED_FTS if folded else EXACT_FTS
    params: dict[str, Any] = {"match": match_expression(query, folded), "limit": limit, "open": markers[0]}
    params["close"] = markers[1]
    # The filters pick rowids from the (site, published_at) index, never from the article rows:
    # published_at is stored after body, so reading it from a row walks the body's overflow pages.
    where = []
    if site:
        where.append("site = :site")
        params["site"] = site
    if since:
        where.append(on_or_after("published_at", ":since_day", ":since"))
        params["since_day"], params["since"] = bound_params(since)
    # "+rowid": a plain rowid IN (...) is handed to FTS5, which then runs the MATCH once per
    # allowed rowid (minutes on 100k articles); the + keeps it a filter on the matches.
    allowed = f"and +rowid in (select rowid from articles where {' and '.join(where)})" if where else ""
    # Rank first, touching only the index; then snippets and article rows for the top hits only.
    sql = (
        f"with top as (select rowid, bm25({table}, {_WEIGHTS}) as score from {table} "
        f"where {table} match :match {allowed} order by score, rowid desc limit :limit) "
        f"select a.title, a.site, a.published_at, a.url, a.url_hash, top.score, "
        f"snippet({table}, -1, :open, :close, '…', {_SNIPPET_TOKENS}) as snippet "
        f"from top join {table} on {table}.rowid = top.rowid join articles a on a.rowid = top.rowid "
        f"where {table} match :match order by top.score, top.rowid desc"
    )
    return [
        Hit(r["title"], r["site"], r["published_at"], r["url"], r["snippet"], round(-r["score"], 4), r["url_hash"])
        for r in db.query(sql, params)
    ]
