"""What a page says about itself: its parsed tree, canonical URL, meta tags and JSON-LD.

Pure functions over an lxml tree, shared by the site and generic extraction paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from storage.text import clean_line

ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle"})
NON_ARTICLE_TYPES = frozenset({"VideoObject", "ImageGallery", "CollectionPage", "ProfilePage", "SearchResultsPage"})

# Caps on what a page's metadata and markup can put into one record. A real article has a few
# authors, a dozen tags and a few dozen pictures; a page listing thousands costs quadratic time
# in the dedup of names and bloats the record, so the first ones are kept and the rest ignored.
MAX_AUTHORS = 20
MAX_TAGS = 50
MAX_IMAGES = 100
# JSON-LD read from one page: scripts, nodes per script, items of one list, @graph nesting.
MAX_LD_SCRIPTS = 20
MAX_LD_OBJECTS = 200
MAX_LD_LIST = 100
_LD_DEPTH = 4


@dataclass(frozen=True)
class PageMeta:
    """What a page says of itself in its head: meta tags, canonical link, JSON-LD."""

    canonical: str | None
    canonical_source: str | None  # "rel_canonical" or "og_url"
    title: str | None
    description: str | None
    image: str | None
    og_type: str | None
    published: str | None
    section: str | None
    ld_types: frozenset[str]
    ld_article: dict[str, Any]
    html_lang: str | None
    author: str | None = None  # meta[name=author]


def parse_html(page: str | bytes) -> lxml_html.HtmlElement | None:
    """Parse a page into an lxml tree; None for an empty or unparsable page."""
    return parse_page(page)[0]


def parse_page(page: str | bytes) -> tuple[lxml_html.HtmlElement | None, bool]:
    """Parse a page into an lxml tree (None for an empty or unparsable page), and whether the
    tree is truncated because the page nests deeper than libxml2 builds (256 levels).

    libxml2 stops at that depth without raising: the rest of the page is silently missing.
    Its error log says so, and the caller must not take the truncated tree for the page.
    """
    if isinstance(page, str):
        page = page.encode("utf-8")
    if not page.strip():
        return None, False
    parser = lxml_html.HTMLParser(encoding="utf-8")
    try:
        tree = lxml_html.document_fromstring(page, parser=parser)
    except (etree.ParserError, ValueError):
        return None, False
    errors = {e.type for e in parser.error_log}
    if etree.ErrorTypes.ERR_NO_MEMORY in errors:  # libxml2 ran out of memory: the tree is partial
        raise MemoryError("the HTML parser ran out of memory")
    return tree, etree.ErrorTypes.ERR_RESOURCE_LIMIT in errors


@lru_cache(maxsize=1024)
def _compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def select(node: lxml_html.HtmlElement, selector: str) -> list[lxml_html.HtmlElement]:
    """``node.cssselect(selector)``, the selector compiled once per process.

    lxml's ``cssselect()`` translates the CSS to XPath and compiles it on every call; the site
    selectors run on every page, and that translation was a quarter of an extraction's time.
    """
    return _compiled(selector)(node)  # type: ignore[no-any-return]


_CANONICAL_XPATHS = (
    ("rel_canonical", etree.XPath('//link[@rel="canonical"]/@href')),
    # bocongan.gov.vn declares its canonical URL only as og:url (SITES.md §1.4b, CONFIRMED).
    ("og_url", etree.XPath('//meta[@property="og:url"]/@content')),
)
# The content of <meta property=NAME> or <meta name=NAME>, compiled once (``.xpath()`` compiles
# its string on every call); called as META_CONTENT(tree, name=NAME).
META_CONTENT = etree.XPath("//meta[@property=$name or @name=$name]/@content")
_LD_SCRIPTS = etree.XPath('//script[@type="application/ld+json"]/text()')


# Text a reader sees: not that of scripts, styles, <noscript> fallbacks or inert <template>s,
# whose text node_content() would return with the rest.
_HIDDEN = ("script", "style", "noscript", "template")
_VISIBLE_TEXT = etree.XPath(
    "descendant-or-self::text()[not(" + " or ".join(f"ancestor::{t}" for t in _HIDDEN) + ")]", smart_strings=False
)


def visible_text(node: lxml_html.HtmlElement) -> str:
    """The text of ``node`` on one clean line, without the text of scripts, styles,
    ``<noscript>`` and ``<template>`` inside it (or around it: such a node has no visible text)."""
    return clean_line("".join(_VISIBLE_TEXT(node)))


def page_canonical(tree: lxml_html.HtmlElement) -> str | None:
    """The page's declared canonical URL (``<link rel=canonical>``, then ``og:url``)."""
    return _canonical(tree)[0]


