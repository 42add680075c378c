"""What a page says about itself: its decoded text, canonical URL, meta tags and JSON-LD.

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


def is_utf8(charset: str) -> bool:
    """Whether a declared charset name means UTF-8 (``UTF-8``, ``utf8``, ``utf_8``)."""
    return charset.strip().lower().replace("_", "-") in ("utf-8", "utf8")


def decode_page(body: bytes, declared: str | None = None) -> str:
    """Bytes of a page as text: UTF-8 first, whatever a header claims; then the declared charset.

    All three sites serve UTF-8, and a wrong ``charset=`` in a header is a common server
    mistake, so bytes that are valid UTF-8 are read as UTF-8. Invalid bytes in an otherwise
    UTF-8 page become U+FFFD instead of failing the page.
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared and not is_utf8(declared):
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return body.decode("utf-8", errors="replace")


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
    too_deep = any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in parser.error_log)
    return tree, too_deep


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
    for script in _LD_SCRIPTS(tree):
        for obj in ld_objects(str(script)):
            types = obj.get("@type")
            names = {types} if isinstance(types, str) else set(types or [])
            ld_types |= {str(t) for t in names}
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
    """A JSON-LD text property, which may also be a list of texts (the first one counts)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return clean_line(value) if isinstance(value, str) else ""


def ld_objects(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text, strict=False)
    except (ValueError, RecursionError):  # nested arrays 100,000 deep exhaust the decoder's stack
        return []
    stack = data if isinstance(data, list) else [data]
    objects: list[dict[str, Any]] = []
    for obj in stack:
        if isinstance(obj, dict):
            objects.append(obj)
            graph = obj.get("@graph")
            if isinstance(graph, list):
                objects.extend(o for o in graph if isinstance(o, dict))
    return objects


def ld_authors(article: dict[str, Any]) -> list[str]:
    author = article.get("author")
    items = author if isinstance(author, list) else [author]
    # ld_text: a name may be a list of names, or no text at all (trafilatura-eval's osw.waw.pl page)
    return unique(ld_text(a.get("name") if isinstance(a, dict) else a) for a in items if a)


def unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, first occurrence kept, in order."""
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out
