"""``newscrawl history``, ``explain`` and ``extract``: one article or URL at a time."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.api import NotAnArticle, extract_article
from crawler.cli.common import EXIT_OK, UsageError, read_db_path, site_keys
from crawler.cli.console import print_json
from crawler.cli.explain import explain
from crawler.extract.urls import canonical_url, url_hash
from storage.articles import versions
from storage.db import open_db


def register_lookup(sub: Any) -> None:
    """Add ``history`` and ``explain`` to the ``newscrawl`` sub-parsers."""
    hist = sub.add_parser("history", help="the stored versions of an article")
    hist.add_argument("url")
    hist.add_argument("--db", help="database path")
    hist.add_argument("--json", action="store_true", help="one JSON object per version")
    hist.set_defaults(func=cmd_history)

    expl = sub.add_parser("explain", help="what the crawler knows of a URL")
    expl.add_argument("url")
    expl.add_argument("--db", help="database path")
    expl.add_argument("--json", action="store_true", help="one JSON object: the URL, its canonical form, the facts")
    expl.set_defaults(func=cmd_explain)


def register_extract(sub: Any) -> None:
    """Add ``extract`` to the ``newscrawl`` sub-parsers."""
    ext = sub.add_parser("extract", help="extract one saved page and print its record as JSON")
    ext.add_argument("--site", help="site key (default: the generic extractor)")
    ext.add_argument("--url", help="the page's URL (default: the page's rel=canonical or og:url)")
    ext.add_argument("file", help="saved HTML file, - for stdin")
    ext.set_defaults(func=cmd_extract)


def cmd_history(args: argparse.Namespace) -> int:
    db = open_db(read_db_path(args), create=False)
    key = url_hash(canonical_url(args.url))
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {args.url}", file=sys.stderr)
        return 1
    if args.json:
        for row in rows:
            print_json({k: row.get(k) for k in ("version", "fetched_at", "content_hash", "changed", "title")})
        return EXIT_OK
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        print(f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    db = open_db(read_db_path(args), create=False)
    lines = explain(db, args.url)
    db.close()
    if args.json:
        print_json({"url": args.url, "canonical": canonical_url(args.url), "facts": lines})
        return EXIT_OK
    for line in lines:
        print(line)
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    if args.site:
        site_keys([args.site])
    try:
        page = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    try:
        record = extract_article(page, args.url, args.site)
    except NotAnArticle as exc:
        print(exc, file=sys.stderr)
        return 1
    except ValueError as exc:
        raise UsageError(f"{args.file}: {exc}".replace("pass url=", "pass --url")) from exc
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return EXIT_OK
