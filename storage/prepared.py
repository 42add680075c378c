"""What the storage path needs of an article that no database is needed to compute.

:func:`prepare` is pure and cheap to ship between processes: the crawl runs it in the extraction
workers (crawler/crawl/pool.py), so the process that owns the database only moves finished rows into
SQLite. The storage path prepares the writes that arrive without it (``ingest``, ``reextract``,
tests) itself, with the same function.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from storage import dedup

# Field order of stored, exported and printed records (crawler.extract.items.ArticleItem's
# public fields): its one home, here because storage cannot import the crawler.
RECORD_FIELDS: tuple[str, ...] = (
    "site",
    "url",
    "title",
    "lead",
    "body",
    "authors",
    "source",
    "published_at",
    "published_at_raw",
    "published_at_precision",
    "category",
    "tags",
    "images",
    "language",
    "extractor",
    "url_hash",
    "content_hash",
    "fetched_at",
)
# Record fields stored as JSON text (lists).
JSON_FIELDS = ("authors", "tags", "images")
# zlib level of stored pages. 4 against zlib's default 6, on the synthetic replica's pages (own
# bodies): 0.32 against 0.47 ms a page in the workers, 2.4% larger (3.22x against 3.30x smaller
# than the page); 3 saves 0.07 ms more for 5% more. Stored pages of any level read back alike.
PAGE_LEVEL = 4
# What a signature computed elsewhere must have been computed with to be stored as it is: a
# prepared form shipped between processes (distributed mode's record Stream) carries this tag,
# and a writer whose tag differs (another version of the MinHash parameters) recomputes it.
FORMAT = f"minhash:{dedup.SCHEME}:{dedup.NUM_PERM}:{dedup.SEED}:{dedup.SHINGLE_SIZE}"
SIGNATURE_BYTES = dedup.NUM_PERM * 4


@dataclass(frozen=True)
class PreparedArticle:
    """One article's JSON columns, compressed page, MinHash signature and LSH band keys.

    ``signature`` is :data:`storage.dedup.NUM_PERM` little-endian uint32 (None: the text has no
    words and is not indexed); ``bands`` its (band, bucket) keys; ``html_gz`` None when there
    is no page to store.
    """

    json_columns: dict[str, str]
    html_gz: bytes | None
    signature: bytes | None
    bands: tuple[tuple[int, int], ...]

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """The ``articles`` columns of ``record``: its fields, the list fields as JSON."""
        return {**record, **{k: v for k, v in self.json_columns.items() if k in record}}


def json_columns(record: dict[str, Any]) -> dict[str, str]:
    """The list fields of ``record`` as the JSON text stored in their columns."""
    return {k: json.dumps(record[k], ensure_ascii=False) for k in JSON_FIELDS if k in record}


def from_parts(record: dict[str, Any], html_gz: bytes | None, signature: bytes | None) -> PreparedArticle:
    """The prepared form of ``record`` from a compressed page and a signature computed elsewhere
    (with :data:`FORMAT`); the cheap parts (JSON columns, band keys) are derived here.

    Raises ValueError for a signature of the wrong size.
    """
    if signature is not None and len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"signature is {len(signature)} bytes, not {SIGNATURE_BYTES}")
    bands = tuple(dedup.band_keys(dedup.load_signature(signature))) if signature is not None else ()
    return PreparedArticle(json_columns(record), html_gz or None, signature, bands)


def prepare(record: dict[str, Any], raw_html: bytes = b"") -> PreparedArticle:
    """Everything :func:`storage.batch.save_batch` computes per article before SQL."""
    sig = dedup.article_signature(record.get("lead"), record.get("body"))
    return PreparedArticle(
        json_columns(record),
        zlib.compress(raw_html, PAGE_LEVEL) if raw_html else None,
        dedup.signature_blob(sig) if sig is not None else None,
        tuple(dedup.band_keys(sig)) if sig is not None else (),
    )
