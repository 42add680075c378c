"""``newscrawl health``: per-site extraction quality over the last runs (``run_quality``)."""

from __future__ import annotations

import argparse
import json
from itertools import groupby
from typing import Any

import sqlite_utils

from crawler.cli.args import bounded_int
from crawler.cli.common import UsageError, read_db_path, site_keys
from crawler.cli.progress import print_json
from crawler.crawl.quality import COVERAGE, QualityConfig, Sample
from crawler.crawl.runner import project_settings
from crawler.exit_codes import EXIT_OK, EXIT_UNHEALTHY
from storage.db import open_db
from storage.quality import accept_run, baseline_runs, recent_quality

_VERDICTS = {1: "healthy", 0: "UNHEALTHY", None: "pending"}
_FIELDS = "newscrawl/fields/"
# Fields many articles rightly lack: "none" there is no fallback worth reporting.
_OPTIONAL = frozenset({"source", "canonical", "images", "lead", "category"})


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``newscrawl`` parser."""
    health = sub.add_parser("health", help="per-site extraction quality of the last runs (the quality gate)")
    health.add_argument("--db", help="database path")
    health.add_argument("--site", action="append", help="only this site (repeatable: several sites)")
    health.add_argument(
        "--runs", type=bounded_int(1), default=10, metavar="N", help="runs shown per site (default: 10)"
    )
    health.add_argument(
        "--accept",
        type=bounded_int(1),
        metavar="RUN",
        help="take run RUN as healthy and the start of its site's new baseline",
    )
    health.add_argument("--json", action="store_true", help="one JSON object per site")
    health.set_defaults(func=cmd_health)


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 6 when the newest judged run of a site shown is unhealthy (for cron and monitors)."""
    keys: list[str | None] = [*site_keys(args.site)] if args.site else [None]
    config = QualityConfig.from_settings(project_settings())
    path = read_db_path(args)
    # --accept writes one row: an existing newscrawl database, as it is; otherwise read-only.
    db = open_db(path, create=False, migrate=False) if args.accept is not None else open_db(path, readonly=True)
    try:
        if args.accept is not None:
            site = accept_run(db, args.accept)
            if site is None:
                raise UsageError(f"no quality record for run {args.accept}")
            print(f"run {args.accept} of {site} accepted: the site's baseline starts there")
            return EXIT_OK
        rows = [row for key in keys for row in recent_quality(db, key, args.runs)]
        baselines = {key: _baseline(db, key, config) for key in {r["site"] for r in rows}}
        latest: dict[str, int] = {}  # the newest judged run of each site (rows come newest first)
        for r in rows:
            if r["judged"]:
                latest.setdefault(r["site"], r["run_id"])
        sources = {site: _run_field_sources(db, run_id) for site, run_id in latest.items()}
    finally:
        db.close()
    unhealthy = any(latest_row["healthy"] == 0 for latest_row in _latest_judged(rows).values())
    code = EXIT_UNHEALTHY if unhealthy else EXIT_OK
    if args.json:
        for record in health_records(rows, baselines, sources):
            print_json(record)
        return code
    if not rows:
        print("no quality records yet (they are written by crawls with the quality gate enabled)")
        return EXIT_OK
    for line in format_health(rows, baselines, sources):
        print(line)
    return code


