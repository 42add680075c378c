"""``newscrawl history``, ``explain`` and ``extract``: one article or URL at a time."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crawler.cli.common import EXIT_OK, UsageError, db_path, site_keys, url_argument
from crawler.cli.explain import explain
from crawler.cli.terminal import printable
from crawler.crawl.runner import project_settings
from crawler.extract.article import NotArticle, extract
from crawler.extract.urls import url_hash
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
    key = url_hash(url_argument(args.url))
    db = open_db(db_path(args), readonly=True)
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {printable(args.url)}", file=sys.stderr)
        return 1
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        line = f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}"
        print(printable(line))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    url_argument(args.url)
    db = open_db(db_path(args), readonly=True)
    for line in explain(db, args.url):
        print(printable(line))
    db.close()
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    site = None
    if args.site:
        site_keys([args.site])
        site = sites()[args.site]
    page = _read_page(args.file)
    result = extract(page, url_argument(args.url), site)
    if isinstance(result, NotArticle):
        print(f"not an article: {result.reason}: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result.record(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _read_page(path: str) -> bytes:
    """The saved page, refused when larger than a crawl would download (``DOWNLOAD_MAXSIZE``):
    ``extract /dev/zero`` must not read until the kernel kills it."""
    cap = project_settings().getint("DOWNLOAD_MAXSIZE") or 16 * 1024 * 1024
    try:
        with open(path, "rb") as source:
            page = source.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(page) > cap:
        raise UsageError(f"{path}: larger than {cap} bytes (DOWNLOAD_MAXSIZE), not a page a crawl would store")
    return page
