"""``newscrawl probe``'s output: the table on stdout (stderr when the JSON goes there), the report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from crawler.cli.args import check_base_url, check_settings
from crawler.cli.common import UsageError, pairs, site_keys
from crawler.cli.safe_print import printable
from crawler.crawl import probe as live_probe
from crawler.crawl.probe import probe_settings, tool_versions
from crawler.crawl.probe_report import EXIT_CODES, format_text, overall, report_json
from crawler.crawl.runner import project_settings
from storage.articles import now_iso


def register(sub: Any) -> None:
    """Add ``probe`` to the ``newscrawl`` sub-parsers."""
    probe = sub.add_parser(
        "probe", help="check the live sites: fetch entry points and a few articles, report what extraction made of them"
    )
    probe.add_argument("sites", nargs="*", metavar="SITE", help="site keys (default: all)")
    probe.add_argument("--articles", type=int, default=3, metavar="N", help="article pages per site (default: 3)")
    probe.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE (- for stdout)")
    probe.add_argument(
        "--base-url", action="append", default=[], metavar="SITE=URL", help="probe SITE at URL (a replica or mirror)"
    )
    probe.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting"
    )
    probe.set_defaults(func=cmd_probe)


def cmd_probe(args: argparse.Namespace) -> int:
    """Exit 0 when every site is ok, 6 when one is degraded, 3 when one is broken."""
    keys = site_keys(args.sites)
    base_urls = {site: check_base_url(site, url) for site, url in pairs(args.base_url, "--base-url").items()}
    site_keys(list(base_urls))
    if args.articles < 1:
        raise UsageError("--articles must be at least 1")
    overrides = pairs(args.set, "--set")
    check_settings(overrides, project_settings())
    verdict = probe_command(keys, base_urls, overrides, args.articles, args.json)
    return EXIT_CODES[verdict]


def probe_command(
    keys: list[str], base_urls: dict[str, str], overrides: dict[str, Any], articles: int, json_path: str | None
) -> str:
    """``newscrawl probe``: run, print the report (on stderr when the JSON goes to stdout),
    write the JSON report; return the overall verdict."""
    target = None if json_path in (None, "-") else Path(str(json_path))
    if target is not None and not _writable(target):
        raise UsageError(f"cannot write the report to {target}")
    settings = probe_settings(overrides)
    started = now_iso()
    results = live_probe.run_probe(keys, base_urls, overrides, articles)
    finished = now_iso()
    out = sys.stderr if json_path == "-" else sys.stdout
    for line in format_text(results):
        print(printable(line), file=out)  # titles and URLs come from pages: nothing drives the terminal
    if json_path is not None:
        report = report_json(
            results,
            tool=tool_versions(),
            started_at=started,
            finished_at=finished,
            options={
                "articles": articles,
                "base_urls": base_urls,
                "settings": {k: str(v) for k, v in overrides.items()},
                "user_agent": settings.get("USER_AGENT"),
                "robotstxt_obey": settings.getbool("ROBOTSTXT_OBEY"),
            },
        )
        text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
        if target is None:
            sys.stdout.write(text)
        else:
            # Written whole or not at all: an earlier report at that path is never half-replaced.
            partial = target.with_name(target.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)
    return overall(results)


def _writable(path: Path) -> bool:
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir():
        return False
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
