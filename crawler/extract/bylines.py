"""Bylines and credits: rules that work on any Vietnamese news page, whatever its template.

A site module's author selectors are a guess until checked against the live site (SITES.md
marks most of them GUESSED), so extraction falls back to what Vietnamese CMS bodies commonly
do: the byline is the last paragraph of the body, right-aligned, often in bold, written either
with a class (``text-right``) or an inline style (``style="text-align: right;"``).

A credit such as "Theo TTXVN" ("according to VNA") or "Nguồn: Bộ Công an" names where the
text came from, not who wrote it: it goes to the record's ``source``, never into ``authors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import html as lxml_html

from crawler.extract.pagemeta import MAX_AUTHORS
from storage.text import clean_line

# Bylines join several names: "Thanh Hiếu - Phúc Lộc", "A, B", "A và B".
AUTHOR_SEPARATORS = re.compile(r"\s+[-–]\s+|\s*,\s*|\s*;\s*|\s+và\s+")
# "Theo TTXVN", "(Theo VnExpress)", "Nguồn: Bộ Công an", "Nguồn Báo CAND".
_CREDIT = re.compile(r"^[(\[]?\s*(?:theo|nguồn)\s*[:：]?\s+(?P<source>.+?)\s*[)\]]?\s*$", re.IGNORECASE)
_RIGHT_STYLE = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)
_RIGHT_CLASS = re.compile(r"(?:^|\s)(?:text-right|right|align-right|author)(?:\s|$)")
# A byline is a name or two, not a sentence.
_MAX_BYLINE_CHARS = 80
_MAX_NAME_WORDS = 6
_BLOCKS = frozenset({"p", "div"})
# "Cập nhật..." ("updating..."), the last paragraph of a developing story on CAO (SITES.md
# §3.3, CONFIRMED): a status of the page, neither running text nor a name.
_STATUS_LINE = re.compile(r"^(?:đang\s+)?cập\s+nhật\s*(?:\.{2,}|…)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Byline:
    """Names and credit read from one byline text."""

    authors: list[str]
    source: str | None


def split_byline(texts: Iterable[str]) -> Byline:
    """Author names (at most :data:`MAX_AUTHORS`) and the credit of byline ``texts`` (each may
    hold several names)."""
    authors: list[str] = []
    source: str | None = None
    for text in texts:
        for part in AUTHOR_SEPARATORS.split(clean_line(text)):
            part = part.strip(" -–|.")
            if not part:
                continue
            credit = _CREDIT.match(part)
            if credit:
                source = source or credit.group("source").strip(" .")
            elif part not in authors and len(authors) < MAX_AUTHORS:
                authors.append(part)
    return Byline(authors, source)


def credit_of(text: str | None) -> str | None:
    """The source named by a credit line ("Theo TTXVN" -> "TTXVN"), or None."""
    found = _CREDIT.match(clean_line(text))
    return found.group("source").strip(" .") if found else None


def is_status_line(text: str) -> bool:
    """Whether a paragraph is a developing story's "Cập nhật..." status line."""
    return _STATUS_LINE.match(clean_line(text)) is not None


def looks_like_names(text: str) -> bool:
    """Whether a short line reads as a byline (names or a credit), not running text."""
    if not text or len(text) > _MAX_BYLINE_CHARS or text.endswith((":", "?")) or is_status_line(text):
        return False
    if credit_of(text):
        return True
    names = [n for n in AUTHOR_SEPARATORS.split(text) if n.strip()]
    return bool(names) and all(len(n.split()) <= _MAX_NAME_WORDS for n in names)


def right_aligned_bylines(container: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The trailing right-aligned paragraphs of a body container that read as bylines.

    Looks at the last two non-empty blocks of the container, in order; a block qualifies when
    it is right-aligned by inline style, ``align`` attribute or class, and its text is short.
    """
    blocks = [
        node
        for node in container.iter("p", "div")
        if node is not container
        and not any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in node)
        and clean_line(node.text_content())
    ]
    found: list[lxml_html.HtmlElement] = []
    for node in reversed(blocks[-2:]):
        if not _right_aligned(node) or not looks_like_names(clean_line(node.text_content())):
            break
        found.insert(0, node)
    return found


def split_date_byline(text: str, separator: str | None) -> tuple[str, str | None]:
    """A date line that also carries the byline ("Thứ Tư, 19/03/2025 13:37 | A. Quân", CAO in
    2025, SITES.md §3.3) as its date part and its byline part (None when there is none)."""
    line = clean_line(text)
    if not separator or separator not in line:
        return line, None
    date_part, _, rest = line.partition(separator)
    byline = rest.strip()
    return date_part.strip(), byline if looks_like_names(byline) else None


def trailing_bylines(tree: lxml_html.HtmlElement) -> list[str]:
    """Texts of the right-aligned byline paragraphs that end their container, anywhere in a page.

    The generic path has no body container to look in; a byline there is the same trailing,
    right-aligned short paragraph (after any number of empty ``&nbsp;`` ones) that
    :func:`right_aligned_bylines` finds in a known container.
    """
    texts: list[str] = []
    for node in tree.iter("p", "div"):
        if any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in node) or not _right_aligned(node):
            continue
        text = clean_line(node.text_content())
        parent = node.getparent()
        if parent is None or not looks_like_names(text):
            continue
        if any(found is node for found in right_aligned_bylines(parent)) and text not in texts:
            texts.append(text)
    return texts


def _right_aligned(node: lxml_html.HtmlElement) -> bool:
    for candidate in (node, node.getparent()):
        if candidate is None:
            continue
        if _RIGHT_STYLE.search(candidate.get("style") or ""):
            return True
        if (candidate.get("align") or "").lower() == "right":
            return True
        if _RIGHT_CLASS.search(candidate.get("class") or ""):
            return True
    return False
