"""``newscrawl`` commands that read the database for people and other tools: export, search, serve."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from crawler.cli.args import bounded_int, listen_host, port
from crawler.cli.common import UsageError, parse_since, parse_until, read_db_path, site_keys
from crawler.cli.progress import add_verbosity, configure_logging, count_progress
from crawler.cli.safe_print import json_line, printable
from crawler.cli.web import serve
from crawler.exit_codes import EXIT_ERRORS, EXIT_OK
from storage import dedup, dedup_index, export
from storage.db import open_db
from storage.search import QueryError, count, match_expression, search
from storage.when import FORMS


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``newscrawl`` parser."""
    exp = sub.add_parser("export", help="write stored articles as JSON lines or CSV")
    exp.add_argument("--db", help="database path")
    exp.add_argument("--site", action="append", help="only this site (repeatable: several sites)")
    exp.add_argument("--since", help=f"only articles published (or fetched) on or after DATE ({FORMS})")
    exp.add_argument("--until", metavar="DATE", help="only articles published (or fetched) on or before DATE")
    exp.add_argument(
        "--since-field",
        choices=("published", "fetched"),
        default="published",
        help="the time --since and --until apply to",
    )
    exp.add_argument("--query", metavar="QUERY", help="only the articles this search matches (newscrawl search syntax)")
    exp.add_argument("--folded", action="store_true", help="--query ignores accents ('lua dao' finds 'lừa đảo')")
    exp.add_argument(
        "--one-per-cluster", action="store_true", help="one record per story: each duplicate cluster's original only"
    )
    exp.add_argument(
        "--incremental",
        metavar="STATE_FILE",
        help="only what is new or changed since the export recorded in STATE_FILE (created if missing)",
    )
    exp.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="for stdout, a FIFO or a device (default jsonl); a file's format comes from its name",
    )
    exp.add_argument("--columns", metavar="A,B,...", help="only these fields, in this order (README: The record)")
    exp.add_argument("--excel", action="store_true", help="CSV that Excel opens with Vietnamese intact (UTF-8 BOM)")
    exp.add_argument(
        "-o", "--output", default="-", help="output file: .jsonl, .csv, .jsonl.gz or .csv.gz (default and -: stdout)"
    )
    add_verbosity(exp)
    exp.set_defaults(func=cmd_export)

    search = sub.add_parser("search", help="full-text search of stored articles, best first")
    search.add_argument(
        "query", help='words (all must occur), "a phrase", a prefix*, OR, NOT or -word (FTS5\'s operators)'
    )
    search.add_argument("--db", help="database path")
    search.add_argument("--site", action="append", help="only this site (repeatable: several sites)")
    search.add_argument("--since", metavar="DATE", help=f"only articles published on or after DATE ({FORMS})")
    search.add_argument("--until", metavar="DATE", help="only articles published on or before DATE (a day: all of it)")
    search.add_argument(
        "--sort", choices=("relevance", "date"), default="relevance", help="relevance (default) or date, newest first"
    )
    shown = search.add_mutually_exclusive_group()
    shown.add_argument("--limit", type=bounded_int(1), default=10, metavar="N", help="at most N hits (default 10)")
    shown.add_argument("--all", action="store_true", help="every hit")
    search.add_argument("--folded", action="store_true", help="ignore accents: 'cong an' finds 'Công an', d finds đ")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.set_defaults(func=cmd_search)

    serve = sub.add_parser("serve", help="browse and search the database in Datasette")
    serve.add_argument("--db", help="database path")
    serve.add_argument("--port", type=port, default=8001, help="port on 127.0.0.1 (default 8001, 0: any free port)")
    serve.add_argument(
        "--host", type=listen_host, default="127.0.0.1", help="IP address to listen on (default 127.0.0.1)"
    )
    serve.set_defaults(func=cmd_serve)

    dupes = sub.add_parser("dupes", help="stories published by several outlets: near-duplicate clusters")
    dupes.add_argument("--db", help="database path")
    dupes.add_argument("--site", action="append", help="clusters with a copy on this site (repeatable)")
    dupes.add_argument("--since", help="clusters with a copy published on or after DATE")
    dupes.add_argument("--json", action="store_true", help="one JSON object per cluster")
    dupes.add_argument("--backfill", action="store_true", help="first index stored articles not indexed yet")
    dupes.set_defaults(func=cmd_dupes)


def cmd_export(args: argparse.Namespace) -> int:
    configure_logging(args)
    selection = _selection(args)
    try:
        state = export.read_state(args.incremental, selection) if args.incremental else None
        streamed = args.output == "-" or export.check_target(Path(args.output))
    except (export.StateError, export.OutputError) as exc:
        raise UsageError(str(exc)) from exc
    write = _writer(args, streamed)
    db = open_db(read_db_path(args), readonly=True)
    # A bar on the terminal only, never mixed into the records when they go to a terminal.
    bar = sys.stderr.isatty() and not (args.output == "-" and sys.stdout.isatty())

    def sink(records: Iterator[dict[str, Any]], total: int) -> int:
        with count_progress(args if bar else _QUIET, "exporting", total) as progress:
            with export.open_output(args.output) as out:
                return write(records, out, progress)

    try:
        done = export.export_records(db, selection, state, sink, count=bar)
    except BrokenPipeError:
        # The reader went away (`| head`, a FIFO's reader): the dump is incomplete, so the
        # state stays put.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS
    except (OSError, export.OutputError) as exc:
        raise UsageError(f"cannot write {args.output}: {getattr(exc, 'strerror', None) or exc}") from exc
    finally:
        db.close()
    if state is not None:
        try:
            export.advance_state(args.incremental, state, done)
        except OSError as exc:
            raise UsageError(f"cannot write {args.incremental}: {exc.strerror or exc}") from exc
    if not args.quiet:
        print(f"exported {done.written} records to {'stdout' if args.output == '-' else args.output}", file=sys.stderr)
    return EXIT_OK


