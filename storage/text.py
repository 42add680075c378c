"""Text normalisation, hashing and shingles shared by extraction, storage, dedup and the benchmarks.

Vietnamese text reaches us in NFC and NFD and as HTML entities (``&#7873;``, ``&ocirc;``);
everything that compares, hashes or stores text goes through :func:`clean_text` first so the
same article never hashes twice.

Entities are decoded exactly once, by the HTML parser (lxml): text taken from a parsed tree is
never unescaped again, so an article that writes a literal ``&lt;`` (``&amp;lt;`` in its HTML)
keeps it. trafilatura unescapes its output once more; :func:`entities_kept` guards against that.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u2009\u202f\ufeff]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Characters a page can use to drive a terminal or reorder what a reader sees, never text:
# C0 controls but the whitespace ones (ESC, BEL, NUL...), DEL and the C1 controls
# (U+009B is a one-character CSI), and the bidi marks, embeddings, overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def clean_text(text: str | None) -> str:
    """Return ``text`` in NFC, runs of spaces collapsed, lines stripped (entities left as they are),
    without control characters and bidi overrides (newlines and tabs are spacing, kept)."""
    if not text:
        return ""
    text = _CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def clean_line(text: str | None) -> str:
    """Like :func:`clean_text` but folded onto one line."""
    # clean_text() without its per-line work, which split() makes moot (the same result). Of the
    # _SPACES characters, split() does not split at U+200B and U+FEFF alone: those are replaced
    # when present, which costs less than a second regular-expression pass (it runs ~50 times a page).
    if not text:
        return ""
    text = unicodedata.normalize("NFC", _CONTROLS.sub("", text))
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def hash_key(text: str) -> str:
    """Hex SHA-256 of ``text`` (UTF-8): the project's key for URLs and contents."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Cached: an article's body is normalised to choose it (crawler/extract/article.py), to hash it
# and to sign it (storage/dedup.py), each a pass over every character (str.translate through a
# dict costs tens of ns a character); a few recent texts are enough to do it once.
@lru_cache(maxsize=64)
def normalize_for_hash(text: str) -> str:
    """Text reduced to what identifies its content: NFC, case-folded, no punctuation.

    Two copies that differ only in entities, Unicode form, whitespace, quotes or punctuation
    normalise to the same string.
    """
    # clean_text() without its line and space handling, which the final split() makes moot:
    # every character _SPACES matches is in category Z or C, so the table maps it to a space.
    # The same result at about half the cost (this runs several times on every body).
    if not text:
        return ""
    text = unicodedata.normalize("NFC", _CONTROLS.sub("", text))
    return " ".join(text.casefold().translate(_PUNCTUATION_TO_SPACE).split())


class _PunctuationToSpace(dict[int, str]):
    """``str.translate`` table: punctuation, symbols, separators and controls (P, S, Z, C) to a
    space, every other character to itself; filled per character on first sight (the table of all
    of Unicode would be large, and this keeps :func:`normalize_for_hash` at C speed)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = " " if unicodedata.category(char)[0] in "PSZC" else char
        self[code] = value
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def content_hash(title: str | None, lead: str | None, body: str | None) -> str:
    """Hash of an article's normalised title, lead and body."""
    # normalize_for_hash of the parts joined by newlines, part by part (the same words: a newline
    # is a separator and nothing normalises across it), so the body's normalisation is shared.
    return hash_key(" ".join(n for n in (normalize_for_hash(p) for p in (title, lead, body) if p) if n))


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


@contextmanager
def entities_kept(tree: Any) -> Iterator[None]:
    """Within the block, every ``&`` of ``tree``'s text, tails and ``<meta>`` values reads ``&amp;``.

    trafilatura unescapes the text it returns (``xmltotxt``) and the metadata it reads
    (``Document.clean_and_trim``), although lxml has already decoded the page's entities: a
    literal ``&lt;`` would come out as ``<``. Escaping the ampersands first makes that second
    unescape give back the text as parsed. The tree is restored on exit.
    """
    changed: list[tuple[Any, str, str]] = []
    # XPath finds the few text nodes holding an "&" without a Python loop over the whole tree.
    for text in tree.xpath("//text()[contains(., '&')]"):
        node = text.getparent()
        if node is None or not isinstance(node.tag, str):
            continue  # comments and processing instructions: their text is not page text
        attr = "tail" if text.is_tail else "text"
        value = str(getattr(node, attr))
        changed.append((node, attr, value))
        setattr(node, attr, value.replace("&", "&amp;"))
    for node in tree.xpath("//meta[@*[contains(., '&')]]"):
        for name, value in node.attrib.items():
            if "&" in value:
                changed.append((node, "@" + name, value))
                node.set(name, value.replace("&", "&amp;"))
    try:
        yield
    finally:
        for node, attr, value in changed:
            if attr.startswith("@"):
                node.set(attr[1:], value)
            else:
                setattr(node, attr, value)
