"""Generic article extraction for pages whose site template is not recognised.

The page is parsed once (``trafilatura.utils.load_html``, or the caller's tree); the tree then
feeds three consumers:

1. trafilatura's main extractor in ``fast`` mode with ``include_comments=False``
   (it copies the tree internally) -- the *main* candidate;
2. trafilatura's metadata steps (title, authors, date, description, image; see
   ``_page_metadata``);
3. trafilatura's bundled readability port (readability-lxml's algorithm,
   ``min_text_length=25``) on the original tree, last, so no copy is needed --
   the *reference* candidate.

Rule ("edge trim by agreement"): when the two candidates found the same article
(at least ``_MIN_AGREEMENT`` of the reference's 4-token shingles occur in the
main text), the main text's leading and trailing paragraphs that the reference
does not cover are cut: they are typically headlines, datelines, newsletter
boxes, "about the company" blurbs or related-article lists. Paragraphs that the
reference misses *inside* the article (embedded tweets, quotes, lists) are
kept, since readability drops those wrongly. The cut is refused when it would
keep less than ``_MIN_KEPT`` of the main text's tokens.

Measured on the 136-page article-extraction-benchmark (``python -m
bench.quality``), trafilatura 2.3.1, F1 (precision / recall):

* trafilatura ``extract(include_comments=False)``          0.958 (0.936 / 0.981)
* this module (fast + readability-port edge trim)          0.975 (0.968 / 0.981)

Tried and not kept (F1 on the same pages; see bench/RESULTS-quality.md):

* ``favor_precision`` as the main candidate + edge trim: 0.965; picking
  between ``fast`` and ``fast+favor_precision`` with the readability port as
  arbiter + edge trim: 0.974, but a third trafilatura run costs ~1.8x time.
* readability-lxml 0.9 (the package) as the reference instead of the bundled
  port: 0.975 too (+0.0003) at ~6x the reference cost (~20 ms/page vs 3.5 ms).
* running ``favor_precision`` only where the trimmed text still disagrees with
  the reference (17 of 136 pages): +0.0003, not worth the extra code.
* edge-trim thresholds: ``_MIN_KEPT`` 0.5 -> 0.973, 0.7 -> 0.973, 0.8 -> 0.968;
  agreement 0.9 -> 0.972 (0.5-0.6 give the same result).
* ``include_tables=False``: 0.959 (fast) -- tables often hold article text.
* ``favor_recall``: 0.964 (fast), no better than plain ``fast``.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from htmldate import find_date
from lxml.etree import Comment, ProcessingInstruction, strip_elements, tostring
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.external import try_readability
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from storage.text import entities_kept, shingles

__all__ = ["GenericResult", "extract_generic"]

logger = logging.getLogger(__name__)

_MIN_AGREEMENT = 0.6  # share of the reference's shingles found in the main text
_MIN_KEPT = 0.6  # edge trim must keep at least this share of the main tokens
_COVERED = 0.5  # a paragraph is covered when half its shingles are in the reference
_SHINGLE = 4
_MIN_SENTENCE_TOKENS = 8  # an article has at least one line of running text this long

_TOKEN_RE = re.compile(r"\w+")
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:;|\||,|\band\b|&|\bvà\b)\s*", re.IGNORECASE)

Shingle = tuple[str, ...]


@dataclass(frozen=True)
class GenericResult:
    """What the generic path knows about an article page."""

    title: str | None
    body: str
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    description: str | None = None
    image: str | None = None


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _shingles(tokens: list[str]) -> list[Shingle]:
    """Overlapping 4-token shingles; a shorter non-empty text is one shingle."""
    return shingles(tokens, _SHINGLE)


def _containment(part: list[Shingle], whole: Counter[Shingle]) -> float:
    """Share of ``part``'s shingle multiset that also occurs in ``whole``."""
    if not part:
        return 0.0
    counts = Counter(part)
    hit = sum(min(n, whole[s]) for s, n in counts.items())
    return hit / len(part)


def _is_covered(tokens: list[str], ref_set: Counter[Shingle], ref_joined: str) -> bool:
    if len(tokens) < _SHINGLE:
        return f" {' '.join(tokens)} " in ref_joined
    sh = _shingles(tokens)
    return sum(1 for s in sh if s in ref_set) >= _COVERED * len(sh)


