"""Pure extraction: (html, url, site config) -> article record, or the reason it is not one.

Per-site knowledge comes first (JSON-LD, meta tags, the site's confirmed selectors); the body
is the site's body container with its furniture removed, run through trafilatura. When the
site's template is not recognised (a redesign), the generic path (:mod:`crawler.generic`)
produces the record instead, marked ``extractor="generic"``: a redesign degrades, it does not
break the crawl.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import html as lxml_html

from crawler.articleness import judge, read_signals
from crawler.dates import parse_any
from crawler.generic import extract_generic
from crawler.items import ArticleItem
from crawler.pagemeta import (
    ARTICLE_TYPES,
    NON_ARTICLE_TYPES,
    PageMeta,
    decode_page,
    ld_authors,
    ld_text,
    page_canonical,
    parse_html,
    read_meta,
    unique,
)
from crawler.sites import SiteConfig
from crawler.text import clean_line, clean_text, content_hash, entities_kept, normalize_for_hash
from crawler.urls import url_hash

# trafilatura logs every page it discards at WARNING; for us that is an expected outcome,
# reported as a NotArticle reason and counted in the crawl stats instead.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

# A 200 page that says the article is missing.
# Tight on purpose: headlines such as "Phát hiện 404 trường hợp vi phạm" are articles.
_SOFT_404 = re.compile(
    r"^\s*(?:error\s*)?404\b|page not found|không tìm thấy trang|trang không tồn tại|bài viết không tồn tại",
    re.IGNORECASE,
)

# Running text shorter than this is a video, album, tag or stub page, not an article.
MIN_BODY_CHARS = 300
_DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "input", "select", "svg")
# Bylines join several names: "Thanh Hiếu - Phúc Lộc", "A, B", "A và B".
_AUTHOR_SEPARATORS = re.compile(r"\s+[-–]\s+|\s*,\s*|\s+và\s+")
_BLOCK_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "div"})


@dataclass(frozen=True)
class NotArticle:
    """Why a page yields no article; ``reason`` is a short stable key used in stats."""

    reason: str
    detail: str = ""


def extract(
    page: str | bytes, url: str, site: SiteConfig | None, fetched_at: str | None = None
) -> ArticleItem | NotArticle:
    """Extract the article of ``page``, recorded under the canonical ``url``.

    ``site`` None runs the generic path only. Never raises on bad input: a broken page gives
    a :class:`NotArticle`.
    """
    tree = parse_html(page)
    if tree is None:
        return NotArticle("empty", "the page is empty or not HTML")
    meta = read_meta(tree)
    page_title = clean_line(tree.findtext(".//title"))
    if _SOFT_404.search(page_title) or _SOFT_404.search(_first_line(tree, ("h1",)) or ""):
        return NotArticle("soft_404", f"the page says it is missing: {page_title!r}")
    # Without a site, crawler.articleness weighs declared types against the page's own evidence.
    if site is not None and meta.ld_types & NON_ARTICLE_TYPES and not meta.ld_types & ARTICLE_TYPES:
        return NotArticle("not_article_type", f"JSON-LD type {sorted(meta.ld_types)}")
    if site is not None and meta.og_type and meta.og_type.startswith(("video", "profile", "website")):
        return NotArticle("not_article_type", f"og:type {meta.og_type}")
    fields = _site_fields(tree, site, url) if site is not None else None
    extractor = "site"
    if fields is None:
        extractor = "generic"
        if site is not None and not _looks_like_article(meta, url, site):
            return NotArticle("not_article", "no article template, markup or URL shape")
        signals = read_signals(tree, url, meta) if site is None else None  # before the tree is consumed
        generic = _generic_fields(tree, url)
        if generic is None:
            return NotArticle("no_text", "no article text found")
        if signals is not None and (why := judge(signals.evidence(generic["body"]))) is not None:
            return NotArticle("not_article", why)
        fields = generic
    title = fields["title"] or meta.title or ld_text(meta.ld_article.get("headline"))
    if not title:
        return NotArticle("no_title", "no title found")
    lead = fields["lead"] or None
    body = _drop_repeats(fields["body"], [title, lead or "", *fields["authors"]])
    if len(body) < MIN_BODY_CHARS:
        return NotArticle("too_short", f"{len(body)} characters of running text")
    date_raw = _first_text(meta.ld_article.get("datePublished"), meta.published, fields["date_raw"])
    language = site.language if site is not None else (meta.html_lang or "vi").split("-")[0]
    return ArticleItem(
        site=site.key if site is not None else "",
        url=url,
        title=title,
        lead=lead,
        body=body,
        authors=fields["authors"] or ld_authors(meta.ld_article),
        published_at=parse_any(date_raw),
        published_at_raw=date_raw,
        category=fields["category"] or meta.section,
        tags=fields["tags"],
        images=fields["images"],
        language=language,
        extractor=extractor,
        url_hash=url_hash(url),
        content_hash=content_hash(title, lead, body),
        fetched_at=fetched_at,
    )


def _site_fields(tree: lxml_html.HtmlElement, site: SiteConfig, url: str) -> dict[str, Any] | None:
    sel = site.selectors
    container = _first(tree, sel.body)
    if container is None:
        return None
    images = _images(tree, container, sel.hero_image, sel.image_blocks, sel.captions, url)
    authors = _authors(tree, sel.authors)
    cleaned = copy.deepcopy(container)
    for node in list(cleaned.iter(*_DROP_TAGS)):
        _drop(node)
    for selector in (*sel.remove, *sel.image_blocks, *sel.captions, *sel.authors):
        for node in cleaned.cssselect(selector):
            _drop(node)
    return {
        "title": _first_line(tree, sel.title),
        "lead": _first_line(tree, sel.lead),
        "date_raw": _first_line(tree, sel.date),
        "authors": authors,
        "category": _first_line(tree, sel.category),
        "tags": unique(clean_line(n.text_content()) for s in sel.tags for n in tree.cssselect(s)),
        "images": images,
        "body": _body_text(cleaned),
    }


def _looks_like_article(meta: PageMeta, url: str, site: SiteConfig) -> bool:
    """Evidence, beyond having text, that a page of a known site in an unrecognised template is an article.

    Tag, search and section pages have plenty of text too; the generic path only runs on pages
    that declare themselves articles or sit at one of the site's article URL shapes. (Pages
    with no site at all are judged by :mod:`crawler.articleness`.)
    """
    if site.is_article_path(urlsplit(url).path):
        return True
    return bool(meta.ld_types & ARTICLE_TYPES) or meta.og_type == "article" or meta.published is not None


def _generic_fields(tree: lxml_html.HtmlElement, url: str) -> dict[str, Any] | None:
    result = extract_generic(tree, url)  # consumes the tree: nothing reads it afterwards
    if result is None:
        return None
    image = [{"url": urljoin(url, result.image), "caption": None}] if result.image else []
    return {
        "title": clean_line(result.title),
        "lead": clean_line(result.description) or None,
        "date_raw": result.date,
        "authors": unique(clean_line(a) for a in result.authors),
        "category": None,
        "tags": [],
        "images": image,
        "body": clean_text(result.body),
    }


def _body_text(container: lxml_html.HtmlElement) -> str:
    """Running text of a cleaned body container: trafilatura, guarded against lost paragraphs.

    trafilatura's heuristics sometimes drop short or link-dense paragraphs of a fragment
    that is all article; the plain paragraph walk is then kept instead.
    """
    walked = _walk_paragraphs(container)
    wrapper = lxml_html.document_fromstring("<html><body><article></article></body></html>")
    wrapper.find(".//article").append(container)
    with entities_kept(wrapper):  # trafilatura would decode the page's entities a second time
        extracted = trafilatura.extract(
            wrapper,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            favor_recall=True,
            deduplicate=False,
        )
    traf = clean_text(extracted)
    if traf and len(normalize_for_hash(traf)) >= 0.97 * len(normalize_for_hash(walked)):
        return traf
    return walked


def _walk_paragraphs(container: lxml_html.HtmlElement) -> str:
    """Text of the outermost block elements of ``container``, one per line, in order."""
    lines: list[str] = []

    def visit(node: lxml_html.HtmlElement) -> None:
        has_blocks = any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in node)
        if not has_blocks:
            lines.append(clean_line(node.text_content()))
            return
        if node.text and node.text.strip():
            lines.append(clean_line(node.text))
        for child in node:
            if isinstance(child.tag, str) and child.tag in _BLOCK_TAGS:
                visit(child)
            elif isinstance(child.tag, str):
                lines.append(clean_line(child.text_content()))
            if child.tail and child.tail.strip():
                lines.append(clean_line(child.tail))

    visit(container)
    return "\n".join(line for line in lines if line)


def _drop_repeats(body: str, seen: Iterable[str]) -> str:
    """Body lines without those that repeat the title, lead or an author line."""
    keys = {normalize_for_hash(s) for s in seen if s}
    return "\n".join(line for line in body.split("\n") if normalize_for_hash(line) not in keys)


def _images(
    tree: lxml_html.HtmlElement,
    container: lxml_html.HtmlElement,
    hero: tuple[str, ...],
    blocks: tuple[str, ...],
    captions: tuple[str, ...],
    url: str,
) -> list[dict[str, str | None]]:
    found: list[dict[str, str | None]] = []
    seen: set[str] = set()

    def add(img: lxml_html.HtmlElement | None, caption: str | None) -> None:
        src = None if img is None else (img.get("src") or img.get("data-src"))
        if not src or src.startswith("data:"):
            return
        absolute = urljoin(url, src.strip())
        if absolute not in seen:
            seen.add(absolute)
            found.append({"url": absolute, "caption": caption or None})

    captioned: list[tuple[lxml_html.HtmlElement | None, str | None]] = []
    for selector in blocks:
        for block in container.cssselect(selector):
            caption = next(
                (
                    clean_line(c.text_content())
                    for s in captions
                    for c in block.cssselect(s)
                    if clean_line(c.text_content())
                ),
                None,
            )
            captioned.append((block.find(".//img"), caption.rstrip(" |") if caption else None))
    by_src = {img.get("src"): caption for img, caption in captioned if img is not None}
    hero_node = _first(tree, hero)
    if hero_node is not None:
        hero_img = hero_node if hero_node.tag == "img" else hero_node.find(".//img")
        add(hero_img, None if hero_img is None else by_src.get(hero_img.get("src")))
    for img, caption in captioned:
        add(img, caption)
    for img in container.iter("img"):
        add(img, None)
    return found


def _authors(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for selector in selectors:
        for node in tree.cssselect(selector):
            titled = node.xpath(".//a[@title]/@title")
            text = clean_line(str(titled[0]) if titled else node.text_content())
            names.extend(part.strip(" -–|") for part in _AUTHOR_SEPARATORS.split(text))
    return unique(names)


def _first(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> lxml_html.HtmlElement | None:
    for selector in selectors:
        found = tree.cssselect(selector)
        if found:
            return found[0]
    return None


def _first_line(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> str | None:
    for selector in selectors:
        for node in tree.cssselect(selector):
            text = clean_line(node.text_content())
            if text:
                return text
    return None


def _first_text(*candidates: Any) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return clean_line(candidate)
    return None


def _drop(node: lxml_html.HtmlElement) -> None:
    """Remove ``node`` (not its tail text) unless it is the root of its tree."""
    if node.getparent() is not None:
        node.drop_tree()


__all__ = ["NotArticle", "decode_page", "extract", "page_canonical", "parse_html"]
