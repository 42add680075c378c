"""Near-duplicate stories across sites: MinHash signatures, an LSH band index and clusters in SQLite.

The three sites republish each other's stories with a new lead prefix, a credit line, a
paragraph added or dropped and a new title. Analysts count such a story once but keep every
outlet's copy, so nothing here deletes or merges articles: a story is a *cluster* of copies
whose *original* is the earliest-published member.

Signatures are datasketch MinHashes (:data:`NUM_PERM` 32-bit values) of the word shingles of
:func:`crawler.text.normalize_for_hash` text. The LSH index lives in SQLite (``dup_bands``)
rather than in a pickled ``datasketch.MinHashLSH``: every cron run is a fresh process, and a
pickle would have to be loaded whole (every signature of every run) before the first new
article could be matched and rewritten whole after the last; the band table is matched with
:data:`BANDS` indexed lookups per article, shares the articles' transaction and backups, and
costs nothing to open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlite_utils
from datasketch import MinHash

from crawler.text import normalize_for_hash
from storage.articles import now_iso

Signature = npt.NDArray[np.uint32]

NUM_PERM = 128
# The permutation scheme and seed are part of the stored data: signatures made with another
# scheme or seed are not comparable, so changing either means re-signing every article.
SCHEME = "affine32"
SEED = 1
# Word (syllable) shingle size, measured with ``python -m bench.dedup`` on 2,100 labelled
# articles: 1-word shingles give unrelated same-topic stories a Jaccard up to 0.44 (shared
# vocabulary); 3-word shingles keep copies >= 0.61 and unrelated stories <= 0.20, the widest gap.
SHINGLE_SIZE = 3
# Estimated Jaccard at or above which two articles are copies of one story. Measured (bench,
# pairwise over 2,100 articles / 400 stories, 3-word shingles): threshold 0.3 -> precision
# 1.000 recall 1.000; 0.4 -> 1.000 / 1.000; 0.5 -> 1.000 / 0.998; 0.6 -> 1.000 / 0.97;
# 0.7 -> 1.000 / 0.80. 0.4 sits in the middle of the gap between unrelated stories (<= 0.20)
# and copies (>= 0.61), so an estimation error of +-0.1 (3 sigma at 128 permutations) does not
# cross it.
THRESHOLD = 0.4
# LSH banding: BANDS bands of ROWS values; two articles become candidates when one band is
# equal, with probability 1 - (1 - J**ROWS)**BANDS. Fixed here, not derived from the threshold
# argument, because the stored band rows are only valid for the layout that wrote them (change
# it -> call rebuild_bands). Chosen as datasketch's optimum (lsh._optimal_param) for threshold
# 0.4 with false negatives weighted 0.9: at J=0.4 a pair is a candidate with probability 0.98,
# at J=0.2 with 0.13 (a wasted but harmless signature comparison).
BANDS = 32
ROWS = 4

# Rows read per band lookup. A bucket shared by hundreds of articles holds boilerplate (a
# standard closing sentence), not copies: true copies share several bands, so reading a bounded
# slice of a crowded bucket keeps each insert constant-time without losing them.
BUCKET_CAP = 50

SIGNATURES = "dup_signatures"
BAND_ROWS = "dup_bands"
CLUSTERS = "dup_clusters"
MEMBERS = "dup_members"
_NO_DATE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DupResult:
    """The outcome of indexing one article: its cluster (None: no copy known) and its matches.

    ``matches`` are (url_hash, estimated Jaccard) of the already indexed articles at or above
    the threshold, best first.
    """

    cluster_id: int | None
    matches: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Member:
    """One outlet's copy in a cluster; ``similarity`` is the estimated Jaccard to the original."""

    url_hash: str
    site: str
    similarity: float
    is_original: bool
    published_at: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Cluster:
    """One story: its copies, the original (earliest published) first, then by publication."""

    cluster_id: int
    original: str
    created_at: str
    members: list[Member]


