"""Indexing a batch of signatures in a fixed number of statements (storage/dedup.py's writer).

:func:`index_batch` gives each entry the result :func:`index_signature` would
give it indexed alone, in order: entry ``i`` is matched against the index as entries ``< i``
left it. The batch's stored signatures, band candidates, memberships and cluster originals
are read in one query each; the batch's own rows are kept in memory meanwhile; each table is
written once at the end.

Cost per entry is bounded whatever the index holds: a band lookup reads at most
:data:`storage.dedup.BUCKET_CAP` rows, the most recently indexed of its bucket (``seq``, in the
band table's primary key, so the cap is an ordered index range, not an arbitrary ``LIMIT``).
Copies of a story are indexed within days of each other, so the newest rows of a crowded
bucket are where its copies are; a crowded bucket's older rows are boilerplate shared with
unrelated stories. Clusters keep their original as the earliest-published member without
re-reading the cluster: the stored original is the earliest so far, so only new members can
displace it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlite_utils

from storage.articles import now_iso
from storage.db import write_transaction
from storage.dedup import (
    BUCKET_CAP,
    NUM_PERM,
    THRESHOLD,
    DupResult,
    Signature,
    article_signature,
    band_keys,
    load_signature,
    order_key,
    signature,
)
from storage.tables import BAND_ROWS, CLUSTERS, MEMBERS, SIGNATURES

Key = tuple[int, int]
_CHUNK = 500
# Per (band, bucket) of the batch, its most recent rows (at most ``cap``), newest first: one
# statement for all the batch's keys, each an ordered range of the band table's primary key.
CANDIDATES_SQL = f"""
select k.value ->> 0, k.value ->> 1, b.url_hash from json_each(?) k
join {BAND_ROWS} b on b.band = k.value ->> 0 and b.bucket = k.value ->> 1 and b.seq >= coalesce(
    (select x.seq from {BAND_ROWS} x where x.band = k.value ->> 0 and x.bucket = k.value ->> 1
     order by x.seq desc limit 1 offset ?), 0)
order by 1, 2, b.seq desc
"""


@dataclass(frozen=True)
class Entry:
    """One article to index: its signature and the signature's (band, bucket) keys."""

    url_hash: str
    site: str
    published_at: str | None
    signature: Signature
    bands: tuple[Key, ...]


