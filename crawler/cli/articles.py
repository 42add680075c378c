"""``newscrawl history``, ``explain`` and ``extract``: one article or URL at a time."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.cli.common import EXIT_OK, UsageError, db_path, site_keys
from crawler.cli.explain import explain
from crawler.extract.article import NotArticle, extract
from crawler.extract.urls import canonical_url, url_hash
from crawler.sites.registry import sites
from storage.articles import versions
from storage.db import open_db


def register_lookup(sub: Any) -> None:
    """Add ``history`` and ``explain`` to the ``newscrawl`` sub-parsers."""
    hist = sub.add_parser("history", help="the stored versions of an article")
    hist.add_argument("url")
    hist.add_argument("--db", help="database path")
    hist.set_defaults(func=cmd_history)

    expl = sub.add_parser("explain", help="what the crawler knows of a URL")
    expl.add_argument("url")
    expl.add_argument("--db", help="database path")
    expl.set_defaults(func=cmd_explain)


def register_extract(sub: Any) -> None:
    """Add ``extract`` to the ``newscrawl`` sub-parsers."""
    ext = sub.add_parser("extract", help="extract one saved page and print its record as JSON")
    ext.add_argument("--site", help="site key (default: the generic extractor)")
    ext.add_argument("--url", required=True, help="the page's URL")
    ext.add_argument("file", help="saved HTML file")
    ext.set_defaults(func=cmd_extract)


def cmd_history(args: argparse.Namespace) -> int:
    db = open_db(db_path(args), create=False)
    key = url_hash(canonical_url(args.url))
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {args.url}", file=sys.stderr)
        return 1
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        print(f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    db = open_db(db_path(args), create=False)
    for line in explain(db, args.url):
        print(line)
    db.close()
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    site = None
    if args.site:
        site_keys([args.site])
        site = sites()[args.site]
    try:
        page = Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    result = extract(page, canonical_url(args.url), site)
    if isinstance(result, NotArticle):
        print(f"not an article: {result.reason}: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result.record(), ensure_ascii=False, indent=2))
    return EXIT_OK