def edge_trim(main: str, reference: str) -> str:
    """Cut the main text's leading/trailing paragraphs the reference lacks.

    Returns ``main`` unchanged when the two texts do not describe the same
    article or when the cut would remove too much.
    """
    ref_tokens = _tokens(reference)
    main_tokens = _tokens(main)
    if not ref_tokens or not main_tokens:
        return main
    ref_shingles = _shingles(ref_tokens)
    if _containment(ref_shingles, Counter(_shingles(main_tokens))) < _MIN_AGREEMENT:
        return main
    ref_set = Counter(ref_shingles)
    ref_joined = f" {' '.join(ref_tokens)} "
    paragraphs = main.split("\n")

    def covered(i: int) -> bool:
        toks = _tokens(paragraphs[i])
        return bool(toks) and _is_covered(toks, ref_set, ref_joined)

    # only the first and the last covered paragraph matter: search inwards from both ends
    first = next((i for i in range(len(paragraphs)) if covered(i)), None)
    if first is None:
        return main
    last = next(i for i in range(len(paragraphs) - 1, first - 1, -1) if i == first or covered(i))
    if first == 0 and last == len(paragraphs) - 1:
        return main
    kept = "\n".join(paragraphs[first : last + 1])
    if len(_tokens(kept)) < _MIN_KEPT * len(main_tokens):
        return main
    return kept


def _has_running_text(text: str) -> bool:
    return any(len(_tokens(line)) >= _MIN_SENTENCE_TOKENS for line in text.split("\n"))


def _readability_text(tree: HtmlElement) -> str:
    """Text of the readability port's summary (mutates ``tree``)."""
    summary = try_readability(tree)
    raw: bytes = tostring(summary, method="text", encoding="utf-8")
    # NFC like the main text: tokens (\w+) of an NFD text break at every combining mark, and
    # the edge trim would then find the two texts disagree.
    return " ".join(unicodedata.normalize("NFC", raw.decode("utf-8")).split())


def _split_authors(author: str | None) -> list[str]:
    if not author:
        return []
    names: list[str] = []
    for name in _AUTHOR_SPLIT_RE.split(author):
        name = name.strip(" .-–—")
        if name and name not in names:
            names.append(name)
    return names


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def extract_generic(page: str | HtmlElement, url: str | None = None) -> GenericResult | None:
    """Extract an article from any page; None when it holds no article text.

    ``page`` is the HTML, or a tree already parsed from it (``crawler.pagemeta.parse_html``),
    which is left as it was: a copy (a quarter of the cost of parsing again) loses its comments,
    as with trafilatura's own parser, and is then consumed by the readability pass.
    """
    if isinstance(page, str):
        if not page.strip():
            return None
        tree = load_html(page)
        if tree is None:
            return None
    else:
        tree = copy.deepcopy(page)
        strip_elements(tree, Comment, ProcessingInstruction, with_tail=False)
    with entities_kept(tree):  # trafilatura would decode the page's entities a second time
        doc = bare_extraction(
            tree,  # copied by trafilatura, so ``tree`` stays intact for readability
            url=url,
            fast=True,
            include_comments=False,
            include_tables=True,
        )
        if not isinstance(doc, Document) or not doc.text or not doc.text.strip():
            return None
        meta = _page_metadata(tree, url)
    main = unicodedata.normalize("NFC", doc.text).strip()
    if not _has_running_text(main):
        return None  # menus, tag clouds, link lists: no article text
    try:
        reference = _readability_text(tree)  # last consumer: mutating is fine
    except Exception:  # the reference is optional
        reference = ""
    body = edge_trim(main, reference) if reference else main
    return GenericResult(
        title=_clean(meta.title),
        body=body,
        authors=_split_authors(meta.author),
        date=_clean(meta.date),
        description=_clean(meta.description),
        image=_clean(meta.image),
    )


def _page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """trafilatura 2.3's ``extract_metadata`` without the parts no record field uses.

    Site name, categories, tags and licence took a third of its time (about 3.6 ms of 8.6 ms a
    page on the public benchmark). The steps below are its own, in its order, through its
    internal functions -- which is why trafilatura is pinned below 2.4. Runs after the main
    extraction on the same tree: none of these steps changes the tree (``extract_author``
    works on a copy).
    """
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # trafilatura's own rule: a one-word author meta is a handle
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # trafilatura guards its JSON-LD reader the same way
        logger.debug("JSON-LD metadata of %s unreadable", url, exc_info=True)
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.author:
        meta.author = extract_author(tree)
    # bare_extraction(fast=True) passes fast as htmldate's extensive flag: kept as it was
    meta.date = find_date(tree, **{**set_date_params(True), "url": meta.url or url})
    meta.clean_and_trim()
    return meta
