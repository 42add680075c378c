"""What the long-running commands say while they work, and how loudly.

``crawl``, ``demo``, ``reextract``, ``export`` and ``ingest`` share ``-v`` / ``-vv`` / ``-q`` /
``--log-file``: Scrapy's own log (and ours) at WARNING by default, INFO with ``-v``, DEBUG
with ``-vv``, ERROR only with ``-q`` (for cron: nothing printed on success). On a terminal a
live progress line per site (rich) is drawn on stderr; the summary table goes to stdout. rich
draws the progress and the tables so that column widths and terminal handling are its
problem, not ours.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.cli.safe_print import json_line
from crawler.crawl.runs import run_counters


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """``-v``/``-vv``, ``-q`` and ``--log-file`` on one sub-command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=0, help="log INFO (-v) or DEBUG (-vv)")
    group.add_argument("-q", "--quiet", action="store_true", help="print errors only (for cron)")
    parser.add_argument("--log-file", metavar="FILE", help="write the log to FILE instead of stderr")


def log_level(args: argparse.Namespace) -> str:
    """The log level asked for on the command line (WARNING when nothing was said)."""
    if getattr(args, "quiet", False):
        return "ERROR"
    return {0: "WARNING", 1: "INFO"}.get(getattr(args, "verbose", 0), "DEBUG")


def scrapy_log_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Scrapy settings for that level (Scrapy configures its logging from them)."""
    found: dict[str, Any] = {"LOG_LEVEL": log_level(args)}
    if getattr(args, "log_file", None):
        found["LOG_FILE"] = args.log_file
    return found


def configure_logging(args: argparse.Namespace) -> None:
    """Logging of a command that starts no Scrapy crawler (export, reextract, ingest)."""
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8")
        if getattr(args, "log_file", None)
        else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log_level(args))


def live(args: argparse.Namespace) -> bool:
    """Whether to draw progress: stderr is a terminal and ``-q`` was not given."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    # Not a terminal (a pipe, a file, cron's mail): plain text at a fixed width, no colour.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


class CrawlProgress:
    """A live line per site: pages fetched, articles stored, errors, pages per second."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:10}"),
            TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(),
            console=stderr_console(),
        )
        self.started = time.monotonic()
        self.tasks = {key: self.progress.add_task(key, total=None, line="starting") for key in keys}

    def __enter__(self) -> CrawlProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, stats_by_site: dict[str, dict[str, Any]]) -> None:
        """Redraw from each site's Scrapy stats (called from the crawl's event loop)."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        for key, stats in stats_by_site.items():
            c = run_counters(stats)
            stored = c["articles_new"] + c["articles_updated"]
            line = (
                f"{c['pages_fetched']:>5} pages  {stored:>4} articles stored  {c['errors']:>3} errors  "
                f"{c['pages_fetched'] / elapsed:5.1f} pages/s"
            )
            self.progress.update(self.tasks[key], line=line)


@contextmanager
def count_progress(args: argparse.Namespace, what: str, total: int) -> Iterator[Any]:
    """A progress bar of ``total`` items on a terminal; yields ``update(done[, total])`` (a
    no-op elsewhere; ``total`` when it is known only once the work started)."""
    if not live(args):
        yield lambda done, total=None: None
        return
    progress = Progress(
        TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr_console()
    )
    task = progress.add_task(what, total=total or None)
    last = [0.0]

    def update(done: int, new_total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done == (new_total or total):
            last[0] = now
            progress.update(task, completed=done, total=new_total or total or None)

    with progress:
        yield update


# The summary's number columns: this run's figures, then the database's total (so labelled:
# it once read "stored" beside the live line's "stored", which is this run's).
SUMMARY_COLUMNS = ("fetched", "new", "updated", "unchanged", "not modified", "dropped", "errors", "in database")


def summary_table(rows: list[dict[str, Any]]) -> Table:
    """The crawl summary: one row per site: ``site``, ``status``, this run's pages fetched,
    articles ``new``, ``updated`` (text changed) and ``unchanged`` (refetched, same text), pages
    ``not modified`` (HTTP 304), ``dropped``, ``errors``; then the site's articles ``in database``."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("site")
    table.add_column("status")
    for name in SUMMARY_COLUMNS:
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(r["site"], r["status"], *(str(r[k]) for k in SUMMARY_COLUMNS))
    return table


def summary_rows(
    results: dict[str, dict[str, Any]], status: dict[str, str], stored: dict[str, int]
) -> list[dict[str, Any]]:
    """Rows of :func:`summary_table` from each site's Scrapy stats."""
    rows = []
    for key, stats in results.items():
        c = run_counters(stats)
        rows.append(
            {
                "site": key,
                "status": status[key],
                "fetched": c["pages_fetched"],
                "new": c["articles_new"],
                "updated": c["articles_updated"],
                "unchanged": c["articles_duplicate"],
                "not modified": c["not_modified"],
                "dropped": c["dropped"],
                "errors": c["errors"],
                "in database": stored.get(key, 0),
            }
        )
    return rows


def plain_table(columns: list[str], rows: Iterable[Iterable[Any]], right: Iterable[str] = ()) -> Table:
    """A borderless table of text columns (``right``: right-aligned, for numbers)."""
    aligned = set(right)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, justify="right" if name in aligned else "left", no_wrap=True)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def print_json(value: Any) -> None:
    """One JSON value on one line of stdout (UTF-8 text kept readable)."""
    print(json_line(value))