class _Batch:
    """The index as the batch's entries so far leave it, over what was read before."""

    def __init__(self, db: sqlite_utils.Database, entries: Sequence[Entry], cap: int) -> None:
        self.db = db
        self.cap = cap
        keys = sorted({e.url_hash for e in entries})
        # url_hash -> (seq, bands) of what is stored now: a re-indexed entry's rows are replaced.
        self.old: dict[str, tuple[int, tuple[Key, ...]]] = {}
        self.replaced: dict[str, tuple[int, tuple[Key, ...]]] = {}
        for url_hash, seq, blob in _select(db, f"select url_hash, rowid, signature from {SIGNATURES}", keys):
            self.old[url_hash] = (int(seq), tuple(_band_keys_of(blob)))
        self.next_seq = int(db.execute(f"select coalesce(max(rowid), 0) from {SIGNATURES}").fetchone()[0]) + 1
        wanted = {k for e in entries for k in e.bands}
        # Entries re-indexed here drop rows from buckets: read that many more, so the cap holds.
        self.stored_rows = _candidates(db, wanted, cap + len(self.old))
        self.gone: set[tuple[Key, str]] = set()  # (key, url_hash) rows deleted by a re-index
        self.fresh: dict[Key, list[str]] = {}  # the batch's own rows, oldest first
        self.sigs: dict[str, Signature] = {}  # signatures written by the batch
        self.published: dict[str, str | None] = {}
        involved = {h for rows in self.stored_rows.values() for h in rows}
        # Signatures as rows of one matrix (candidates read, then the batch's own): a lookup
        # compares all of an entry's candidates in one numpy operation.
        self.matrix = np.empty((len(involved) + len(entries), NUM_PERM), dtype=np.uint32)
        self.row: dict[str, int] = {}
        self.used = 0
        self.stored_published: dict[str, str | None] = {}
        sql = f"select url_hash, signature, published_at from {SIGNATURES}"
        for url_hash, blob, published in _select(db, sql, sorted(involved)):
            self.stored_published[url_hash] = published
            if len(blob) == 4 * NUM_PERM:  # a signature of another layout never matches
                self._put(url_hash, load_signature(blob))
        self.members = dict(_select(db, f"select url_hash, cluster_id from {MEMBERS}", sorted(involved | set(keys))))
        self.parent: dict[int, int] = {}
        self.new_members: list[str] = []
        self.merges: list[tuple[int, int]] = []
        self.touched: set[int] = set()
        self.moved: set[int] = set()  # clusters holding a re-indexed member (its date may have moved)

    def candidates(self, entry: Entry) -> list[str]:
        """What each of ``entry``'s band lookups reads now: its bucket's ``cap`` newest rows."""
        found: dict[str, None] = {}
        cap = self.cap
        for key in entry.bands:
            fresh = self.fresh.get(key)
            take = fresh[: -cap - 1 : -1] if fresh else []  # the batch's rows, newest first
            stored = self.stored_rows.get(key)
            if stored and len(take) < cap:
                if self.gone:
                    stored = [h for h in stored if (key, h) not in self.gone]
                take += stored[: cap - len(take)]
            found.update(dict.fromkeys(take))
        found.pop(entry.url_hash, None)
        return list(found)

    def _put(self, url_hash: str, sig: Signature) -> None:
        self.row[url_hash] = self.used
        self.matrix[self.used] = sig
        self.used += 1

    def matches(self, sig: Signature, others: list[str], threshold: float) -> list[tuple[str, float]]:
        """``others`` whose estimated Jaccard with ``sig`` passes ``threshold``, best first."""
        known = [h for h in others if h in self.row]
        if not known or len(sig) != NUM_PERM:
            return []
        rows = self.matrix[[self.row[h] for h in known]]
        similarity = np.count_nonzero(rows == sig, axis=1) / NUM_PERM
        passed = np.flatnonzero(similarity >= threshold)
        return [(h, -negative) for negative, h in sorted((-float(similarity[i]), known[i]) for i in passed)]

    def add(self, entry: Entry) -> int:
        """Record ``entry``'s signature and band rows; its seq."""
        if entry.url_hash in self.old:
            seq, bands = self.replaced[entry.url_hash] = self.old.pop(entry.url_hash)
            self.gone.update((key, entry.url_hash) for key in bands)
        if entry.url_hash in self.sigs:  # twice in one batch: its earlier rows go too
            for key in self.fresh:
                if entry.url_hash in self.fresh[key]:
                    self.fresh[key].remove(entry.url_hash)
        seq = self.next_seq
        self.next_seq += 1
        self.sigs[entry.url_hash] = entry.signature
        self.row.pop(entry.url_hash, None)
        if len(entry.signature) == NUM_PERM:
            self._put(entry.url_hash, entry.signature)
        self.published[entry.url_hash] = entry.published_at
        for key in entry.bands:
            self.fresh.setdefault(key, []).append(entry.url_hash)
        return seq

    def resolve(self, cluster_id: int) -> int:
        while cluster_id in self.parent:
            cluster_id = self.parent[cluster_id]
        return cluster_id

    def cluster_with(self, url_hash: str, matched: list[str]) -> int | None:
        """Put ``url_hash`` and its matches in one cluster (the oldest of theirs); its id."""
        involved = [url_hash, *matched]
        existing = {h: self.resolve(self.members[h]) for h in involved if h in self.members}
        if url_hash in existing:  # indexed again: its date may have moved
            self.moved.add(existing[url_hash])
        cluster_ids = sorted(set(existing.values()))
        if not cluster_ids:
            if not matched:
                return None
            created = self.db.execute(
                f"insert into {CLUSTERS} (original, created_at) values (?, ?)", [url_hash, now_iso()]
            )
            assert created.lastrowid is not None
            cluster_ids = [created.lastrowid]
        target = cluster_ids[0]
        for absorbed in cluster_ids[1:]:
            self.parent[absorbed] = target
            self.merges.append((target, absorbed))
        for h in involved:
            if h not in existing:
                self.members[h] = target
                self.new_members.append(h)
        self.touched.add(target)
        return target

    def published_at(self, url_hash: str) -> str | None:
        if url_hash in self.published:
            return self.published[url_hash]
        return self.stored_published.get(url_hash)


