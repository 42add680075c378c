"""Near-duplicate stories across sites: MinHash signatures, an LSH band index and clusters in SQLite.

The sites republish each other's stories with a new lead prefix, a credit line, a paragraph
added or dropped and a new title. Analysts count such a story once but keep every outlet's
copy: nothing here deletes or rewrites articles; a story is a *cluster* of copies whose
*original* is its earliest-published member.

The LSH index lives in SQLite (``dup_bands``), not in a pickled ``datasketch.MinHashLSH``: each
cron run is a fresh process, and a pickle would be loaded whole (every signature ever indexed)
before the first new article could be matched, and rewritten whole after the last. The band
table answers BANDS indexed lookups per article, commits with the articles, costs nothing to open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlite_utils

from storage.db import write_transaction
from storage.published import bound_params, on_or_after
from storage.tables import BAND_ROWS, CLUSTERS, MEMBERS, SIGNATURES
from storage.text import normalize_for_hash
from storage.text import shingles as text_shingles
from storage.when import VN_TZ

Signature = npt.NDArray[np.uint32]

# The permutation count, scheme and seed are part of the stored data: signatures made with
# other values are not comparable, so changing one means re-signing every article.
NUM_PERM = 128
SCHEME = "affine32"
SEED = 1
# Words (Vietnamese syllables) per shingle, from `python -m bench.dedup` (2,018 labelled
# articles, exact Jaccard, copies p01 / unrelated same-event max): 1 word 0.66 / 0.55, 2: 0.56 /
# 0.36, 3: 0.53 / 0.31, 4: 0.52 / 0.27, 5: 0.51 / 0.24. 4 and 5 separate about as well; 4 loses
# fewer shingles when an editor swaps a word and yields the fewest LSH candidate pairs (7,102
# vs 12,755 for 5 and 13,361 for 3).
SHINGLE_SIZE = 4
# Estimated Jaccard from which two articles are copies of one story. Pairwise precision/recall
# of the clustering, bench seeds 7 / 8 / 9 (2,018-2,184 articles, 420 stories each; 2026-12-02):
#   0.35  0.992/0.999  0.996/0.999  0.956/1.000     0.50  1.000/0.999  1.000/0.999  1.000/0.999
#   0.40  1.000/0.999  1.000/0.999  1.000/1.000     0.55  1.000/0.998  1.000/0.995  1.000/0.997
#   0.45  1.000/0.999  1.000/0.999  1.000/1.000     0.60  1.000/0.993  1.000/0.986  1.000/0.991
# 0.40-0.55 make no false pair and miss at most 0.5% of the true ones; 0.5 sits at least 0.2 (5
# sigma of the 128-value estimate) above the most similar unrelated pair and below 99% of copies.
THRESHOLD = 0.5
# LSH layout: two articles are candidates when one of BANDS bands of ROWS values is equal,
# probability 1 - (1 - J**ROWS)**BANDS: 0.87 at J=0.5, 0.99 at 0.6, 0.23 at 0.3 (datasketch's
# optimum for 0.5 with false negatives weighted 0.9); a copy missed near the threshold still
# links through the other copies. Fixed rather than derived from the threshold argument: the
# stored band rows are valid only for the layout that wrote them (change it: rebuild_bands).
BANDS = 32
ROWS = 4
# Rows read per band lookup: the bucket's most recently indexed (an ordered range of the
# primary key). A bucket shared by hundreds of articles holds boilerplate (a standard closing
# sentence), not copies, which share several bands and are indexed within days of each other:
# reading the newest slice of a crowded bucket keeps every insert constant-time without losing
# them (bench/dedup: precision/recall unchanged).
BUCKET_CAP = 50

_NO_DATE = datetime.max.replace(tzinfo=UTC)


# The signature is datasketch's MinHash (scheme "affine32", NUM_PERM permutations drawn from
# SEED, SHA-1 of each shingle as its 32-bit input hash), computed here with numpy in the lines
# below rather than through ``datasketch.MinHash``: importing datasketch runs its package
# ``__init__``, whose LSH classes load scipy.integrate, half a second of CPU in every extraction
# forkserver (every crawl) for classes this project does not use (its LSH index is the band
# table). tests/unit/test_dedup.py pins the values to datasketch.MinHash's, bit for bit, for
# the installed datasketch; datasketch stays the reference and the bench's tool.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


@cache
def _permutations() -> tuple[Signature, Signature]:
    """datasketch's affine32 parameters for SEED (``MinHash._init_permutations``): odd ``a``."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _minhash(found: set[str]) -> Signature:
    """The MinHash values of a non-empty shingle set: datasketch's ``update_batch``, affine32."""
    first_bytes = b"".join(hashlib.sha1(s.encode("utf-8")).digest()[:4] for s in found)
    hv = np.frombuffer(first_bytes, dtype="<u4").astype(np.uint32).reshape(-1, 1)  # sha1_hash32
    s1, m1, s2, m2, s3 = _FMIX32  # the MurmurHash3 finalizer, uint32 arithmetic wraps
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s3)
    a, b = _permutations()
    result: Signature = (hv * a + b).min(axis=0)
    return result


@dataclass(frozen=True)
class DupResult:
    """One indexed article: its cluster (None: no copy known yet) and the copies it matched,
    as (url_hash, estimated Jaccard) at or above the threshold, best first."""

    cluster_id: int | None
    matches: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Member:
    """One outlet's copy; ``similarity`` is its estimated Jaccard to the cluster's original."""

    url_hash: str
    site: str
    similarity: float
    is_original: bool
    published_at: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Cluster:
    """One story: the original first, then the other copies by publication time."""

    cluster_id: int
    original: str
    created_at: str
    members: list[Member]


