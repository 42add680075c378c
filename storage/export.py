"""Streaming export of stored records: JSON lines or CSV, full or incremental.

Memory stays constant whatever the database size: rows are read from one cursor and written
as they come. The record format is published as ``schema/article.schema.json``; fields always
come in :data:`EXPORT_FIELDS` order.

Incremental exports are keyed on the rowid of ``article_versions``: every stored version
(a new article or a changed one) gets the next rowid, in commit order since SQLite has one
writer at a time, and a refetch with unchanged text adds none. A state file records the
highest rowid exported; the next export takes the versions above it, each article once, as it
is now (``change`` says ``new`` or ``updated``). The whole export reads one snapshot (one read
transaction), so what is written and the rowid recorded agree even while a crawl is writing.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import sqlite_utils

from storage.articles import decode_row, now_iso
from storage.prepared import RECORD_FIELDS
from storage.published import bound_params, on_or_after, on_or_before
from storage.search import EXACT_FTS, FOLDED_FTS, match_expression

# Stored columns of an exported record, in order (the article record of crawler/extract/items.py,
# plus bookkeeping); ``change`` follows them.
STORED_FIELDS: tuple[str, ...] = (*RECORD_FIELDS, "first_seen_at", "version")
EXPORT_FIELDS: tuple[str, ...] = (*STORED_FIELDS, "cluster_id", "change")
# The story an article belongs to (storage/dedup.py): copies of one story on several sites
# share it; null while no copy is known.
_CLUSTER = "(select m.cluster_id from dup_members m where m.url_hash = {a}.url_hash) as cluster_id"
SinceField = Literal["published", "fetched"]
_SINCE_COLUMNS: dict[str, str] = {"published": "published_at", "fetched": "fetched_at"}
STATE_FORMAT = 1


@dataclass(frozen=True)
class Selection:
    """Which articles to export: sites, bounds (ISO 8601) on a time field, a search."""

    site: str | tuple[str, ...] | None = None  # one key, or several
    since: str | None = None
    since_field: SinceField = "published"
    one_per_cluster: bool = False  # only each story's original (earliest copy), and unclustered articles
    until: str | None = None  # inclusive, on the same field as ``since``
    query: str | None = None  # a search (storage/search.py syntax): only the articles it matches
    folded: bool = False  # the search ignores accents

    def where(self, alias: str = "a") -> tuple[list[str], list[Any]]:
        """SQL conditions on ``articles`` (as ``alias``) and their parameters.

        Raises ``storage.search.QueryError`` for a query with nothing to search for.
        """
        where: list[str] = []
        params: list[Any] = []
        keys = [self.site] if isinstance(self.site, str) else list(self.site or ())
        if keys:
            where.append(f"{alias}.site in ({', '.join('?' * len(keys))})")
            params.extend(keys)
        column = _SINCE_COLUMNS[self.since_field]
        if self.since:
            # published_at is stored in +07:00 and fetched_at in UTC: compare strings in the
            # column's own offset, or "2026-01-02T00:00:00+07:00" sorts wrongly against UTC.
            if self.since_field == "published":  # a date-only published_at counts as its whole day
                where.append(on_or_after(f"{alias}.{column}"))
                params.extend(bound_params(self.since))
            else:
                where.append(f"{alias}.{column} >= ?")
                params.append(_as_utc(self.since))
        if self.until:
            where.append(on_or_before(f"{alias}.{column}"))
            params.append(self.until if self.since_field == "published" else _as_utc(self.until))
        if self.query:
            table = FOLDED_FTS if self.folded else EXACT_FTS
            where.append(f"{alias}.rowid in (select rowid from {table} where {table} match ?)")
            params.append(match_expression(self.query, self.folded))
        if self.one_per_cluster:
            where.append(
                f"not exists (select 1 from dup_members m join dup_clusters c on c.cluster_id = m.cluster_id "
                f"where m.url_hash = {alias}.url_hash and c.original != {alias}.url_hash)"
            )
        return where, params

    def recorded(self) -> dict[str, Any]:
        """The selection as a state file records it (JSON types: several sites are a list)."""
        found: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return found


def _as_utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).isoformat()


def _columns(alias: str = "a") -> str:
    return ", ".join([*(f"{alias}.{name}" for name in STORED_FIELDS), _CLUSTER.format(a=alias)])


def _record(row: dict[str, Any], change: str) -> dict[str, Any]:
    decoded = decode_row(row)
    return {**{name: decoded.get(name) for name in (*STORED_FIELDS, "cluster_id")}, "change": change}


def count_records(db: sqlite_utils.Database, selection: Selection = Selection()) -> int:
    """How many records :func:`iter_records` yields for ``selection`` (for a progress bar)."""
    where, params = selection.where()
    sql = "select count(*) from articles a" + (" where " + " and ".join(where) if where else "")
    return int(db.execute(sql, params).fetchone()[0])


def iter_records(
    db: sqlite_utils.Database,
    site: str | None = None,
    since: str | None = None,
    since_field: SinceField = "published",
    one_per_cluster: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every stored record of the selection in insertion order; all are ``change: "new"``."""
    return iter_selected(db, Selection(site, since, since_field, one_per_cluster))


