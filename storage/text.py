"""Text normalisation, hashing and shingles shared by extraction, storage, dedup and the benchmarks.

Vietnamese text reaches us in NFC and NFD and as HTML entities (``&#7873;``, ``&ocirc;``);
everything that compares, hashes or stores text goes through :func:`clean_text` first so the
same article never hashes twice.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u2009\u202f\ufeff]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """Return ``text`` with entities decoded, in NFC, runs of spaces collapsed, lines stripped."""
    if not text:
        return ""
    # Pages sometimes double-escape (``&amp;ocirc;``); lxml decodes one level, this the rest.
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def clean_line(text: str | None) -> str:
    """Like :func:`clean_text` but folded onto one line."""
    return " ".join(clean_text(text).split())


def hash_key(text: str) -> str:
    """Hex SHA-256 of ``text`` (UTF-8): the project's key for URLs and contents."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_for_hash(text: str) -> str:
    """Text reduced to what identifies its content: NFC, case-folded, no punctuation.

    Two copies that differ only in entities, Unicode form, whitespace, quotes or punctuation
    normalise to the same string.
    """
    text = clean_text(text).casefold()
    kept = [" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text]
    return " ".join("".join(kept).split())


def content_hash(title: str | None, lead: str | None, body: str | None) -> str:
    """Hash of an article's normalised title, lead and body."""
    return hash_key(normalize_for_hash("\n".join(p for p in (title, lead, body) if p)))


def shingles(tokens: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """Overlapping ``size``-token windows of ``tokens``, in order (a multiset: repeats kept).

    Fewer than ``size`` tokens make one short shingle; no token makes none. The one shingle
    rule of the project: the body metric (bench/metric.py), the generic extractor's edge trim
    and near-duplicate signatures (storage/dedup.py) all count with it.
    """
    if not tokens:
        return []
    if len(tokens) <= size:
        return [tuple(tokens)]
    return [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
