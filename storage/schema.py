"""The schema, as sqlite-utils migrations: a database of any age is brought up to date."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from storage.search import create_indexes, detectable, drop_indexes
from storage.tables import create_dedup_tables, create_quality_tables, create_replacement_index

migrations = Migrations("newscrawl")


@migrations()
def m001_articles(db: sqlite_utils.Database) -> None:
    db.table("articles").create(
        {
            "url_hash": str,
            "site": str,
            "url": str,
            "title": str,
            "lead": str,
            "body": str,
            "authors": str,
            "published_at": str,
            "published_at_raw": str,
            "category": str,
            "tags": str,
            "images": str,
            "language": str,
            "extractor": str,
            "content_hash": str,
            "fetched_at": str,
            "first_seen_at": str,
            "version": int,
        },
        pk="url_hash",
        not_null={"site", "url", "title", "body", "content_hash"},
        defaults={"version": 1},
    )
    db.table("articles").create_index(["site", "published_at"])
    db.table("articles").create_index(["content_hash"])
    db.table("pages").create(
        {"url_hash": str, "fetched_url": str, "fetched_at": str, "html_gz": bytes},
        pk="url_hash",
    )
    db.table("crawl_runs").create(
        {
            "id": int,
            "site": str,
            "started_at": str,
            "finished_at": str,
            "finish_reason": str,
            "status": str,
            "pages_fetched": int,
            "articles_new": int,
            "articles_duplicate": int,
            "articles_updated": int,
            "dropped": int,
            "errors": int,
            "stats": str,
        },
        pk="id",
    )
    db.table("crawl_runs").create_index(["site", "started_at"])


@migrations()
def m002_incremental(db: sqlite_utils.Database) -> None:
    """Versions, aliases, conditional-GET validators, the URL log, richer run rows."""
    db.table("article_versions").create(
        {
            "url_hash": str,
            "version": int,
            "fetched_at": str,
            "content_hash": str,
            "changed": str,
            "title": str,
            "lead": str,
            "body": str,
            "authors": str,
            "published_at": str,
        },
        pk=("url_hash", "version"),
    )
    db.execute(
        "insert into article_versions (url_hash, version, fetched_at, content_hash, changed, title, lead, body, "
        "authors, published_at) select url_hash, version, fetched_at, content_hash, '[]', title, lead, body, "
        "authors, published_at from articles"
    )
    db.table("aliases").create(
        {"alias_hash": str, "alias_url": str, "url_hash": str, "site": str, "reason": str, "first_seen_at": str},
        pk="alias_hash",
    )
    db.table("aliases").create_index(["url_hash"])
    db.table("http_cache").create({"url": str, "etag": str, "last_modified": str, "checked_at": str}, pk="url")
    db.table("url_log").create(
        {"url_hash": str, "url": str, "site": str, "outcome": str, "reason": str, "detail": str, "seen_at": str},
        pk="url_hash",
    )
    for column, kind in (
        ("not_modified", int),
        ("aliases", int),
        ("duration_s", float),
        ("dropped_by_reason", str),
        ("errors_by_kind", str),
    ):
        db.table("crawl_runs").add_column(column, kind)


@migrations()
def m010_search(db: sqlite_utils.Database) -> None:
    """Exact and accent-folded FTS5 indexes over articles, kept in sync by SQL-only triggers."""
    create_indexes(db)


@migrations()
def m011_articles_browse(db: sqlite_utils.Database) -> None:
    """A view for people (Datasette facets on site, category and month): the month as a column."""
    db.execute(
        "create view if not exists articles_browse as select a.title, a.site, a.published_at, "
        "substr(a.published_at, 1, 7) as published_month, a.category, a.url, a.authors, a.tags, a.version, "
        "a.lead, a.fetched_at, a.url_hash, a.rowid as article_rowid from articles a"
    )


@migrations()
def m012_run_quality(db: sqlite_utils.Database) -> None:
    """Per-site extraction quality of each crawl run (the quality gate, crawler/crawl/quality.py)."""
    create_quality_tables(db)


@migrations()
def m012_articles_published_index(db: sqlite_utils.Database) -> None:
    """Newest-first listings (Datasette, `latest_articles`) and `--since` over all sites use an index."""
    db.execute("create index if not exists idx_articles_published_at on articles (published_at)")


@migrations()
def m013_dedup(db: sqlite_utils.Database) -> None:
    """Near-duplicate signatures, the LSH band index and story clusters (storage/dedup.py)."""
    create_dedup_tables(db)


@migrations()
def m014_source(db: sqlite_utils.Database) -> None:
    """The credit of a republished text ("Theo TTXVN" -> "TTXVN"), apart from its authors."""
    if "source" not in db["articles"].columns_dict:
        db.table("articles").add_column("source", str)


@migrations()
def m015_published_at_precision(db: sqlite_utils.Database) -> None:
    """How precise ``published_at`` is: ``day`` (a date only), ``minute`` or ``second``.

    Rows stored before it have none; their ``published_at`` is a full time even where the page
    gave only a day (a midnight), until the page is extracted again.
    """
    if "published_at_precision" not in db["articles"].columns_dict:
        db.table("articles").add_column("published_at_precision", str)


@migrations()
def m016_articles_replacement_char(db: sqlite_utils.Database) -> None:
    """Articles whose text holds U+FFFD (invalid bytes) are found by an index and fetched again."""
    create_replacement_index(db)


@migrations()
def m017_dashboard_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the dashboard of ``newscrawl serve`` reads instead of the articles' rows (crawler/cli/dashboard.py).

    Both cover their queries, so a chart over every article reads index pages, never the rows
    with their bodies: per-day, per-category, author and tag counts scan ``published_at`` ranges
    (with site, category, authors, tags), and the story charts look a cluster member's site and
    time up by ``url_hash``, from a cluster's members read in cluster order. bench/RESULTS-dashboard.md has the timings with and without them.
    """
    db.execute(
        "create index if not exists idx_articles_dashboard on articles (published_at, site, category, authors, tags)"
    )
    db.execute("create index if not exists idx_articles_story on articles (url_hash, published_at, site)")
    db.execute("create index if not exists idx_dup_members_cluster_url on dup_members (cluster_id, url_hash)")


@migrations()
def m018_dup_bands_recency(db: sqlite_utils.Database) -> None:
    """Band rows ordered by indexing time (seq), so a capped lookup keeps a bucket's newest rows;
    cluster similarities are computed when read, no longer stored (storage/dedup.py)."""
    if "seq" not in db.table("dup_bands").columns_dict:
        db.execute(
            "create table dup_bands_new (band integer not null, bucket integer not null, seq integer not null, "
            "url_hash text not null, primary key (band, bucket, seq)) without rowid"
        )
        db.execute(
            "insert or ignore into dup_bands_new select b.band, b.bucket, s.rowid, b.url_hash "
            "from dup_bands b join dup_signatures s using (url_hash)"
        )
        db.execute("drop table dup_bands")
        db.execute("alter table dup_bands_new rename to dup_bands")
    db.execute("update dup_members set similarity = null")


@migrations()
def m019_fts_detectable(db: sqlite_utils.Database) -> None:
    """Recreate the FTS tables so sqlite-utils and Datasette find the exact index of ``articles``
    (they look for ``content="articles"``; databases before this said ``content='articles'``)."""
    if not detectable(db):
        drop_indexes(db)
        create_indexes(db)
