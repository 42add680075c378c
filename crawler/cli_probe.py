"""``newscrawl probe``'s output: the table on stdout (stderr when the JSON goes there), the report."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from crawler.probe import probe_settings, run_probe, tool_versions
from crawler.probe_report import format_text, overall, report_json
from storage.articles import now_iso


def probe_command(
    keys: list[str], base_urls: dict[str, str], overrides: dict[str, Any], articles: int, json_path: str | None
) -> str:
    """``newscrawl probe``: run, print the report (on stderr when the JSON goes to stdout),
    write the JSON report; return the overall verdict."""
    from crawler.cli import UsageError

    target = None if json_path in (None, "-") else Path(str(json_path))
    if target is not None and not _writable(target):
        raise UsageError(f"cannot write the report to {target}")
    settings = probe_settings(overrides)
    started = now_iso()
    results = run_probe(keys, base_urls, overrides, articles)
    finished = now_iso()
    out = sys.stderr if json_path == "-" else sys.stdout
    for line in format_text(results):
        print(line, file=out)
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