def iter_selected(db: sqlite_utils.Database, selection: Selection) -> Iterator[dict[str, Any]]:
    """Every stored record of ``selection`` in insertion order; all are ``change: "new"``."""
    where, params = selection.where()
    sql = f"select {_columns()} from articles a"
    if where:
        sql += " where " + " and ".join(where)
    for row in db.query(sql + " order by a.rowid", params):
        yield _record(row, "new")


def get_record(db: sqlite_utils.Database, url_hash: str) -> dict[str, Any] | None:
    """The exported record of one article (``change: "new"``), or None."""
    row = next(db.query(f"select {_columns()} from articles a where a.url_hash = ?", [url_hash]), None)
    return _record(row, "new") if row else None


def last_version_rowid(db: sqlite_utils.Database) -> int:
    """The rowid of the newest stored version (0 for an empty database)."""
    return int(db.execute("select coalesce(max(rowid), 0) from article_versions").fetchone()[0])


def _changes_sql(selection: Selection, after: int, upto: int) -> tuple[str, dict[str, Any]]:
    where, params = selection.where()
    # Each article once, at its newest version in (after, upto], in the order they changed;
    # "updated" when a version at or below ``after`` was exported before.
    sql = (
        f"select {_columns()}, case when exists (select 1 from article_versions o "
        "where o.url_hash = v.url_hash and o.rowid <= :after) then 'updated' else 'new' end as change "
        "from article_versions v join articles a on a.url_hash = v.url_hash "
        "where v.rowid > :after and v.rowid <= :upto and not exists (select 1 from article_versions l "
        "where l.url_hash = v.url_hash and l.version > v.version and l.rowid <= :upto)"
    )
    named: dict[str, Any] = {"after": after, "upto": upto}
    numbered = iter(range(len(params)))
    for condition in where:  # each "?" becomes a named parameter, in order
        sql += " and " + re.sub(r"\?", lambda _: f":p{next(numbered)}", condition)
    named.update({f"p{i}": value for i, value in enumerate(params)})
    return sql + " order by v.rowid", named


def iter_changes(
    db: sqlite_utils.Database, after: int, upto: int, selection: Selection = Selection()
) -> Iterator[dict[str, Any]]:
    """Articles with a version stored after rowid ``after`` (up to ``upto``), as they are now."""
    sql, named = _changes_sql(selection, after, upto)
    for row in db.query(sql, named):
        yield _record(row, row["change"])


def count_changes(db: sqlite_utils.Database, after: int, upto: int, selection: Selection = Selection()) -> int:
    """How many records :func:`iter_changes` yields."""
    sql, named = _changes_sql(selection, after, upto)
    return int(db.execute(f"select count(*) from ({sql})", named).fetchone()[0])