_QUIET = argparse.Namespace(quiet=True)


def _selection(args: argparse.Namespace) -> export.Selection:
    keys = tuple(site_keys(args.site)) if args.site else ()
    if args.folded and not args.query:
        raise UsageError("--folded applies to --query: give the words to search for")
    if args.query:
        try:
            match_expression(args.query, args.folded)
        except QueryError as exc:
            raise UsageError(f"--query: {exc}") from exc
    return export.Selection(
        keys[0] if len(keys) == 1 else keys or None,
        parse_since(args.since, "--since"),
        args.since_field,
        one_per_cluster=args.one_per_cluster,
        until=parse_until(args.until, "--until"),
        query=args.query,
        folded=args.folded,
    )


def _writer(args: argparse.Namespace, streamed: bool) -> Callable[[Iterable[dict[str, Any]], TextIO, Any], int]:
    """The record writer for ``-o``: its format from the file's name (refused when the name
    says none, or another than ``--format``); ``--format`` for stdout and streams."""
    try:
        named = None if streamed else export.format_of(args.output)
        columns = export.columns_of(args.columns) if args.columns else export.EXPORT_FIELDS
    except export.FormatError as exc:
        raise UsageError(str(exc)) from exc
    if named and args.format and named != args.format:
        raise UsageError(f"--format {args.format} but {args.output} names {named}: rename the file or drop --format")
    chosen = named or args.format or "jsonl"
    if args.excel and chosen != "csv":
        raise UsageError("--excel makes a CSV file: use -o NAME.csv (or --format csv)")
    if chosen == "csv":
        return functools.partial(export.write_csv, columns=columns, excel=args.excel)
    return functools.partial(export.write_jsonl, columns=columns)


def cmd_search(args: argparse.Namespace) -> int:
    sites = site_keys(args.site) if args.site else None
    since, until = parse_since(args.since, "--since"), parse_until(args.until, "--until")
    tty = sys.stdout.isatty() and not args.json
    # On a terminal the matches are marked with private-use characters, escaped text around
    # them, then turned into bold: no escape sequence but ours reaches the terminal.
    markers = ("\ue000", "\ue001") if tty else ("[", "]")
    db = open_db(read_db_path(args), readonly=True)
    limit = None if args.all else args.limit
    try:
        hits = search(
            db,
            args.query,
            folded=args.folded,
            site=sites,
            since=since,
            until=until,
            limit=limit,
            sort=args.sort,
            markers=markers,
        )

        def matching(folded: bool) -> int:
            return count(db, args.query, folded=folded, site=sites, since=since, until=until)

        total = len(hits) if limit is None or len(hits) < limit else matching(args.folded)
        # Nothing with the accents as typed: say whether the accent-free search has something.
        folded_count = matching(True) if not hits and not args.folded else 0
    except QueryError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        db.close()
    for rank, hit in enumerate(hits, 1):
        if args.json:
            print(json_line(hit.record()))
            continue
        date = (hit.published_at or "")[:10] or "undated"
        snippet = printable(" ".join(hit.snippet.split()), keep="".join(markers))
        if tty:
            snippet = snippet.replace(markers[0], "\033[1;33m").replace(markers[1], "\033[0m")
        print(f"{rank}. {printable(hit.title)}\n   {hit.site}  {date}  {printable(hit.url)}\n   {snippet}\n")
    sys.stdout.flush()  # hits that cannot be written fail here, before the count says they were shown
    if hits:
        more = " (--all or --limit N for more)" if len(hits) < total else ""
        print(f"{len(hits)} of {total} shown{more}", file=sys.stderr)
    elif folded_count:
        plural = "s" if folded_count != 1 else ""
        print(f"no exact match; without accents {folded_count} article{plural} match: add --folded", file=sys.stderr)
    elif not args.json:
        print("no match", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    path = read_db_path(args)
    open_db(path, readonly=True).close()  # fail in one line on a file that is no newscrawl database
    try:
        serve(path, args.port, args.host)
    except RuntimeError as exc:  # the Datasette plugin is not installed
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # the address is taken or not on this machine
        raise UsageError(f"--host {args.host} --port {args.port}: cannot listen there ({exc.strerror or exc})") from exc
    return EXIT_OK


def cmd_dupes(args: argparse.Namespace) -> int:
    keys = site_keys(args.site) if args.site else None
    since = parse_since(args.since, "--since")
    path = read_db_path(args)
    # --backfill writes the index: an existing newscrawl database, as it is; otherwise read-only.
    db = open_db(path, create=False, migrate=False) if args.backfill else open_db(path, readonly=True)
    try:
        if args.backfill:
            print(f"indexed {dedup_index.index_stored(db)} stored articles", file=sys.stderr)
        clusters = dedup.list_clusters(db, keys, since)
    finally:
        db.close()
    for cluster in clusters:
        if args.json:
            print(json_line(dataclasses.asdict(cluster)))
            continue
        print(f"cluster {cluster.cluster_id}: {len(cluster.members)} copies")
        for m in cluster.members:
            mark = "original" if m.is_original else f"{m.similarity:.2f}"
            print(f"  {m.site:9} {mark:>8}  {(m.published_at or '')[:16]:16}  {printable(m.title or '')}")
            print(f"  {'':9} {'':>8}  {'':16}  {printable(m.url or m.url_hash)}")
    if not args.json:
        print(f"{len(clusters)} clusters", file=sys.stderr)
    return EXIT_OK