def index_batch(db: sqlite_utils.Database, entries: Sequence[Entry], threshold: float = THRESHOLD) -> list[DupResult]:
    """Index ``entries`` in order (see the module docstring); one result per entry."""
    if not entries:
        return []
    results: list[DupResult] = []
    with write_transaction(db):
        batch = _Batch(db, entries, BUCKET_CAP)
        signatures, band_rows = [], []
        for entry in entries:
            others = batch.candidates(entry)
            seq = batch.add(entry)
            matches = batch.matches(entry.signature, others, threshold)
            cluster_id = batch.cluster_with(entry.url_hash, [h for h, _ in matches])
            results.append(DupResult(cluster_id, matches))
            blob = entry.signature.astype("<u4").tobytes()
            signatures.append((seq, entry.url_hash, entry.site, entry.published_at, len(entry.signature), blob))
            band_rows += [(band, bucket, seq, entry.url_hash) for band, bucket in entry.bands]
        _write(db, batch, signatures, band_rows)
    return results


def _write(
    db: sqlite_utils.Database,
    batch: _Batch,
    signatures: list[tuple[Any, ...]],
    band_rows: list[tuple[int, int, int, str]],
) -> None:
    conn = db.conn
    conn.executemany(
        f"delete from {BAND_ROWS} where band = ? and bucket = ? and seq = ?",
        [(band, bucket, seq) for h, (seq, bands) in batch.replaced.items() for band, bucket in bands],
    )
    at = now_iso()
    conn.executemany(
        f"insert or replace into {SIGNATURES} (rowid, url_hash, site, published_at, num_perm, signature, indexed_at)"
        " values (?, ?, ?, ?, ?, ?, ?)",
        [(*row, at) for row in _last_per_key(signatures)],
    )
    last_seq = {row[1]: row[0] for row in signatures}
    # BANDS rows per entry: one statement for the batch (JSON rows), not one execution per row.
    conn.execute(
        f"insert or ignore into {BAND_ROWS} (band, bucket, seq, url_hash)"
        " select value ->> 0, value ->> 1, value ->> 2, value ->> 3 from json_each(?)",
        [json.dumps([row for row in band_rows if last_seq[row[3]] == row[2]])],
    )
    for target, absorbed in batch.merges:
        conn.execute(f"update {MEMBERS} set cluster_id = ? where cluster_id = ?", [target, absorbed])
        conn.execute(f"update {CLUSTERS} set merged_into = ? where cluster_id = ?", [target, absorbed])
    conn.executemany(
        f"insert into {MEMBERS} (url_hash, cluster_id) values (?, ?)",
        [(h, batch.resolve(batch.members[h])) for h in batch.new_members],
    )
    _set_originals(db, batch)


def _set_originals(db: sqlite_utils.Database, batch: _Batch) -> None:
    """Each touched cluster's original: the earliest of its stored original and its new members."""
    finals = {batch.resolve(c) for c in batch.touched}
    if not finals:
        return
    absorbed = [a for _, a in batch.merges]
    ids = sorted(finals | set(absorbed) | batch.moved)
    sql = f"select c.cluster_id, c.original, s.published_at from {CLUSTERS} c left join {SIGNATURES} s on s.url_hash = c.original"
    contenders: dict[int, list[tuple[str, str | None]]] = {c: [] for c in finals}
    for cluster_id, original, published in _select(db, sql, ids, column="c.cluster_id"):
        if original in batch.published:
            published = batch.published[original]
        contenders.setdefault(batch.resolve(int(cluster_id)), []).append((original, published))
    for h in batch.new_members:
        contenders[batch.resolve(batch.members[h])].append((h, batch.published_at(h)))
    for cluster_id in {batch.resolve(c) for c in batch.moved} & finals:
        # A member indexed again may carry a new date: read the whole cluster (rare: edits only).
        rows = db.execute(
            f"select url_hash, published_at from {MEMBERS} join {SIGNATURES} using (url_hash) where cluster_id = ?",
            [cluster_id],
        ).fetchall()
        contenders[cluster_id] += [(h, p) for h, p in rows]
    db.conn.executemany(
        f"update {CLUSTERS} set original = ? where cluster_id = ?",
        [(min(found, key=lambda m: order_key(m[1], m[0]))[0], c) for c, found in contenders.items() if c in finals],
    )


