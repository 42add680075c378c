"""The ``crawl_runs`` table: one row per spider run with its stats."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage.articles import now_iso
from storage.db import write_transaction


def start_run(db: sqlite_utils.Database, site: str) -> int:
    """Insert a run row marked ``running`` and return its id."""
    with write_transaction(db):
        table = db.table("crawl_runs").insert({"site": site, "started_at": now_iso(), "status": "running"})
    assert table.last_pk is not None
    return int(table.last_pk)


def mark_killed(db: sqlite_utils.Database) -> int:
    """Close the rows of runs that never finished (killed by SIGKILL, the OOM killer, a power
    cut) as ``killed``; return how many. Call it holding the crawl lock: then no run of this
    database is in progress, so every ``running`` row is a dead one."""
    with write_transaction(db):
        cursor = db.execute(
            "update crawl_runs set status = 'killed', finish_reason = 'killed' where status = 'running'"
        )
    return int(cursor.rowcount)


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    status: str,
    finish_reason: str,
    counters: dict[str, Any],
    stats: dict[str, Any],
) -> None:
    """Close a run row with its status, summary counters and the full stats as JSON."""
    with write_transaction(db):
        db.table("crawl_runs").update(
            run_id,
            {
                "finished_at": now_iso(),
                "finish_reason": finish_reason,
                "status": status,
                **counters,
                "stats": json.dumps(stats, ensure_ascii=False, sort_keys=True, default=str),
            },
        )


def recent_runs(db: sqlite_utils.Database, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    return list(db.query("select * from crawl_runs order by id desc limit ?", [limit]))