def dedup_text(lead: str | None, body: str | None) -> str:
    """The text a story is recognised by: lead and body, not the title (outlets rewrite titles)."""
    return "\n".join(part for part in (lead, body) if part)


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping ``size``-word shingles of the normalised text; a shorter text is one shingle."""
    return _shingle_set(_words(text), size)


def signature(text: str, size: int = SHINGLE_SIZE) -> Signature | None:
    """The MinHash values of ``text`` (NUM_PERM uint32), or None for a text without words."""
    return _signature(_shingle_set(_words(text), size))


def article_signature(lead: str | None, body: str | None) -> Signature | None:
    """``signature(dedup_text(lead, body))``, the body normalised once (its normalisation is
    cached, and the content hash has just made it)."""
    return _signature(_shingle_set(_words(lead, body), SHINGLE_SIZE))


def _words(*parts: str | None) -> list[str]:
    # The words of the parts joined by newlines: normalize_for_hash maps a newline to a space and
    # nothing normalises across it, so part by part gives the same words.
    return [word for part in parts if part for word in normalize_for_hash(part).split()]


def _shingle_set(words: list[str], size: int) -> set[str]:
    return {" ".join(s) for s in text_shingles(words, size)}  # the project's one shingle rule


def _signature(found: set[str]) -> Signature | None:
    if not found:
        return None  # an empty MinHash equals every other: all empty pages would cluster
    return _minhash(found)


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / len(a)


def signature_blob(sig: Signature) -> bytes:
    """A signature as stored: NUM_PERM little-endian uint32."""
    return sig.astype("<u4").tobytes()


def rebuild_bands(db: sqlite_utils.Database) -> int:
    """Rewrite the band index from the stored signatures (after a BANDS/ROWS change); the count."""
    with write_transaction(db):
        db.execute(f"delete from {BAND_ROWS}")
        rows = db.execute(f"select rowid, url_hash, signature from {SIGNATURES}").fetchall()
        for seq, url_hash, blob in rows:
            db.conn.executemany(
                f"insert or ignore into {BAND_ROWS} (band, bucket, seq, url_hash) values (?, ?, ?, ?)",
                [(*k, seq, url_hash) for k in band_keys(load_signature(blob))],
            )
    return len(rows)


def list_clusters(
    db: sqlite_utils.Database, site: str | Sequence[str] | None = None, since: str | None = None
) -> list[Cluster]:
    """Clusters with a member from ``site`` (one key or several) published at or after ``since``
    (ISO 8601, compared as stored), newest original first. Every member is listed, whatever its
    site; url and title come from ``articles`` when that table exists."""
    where: list[str] = ["c.merged_into is null"]
    params: list[Any] = []
    keys = [site] if isinstance(site, str) else list(site or ())
    tests: list[tuple[str, list[Any]]] = []
    if keys:
        tests.append((f"site in ({', '.join('?' * len(keys))})", keys))
    if since:
        tests.append((on_or_after("published_at"), bound_params(since)))
    for test, values in tests:
        where.append(
            f"c.cluster_id in (select cluster_id from {MEMBERS} join {SIGNATURES} using (url_hash) where {test})"
        )
        params.extend(values)
    display, join = "null as url, null as title", ""
    if db.table("articles").exists():
        display, join = "a.url, a.title", "left join articles a on a.url_hash = m.url_hash"
    sql = (
        f"select c.cluster_id, c.original, c.created_at, m.url_hash, s.site, s.signature, s.published_at, {display}"
        f" from {CLUSTERS} c join {MEMBERS} m on m.cluster_id = c.cluster_id"
        f" join {SIGNATURES} s on s.url_hash = m.url_hash {join} where {' and '.join(where)}"
    )
    grouped: dict[int, Cluster] = {}
    signatures: dict[str, Signature] = {}
    for cluster_id, original, created_at, url_hash, member_site, blob, *shown in db.execute(sql, params):
        cluster = grouped.setdefault(cluster_id, Cluster(cluster_id, original, created_at, []))
        cluster.members.append(Member(url_hash, member_site, 0.0, url_hash == original, *shown))
        signatures[url_hash] = load_signature(blob)
    for cluster in grouped.values():
        # Similarity to the original is computed here, not stored: a new earliest copy changes it
        # for every member, and rewriting a whole cluster per insert would not be constant-time.
        reference = signatures[cluster.original]
        cluster.members[:] = [
            replace(m, similarity=jaccard(reference, signatures[m.url_hash])) for m in cluster.members
        ]
        cluster.members.sort(key=lambda m: (not m.is_original, order_key(m.published_at, m.url_hash)))
    return sorted(grouped.values(), key=lambda c: order_key(c.members[0].published_at, c.original), reverse=True)


def load_signature(blob: bytes) -> Signature:
    """A stored signature as uint32 values."""
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def band_keys(sig: Signature) -> list[tuple[int, int]]:
    """(band, bucket) pairs; the bucket is a 64-bit hash of the band's values (a compact key)."""
    data, width = sig.astype("<u4").tobytes(), ROWS * 4
    digests = (hashlib.blake2b(data[b * width : (b + 1) * width], digest_size=8).digest() for b in range(BANDS))
    return [(band, int.from_bytes(digest, "little", signed=True)) for band, digest in enumerate(digests)]


def order_key(published_at: str | None, url_hash: str) -> tuple[datetime, str]:
    """Publication order in UTC; undated last. Ties go by url_hash, not by indexing order, so the
    original does not depend on which site was crawled first."""
    try:
        moment = datetime.fromisoformat(published_at or "")
    except ValueError:
        return _NO_DATE, url_hash
    # published_at is Vietnam time; a date-only value ("2024-03-15", a page that gave only the
    # day) parses naive and starts at midnight there.
    return (moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)).astimezone(UTC), url_hash