def create_tables(db: sqlite_utils.Database) -> None:
    """Create the dedup tables (idempotent, for a migration)."""
    db.table(SIGNATURES).create(
        {"url_hash": str, "site": str, "published_at": str, "num_perm": int, "signature": bytes, "indexed_at": str},
        pk="url_hash",
        not_null={"site", "num_perm", "signature"},
        if_not_exists=True,
    )
    # The primary key (band, bucket, url_hash) is the (band, bucket) index that matches a new
    # article in BANDS lookups; WITHOUT ROWID stores the rows in that index, so it is not kept
    # twice, and re-inserting the same band row is a no-op.
    db.execute(
        f"create table if not exists {BAND_ROWS} (band integer not null, bucket integer not null,"
        " url_hash text not null, primary key (band, bucket, url_hash)) without rowid"
    )
    db.table(CLUSTERS).create(
        {"cluster_id": int, "original": str, "created_at": str, "merged_into": int},
        pk="cluster_id",
        not_null={"original", "created_at"},
        if_not_exists=True,
    )
    db.table(MEMBERS).create(
        {"url_hash": str, "cluster_id": int, "similarity": float},
        pk="url_hash",
        not_null={"cluster_id"},
        if_not_exists=True,
    )
    db.table(MEMBERS).create_index(["cluster_id"], if_not_exists=True)


