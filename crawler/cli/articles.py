"""``newscrawl history``, ``explain`` and ``extract``: one article or URL at a time."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from typing import Any

from crawler.cli.common import UsageError, read_db_path, site_keys, url_argument
from crawler.cli.explain import explain
from crawler.cli.progress import print_json
from crawler.cli.safe_print import printable
from crawler.crawl.runner import project_settings
from crawler.exit_codes import EXIT_OK
from crawler.extract.urls import url_hash
from crawler.settings import DOWNLOAD_MAXSIZE
from storage.articles import versions
from storage.db import open_db


def register_lookup(sub: Any) -> None:
    """Add ``history`` and ``explain`` to the ``newscrawl`` sub-parsers."""
    hist = sub.add_parser("history", help="the stored versions of an article")
    hist.add_argument("url")
    hist.add_argument("--db", help="database path")
    hist.add_argument("--json", action="store_true", help="one JSON object per version")
    hist.add_argument(
        "--diff",
        nargs="*",
        type=int,
        metavar="V",
        help="a text diff: of the last two versions, of version V and the latest, or of V1 and V2",
    )
    hist.set_defaults(func=cmd_history)

    expl = sub.add_parser("explain", help="what the crawler knows of a URL")
    expl.add_argument("url")
    expl.add_argument("--db", help="database path")
    expl.add_argument("--json", action="store_true", help="one JSON object: the URL, its canonical form, the facts")
    expl.set_defaults(func=cmd_explain)


def register_extract(sub: Any) -> None:
    """Add ``extract`` to the ``newscrawl`` sub-parsers."""
    ext = sub.add_parser("extract", help="extract one saved page and print its record as JSON")
    ext.add_argument(
        "--site", action="append", help="site key (default: the site the URL is on, else the generic extractor)"
    )
    ext.add_argument("--generic", action="store_true", help="the generic extractor, even for a known site's page")
    ext.add_argument("--url", help="the page's URL (default: the page's rel=canonical or og:url)")
    ext.add_argument(
        "--strict",
        action="store_true",
        help="without --site, also refuse (exit 1) a page with text that is not judged an article",
    )
    ext.add_argument("file", help="saved HTML file, - for stdin")
    ext.set_defaults(func=cmd_extract)


def cmd_history(args: argparse.Namespace) -> int:
    key = url_hash(url_argument(args.url))
    db = open_db(read_db_path(args), readonly=True)
    alias = next(db.query("select url_hash from aliases where alias_hash = ?", [key]), None)
    rows = versions(db, alias["url_hash"] if alias else key)
    db.close()
    if not rows:
        print(f"no stored article at {printable(args.url)}", file=sys.stderr)
        return 1
    if args.diff is not None:
        return _print_diff(rows, args.diff, args.json)
    if args.json:
        for row in rows:
            print_json({k: row.get(k) for k in ("version", "fetched_at", "content_hash", "changed", "title")})
        return EXIT_OK
    for row in rows:
        changed = ", ".join(row["changed"]) or "first version"
        line = f"v{row['version']}  {row['fetched_at']}  {row['content_hash'][:12]}  {changed}  {row['title']}"
        print(printable(line))
    return EXIT_OK


def _print_diff(rows: list[dict[str, Any]], wanted: list[int], as_json: bool) -> int:
    """A unified diff of two stored versions' text (title, lead, authors, date, body by paragraph)."""
    by_number = {row["version"]: row for row in rows}
    if len(wanted) > 2:
        raise UsageError(f"--diff takes at most two versions, got {len(wanted)}")
    if len(rows) < 2 and not wanted:
        print(f"v{rows[0]['version']} is the only stored version: nothing to compare", file=sys.stderr)
        return EXIT_OK
    latest = rows[-1]["version"]
    pair = wanted if len(wanted) == 2 else [wanted[0], latest] if wanted else [rows[-2]["version"], latest]
    missing = [v for v in pair if v not in by_number]
    if missing:
        known = ", ".join(str(v) for v in by_number)
        raise UsageError(f"--diff: no version {', '.join(map(str, missing))} (stored: {known})")
    old, new = (by_number[v] for v in pair)
    lines = list(
        difflib.unified_diff(
            _version_text(old),
            _version_text(new),
            f"v{old['version']} {old['fetched_at']}",
            f"v{new['version']} {new['fetched_at']}",
            n=1,  # a line is a whole paragraph: one around each change is context enough
            lineterm="",
        )
    )
    if as_json:
        print_json({"from": old["version"], "to": new["version"], "diff": lines})
        return EXIT_OK
    for line in lines:
        print(printable(line))
    if not lines:
        print(f"v{old['version']} and v{new['version']} have the same text", file=sys.stderr)
    return EXIT_OK


def _version_text(row: dict[str, Any]) -> list[str]:
    """The lines a diff compares: one per field, the body one per paragraph."""
    authors = ", ".join(row.get("authors") or [])
    head = [f"title: {row.get('title') or ''}", f"lead: {row.get('lead') or ''}", f"authors: {authors}"]
    head.append(f"published_at: {row.get('published_at') or ''}")
    return [*head, "", *(row.get("body") or "").splitlines()]


def cmd_explain(args: argparse.Namespace) -> int:
    canonical = url_argument(args.url)
    db = open_db(read_db_path(args), readonly=True)
    lines = explain(db, args.url)
    db.close()
    if args.json:
        print_json({"url": args.url, "canonical": canonical, "facts": lines})
        return EXIT_OK
    for line in lines:
        print(printable(line))
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    if args.site and len(args.site) > 1:
        raise UsageError(f"one page is from one site: --site {' --site '.join(args.site)} names several")
    site = site_keys(args.site)[0] if args.site else None
    if site and args.generic:
        raise UsageError(f"--site {site} and --generic: choose one")
    page = _read_page(args.file)
    url = url_argument(args.url) if args.url else None
    # The extractor (trafilatura) loads with the one command that runs it here: every other
    # command, the crawl first (its workers extract), starts without it.
    from crawler.api import NotAnArticle, extract_item

    try:
        item = extract_item(page, url, site, generic=args.generic)
    except NotAnArticle as exc:
        print(printable(str(exc)), file=sys.stderr)
        return 1
    except ValueError as exc:
        raise UsageError(f"{args.file}: {exc}".replace("pass url=", "pass --url")) from exc
    if item.verdict is not None:
        if args.strict:
            print(printable(f"not an article: {item.verdict}"), file=sys.stderr)
            return 1
        print(printable(f"note: not judged an article ({item.verdict}); --strict refuses it"), file=sys.stderr)
    print(json.dumps(item.record(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _read_page(path: str) -> bytes:
    """The saved page, refused when larger than a crawl would download (``DOWNLOAD_MAXSIZE``):
    ``extract /dev/zero`` must not read until the kernel kills it."""
    cap = project_settings().getint("DOWNLOAD_MAXSIZE") or DOWNLOAD_MAXSIZE
    try:
        if path == "-":
            page = sys.stdin.buffer.read(cap + 1)
        else:
            with open(path, "rb") as source:
                page = source.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(page) > cap:
        raise UsageError(f"{path}: larger than {cap} bytes (DOWNLOAD_MAXSIZE), not a page a crawl would store")
    return page
