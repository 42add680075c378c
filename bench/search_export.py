"""Search and export benchmark: ``python -m bench.search_export [--articles N] [--db PATH]``.

Builds a synthetic database of N articles (default 100,000) by perturbing the replica
articles (sentences shuffled and recombined across articles, words swapped, new dates, URLs
and hashes) through the real write path (triggers keep both FTS indexes in sync), then prints:

- search latency (median, p95) of exact and folded queries of 1-3 words, top 10;
- full export throughput (JSON lines, and gzip) and an incremental export of the last 1%;
- each against ``select count(*) from articles`` on the same database, as ratios;
- the queries an analyst types (issue 28) through ``open_archive(...).search``, top 10, beside
  plain sqlite-utils ``Table.search`` and, with ``--against REV``, the search of an older git
  revision, interleaved query by query so they share the machine's load (``--search-only``
  skips the rest).

Takes about 3 minutes on 2 cores for 100,000 articles; ``--db`` keeps the database for reuse.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from storage import export
from storage.archive import open_archive
from storage.db import open_db
from storage.search import fold, search
from storage.text import hash_key

VN = timezone(timedelta(hours=7))
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_COLUMNS = (
    "url_hash", "site", "url", "title", "lead", "body", "authors", "published_at", "published_at_raw", "category",
    "tags", "images", "language", "extractor", "content_hash", "fetched_at", "first_seen_at", "version",
)  # fmt: skip


def replica_rows() -> list[dict[str, Any]]:
    """The replica articles, extracted (``crawler/testing/corpus.py``, the tests' builder too)."""
    from crawler.testing.corpus import replica_items

    return [item.record() for item in replica_items()]


def synthetic(base: list[dict[str, Any]], count: int, seed: int = 5) -> Iterator[dict[str, Any]]:
    """``count`` articles made from ``base``: recombined sentences, swapped words, new dates."""
    rng = random.Random(seed)
    sentences = [s for r in base for s in _SENTENCE_END.split(r["body"].replace("\n", " ")) if len(s) > 20]
    words = sorted({w for r in base for w in r["title"].split()})
    start = datetime(2019, 1, 1, tzinfo=VN)
    for i in range(count):
        model = base[i % len(base)]
        title = model["title"].split()
        for _ in range(2):
            title[rng.randrange(len(title))] = rng.choice(words)
        body = "\n".join(rng.sample(sentences, rng.randint(8, 20)))
        when = start + timedelta(minutes=rng.randrange(7 * 365 * 24 * 60))
        url = f"{model['url'].rsplit('/', 1)[0]}/bai-{i}.html"
        yield {
            **model,
            "url": url,
            "url_hash": hash_key(url),
            "title": " ".join(title),
            "body": body,
            "authors": json.dumps(model["authors"], ensure_ascii=False),
            "tags": json.dumps(model["tags"], ensure_ascii=False),
            "images": json.dumps(model["images"], ensure_ascii=False),
            "published_at": when.isoformat(),
            # A plain hash of the raw text: content_hash() normalises char by char, a third of the build time.
            "content_hash": hash_key(" ".join(title) + "\n" + body),
            "fetched_at": "2026-02-01T03:00:00+00:00",
            "first_seen_at": "2026-02-01T03:00:00+00:00",
            "version": 1,
        }


def build(path: Path, count: int) -> sqlite_utils.Database:
    """Fill ``path`` with ``count`` articles and one version row each, in batches of 5,000."""
    db = open_db(path)
    if db.table("articles").count >= count:
        return db
    # A throwaway database: no fsync, a large page cache for the FTS segment merges.
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    rows = synthetic(replica_rows(), count)
    marks = ", ".join("?" for _ in _COLUMNS)
    while batch := [next(rows, None) for _ in range(5000)]:
        batch_rows = [r for r in batch if r is not None]
        if not batch_rows:
            break
        with db.atomic():
            db.conn.executemany(
                f"insert into articles ({', '.join(_COLUMNS)}) values ({marks})",
                [[r[c] for c in _COLUMNS] for r in batch_rows],
            )
            db.conn.executemany(
                "insert into article_versions (url_hash, version, fetched_at, content_hash, changed, title, lead, "
                "body, authors, published_at) values (?, 1, ?, ?, '[]', ?, ?, ?, ?, ?)",
                [[r[c] for c in ("url_hash", "fetched_at", "content_hash", "title", "lead", "body", "authors",
                                 "published_at")] for r in batch_rows],
            )  # fmt: skip
        if len(batch_rows) < 5000:
            break
    return db


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


ANALYST_EXACT = ("công an", "ma túy", "lừa đảo", "tham nhũng", "Bộ Công an", "khởi tố", "Công an tỉnh", "đường dây")
ANALYST_FOLDED = ("cong an", "ma tuy", "lua dao", "tham nhung", "bo cong an", "khoi to", "cong an tinh", "duong day")


def revision_search(rev: str) -> Callable[..., list[Any]]:
    """``storage.search.search`` as it was at git revision ``rev`` (a "before" in the same run)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:storage/search.py"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(f"search_at_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:storage/search.py", "exec"), module.__dict__)
    found: Callable[..., list[Any]] = module.search
    return found


def analyst_searches(path: Path, rounds: int, against: str | None) -> None:
    """p50/p95 of the analyst queries, top 10, per implementation, interleaved query by query."""
    archive = open_archive(path)
    db = open_db(path, readonly=True)
    table = db.table("articles")
    old = revision_search(against) if against else None
    print(f"\nanalyst queries, top 10, {rounds} rounds; load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'search':44} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9} {'p95/base':>9}")
    for mode, folded, queries, sort in (
        ("exact", False, ANALYST_EXACT, "relevance"),
        ("folded", True, ANALYST_FOLDED, "relevance"),
        ("exact by date", False, ANALYST_EXACT, "date"),
    ):
        runs: dict[str, Callable[[str], object]] = {
            # sqlite-utils has no date order: its relevance search stays the baseline.
            "sqlite-utils Table.search": lambda q: list(table.search(q, limit=10)),
            "open_archive(...).search": lambda q, f=folded, s=sort: archive.search(q, folded=f, limit=10, sort=s),  # type: ignore[misc]
        }
        if old is not None:
            runs[f"search at {against}"] = lambda q, f=folded, s=sort: [  # type: ignore[misc]
                h.record() for h in old(db, q, folded=f, limit=10, sort=s)
            ]
        times: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(rounds):
            for query in queries:
                for label, run in runs.items():
                    times[label].append(timed(lambda r=run, q=query: r(q)))  # type: ignore[misc]
        base = times["sqlite-utils Table.search"]
        for label, values in times.items():
            if sort == "date" and label.startswith("sqlite-utils"):
                label = "sqlite-utils Table.search (relevance)"
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            ratio50, ratio95 = p50 / statistics.median(base), p95 / percentile(base, 0.95)
            print(f"{mode + ', ' + label:44} {p50 * 1000:>8.1f} {p95 * 1000:>8.1f} {ratio50:>8.2f}x {ratio95:>8.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    archive.close()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="queries per search mode")
    parser.add_argument("--db", type=Path, help="keep the database here (reused when already full)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the analyst queries")
    parser.add_argument("--against", metavar="REV", help="also time storage/search.py as of this git revision")
    parser.add_argument("--search-only", action="store_true", help="only the analyst queries (needs --db, built)")
    parser.add_argument(
        "--no-full-export", action="store_true", help="skip the full exports (minutes at a million articles)"
    )
    args = parser.parse_args()
    if args.search_only:
        if args.db is None:
            parser.error("--search-only needs --db")
        build(args.db, args.articles).close()
        analyst_searches(args.db, args.rounds, args.against)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.sqlite3"
        reused = path.exists()
        took = timed(lambda: build(path, args.articles).close())
        db = open_db(path)
        n = db.table("articles").count
        size = sum(os.path.getsize(p) for p in Path(path).parent.glob(Path(path).name + "*")) / 1e6
        how = "reused" if reused else f"built in {took:.0f} s (triggers indexing both FTS tables)"
        print(f"database: {n} articles, {size:.0f} MB, {how}")
        baseline = statistics.median(
            timed(lambda: db.execute("select count(*) from articles").fetchone()) for _ in range(5)
        )
        print(f"baseline select count(*): {baseline * 1000:.2f} ms")

        rng = random.Random(7)
        vocabulary = [w for r in replica_rows() for w in re.findall(r"\w{3,}", r["title"])]
        phrases = [" ".join(rng.sample(vocabulary, rng.randint(1, 3))) for _ in range(args.queries)]
        print(f"\n{'search (top 10)':28} {'median ms':>10} {'p95 ms':>9} {'median/count':>13} {'hits/query':>11}")
        filtered: dict[str, Any] = {"site": "cao", "since": "2025-01-01T00:00:00+07:00"}
        for label, folded, where in (
            ("exact", False, {}),
            ("folded", True, {}),
            ("exact, cao since 2025", False, filtered),
        ):
            latencies, hits = [], 0
            for phrase in phrases:
                query = fold(phrase) if folded else phrase
                started = time.perf_counter()
                hits += len(search(db, query, folded=folded, limit=10, **where))
                latencies.append(time.perf_counter() - started)
            median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
            print(
                f"{label:28} {median * 1000:>10.2f} {p95 * 1000:>9.2f} {median / baseline:>12.1f}x {hits / len(phrases):>11.1f}"
            )

        print(f"\n{'export':28} {'seconds':>10} {'records/s':>10} {'MB/s':>7} {'time/count':>11}")
        full = (
            ()
            if args.no_full_export
            else (
                ("full, JSON lines", ".jsonl"),
                ("full, JSON lines .gz", ".jsonl.gz"),
                ("full, CSV", ".csv"),
            )
        )
        for label, suffix in full:
            target = str(Path(tmp) / f"dump{suffix}")
            writer = export.write_csv if suffix == ".csv" else export.write_jsonl
            started = time.perf_counter()
            with export.open_output(target) as out:
                count = writer(export.iter_records(db), out)
            seconds = time.perf_counter() - started
            mb = os.path.getsize(target) / 1e6
            print(
                f"{label:28} {seconds:>10.1f} {count / seconds:>10.0f} {mb / seconds:>7.1f} {seconds / baseline:>10.0f}x"
            )
            os.remove(target)
        upto = export.last_version_rowid(db)
        after = upto - n // 100
        target = str(Path(tmp) / "delta.jsonl")
        started = time.perf_counter()
        with export.open_output(target) as out:
            count = export.write_jsonl(export.iter_changes(db, after, upto), out)
        seconds = time.perf_counter() - started
        print(
            f"{'incremental, last 1%':28} {seconds:>10.2f} {count / seconds:>10.0f} {'':>7} {seconds / baseline:>10.0f}x"
        )
        db.close()
        analyst_searches(path, args.rounds, args.against)


if __name__ == "__main__":
    main()