def _canonical(tree: lxml_html.HtmlElement) -> tuple[str | None, str | None]:
    for rule, xpath in _CANONICAL_XPATHS:
        found = xpath(tree)
        if found and str(found[0]).strip():
            return str(found[0]).strip(), rule
    return None, None


def read_meta(tree: lxml_html.HtmlElement) -> PageMeta:
    def meta(*names: str) -> str | None:
        for name in names:
            found = META_CONTENT(tree, name=name)
            if found and str(found[0]).strip():
                return clean_line(str(found[0]))
        return None

    ld_types: set[str] = set()
    ld_article: dict[str, Any] = {}
    for script in _LD_SCRIPTS(tree)[:MAX_LD_SCRIPTS]:
        for obj in ld_objects(str(script)):
            names = ld_type_names(obj)
            ld_types |= names
            if names & ARTICLE_TYPES and not ld_article:
                ld_article = obj
    lang = tree.get("lang")
    canonical, canonical_source = _canonical(tree)
    return PageMeta(
        canonical=canonical,
        canonical_source=canonical_source,
        title=meta("og:title"),
        description=meta("og:description", "description"),
        image=meta("og:image"),
        og_type=meta("og:type"),
        published=meta("article:published_time", "pubdate", "datePublished"),
        section=meta("article:section") or ld_text(ld_article.get("articleSection")) or None,
        ld_types=frozenset(ld_types),
        ld_article=ld_article,
        html_lang=lang,
        author=meta("author"),
    )


def ld_text(value: Any) -> str:
    """A JSON-LD text property as one clean line, whatever its shape; ``""`` when it holds none.

    The property may be a text, a list (the first text counts), or a node (``{"@value": ...}``,
    ``{"name": ...}``, as schema.org allows for a headline or a section). Anything else -- a
    number, a boolean, null, a list of lists -- is no text. JSON-LD is untrusted input: a field
    of an unexpected shape is ignored (the markup's own value is used instead), never an error.
    """
    for _ in range(_LD_DEPTH):
        if isinstance(value, str):
            return clean_line(value)
        if isinstance(value, list):
            value = next((v for v in value[:MAX_LD_LIST] if isinstance(v, (str, dict)) and v), None)
        elif isinstance(value, dict):
            value = value.get("@value", value.get("name"))
        else:
            return ""
    return ""


def ld_type_names(obj: dict[str, Any]) -> frozenset[str]:
    """The ``@type`` names of a JSON-LD node: a text or a list of texts; other shapes name none."""
    types = obj.get("@type")
    items = types[:MAX_LD_LIST] if isinstance(types, list) else [types]
    return frozenset(t.strip() for t in items if isinstance(t, str) and t.strip())


def ld_objects(text: str) -> list[dict[str, Any]]:
    """The JSON-LD nodes of one script: top-level nodes and those of ``@graph`` (nested too).

    At most :data:`MAX_LD_OBJECTS` nodes, ``@graph`` followed :data:`_LD_DEPTH` levels deep; a
    ``@graph`` that is one node instead of a list counts as that node.
    """
    try:
        data = json.loads(text, strict=False)
    except (ValueError, RecursionError):  # nested arrays 100,000 deep exhaust the decoder's stack
        return []
    objects: list[dict[str, Any]] = []
    level = data if isinstance(data, list) else [data]
    for _ in range(_LD_DEPTH):
        deeper: list[Any] = []
        for obj in level:
            if len(objects) >= MAX_LD_OBJECTS:
                return objects
            if isinstance(obj, dict):
                objects.append(obj)
                graph = obj.get("@graph")
                deeper.extend(graph[:MAX_LD_OBJECTS] if isinstance(graph, list) else [graph])
        level = deeper
    return objects


def ld_authors(article: dict[str, Any]) -> list[str]:
    """The author names of a JSON-LD article: texts or nodes with a ``name``, at most
    :data:`MAX_AUTHORS` of them; an author of any other shape is skipped."""
    author = article.get("author")
    items = author[: 4 * MAX_AUTHORS] if isinstance(author, list) else [author]
    return unique((ld_text(a) for a in items), limit=MAX_AUTHORS)


def unique(values: Iterable[str], limit: int | None = None) -> list[str]:
    """Non-empty values, first occurrence kept, in order; at most ``limit`` of them."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        if limit is not None and len(out) >= limit:
            break
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out