def dedup_text(title: str | None, lead: str | None, body: str | None) -> str:
    """The text a story is recognised by: lead and body. Outlets rewrite titles, not stories."""
    del title
    return "\n".join(part for part in (lead, body) if part)


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping ``size``-word shingles of the normalised text; a shorter text is one shingle."""
    words = normalize_for_hash(text).split()
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


_PERMUTATIONS: Any = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature(text: str, size: int = SHINGLE_SIZE) -> Signature | None:
    """The MinHash values of ``text`` (NUM_PERM uint32), or None for a text without words."""
    found = shingles(text, size)
    if not found:
        # An empty MinHash equals every other empty one: it would cluster all empty pages.
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_PERMUTATIONS)
    minhash.update_batch([s.encode("utf-8") for s in found])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / len(a)


def index_article(
    db: sqlite_utils.Database,
    url_hash: str,
    site: str,
    published_at: str | None,
    text: str,
    threshold: float = THRESHOLD,
) -> DupResult:
    """Sign and index one article (see :func:`index_signature`); ``text`` from :func:`dedup_text`."""
    sig = signature(text)
    if sig is None:
        return DupResult(None, [])
    return index_signature(db, url_hash, site, published_at, sig, threshold)


def index_signature(
    db: sqlite_utils.Database,
    url_hash: str,
    site: str,
    published_at: str | None,
    sig: Signature,
    threshold: float = THRESHOLD,
) -> DupResult:
    """Store the signature, find its copies among the indexed articles and cluster them.

    Idempotent: indexing a url_hash again replaces its signature and band rows. Cluster
    membership is never removed (an edited copy stays counted with its story); clusters joined
    by a new article are merged into the oldest one, whose id survives.
    """
    with db.atomic():
        old = _signature_row(db, url_hash)
        if old is not None:
            _delete_bands(db, url_hash, _load(old["signature"]))
        db.execute(
            f"insert into {SIGNATURES} (url_hash, site, published_at, num_perm, signature, indexed_at)"
            " values (?, ?, ?, ?, ?, ?) on conflict (url_hash) do update set site = excluded.site,"
            " published_at = excluded.published_at, num_perm = excluded.num_perm,"
            " signature = excluded.signature, indexed_at = excluded.indexed_at",
            [url_hash, site, published_at, len(sig), sig.astype("<u4").tobytes(), now_iso()],
        )
        keys = _band_keys(sig)
        matches = _matches(db, url_hash, sig, keys, threshold)
        db.conn.executemany(
            f"insert or ignore into {BAND_ROWS} (band, bucket, url_hash) values (?, ?, ?)",
            [(band, bucket, url_hash) for band, bucket in keys],
        )
        cluster_id = _cluster_with(db, url_hash, [h for h, _ in matches])
        if cluster_id is not None:
            _refresh(db, cluster_id)
    return DupResult(cluster_id, matches)


def rebuild_bands(db: sqlite_utils.Database) -> int:
    """Rewrite the band index from the stored signatures (after a BANDS/ROWS change); count."""
    with db.atomic():
        db.execute(f"delete from {BAND_ROWS}")
        count = 0
        for row in db.query(f"select url_hash, signature from {SIGNATURES}"):
            rows = [(b, k, row["url_hash"]) for b, k in _band_keys(_load(row["signature"]))]
            db.conn.executemany(f"insert or ignore into {BAND_ROWS} values (?, ?, ?)", rows)
            count += 1
    return count


def list_clusters(db: sqlite_utils.Database, site: str | None = None, since: str | None = None) -> list[Cluster]:
    """Clusters with a member of ``site`` published at or after ``since``, newest original first.

    All members are listed, whatever their site; url and title come from ``articles`` when
    that table exists.
    """
    where, params = ["c.merged_into is null"], []
    if site or since:
        sub = f"select m2.cluster_id from {MEMBERS} m2 join {SIGNATURES} s2 using (url_hash) where 1"
        if site:
            sub += " and s2.site = ?"
            params.append(site)
        if since:
            sub += " and s2.published_at >= ?"
            params.append(since)
        where.append(f"c.cluster_id in ({sub})")
    has_articles = db["articles"].exists()
    display = "a.url, a.title" if has_articles else "null as url, null as title"
    join = "left join articles a on a.url_hash = m.url_hash" if has_articles else ""
    sql = (
        f"select c.cluster_id, c.original, c.created_at, m.url_hash, s.site, m.similarity,"
        f" s.published_at, {display} from {CLUSTERS} c join {MEMBERS} m on m.cluster_id = c.cluster_id"
        f" join {SIGNATURES} s on s.url_hash = m.url_hash {join} where {' and '.join(where)}"
    )
    grouped: dict[int, Cluster] = {}
    for row in db.query(sql, params):
        new = Cluster(row["cluster_id"], row["original"], row["created_at"], [])
        cluster = grouped.setdefault(row["cluster_id"], new)
        cluster.members.append(
            Member(
                url_hash=row["url_hash"],
                site=row["site"],
                similarity=row["similarity"],
                is_original=row["url_hash"] == row["original"],
                published_at=row["published_at"],
                url=row["url"],
                title=row["title"],
            )
        )
    for cluster in grouped.values():
        cluster.members.sort(key=lambda m: (not m.is_original, _order_key(m.published_at, m.url_hash)))
    return sorted(grouped.values(), key=lambda c: _order_key(c.members[0].published_at, c.original), reverse=True)


def _load(blob: bytes) -> Signature:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def _signature_row(db: sqlite_utils.Database, url_hash: str) -> dict[str, Any] | None:
    return next(db.query(f"select * from {SIGNATURES} where url_hash = ?", [url_hash]), None)


def _band_keys(sig: Signature) -> list[tuple[int, int]]:
    """(band, bucket) pairs; the bucket is a 64-bit hash of the band's values (a compact key)."""
    values = sig.astype("<u4")
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).digest()
        keys.append((band, int.from_bytes(digest, "little", signed=True)))
    return keys


def _delete_bands(db: sqlite_utils.Database, url_hash: str, sig: Signature) -> None:
    db.conn.executemany(
        f"delete from {BAND_ROWS} where band = ? and bucket = ? and url_hash = ?",
        [(band, bucket, url_hash) for band, bucket in _band_keys(sig)],
    )