def _latest_judged(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest judged run of each site (rows come newest first per site)."""
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["judged"]:
            found.setdefault(r["site"], r)
    return found


_RUN_FIELDS = (
    "run_id", "started_at", "status", "articles", "generic", "with_lead", "with_date", "with_authors",
    "with_images", "body_p10", "body_median", "body_p90",
)  # fmt: skip


def health_records(
    rows: list[dict[str, Any]],
    baselines: dict[str, tuple[int, Sample]],
    sources: dict[str, dict[str, dict[str, int]]],
) -> list[dict[str, Any]]:
    """What :func:`format_health` prints, per site as a JSON-ready dict."""
    latest = _latest_judged(rows)
    records = []
    for site, group in groupby(rows, key=lambda r: str(r["site"])):
        runs = list(group)
        count, base = baselines.get(site, (0, Sample()))
        newest = latest.get(site)
        records.append(
            {
                "site": site,
                "verdict": _VERDICTS[newest["healthy"]].lower() if newest else None,
                "run_id": newest["run_id"] if newest else None,
                "runs": [
                    {**{k: r.get(k) for k in _RUN_FIELDS}, "verdict": _VERDICTS[r["healthy"]].lower()} for r in runs
                ],
                "reasons": [
                    {"run_id": r["run_id"], "reason": reason}
                    for r in runs
                    if r["healthy"] == 0 and r["judged_by"] == r["run_id"]
                    for reason in r["reasons"]
                ],
                "field_sources": sources.get(site, {}),
                "baseline": {
                    "runs": count,
                    "articles": base.articles,
                    **{name: round(base.share(name), 4) for name in (*COVERAGE, "generic")},
                    "body_median": base.body_quantile(0.5) if base.articles else None,
                },
            }
        )
    return records


def _baseline(db: sqlite_utils.Database, site: str, config: QualityConfig) -> tuple[int, Sample]:
    history = baseline_runs(db, site, 2**62, config.baseline_runs)
    return len(history), sum((Sample.from_row(r) for r in history), Sample())


def _run_field_sources(db: sqlite_utils.Database, run_id: int) -> dict[str, dict[str, int]]:
    """Counts of the rule that gave each field in one run: ``{field: {rule: pages}}``."""
    row = next(iter(db.query("select stats from crawl_runs where id = ?", [run_id])), None)
    stats = json.loads(row["stats"]) if row and row["stats"] else {}
    counts: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith(_FIELDS):
            name, _, rule = key[len(_FIELDS) :].partition("/")
            counts.setdefault(name, {})[rule] = int(value)
    return counts


def format_field_sources(counts: dict[str, dict[str, int]]) -> str:
    """One line: which fields came from somewhere else than the site's own selectors, and how
    often (``body generic:trafilatura 100%; authors generic:meta_author 80%``)."""
    parts: list[str] = []
    for name in sorted(counts):
        rules = counts[name]
        total = sum(rules.values())
        fallbacks = sorted(((n, r) for r, n in rules.items() if not r.startswith("site")), reverse=True)
        parts += [
            f"{name} {rule} {n / total:.0%}"
            for n, rule in fallbacks
            if total and not (name in _OPTIONAL and rule == "none")
        ]
    return "; ".join(parts) if parts else "every field from the site's own selectors"


def format_health(
    rows: list[dict[str, Any]],
    baselines: dict[str, tuple[int, Sample]],
    sources: dict[str, dict[str, dict[str, int]]] | None = None,
) -> list[str]:
    """Per site: the verdict of its latest judged run, a row per run (newest first), the
    reasons of unhealthy runs, where the latest run's fields came from, and the baseline new
    runs are compared with."""
    lines: list[str] = []
    for site, group in groupby(rows, key=lambda r: str(r["site"])):
        runs = list(group)
        latest = next((r for r in runs if r["judged"]), None)
        state = "no judged run yet" if latest is None else f"{_VERDICTS[latest['healthy']]} (run {latest['run_id']})"
        lines.append(f"{site}: {state}")
        lines.append(
            f"  {'run':>5}  {'started_at':25}  {'status':7}  {'verdict':9}  {'articles':>8}  {'generic':>7}  "
            f"{'lead':>5}  {'date':>5}  {'authors':>7}  {'images':>6}  body p10/median/p90"
        )
        for r in runs:
            n = r["articles"] or 0
            lines.append(
                f"  {r['run_id']:>5}  {r['started_at'] or '':25}  {r['status'] or '':7}  "
                f"{_VERDICTS[r['healthy']]:9}  {n:>8}  {_pct(r['generic'], n):>7}  {_pct(r['with_lead'], n):>5}  "
                f"{_pct(r['with_date'], n):>5}  {_pct(r['with_authors'], n):>7}  {_pct(r['with_images'], n):>6}  "
                f"{r['body_p10']}/{r['body_median']}/{r['body_p90']}"
            )
        for r in runs:
            for reason in r["reasons"] if r["healthy"] == 0 and r["judged_by"] == r["run_id"] else []:
                lines.append(f"  run {r['run_id']}: {reason}")
        if sources and sources.get(site):
            lines.append(
                f"  fields not from site selectors (run {latest and latest['run_id']}): {format_field_sources(sources[site])}"
            )
        count, base = baselines.get(site, (0, Sample()))
        if not base.articles:
            lines.append("  baseline: none yet (the first healthy runs establish it)")
        else:
            shares = "  ".join(f"{name} {base.share(name):.0%}" for name in COVERAGE)
            lines.append(
                f"  baseline: {count} healthy run{'s' if count != 1 else ''}, {base.articles} articles: {shares}  "
                f"generic {base.share('generic'):.0%}  body median {base.body_quantile(0.5)}"
            )
        lines.append("")
    return lines[:-1]


def _pct(count: int | None, total: int) -> str:
    return f"{(count or 0) / total:.0%}" if total else "-"