@contextmanager
def snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction: every query inside sees the same database state (WAL)."""
    db.execute("begin")
    try:
        yield
    finally:
        db.conn.rollback()


@dataclass
class ExportState:
    """What an incremental export has already written (the content of the state file)."""

    last_version_rowid: int = 0
    selection: dict[str, Any] = field(default_factory=dict)
    exported_at: str | None = None
    records: int = 0
    format: int = STATE_FORMAT


class StateError(ValueError):
    """A state file that cannot be read or belongs to another selection."""


def read_state(path: str | Path, selection: Selection) -> ExportState:
    """The state at ``path`` (a fresh one when the file does not exist).

    Raises :class:`StateError` when the file is unreadable or was written for another
    site/since selection: continuing it would silently skip or repeat records.
    """
    target = Path(path)
    try:
        check_target(target, allow_streams=False)
    except OutputError as exc:
        raise StateError(str(exc)) from None
    if not target.exists():
        return ExportState(selection=selection.recorded())
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        state = ExportState(**data)
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        raise StateError(f"{target}: not an export state file ({exc})") from exc
    # The rowid goes into SQL: a string compares as text, a huge number overflows SQLite.
    rowid, records = state.last_version_rowid, state.records
    if not _sql_int(rowid) or rowid < 0 or not _sql_int(records) or not isinstance(state.selection, dict):
        raise StateError(f"{target}: not an export state file (last_version_rowid {rowid!r} is no row number)")
    # A state file written before a selection field existed recorded its default.
    if {**Selection().recorded(), **state.selection} != selection.recorded():
        raise StateError(f"{target}: written for another selection {state.selection}, not {selection.recorded()}")
    return state


def _sql_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def write_state(path: str | Path, state: ExportState) -> None:
    """Write ``state`` atomically: a reader sees the old file or the new one, never half."""
    state.exported_at = now_iso()
    _atomic_write(Path(path), (json.dumps(asdict(state), indent=2) + "\n").encode("utf-8"))


Sink = Callable[[Iterator[dict[str, Any]], int], int]


@dataclass(frozen=True)
class Exported:
    """What one export wrote: ``written`` records, and the last version row it covers (``upto``,
    None for a full export), which is where the next incremental export starts."""

    written: int
    upto: int | None = None


def export_records(
    db: sqlite_utils.Database, selection: Selection, state: ExportState | None, sink: Sink, count: bool = False
) -> Exported:
    """Hand ``sink`` the records to export and return what it wrote, all in one snapshot.

    Without ``state``, every selected record; with it (an incremental export), the records
    changed since ``state.last_version_rowid`` up to the last version now stored, each with its
    ``change``. ``sink(records, total)`` writes them and returns how many it wrote; ``total`` is
    their count when ``count`` (for a progress bar; 0 otherwise, and then not computed). The
    state does not move here: :func:`advance_state` does, once the output is complete.
    """
    with snapshot(db):
        if state is None:
            total = count_records(db, selection) if count else 0
            return Exported(sink(iter_selected(db, selection), total))
        upto = last_version_rowid(db)
        after = state.last_version_rowid
        total = count_changes(db, after, upto, selection) if count else 0
        return Exported(sink(iter_changes(db, after, upto, selection), total), upto)


def advance_state(path: str | Path, state: ExportState, done: Exported) -> None:
    """Move the incremental export at ``path`` past ``done``, once its output is complete (and
    renamed into place): an export cut short leaves the state where it was, so the next run
    writes those records again rather than skipping them."""
    if done.upto is None:
        raise ValueError("a full export does not advance an incremental state")
    state.last_version_rowid, state.records = done.upto, done.written
    write_state(path, state)


def _atomic_write(target: Path, data: bytes) -> None:
    real = Path(os.path.realpath(target))  # through a symlink to its target, the link kept
    real.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
    try:
        os.fchmod(handle, _new_file_mode(real))
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputError(ValueError):
    """An output path that must not be written or replaced (a directory, a block device...)."""


def check_target(target: Path, allow_streams: bool = True) -> bool:
    """Check where a dump or state file would go, before anything is read or written.

    A dump needs its directory to exist; a state file's is created (``allow_streams`` False).
    Returns True when the path is a stream to write straight into: a FIFO, a character device
    (``/dev/null``) or a descriptor the command inherited (``/dev/stdout``, ``/dev/fd/N``),
    which must never be replaced by a file. False for a regular file (or none yet), which is
    written beside it and renamed into place; a symlink is followed and kept. Raises
    :class:`OutputError` for a directory, a block device, a socket, or a folder where no file
    can be created (probed with a real file, so root on a read-only mount is caught too).
    """
    real = Path(os.path.realpath(target))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise OutputError(f"cannot write {target}: it is a directory")
        streamed = stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or _is_descriptor(target)
        if streamed:
            if not allow_streams:
                raise OutputError(f"cannot write {target}: not a regular file (a state file is replaced whole)")
            return True
        if not stat.S_ISREG(mode):
            raise OutputError(f"cannot write {target}: not a regular file, FIFO or character device")
    folder = _existing_folder(real.parent) if not allow_streams else real.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: no such directory {folder}")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{real.name}.", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {folder} is not writable ({exc.strerror or exc})") from None
    return False


def _is_descriptor(target: Path) -> bool:
    """Whether ``target`` names an open descriptor (``/dev/stdout``, ``/dev/fd/3``,
    ``/proc/self/fd/1``), followed link by link: ``realpath`` would go straight through to
    the file behind it, which must be appended to (``>> log``), never replaced."""
    hop = os.path.abspath(target)
    for _ in range(40):  # the kernel's own limit on a symlink chain
        if hop.startswith(("/proc/", "/dev/fd/")):
            return True
        if not os.path.islink(hop):
            return False
        hop = os.path.normpath(os.path.join(os.path.dirname(hop), os.readlink(hop)))
    return False


def _existing_folder(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write under {folder}: not a directory")
    return folder


def _new_file_mode(real: Path) -> int:
    """The mode a new dump gets: the replaced file's, or what the umask leaves of 0666 (as
    ``open()`` would give; ``mkstemp`` alone makes every file 0600)."""
    try:
        return stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def open_output(target: str) -> Iterator[TextIO]:
    """``-`` for stdout, a ``.gz`` path for gzip, any other path for plain UTF-8 text.

    A file is written under a temporary name and renamed into place only when the block ends
    without an error, so a reader never sees a half-written dump. A FIFO, a character device
    or an inherited descriptor (``/dev/stdout``) is written straight into, never replaced;
    see :func:`check_target` for what is refused.
    """
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    if check_target(path):
        with _text_writer(str(path), append=True) as out:
            yield out
        return
    real = Path(os.path.realpath(path))
    handle, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
    try:
        os.fchmod(handle, _new_file_mode(real))
        os.close(handle)
        with _text_writer(tmp, gz=path.suffix.lower() == ".gz") as out:
            yield out
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _text_writer(path: str, gz: bool | None = None, append: bool = False) -> Iterator[TextIO]:
    # A stream is opened for appending: ``-o /dev/stdout >> log`` must not truncate the log.
    if gz if gz is not None else path.endswith(".gz"):
        with gzip.open(path, "at" if append else "wt", encoding="utf-8", newline="", compresslevel=6) as zipped:
            yield zipped
    else:
        with open(path, "a" if append else "w", encoding="utf-8", newline="") as plain:
            yield plain


Progress = Callable[[int], None]


FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".jsonl.gz": "jsonl", ".csv.gz": "csv"}


class FormatError(ValueError):
    """An output name whose format cannot be told, or columns that are not export fields."""


def format_of(name: str) -> str:
    """``jsonl`` or ``csv`` from an output file's name (:data:`FORMATS`); a
    :class:`FormatError` for any other name: a ``.json`` or ``.txt`` dump is not guessed."""
    lower = name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(suffix):
            return FORMATS[suffix]
    raise FormatError(f"{name}: cannot tell the format from the name; end it in {', '.join(FORMATS)}")


def columns_of(text: str) -> tuple[str, ...]:
    """The export fields named in a comma-separated list, in the order given."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in EXPORT_FIELDS]
    if unknown or not names:
        raise FormatError(f"unknown column {', '.join(unknown) or repr(text)} (fields: {', '.join(EXPORT_FIELDS)})")
    return names