def candidate_sql(bands: int) -> str:
    """One statement for all bands: each (band, bucket) is a primary-key lookup of at most
    :data:`BUCKET_CAP` rows.

    Written as a union of per-band lookups: SQLite plans ``(band, bucket) in (values ...)`` as a
    scan of the whole band table, which would make every insert linear in the index size.
    """
    one = f"select * from (select url_hash from {BAND_ROWS} where band = ? and bucket = ? limit {BUCKET_CAP})"
    return " union ".join([one] * bands)


def _matches(
    db: sqlite_utils.Database, url_hash: str, sig: Signature, keys: list[tuple[int, int]], threshold: float
) -> list[tuple[str, float]]:
    """Indexed articles sharing a band with ``sig``, kept when their estimated Jaccard passes."""
    candidates = {row["url_hash"] for row in db.query(candidate_sql(len(keys)), [v for key in keys for v in key])}
    candidates.discard(url_hash)
    found = []
    for row in _rows(db, SIGNATURES, "url_hash", candidates):
        if row["num_perm"] == len(sig):
            similarity = jaccard(sig, _load(row["signature"]))
            if similarity >= threshold:
                found.append((row["url_hash"], similarity))
    return sorted(found, key=lambda m: (-m[1], m[0]))


def _rows(db: sqlite_utils.Database, table: str, column: str, values: Iterable[Any]) -> list[dict[str, Any]]:
    wanted = list(values)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(wanted), 500):  # below SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows.extend(db.query(f"select * from {table} where {column} in ({marks})", chunk))
    return rows


def _cluster_with(db: sqlite_utils.Database, url_hash: str, matched: list[str]) -> int | None:
    """Put ``url_hash`` and its matches in one cluster; the id, or None when alone."""
    existing: dict[str, int] = {
        row["url_hash"]: int(row["cluster_id"]) for row in _rows(db, MEMBERS, "url_hash", [url_hash, *matched])
    }
    cluster_ids = sorted(set(existing.values()))
    if not cluster_ids:
        if not matched:
            return None
        created = db.execute(f"insert into {CLUSTERS} (original, created_at) values (?, ?)", [url_hash, now_iso()])
        assert created.lastrowid is not None
        cluster_ids = [created.lastrowid]
    target = cluster_ids[0]
    for absorbed in cluster_ids[1:]:
        # The absorbed cluster's row stays, pointing at the survivor, so an id an analyst noted
        # down still resolves.
        db.execute(f"update {MEMBERS} set cluster_id = ? where cluster_id = ?", [target, absorbed])
        db.execute(f"update {CLUSTERS} set merged_into = ? where cluster_id = ?", [target, absorbed])
    db.conn.executemany(
        f"insert or ignore into {MEMBERS} (url_hash, cluster_id, similarity) values (?, ?, 1.0)",
        [(h, target) for h in [url_hash, *matched] if h not in existing],
    )
    return target


def _refresh(db: sqlite_utils.Database, cluster_id: int) -> None:
    """Make the earliest-published member the original and measure every member against it."""
    rows = list(
        db.query(
            f"select s.url_hash, s.published_at, s.signature from {MEMBERS} m join {SIGNATURES} s"
            " using (url_hash) where m.cluster_id = ?",
            [cluster_id],
        )
    )
    original = min(rows, key=lambda r: _order_key(r["published_at"], r["url_hash"]))
    reference = _load(original["signature"])
    db.execute(f"update {CLUSTERS} set original = ? where cluster_id = ?", [original["url_hash"], cluster_id])
    db.conn.executemany(
        f"update {MEMBERS} set similarity = ? where url_hash = ?",
        [(jaccard(reference, _load(r["signature"])), r["url_hash"]) for r in rows],
    )


def _order_key(published_at: str | None, url_hash: str) -> tuple[datetime, str]:
    """Publication order in UTC (sites differ in offsets); undated last; url_hash breaks ties.

    Ties are broken by url_hash rather than indexing order so the original does not depend on
    which site was crawled first.
    """
    if not published_at:
        return _NO_DATE, url_hash
    try:
        moment = datetime.fromisoformat(published_at)
    except ValueError:
        return _NO_DATE, url_hash
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), url_hash
