"""The ``run_quality`` table: per-site extraction figures of each crawl run, and its verdict.

One row per spider run (key: ``crawl_runs.id``). A run with too few articles to judge is
stored ``pending`` (``judged = 0``, ``healthy`` null) and judged later, pooled with the runs
that follow it; the verdict is then written on every run of the pool (``judged_by`` names the
run whose close produced it). Baselines are built from rows with ``healthy = 1`` since the
site's latest accepted run (``accepted = 1``, set by ``newscrawl health --accept``).
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage.articles import now_iso
from storage.tables import QUALITY as TABLE

_JSON = ("body_lengths", "reasons")


def save_quality(db: sqlite_utils.Database, row: dict[str, Any], pending_ids: list[int]) -> None:
    """Store one run's row; when it carries a verdict, write it on ``pending_ids`` too."""
    stored = {k: (json.dumps(v, ensure_ascii=False) if k in _JSON else v) for k, v in row.items()}
    stored.setdefault("recorded_at", now_iso())
    with db.atomic():
        db.table(TABLE).upsert(stored, pk="run_id")
        if row.get("judged") and pending_ids:
            marks = ", ".join("?" for _ in pending_ids)
            db.execute(
                f"update {TABLE} set judged = 1, healthy = ?, reasons = ?, judged_by = ? where run_id in ({marks})",
                [row["healthy"], stored["reasons"], row["run_id"], *pending_ids],
            )


def pending_runs(db: sqlite_utils.Database, site: str, before: int, limit: int) -> list[dict[str, Any]]:
    """The site's runs since its latest judged run (older than ``before``), newest first."""
    if not db[TABLE].exists():
        return []
    sql = (
        f"select * from {TABLE} where site = ? and run_id < ? and judged = 0 and run_id > "
        f"coalesce((select max(run_id) from {TABLE} where site = ? and judged = 1), 0) "
        "order by run_id desc limit ?"
    )
    return [_decode(r) for r in db.query(sql, [site, before, site, limit])]


def baseline_runs(db: sqlite_utils.Database, site: str, before: int, limit: int) -> list[dict[str, Any]]:
    """The site's latest ``limit`` healthy runs before ``before``, since its latest accepted run."""
    if not db[TABLE].exists():
        return []
    sql = (
        f"select * from {TABLE} where site = ? and run_id < ? and healthy = 1 and run_id >= "
        f"coalesce((select max(run_id) from {TABLE} where site = ? and accepted = 1), 0) "
        "order by run_id desc limit ?"
    )
    return [_decode(r) for r in db.query(sql, [site, before, site, limit])]


def recent_quality(db: sqlite_utils.Database, site: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The latest ``limit`` rows per site (of one site, if given), newest first, with the
    run's ``started_at`` and ``status`` from ``crawl_runs``."""
    if not db[TABLE].exists():
        return []
    where = "where q.site = ?" if site else ""
    params: list[Any] = [site, limit] if site else [limit]
    sql = (
        f"select * from (select q.*, r.started_at, r.status, row_number() over "
        f"(partition by q.site order by q.run_id desc) as n from {TABLE} q "
        f"left join crawl_runs r on r.id = q.run_id {where}) where n <= ? order by site, run_id desc"
    )
    return [_decode(r) for r in db.query(sql, params)]


def accept_run(db: sqlite_utils.Database, run_id: int) -> str | None:
    """Mark a run healthy and the start of its site's baseline (a deliberate new normal).

    Returns the run's site, or None when there is no such run.
    """
    if not db[TABLE].exists():
        return None
    row = next(db.query(f"select site from {TABLE} where run_id = ?", [run_id]), None)
    if row is None:
        return None
    with db.atomic():
        db.execute(
            f"update {TABLE} set healthy = 1, judged = 1, accepted = 1, reasons = '[]' where run_id = ?", [run_id]
        )
    return str(row["site"])


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(row)
    for key in _JSON:
        value = decoded.get(key)
        decoded[key] = json.loads(value) if isinstance(value, str) else []
    return decoded
