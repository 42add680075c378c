"""What Datasette shows of a newscrawl database, and ``newscrawl serve``.

The newscrawl Datasette plugin (crawler/cli/datasette_plugin.py, an entry point, so plain
``datasette DB`` gets it too) serves what this module computes.

What people get: described tables and columns, the ``articles_browse`` view with facets on
site, category and publication month and a search box on the exact (accent-significant) FTS
index, titles and URLs rendered as links to the article, and canned queries (daily counts,
latest articles, accent-folded search, an article's versions, top authors, and duplicate
clusters when the dedup tables exist). The first page is the dashboard (``crawler/cli/dashboard.py``,
the datasette-dashboards plugin): ``/`` redirects to it.

The search box uses the exact index because Datasette hands the typed text to MATCH as is;
the folded index also needs the query's ``đ`` folded, and the CLI's query language and
ranking: the ``search_folded`` canned query calls two SQL functions the plugin registers
(``newscrawl_match``, ``newscrawl_pairs``) that build them with ``storage/search.py``.
"""

from __future__ import annotations

import html
import json
import re
import socket
import sys
from typing import Any

import sqlite_utils
from markupsafe import Markup

from crawler.cli import dashboard
from crawler.sites.registry import sites as site_configs
from storage.search import EXACT_FTS, FOLDED_FTS, WEIGHTS, QueryError, match_expression, phrase_expressions

_ARTICLE_COLUMNS = {
    "url": "Canonical URL of the article on the real site",
    "title": "Title",
    "lead": "The sapo as printed, with its outlet prefix",
    "body": "Running text, paragraphs separated by newlines",
    "authors": "Authors (JSON list)",
    "published_at": "Publication time, ISO 8601 in Vietnam time (+07:00), or a date (2024-03-15) when the page gives no time",
    "published_at_raw": "The date string the publication time was parsed from",
    "published_at_precision": "How precise published_at is: day (a date only), minute or second",
    "published_month": "Publication month, YYYY-MM",
    "category": "The site's category name",
    "tags": "Tags (JSON list)",
    "images": "Images (JSON list of {url, caption})",
    "language": "Language code (vi)",
    "extractor": "site: the site's template was recognised; generic: fallback after a redesign",
    "url_hash": "SHA-256 of the canonical URL: the article's key",
    "content_hash": "SHA-256 of the normalised title, lead and body",
    "fetched_at": "UTC time of the latest fetch",
    "first_seen_at": "UTC time the article was first stored",
    "version": "Stored versions of the text (1 = never changed)",
    "article_rowid": "rowid of the article in the articles table (the search index key)",
}
_SEARCH_HINT = (
    "Search titles, leads and bodies; accents count (mã ≠ ma). For accent-free search use the search_folded query."
)


def _search_folded_sql() -> str:
    """The ``search_folded`` canned query: ``storage.search.search(folded=True)``'s ranking in SQL.

    ``newscrawl_match`` and ``newscrawl_pairs`` (:func:`register_functions`) build the same
    MATCH expression and word pairs as the CLI; each pair found adds one, as there.
    """
    f = FOLDED_FTS
    # Each pair is one FTS5 query over the whole index, grouped once: a subquery per matching
    # row (one MATCH per pair per row) took minutes on 20,000 articles.
    together = (
        f"with together as (select {f}.rowid as id, count(*) as n from json_each(newscrawl_pairs(:q)) p, {f} "
        f"where {f} match p.value group by {f}.rowid) "
    )
    relevance = f"(-bm25({f}, {WEIGHTS}) / (1.0 - bm25({f}, {WEIGHTS})))"
    score = f"coalesce(t.n, 0) + {relevance}"
    return (
        f"{together}select a.title, a.site, a.published_at, a.url, "
        f"snippet({f}, -1, '<<', '>>', '…', 16) as snippet, round({score}, 4) as score "
        f"from {f} join articles a on a.rowid = {f}.rowid left join together t on t.id = {f}.rowid "
        f"where {f} match newscrawl_match(:q) order by {score} desc, {f}.rowid desc limit 100"
    )


