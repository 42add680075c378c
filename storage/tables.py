"""Tables the migrations create beside ``articles`` (DDL only; imports nothing from storage/).

The migrations in ``storage/schema.py`` and the modules that read and write these tables
(``storage/dedup.py``, ``storage/quality.py``) both import from here, so the schema never
imports a module that itself needs ``storage/db.py``.
"""

from __future__ import annotations

import sqlite_utils

# Near-duplicate index (storage/dedup.py)
SIGNATURES = "dup_signatures"
BAND_ROWS = "dup_bands"
CLUSTERS = "dup_clusters"
MEMBERS = "dup_members"
# Extraction quality per crawl run (storage/quality.py)
QUALITY = "run_quality"
# Stored text holding U+FFFD: the page arrived with invalid bytes (storage/articles.py refetches
# such articles). A partial index over exactly this condition finds them without reading bodies.
REPLACED = "instr(coalesce(title, '') || coalesce(lead, '') || coalesce(body, ''), char(65533)) > 0"


def create_dedup_tables(db: sqlite_utils.Database) -> None:
    """Create the dedup tables and indexes if missing (migration m013; storage/dedup.py uses them)."""
    # dup_bands: its primary key is the (band, bucket) index that matches a new article; WITHOUT
    # ROWID stores the rows in that index (no second copy) and makes re-inserting a row a no-op.
    # dup_clusters.merged_into: a cluster absorbed by another keeps its row, so an id an analyst
    # noted down still resolves.
    # One statement at a time: executescript() would COMMIT the migration's transaction.
    for statement in (
        f"create table if not exists {SIGNATURES} (url_hash text primary key, site text not null, "
        "published_at text, num_perm integer not null, signature blob not null, indexed_at text)",
        f"create table if not exists {BAND_ROWS} (band integer not null, bucket integer not null, "
        "url_hash text not null, primary key (band, bucket, url_hash)) without rowid",
        f"create table if not exists {CLUSTERS} (cluster_id integer primary key, original text not null, "
        "created_at text not null, merged_into integer)",
        f"create table if not exists {MEMBERS} (url_hash text primary key, cluster_id integer not null, "
        "similarity float)",
        f"create index if not exists idx_{MEMBERS}_cluster_id on {MEMBERS} (cluster_id)",
    ):
        db.execute(statement)


def create_quality_tables(db: sqlite_utils.Database) -> None:
    """Create ``run_quality`` and its index (migration m012; storage/quality.py uses it); a no-op when they exist (safe in a migration)."""
    if db[QUALITY].exists():
        return
    db.table(QUALITY).create(
        {
            "run_id": int,
            "site": str,
            "recorded_at": str,
            "pages": int,  # article pages fetched (stat newscrawl/pages/article)
            "articles": int,  # articles extracted (site or generic path)
            "generic": int,
            "with_lead": int,
            "with_date": int,
            "with_authors": int,
            "with_images": int,
            "body_p10": int,
            "body_median": int,
            "body_p90": int,
            "body_lengths": str,  # JSON list of body lengths in characters
            "judged": int,
            "healthy": int,  # 1, 0, or null while pending
            "reasons": str,  # JSON list of the failed checks, worded for people
            "judged_by": int,
            "accepted": int,
        },
        pk="run_id",
        defaults={"judged": 0, "accepted": 0},
    )
    db.table(QUALITY).create_index(["site", "run_id"])


def create_replacement_index(db: sqlite_utils.Database) -> None:
    """The partial index of articles whose text holds U+FFFD (migration m016)."""
    db.execute(f"create index if not exists idx_articles_replacement_char on articles (site) where {REPLACED}")