def _last_per_key(signatures: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    last: dict[str, tuple[Any, ...]] = {}
    for row in signatures:
        last.pop(row[1], None)
        last[row[1]] = row
    return list(last.values())


def _band_keys_of(blob: bytes) -> list[Key]:
    from storage.dedup import band_keys

    return band_keys(load_signature(blob))


def _candidates(db: sqlite_utils.Database, keys: set[Key], cap: int) -> dict[Key, list[str]]:
    """The ``cap`` most recent url_hashes of each (band, bucket), newest first."""
    found: dict[Key, list[str]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK * 4):
        chunk = json.dumps(ordered[start : start + _CHUNK * 4])
        for band, bucket, url_hash in db.execute(CANDIDATES_SQL, [chunk, cap - 1]):
            found.setdefault((band, bucket), []).append(url_hash)
    return found


def _select(
    db: sqlite_utils.Database, sql: str, values: Iterable[Any], column: str = "url_hash"
) -> list[tuple[Any, ...]]:
    """``sql where column in values``, in chunks below SQLite's bound-parameter limit."""
    listed = list(values)
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(listed), _CHUNK):
        chunk = listed[start : start + _CHUNK]
        rows += db.execute(f"{sql} where {column} in ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return rows


def index_signature(
    db: sqlite_utils.Database,
    url_hash: str,
    site: str,
    published_at: str | None,
    sig: Signature,
    threshold: float = THRESHOLD,
) -> DupResult:
    """Store the signature, find its copies among the indexed articles and cluster them.

    Idempotent: indexing a url_hash again replaces its signature and band rows. Membership is
    never removed (an edited copy stays counted with its story); clusters joined by a new
    article merge into the oldest, whose id survives. A batch of one of
    :func:`storage.dedup_index.index_batch`.
    """
    [result] = index_batch(db, [Entry(url_hash, site, published_at, sig, tuple(band_keys(sig)))], threshold)
    return result


def index_stored(db: sqlite_utils.Database, threshold: float = THRESHOLD) -> int:
    """Index the stored articles that have no signature yet (the backfill after the migration),
    in insertion order, 500 rows at a time; the number of articles read."""
    sql = (
        f"select rowid, url_hash, site, published_at, lead, body from articles a where rowid > ? and not exists"
        f" (select 1 from {SIGNATURES} s where s.url_hash = a.url_hash) order by rowid limit 500"
    )
    count, last = 0, 0
    while rows := db.execute(sql, [last]).fetchall():
        entries = []
        for _, url_hash, site, published_at, lead, body in rows:
            sig = article_signature(lead, body)
            if sig is not None:
                entries.append(Entry(url_hash, site, published_at, sig, tuple(band_keys(sig))))
        index_batch(db, entries, threshold)
        count, last = count + len(rows), rows[-1][0]
    return count


def index_article(
    db: sqlite_utils.Database,
    url_hash: str,
    site: str,
    published_at: str | None,
    text: str,
    threshold: float = THRESHOLD,
) -> DupResult:
    """Sign ``text`` (see :func:`dedup_text`) and :func:`index_signature` it."""
    sig = signature(text)
    if sig is None:
        return DupResult(None, [])
    return index_signature(db, url_hash, site, published_at, sig, threshold)