def _folded_match(query: Any) -> str:
    """``newscrawl_match(q)``: the folded MATCH expression; an empty query matches nothing (the
    empty form a canned query shows before anything is typed), never an FTS5 syntax error."""
    text = query if isinstance(query, str) else ""
    if not text.strip():
        return '""'
    try:
        return match_expression(text, folded=True)
    except QueryError:
        if re.search(r"\w", text):
            raise  # operators FTS5 cannot take: Datasette shows the one-line reason
        return '""'


def _folded_pairs(query: Any) -> str:
    text = query if isinstance(query, str) else ""
    try:
        return json.dumps(phrase_expressions(text, folded=True), ensure_ascii=False)
    except QueryError:
        return "[]"


def register_functions(conn: Any) -> None:
    """The SQL functions the ``search_folded`` canned query calls (the plugin's
    ``prepare_connection`` hook, crawler/cli/datasette_plugin.py; tests call it on their own
    connection)."""
    conn.create_function("newscrawl_match", 1, _folded_match, deterministic=True)
    conn.create_function("newscrawl_pairs", 1, _folded_pairs, deterministic=True)


def queries(table_names: list[str]) -> dict[str, dict[str, Any]]:
    """Canned queries: a form for each, no SQL to write; ``dup_clusters`` only where it exists."""
    found: dict[str, dict[str, Any]] = {
        "articles_per_site_per_day": {
            "title": "Articles per site per day",
            "sql": "select substr(published_at, 1, 10) as day, site, count(*) as articles from articles "
            "group by day, site order by day desc, site",
        },
        "latest_articles": {
            "title": "Latest articles",
            "sql": "select published_at, site, category, title, url from articles order by published_at desc limit 100",
        },
        "search_folded": {
            "title": "Search without accents",
            "description": "Accents and case ignored, đ = d: 'cong an' finds 'Công an'; OR, NOT and -word "
            "as in newscrawl search. Ranked as newscrawl search --folded ranks: typed words found together "
            "first, then bm25.",
            "sql": _search_folded_sql(),
        },
        "versions_of_article": {
            "title": "Versions of an article",
            "description": "Every stored version of the article at a URL, oldest first",
            "sql": "select v.version, v.fetched_at, v.changed, v.title, v.content_hash from article_versions v "
            "join articles a on a.url_hash = v.url_hash where a.url = :url order by v.version",
        },
        "top_authors": {
            "title": "Top authors",
            "sql": "select j.value as author, a.site, count(*) as articles from articles a, json_each(a.authors) j "
            "group by author, a.site order by articles desc, author limit 100",
        },
    }
    if {"dup_clusters", "dup_members"} <= set(table_names):
        found["duplicate_clusters"] = {
            "title": "Duplicate clusters",
            "description": "Stories carried by several copies (across sites), largest first",
            "sql": "select c.cluster_id, count(*) as copies, group_concat(distinct a.site) as sites, "
            "min(a.published_at) as first_published, o.title as original_title, o.url as original_url "
            "from dup_clusters c join dup_members m on m.cluster_id = c.cluster_id "
            "join articles a on a.url_hash = m.url_hash left join articles o on o.url_hash = c.original "
            "where c.merged_into is null group by c.cluster_id having copies > 1 order by copies desc, first_published",
        }
    return found


