"""Dashboard benchmark: ``python -m bench.dashboard [--db PATH] [--articles N] [--repeat N]``.

Times every chart query of ``newscrawl serve``'s dashboard (crawler/cli/dashboard.py, the
canned queries ``dashboard_*``) on the 100,000-article bench database of
``bench/search_export.py`` (built, or reused with ``--db``), under four filter settings, and
prints p50 / p95 in milliseconds per chart and setting: wall-clock time, and the
process's CPU time (which other processes on a busy machine inflate much less). Each query runs as Datasette runs it:
one ``execute`` with the named parameters, every row fetched.

That database has articles only; this script adds, once, what the dashboard also reads:
- stories: 6,000 clusters of 2-4 copies on different sites (18,000 articles in clusters),
  members chosen at random (the timing depends on the counts, not on which articles);
- crawl runs: one run per site every 30 minutes over the last 180 days (25,920 runs) with
  their outcome and error counts and a ``run_quality`` row each.

Each query's SQL and parameters are those of the dashboard; the database is opened read-only,
as ``serve`` may open it.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.search_export import build, percentile
from crawler.cli.dashboard import chart_sql
from storage.db import open_db

SITES = ("bocongan", "cao", "thanhtra")


def add_stories(db: sqlite3.Connection, clusters: int, seed: int = 11) -> None:
    """``clusters`` stories of 2-4 copies, each copy from another site."""
    if db.execute("select count(*) from dup_clusters").fetchone()[0] >= clusters:
        return
    rng = random.Random(seed)
    by_site = {s: [r[0] for r in db.execute("select url_hash from articles where site = ?", [s])] for s in SITES}
    for pool in by_site.values():
        rng.shuffle(pool)
    members, rows = [], []
    for cluster_id in range(1, clusters + 1):
        sites = rng.sample(SITES, rng.randint(2, 3))
        copies = [by_site[s].pop() for s in sites]
        if rng.random() < 0.2:  # a fourth copy: a site republished it twice
            copies.append(by_site[rng.choice(SITES)].pop())
        rows.append((cluster_id, copies[0], "2026-02-01T03:00:00+00:00"))
        members += [(h, cluster_id, 1.0 if i == 0 else rng.uniform(0.5, 0.95)) for i, h in enumerate(copies)]
    with db:
        db.executemany("insert into dup_clusters (cluster_id, original, created_at) values (?, ?, ?)", rows)
        db.executemany("insert into dup_members (url_hash, cluster_id, similarity) values (?, ?, ?)", members)


def add_runs(db: sqlite3.Connection, days: int, seed: int = 12) -> None:
    """One run per site every 30 minutes over ``days`` days, with a ``run_quality`` row each."""
    if db.execute("select count(*) from crawl_runs").fetchone()[0] >= days * 48 * len(SITES):
        return
    rng = random.Random(seed)
    start = datetime(2025, 12, 31, tzinfo=UTC) - timedelta(days=days)
    runs: list[tuple[object, ...]] = []
    quality: list[tuple[object, ...]] = []
    for slot in range(days * 48):
        when = start + timedelta(minutes=30 * slot)
        for site in SITES:
            run_id = len(runs) + 1
            new = rng.randint(0, 12)
            errors = {"timeout": rng.randint(0, 2)} if rng.random() < 0.1 else {}
            dropped = {"too_short": rng.randint(0, 2)} if rng.random() < 0.3 else {}
            runs.append((
                run_id, site, when.isoformat(), (when + timedelta(seconds=40)).isoformat(), "finished", "ok",
                new + 8, new, rng.randint(0, 3), 0, sum(dropped.values()), sum(errors.values()),
                "{}", rng.randint(0, 6), json.dumps(dropped), json.dumps(errors),
            ))  # fmt: skip
            generic = rng.randint(0, new // 4)
            quality.append((run_id, site, when.isoformat(), new, new, generic, 1, 1 if new else 0, "[]"))
    with db:
        db.executemany(
            "insert into crawl_runs (id, site, started_at, finished_at, finish_reason, status, pages_fetched, "
            "articles_new, articles_duplicate, articles_updated, dropped, errors, stats, not_modified, "
            "dropped_by_reason, errors_by_kind) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        db.executemany(
            "insert into run_quality (run_id, site, recorded_at, pages, articles, generic, judged, healthy, reasons) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            quality,
        )


def settings(db: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """The filter settings timed: the dashboard's first view (all), one site, the last 30 and 365 days."""
    last = db.execute("select substr(max(published_at), 1, 10) from articles").fetchone()[0]
    day = datetime.fromisoformat(last)
    return {
        "all sites, all time": {"site": "", "date_start": "", "date_end": ""},
        "cao, all time": {"site": "cao", "date_start": "", "date_end": ""},
        "all sites, last 30 days": {"site": "", "date_start": (day - timedelta(days=29)).date().isoformat(), "date_end": last},
        "cao, last 365 days": {"site": "cao", "date_start": (day - timedelta(days=364)).date().isoformat(), "date_end": last},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query per setting")
    parser.add_argument("--db", type=Path, help="keep the database here (reused when already full)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.sqlite3"
        build(path, args.articles).close()
        open_db(path).close()  # migrations, the dashboard's indexes among them
        writer = sqlite3.connect(path)
        add_stories(writer, clusters=args.articles * 6 // 100)
        add_runs(writer, days=180)
        writer.execute("analyze")
        writer.close()

        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        counts = [
            db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("articles", "dup_clusters", "crawl_runs")
        ]
        print(f"database: {counts[0]} articles, {counts[1]} stories, {counts[2]} crawl runs (read-only)")
        queries = chart_sql()
        for label, params in settings(db).items():
            print(f"\n{label} {params}")
            print(f"{'chart':24} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8} {'rows':>6}")
            for slug, sql in queries.items():
                db.execute(sql, params).fetchall()  # warm the page cache, as a served dashboard is
                latencies, cpu, rows = [], [], 0
                for _ in range(args.repeat):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    rows = len(db.execute(sql, params).fetchall())
                    latencies.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                print(
                    f"{slug:24} {statistics.median(latencies) * 1000:>8.1f} {percentile(latencies, 0.95) * 1000:>8.1f} "
                    f"{statistics.median(cpu) * 1000:>8.1f} {percentile(cpu, 0.95) * 1000:>8.1f} {rows:>6}"
                )
        db.close()


if __name__ == "__main__":
    main()
