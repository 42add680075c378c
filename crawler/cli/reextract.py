"""``newscrawl reextract``: run extraction again over the stored raw pages, without network.

Pages come from the ``pages`` table (zlib, :func:`storage.articles.load_raw_html`) and are
extracted in the crawl's worker pool (crawler/crawl/pool.py). A record whose content hash changed is
stored as a new version (:func:`storage.articles.save_article`, batched); its ``fetched_at``
stays that of the original fetch, since the text still comes from that fetch. A record whose
content hash is the same but whose other fields (authors, date, images...) differ is counted as
``metadata only`` and left as stored: versions key on the content hash.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import sqlite_utils

from crawler.cli.common import parse_since, read_db_path, site_keys
from crawler.cli.progress import add_verbosity, configure_logging, count_progress
from crawler.crawl.pool import ExtractCrash, ExtractionPool, ExtractTimeout, extract_workers
from crawler.crawl.runner import project_settings
from crawler.exit_codes import EXIT_ERRORS, EXIT_OK
from crawler.extract.encodings import decode_page
from crawler.extract.items import ArticleItem, Rejection
from crawler.sites.registry import sites
from storage.articles import decode_row, load_raw_html
from storage.batch import ArticleWrite, save_batch
from storage.db import open_db
from storage.prepared import RECORD_FIELDS
from storage.published import bound_params, on_or_after

_COMPARED = tuple(f for f in RECORD_FIELDS if f != "fetched_at")
BATCH = 100


def register(sub: Any) -> None:
    """Add the ``reextract`` command to the ``newscrawl`` sub-parsers."""
    p = sub.add_parser("reextract", help="re-run extraction over stored raw pages (no network); store what changed")
    p.add_argument("--db", help="database path")
    p.add_argument("--site", action="append", help="only this site (repeatable: several sites)")
    p.add_argument("--since", metavar="DATE", help="only articles published on or after DATE")
    p.add_argument("--workers", type=int, metavar="N", help="extraction processes (default: NEWS_EXTRACT_WORKERS)")
    add_verbosity(p)
    p.set_defaults(func=cmd_reextract)


def cmd_reextract(args: argparse.Namespace) -> int:
    configure_logging(args)
    keys = site_keys(args.site) if args.site else None
    since = parse_since(args.since, "--since")
    settings = project_settings()
    workers = extract_workers(settings) if args.workers is None else args.workers
    timeout = settings.getfloat("NEWS_EXTRACT_TIMEOUT")
    db = open_db(read_db_path(args), create=False)
    started = time.perf_counter()
    try:
        with count_progress(args, "reextract", 0) as bar:
            counts = reextract(db, workers, timeout, keys, since, bar)
    finally:
        db.close()
    elapsed = time.perf_counter() - started
    if args.quiet:
        return EXIT_ERRORS if counts["failed"] else EXIT_OK
    total = sum(counts.values())
    print(
        f"{total} pages re-extracted in {elapsed:.1f}s: {counts['unchanged']} unchanged, "
        f"{counts['updated']} updated, {counts['metadata_only']} metadata only, {counts['failed']} failed"
    )
    return EXIT_ERRORS if counts["failed"] else EXIT_OK


def reextract(
    db: sqlite_utils.Database,
    workers: int,
    timeout: float,
    site: str | Sequence[str] | None = None,
    since: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Counter[str]:
    """Re-extract the stored pages of ``site`` (one key or several; all sites when None)
    published on or after ``since``; store changed records; count ``unchanged`` / ``updated`` / ``metadata_only`` /
    ``failed`` (not an article any more, timed out, crashed) and ``alias``/``new`` (should a
    changed page now declare another canonical URL)."""
    configs = sites()
    where, params = ["1 = 1"], []
    keys = [site] if isinstance(site, str) else list(site or ())
    if keys:
        where.append(f"a.site in ({', '.join('?' * len(keys))})")
        params.extend(keys)
    if since:
        where.append(on_or_after("a.published_at"))
        params.extend(bound_params(since))
    sql = f"select a.url_hash from articles a join pages p on p.url_hash = a.url_hash where {' and '.join(where)}"
    # Keys first: the batches below write while the pages are read.
    keys = [r[0] for r in db.execute(sql + " order by a.rowid", params).fetchall()]
    total = len(keys)
    counts: Counter[str] = Counter()
    pending: list[ArticleWrite] = []
    done = 0
    with ExtractionPool(workers, timeout) as pool:
        for row, future in _in_flight(db, pool, keys, configs, window=max(4, workers * 8)):
            outcome = _compare(row, future)
            done += 1
            if isinstance(outcome, ArticleWrite):
                pending.append(outcome)
                if len(pending) >= BATCH:
                    counts.update(str(o) for o in save_batch(db, pending))
                    pending = []
            else:
                counts[outcome] += 1
            if progress is not None and (done % 20 == 0 or done == total):
                progress(done, total)
    if pending:
        counts.update(str(o) for o in save_batch(db, pending))
    if "duplicate" in counts:  # cannot happen: only changed hashes are written; kept visible
        counts["unchanged"] += counts.pop("duplicate")
    return counts


def _in_flight(
    db: sqlite_utils.Database,
    pool: ExtractionPool,
    keys: list[str],
    configs: dict[str, Any],
    window: int,
) -> Iterator[tuple[dict[str, Any], Future[Any]]]:
    """(stored row, extraction future) in order, at most ``window`` pages submitted ahead."""
    queue: deque[tuple[dict[str, Any], Future[Any]]] = deque()
    for key in keys:
        row = next(db.query("select * from articles where url_hash = ?", [key]))
        raw = load_raw_html(db, row["url_hash"]) or b""
        base = configs[row["site"]].base_url
        queue.append((row, pool.submit(decode_page(raw), row["url"], base, row["site"], row["fetched_at"])))
        if len(queue) >= window:
            yield queue.popleft()
    while queue:
        yield queue.popleft()


def _compare(row: dict[str, Any], future: Future[Any]) -> ArticleWrite | str:
    try:
        result = future.result().result
    except (ExtractTimeout, ExtractCrash):
        return "failed"
    if isinstance(result, Rejection) or not isinstance(result, ArticleItem):
        return "failed"
    record = result.record()
    stored = decode_row(row)
    if record["content_hash"] != stored["content_hash"]:
        return ArticleWrite(record)  # the raw page is stored already; fetched_at is the original
    if any(record[f] != stored.get(f) for f in _COMPARED):
        return "metadata_only"
    return "unchanged"