def metadata(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    """Datasette metadata for the database ``db`` served under ``name``."""
    columns = {"site": f"Site key: {_site_names()}", **_ARTICLE_COLUMNS}
    tables: dict[str, Any] = {
        "articles": {
            "description": "One row per article (canonical URL); the current version of its text.",
            "columns": columns,
            "facets": ["site", "category", "extractor"],
            "sort_desc": "published_at",
            "label_column": "title",
            "fts_table": EXACT_FTS,
            "searchmode": "escaped",
        },
        "articles_browse": {
            "description": "Articles, newest first, to browse by site, category and month. " + _SEARCH_HINT,
            "columns": columns,
            "facets": ["site", "category", "published_month"],
            "sort_desc": "published_at",
            "fts_table": EXACT_FTS,
            "fts_pk": "article_rowid",
            "searchmode": "escaped",
        },
        "article_versions": {
            "description": "Every stored version of every article (version 1 is the first text seen).",
            "columns": {"changed": "Fields that changed from the previous version (JSON list)", **columns},
        },
        "crawl_runs": {"description": "One row per spider run: pages fetched, articles new/duplicate/updated, errors."},
        "aliases": {"description": "Other URLs (redirects, rel=canonical, same text) that lead to a stored article."},
        "url_log": {"description": "Every URL that yielded no article (dropped or failed), and why."},
        "pages": {"hidden": True},
        "_sqlite_migrations": {"hidden": True},
        "http_cache": {"hidden": True},
    }
    for table, spec in tables.items():
        if "columns" in spec:
            present = {d[0] for d in db.execute(f"select * from [{table}] limit 0").description}
            spec["columns"] = {k: v for k, v in spec["columns"].items() if k in present}
    sites = [row["site"] for row in db.query("select distinct site from articles order by site")]
    for table in db.table_names():
        if table.startswith((EXACT_FTS, FOLDED_FTS)) or table.startswith("dup_bands"):
            tables[table] = {"hidden": True}
    return {
        "title": "newscrawl: Vietnamese public-security news",
        "description": _description(),
        "databases": {name: {"tables": tables, "queries": {**queries(db.table_names()), **dashboard.canned_queries()}}},
        "plugins": {"datasette-dashboards": dashboard.plugin_config(name, sites)},
    }


def _site_names() -> str:
    """``key (name)`` of every site in the registry: a new site is described without an edit here."""
    return ", ".join(f"{key} ({site.name})" for key, site in site_configs().items())


def _description() -> str:
    hosts = ", ".join(site.hosts[0] for site in site_configs().values())
    return f"Articles crawled from {hosts}."


def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """A title links to its article, a URL column is a link (the plugin's render_cell hook)."""
    del table, database, datasette
    if column == "title" and isinstance(value, str) and row is not None and "url" in row.keys():
        url = row["url"]
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return Markup(f'<a href="{html.escape(url)}">{html.escape(value)}</a>')
    if column in ("url", "original_url") and isinstance(value, str) and value.startswith(("http://", "https://")):
        return Markup(f'<a href="{html.escape(value)}">{html.escape(value)}</a>')
    return None


def serve(path: str, port: int = 8001, host: str = "127.0.0.1") -> None:
    """Serve ``path`` in Datasette until interrupted; prints ``serving URL`` once the socket listens.

    A thin wrapper: what is shown comes from the newscrawl Datasette plugin, as with plain
    ``datasette PATH``; this picks the settings, the port and the first URL.
    """
    # Imported here, not at the top: Datasette and uvicorn take ~1 s to import, a cost every
    # other ``newscrawl`` command would pay for nothing.
    import uvicorn
    from datasette.app import Datasette  # type: ignore[import-untyped]
    from datasette.plugins import pm  # type: ignore[import-untyped]

    if not pm.has_plugin("newscrawl"):
        # The plugin is the package's entry point (crawler/cli/datasette_plugin.py): missing
        # only when the package's metadata is not installed (a source tree on PYTHONPATH).
        raise RuntimeError("the newscrawl Datasette plugin is not installed: pip install -e . (or make install)")
    ds = Datasette([path], settings={"facet_time_limit_ms": 1000, "sql_time_limit_ms": 5000})
    # Bind and listen before printing, so the printed URL is live: a connection made right after
    # the line waits in the listen backlog until uvicorn accepts it, it is never refused (and
    # port 0 gets a real port number).
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(config.backlog)
    except OSError:
        sock.close()
        raise
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"serving http://{shown}:{sock.getsockname()[1]}/-/dashboards/{dashboard.SLUG}", flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    print("stopped", file=sys.stderr)
