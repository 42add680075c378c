"""``newscrawl`` commands that read the database for people and other tools: export."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``newscrawl`` parser."""
    export = sub.add_parser("export", help="write stored articles as JSON lines")
    export.add_argument("--db", help="database path")
    export.add_argument("--site", help="only this site")
    export.add_argument("--since", help="only articles published on or after DATE (YYYY-MM-DD or ISO)")
    export.add_argument("-o", "--output", required=True, help="output file (.gz for gzip, - for stdout)")
    export.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from crawler.cli import EXIT_OK, UsageError, _db_path, _parse_since, _site_keys
    from storage.db import open_db
    from storage.export import iter_records, open_output, write_jsonl

    if args.site:
        _site_keys([args.site])
    since = _parse_since(args.since, "--since")
    db = open_db(_db_path(args), create=False)
    try:
        with open_output(args.output) as out:
            count = write_jsonl(iter_records(db, args.site, since), out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    finally:
        db.close()
    print(f"exported {count} records to {args.output}", file=sys.stderr)
    return EXIT_OK