def write_jsonl(
    records: Iterable[dict[str, Any]],
    out: TextIO,
    progress: Progress | None = None,
    columns: tuple[str, ...] = EXPORT_FIELDS,
) -> int:
    """Write one JSON object per line (``columns`` only, in that order); return the count.
    ``progress`` gets the running count."""
    count = 0
    every = columns == EXPORT_FIELDS
    for record in records:
        shown = record if every else {name: record.get(name) for name in columns}
        out.write(json.dumps(shown, ensure_ascii=False) + "\n")
        count += 1
        if progress is not None:
            progress(count)
    return count


def write_csv(
    records: Iterable[dict[str, Any]],
    out: TextIO,
    progress: Progress | None = None,
    columns: tuple[str, ...] = EXPORT_FIELDS,
    excel: bool = False,
) -> int:
    """Write a header and one row per record (RFC 4180); return the count.

    Columns are ``columns`` (default :data:`EXPORT_FIELDS`); lists and objects (``authors``,
    ``tags``, ``images``) are JSON strings, null is an empty cell. ``excel`` starts the file
    with a UTF-8 byte order mark: without it Excel reads the file in the machine's code page
    and the Vietnamese letters come out garbled.
    """
    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in columns])
        count += 1
        if progress is not None:
            progress(count)
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
