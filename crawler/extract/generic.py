"""Generic article extraction for pages whose site template is not recognised.

The generic path is trafilatura's full extraction (``bare_extraction``, not ``fast``: its own
fallbacks, readability and jusText, compared against its main extractor) with
``include_comments=False`` and tables kept, plus trafilatura's metadata steps (title, authors,
date, description, image; see ``_page_metadata``). It adds no correction of its own, because
none won on pages it was not chosen on (``python -m bench.quality --part general``,
bench/RESULTS-quality.md):

* the "edge trim" (cut the leading and trailing paragraphs that trafilatura's readability port
  does not cover), which this module applied until 2026-12, gains on the 136 public benchmark
  pages under 5-fold cross-validation (out-of-fold F1 +0.010, sd 0.007 across folds; thresholds
  chosen on the other folds), but loses on the 884 pages of trafilatura's evaluation set, which
  chose nothing (snippet F1 0.9185 against 0.9267 without it: recall 0.919 against 0.947). It
  lives on in ``bench/general.py`` only, as a measured row;
* ``fast`` mode, which the module used before, skips those fallbacks.

Whether the page is an article is not decided here: extraction returns the text of any page
that has running text; the crawl decides with what it knows (the site's URL shapes and
template), ``newscrawl extract`` without ``--site`` with :mod:`crawler.extract.articleness`.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from dataclasses import dataclass, field

from htmldate import find_date
from lxml.etree import Comment, ProcessingInstruction, strip_elements
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from storage.text import entities_kept

__all__ = ["Candidates", "GenericResult", "candidates", "extract_generic", "has_running_text"]

logger = logging.getLogger(__name__)

_MIN_SENTENCE_TOKENS = 8  # a page with text has at least one line of running text this long
ALL_FIELDS = frozenset({"title", "authors", "date"})  # the metadata searches extract_generic can skip
_MIN_SENTENCE_CHARS = 40  # ... or this many word characters (scripts written without spaces)

_TOKEN_RE = re.compile(r"\w+")
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:;|\||,|\band\b|&|\bvà\b)\s*", re.IGNORECASE)


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


@dataclass(frozen=True)
class Candidates:
    """trafilatura's text of a page (``main``, NFC) and its metadata, before any decision."""

    main: str
    meta: Document


def candidates(
    page: str | bytes | HtmlElement, url: str | None = None, want: frozenset[str] = ALL_FIELDS
) -> Candidates | None:
    """The main text and the metadata of ``page``; None when it has no text.

    ``page`` is the HTML, or a tree already parsed from it (``crawler.extract.pagemeta.parse_html``),
    which is left as it was: trafilatura works on a copy, which loses the page's comments as
    its own parser's tree does. ``bench/general.py`` scores this text, so the benchmark and the
    crawl run the same code. ``want``: the metadata searches to run (``title``, ``authors``,
    ``date``; htmldate's date search alone is a tenth of a page's time), for a caller that has
    the others from the page's metadata already.
    """
    if isinstance(page, (str, bytes)):
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
            tree,  # copied by trafilatura: the metadata steps below read the same tree
            url=url,
            fast=False,  # full extraction: trafilatura's own fallbacks (readability, jusText)
            include_comments=False,
            include_tables=True,
        )
        if not isinstance(doc, Document) or not doc.text or not _TOKEN_RE.search(doc.text):
            return None
        meta = _page_metadata(tree, url, want)
    return Candidates(unicodedata.normalize("NFC", doc.text).strip(), meta)


def extract_generic(
    page: str | bytes | HtmlElement, url: str | None = None, want: frozenset[str] = ALL_FIELDS
) -> GenericResult | None:
    """The text and metadata of any page; None only when it holds no running text.

    Whether the page is an article is not decided here: see :mod:`crawler.extract.articleness`
    and the crawl's own evidence (the site's URL shapes, where the link was found).
    """
    found = candidates(page, url, want)
    if found is None or not has_running_text(found.main):
        return None  # no text, or only menus, tag clouds, link lists
    meta = found.meta
    return GenericResult(
        title=_clean(meta.title),
        body=found.main,
        authors=_split_authors(meta.author),
        date=_clean(meta.date),
        description=_clean(meta.description),
        image=_clean(meta.image),
    )


def has_running_text(text: str) -> bool:
    """At least one line of running text, not menus or tag clouds: ``_MIN_SENTENCE_TOKENS`` words,
    or ``_MIN_SENTENCE_CHARS`` word characters (Chinese and Japanese write no spaces: a whole
    sentence is one ``\\w+`` token)."""
    for line in text.split("\n"):
        tokens = _tokens(line)
        if len(tokens) >= _MIN_SENTENCE_TOKENS or sum(map(len, tokens)) >= _MIN_SENTENCE_CHARS:
            return True
    return False


def _page_metadata(tree: HtmlElement, url: str | None, want: frozenset[str] = ALL_FIELDS) -> Document:
    """trafilatura 2.3's ``extract_metadata`` without the parts no record field uses.

    Site name, categories, tags and licence took a third of its time (about 3.6 ms of 8.6 ms a
    page on the public benchmark). The steps below are its own, in its order, through its
    internal functions -- which is why trafilatura is pinned below 2.4. Runs after the main
    extraction on the same tree: none of these steps changes the tree (``extract_author``
    works on a copy). The costly searches (title, author in the page body, htmldate's date) run
    only for the fields in ``want``: a caller that has them from the page's metadata skips them.
    """
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # trafilatura's own rule: a one-word author meta is a handle
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # trafilatura guards its JSON-LD reader the same way
        logger.debug("JSON-LD metadata of %s unreadable", url, exc_info=True)
    if not meta.title and "title" in want:
        meta.title = extract_title(tree)
    if not meta.author and "authors" in want:
        meta.author = extract_author(tree)
    # htmldate's extensive search, as bare_extraction's default config (EXTENSIVE_DATE_SEARCH) asks
    if "date" in want:
        meta.date = find_date(tree, **{**set_date_params(True), "url": meta.url or url})
    meta.clean_and_trim()
    return meta
