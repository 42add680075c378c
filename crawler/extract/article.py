"""Pure extraction: (html, url, site config) -> article record, or the reason it is not one.

Per-site knowledge comes first (JSON-LD, meta tags, the site's confirmed selectors); the body
is the site's body container with its furniture removed, run through trafilatura. When the
site's template is not recognised (a redesign), the generic path (:mod:`crawler.extract.generic`)
produces the record instead, marked ``extractor="generic"``: a redesign degrades, it does not
break the crawl.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from crawler.extract.articleness import judge, read_signals
from crawler.extract.bylines import (
    Byline,
    is_status_line,
    right_aligned_bylines,
    split_byline,
    split_date_byline,
    trailing_bylines,
)
from crawler.extract.dates import is_today_banner, is_weekday_date, parse_published
from crawler.extract.encodings import decode_page
from crawler.extract.generic import GenericResult, extract_generic
from crawler.extract.items import ArticleItem, Rejection
from crawler.extract.pagemeta import (
    ARTICLE_TYPES,
    MAX_IMAGES,
    MAX_TAGS,
    META_CONTENT,
    NON_ARTICLE_TYPES,
    PageMeta,
    ld_authors,
    ld_text,
    page_canonical,
    parse_html,
    parse_page,
    read_meta,
    select,
    unique,
    visible_text,
)
from crawler.extract.siteconfig import Selectors, SiteConfig
from crawler.extract.urls import is_web_url, url_hash
from storage.text import clean_line, clean_text, content_hash, entities_kept, normalize_for_hash

logger = logging.getLogger(__name__)

# trafilatura logs every page it discards at WARNING; for us that is an expected outcome,
# reported as a Rejection reason and counted in the crawl stats instead.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

# A 200 page that says the article is missing.
# Tight on purpose: headlines such as "Phát hiện 404 trường hợp vi phạm" are articles.
_SOFT_404 = re.compile(
    r"^\s*(?:error\s*)?404\b|page not found|không tìm thấy trang|trang không tồn tại|bài viết không tồn tại",
    re.IGNORECASE,
)

# Running text shorter than this is a video, album, tag or stub page, not an article.
MIN_BODY_CHARS = 300
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "form", "button", "input", "select", "svg")
# Compiled once: lxml compiles an XPath string on every ``.xpath()`` call.
_TITLED_LINKS = etree.XPath(".//a[@title]/@title")
_BLOCK_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "div"})
# A fixed footer is a long run of <p>s (CAO's is about 24, SITES.md §3.3); a shorter run after a
# matching paragraph is the article's own text.
_MIN_FOOTER_PARAGRAPHS = 4
# A visible date line is short; a paragraph of running text that happens to start with a
# weekday and a date is not one.
_MAX_DATE_LINE_CHARS = 80


def extract(
    page: str | bytes,
    url: str,
    site: SiteConfig | None,
    fetched_at: str | None = None,
    parsed: tuple[lxml_html.HtmlElement | None, bool] | None = None,
) -> ArticleItem | Rejection:
    """Extract the article of ``page``, recorded under the canonical ``url``.

    ``site`` None runs the generic path only, and returns the record of any page with running
    text: why it is not judged an article (soft 404, the evidence of
    :mod:`crawler.extract.articleness`, no title, under ``MIN_BODY_CHARS``) is its ``verdict``,
    not a refusal. With a site (the crawl) those are refusals. Never raises on bad input: a broken page gives
    a :class:`Rejection`, and so does any exception inside extraction (``extract_error``, a
    drop the next run retries): a hostile page must not lose its URL silently. MemoryError
    alone passes: the extraction pool turns it into the page's ``extract_memory`` outcome. Each field comes
    from the site's selectors in their order of confidence, then from generic rules that hold on
    any page; ``field_sources`` on the result says which rule gave each field
    (``site:<selector>``, ``generic:<rule>`` or ``none``).

    ``parsed`` is :func:`parse_page` of ``page`` when the caller has parsed it already (the
    extraction pool reads the canonical URL first). Extraction may alter that tree (page
    furniture is removed from it), so the caller reads it before, not after. The generic path
    hands trafilatura the page itself, which it parses as plain trafilatura does.
    """
    try:
        return _extract(page, url, site, fetched_at, parsed)
    except MemoryError:  # the worker's memory budget (crawler/crawl/pool.py) decides, not us
        raise
    except Exception as exc:  # RecursionError included: it is a RuntimeError
        logger.warning("extraction raised %s on %s: %s", type(exc).__name__, url, exc)
        return Rejection("extract_error", f"{type(exc).__name__}: {str(exc)[:200]}")


class _Refused(Exception):
    """A step refuses the page; :func:`extract` returns ``rejection``. Raised only inside
    :func:`_extract`'s steps, so a refusal needs no return-value check at every step."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


@dataclass
class _Judge:
    """Where a step's objection to the page goes. With a site (the crawl) it refuses the page;
    without one the page still gets its record and the objection goes to ``verdict``:
    extraction returns the text, the crawl (which has a site) decides what is an article."""

    strict: bool
    verdicts: list[str] = field(default_factory=list)

    def refuse(self, reason: str, detail: str) -> NoReturn:
        raise _Refused(Rejection(reason, detail))

    def object(self, reason: str, detail: str) -> None:
        if self.strict:
            self.refuse(reason, detail)
        self.verdicts.append(f"{reason}: {detail}")


@dataclass
class _BodyChoice:
    """The body a path found, the path (``site`` or ``generic``), the generic result when that
    path ran (its title, description and date are fallbacks of the field picks) and the
    rules that gave each field so far."""

    extractor: str
    part: _Body
    generic: GenericResult | None
    sources: dict[str, str]


@dataclass(frozen=True)
class _Fields:
    """The record's fields picked from the page, before assembly."""

    title: str | None
    lead: str | None
    date_raw: str | None
    byline: Byline
    body: str
    category: str | None


def _extract(
    page: str | bytes,
    url: str,
    site: SiteConfig | None,
    fetched_at: str | None,
    parsed: tuple[lxml_html.HtmlElement | None, bool] | None,
) -> ArticleItem | Rejection:
    """The steps of :func:`extract`: page checks, body choice, field picks, assembly."""
    judge_ = _Judge(strict=site is not None)
    try:
        tree = _parsed_tree(page, parsed, judge_)
        meta = read_meta(tree)
        page_title = clean_line(tree.findtext(".//title"))
        _check_page(tree, meta, page_title, site, judge_)
        sel = site.selectors if site is not None else Selectors(body=())
        choice = _choose_body(page, tree, meta, sel, url, site, judge_)
        fields = _pick_fields(tree, meta, sel, site, page_title, choice, judge_)
    except _Refused as refused:
        return refused.rejection
    return _assemble(tree, url, site, sel, meta, fetched_at, choice, fields, judge_.verdicts)


def _parsed_tree(
    page: str | bytes, parsed: tuple[lxml_html.HtmlElement | None, bool] | None, judge_: _Judge
) -> lxml_html.HtmlElement:
    """The page's tree; an empty page, or one the parser could not build whole, is refused."""
    tree, too_deep = parsed if parsed is not None else parse_page(page)
    if tree is None:
        judge_.refuse("empty", "the page is empty or not HTML")
    if too_deep:  # the parser stopped part-way: what it built is not the whole page
        judge_.refuse("parse_depth", "the page nests deeper than the HTML parser builds (256 levels)")
    return tree


def _check_page(
    tree: lxml_html.HtmlElement, meta: PageMeta, page_title: str, site: SiteConfig | None, judge_: _Judge
) -> None:
    """What the page says of itself: a missing-page notice, or a declared type that is no article."""
    if _SOFT_404.search(page_title) or _SOFT_404.search(_first_line(tree, ("h1",)) or ""):
        judge_.object("soft_404", f"the page says it is missing: {page_title!r}")
    # Without a site, crawler.extract.articleness weighs declared types against the page's own evidence.
    if site is not None and meta.ld_types & NON_ARTICLE_TYPES and not meta.ld_types & ARTICLE_TYPES:
        judge_.refuse("not_article_type", f"JSON-LD type {sorted(meta.ld_types)}")
    if site is not None and meta.og_type and meta.og_type.startswith(("video", "profile", "website")):
        judge_.refuse("not_article_type", f"og:type {meta.og_type}")


def _choose_body(
    page: str | bytes,
    tree: lxml_html.HtmlElement,
    meta: PageMeta,
    sel: Selectors,
    url: str,
    site: SiteConfig | None,
    judge_: _Judge,
) -> _BodyChoice:
    """The site's body container when the page has one, else the generic path (trafilatura)."""
    # Before either path runs, so neither the site's body nor trafilatura ever sees it.
    stripped = _strip_page_furniture(tree, sel)
    found = _first_match(tree, sel.body)
    if found is not None:
        container, body_selector = found
        part = _site_body(tree, container, sel, url)
        sources = {"body": f"site:{body_selector}", "images": "site" if part.images else "none"}
        return _BodyChoice("site", part, None, sources)
    return _generic_choice(page, tree, meta, url, site, stripped, judge_)


def _generic_choice(
    page: str | bytes,
    tree: lxml_html.HtmlElement,
    meta: PageMeta,
    url: str,
    site: SiteConfig | None,
    stripped: bool,
    judge_: _Judge,
) -> _BodyChoice:
    """The generic path's body, and the page's own evidence that it is (not) an article."""
    if site is not None and not _looks_like_article(meta, url, site):
        judge_.refuse("not_article", "no article template, markup or URL shape")
    byline_texts = trailing_bylines(tree)  # read before extract_generic alters the tree
    # trafilatura's title, authors and date are the last fallbacks: not searched for when the
    # page's metadata has them already (a fifth of a page's extraction time)
    want = frozenset(
        name
        for name, known in (
            ("title", meta.title or ld_text(meta.ld_article.get("headline"))),
            ("authors", meta.author or ld_authors(meta.ld_article)),
            ("date", _first_text(meta.ld_article.get("datePublished")) or meta.published),
        )
        if not known
    )
    # The page itself, not a copy of ``tree``: trafilatura parses it as plain trafilatura
    # does (on a copy of our tree it discarded a trafilatura-eval page as "output tree too
    # long"), and copying the tree costs as much as parsing again. The tree, serialised,
    # only when page furniture was cut from it.
    # trafilatura keeps the text of inert <template>s (it drops scripts, styles, noscript).
    templates = tree.xpath("//template")
    etree.strip_elements(tree, "template", with_tail=False)
    if stripped or templates:
        text = lxml_html.tostring(tree, encoding="unicode")
    else:
        text = page if isinstance(page, str) else decode_page(page)
    generic = extract_generic(text, url, want)
    if generic is None:
        judge_.refuse("no_text", "no article text found")
    part = _generic_body(generic, url, byline_texts)
    # The page's own evidence (captions, teasers, media and listing URLs, declared type):
    # the crawl (a site) refuses what it rules out; without a site it is the record's verdict.
    if (why := judge(read_signals(tree, url, meta).evidence(part.body))) is not None:
        judge_.object("not_article", why)
    sources = {"body": "generic:trafilatura", "images": "generic:og_image" if part.images else "none"}
    return _BodyChoice("generic", part, generic, sources)


def _pick_fields(
    tree: lxml_html.HtmlElement,
    meta: PageMeta,
    sel: Selectors,
    site: SiteConfig | None,
    page_title: str,
    choice: _BodyChoice,
    judge_: _Judge,
) -> _Fields:
    """Each field from the site's selectors in their order of confidence, then generic rules;
    ``choice.sources`` records which rule gave each."""
    generic, sources, part = choice.generic, choice.sources, choice.part
    title, sources["title"] = _pick(
        tree,
        meta,
        sel.title,
        ("og_title", meta.title),
        ("jsonld_headline", ld_text(meta.ld_article.get("headline"))),
        ("trafilatura", clean_line(generic.title) if generic else None),
        ("html_title", page_title),
    )
    if not title:
        judge_.object("no_title", "no title found")
    lead, sources["lead"] = _pick(tree, meta, sel.lead)
    if lead is None and sel.lead_pattern:
        lead, sources["lead"] = _lead_by_pattern(tree, sel.lead_pattern)
    if lead is None:
        lead, sources["lead"] = _pick(
            tree, meta, (), ("meta_description", clean_line(generic.description) if generic else None)
        )
    date_raw, sources["published_at"], date_byline = _date(tree, meta, sel, generic)
    byline, sources["authors"], sources["source"] = _byline(tree, meta, sel.authors, part, generic, site, date_byline)
    # On a known site, lines repeating the title, lead or byline are furniture (its golden records
    # say so), in its template or not. Without a site, not: there it lost on the pages nobody
    # tuned on (bench/RESULTS-quality.md, "Generalisation": trafilatura-eval recall falls where
    # the body's first line is the headline) and its gain on the public benchmark was within the
    # fold spread.
    body = part.body
    if site is not None:
        body = _drop_repeats(body, [title or "", lead or "", *byline.authors, *part.bylines])
    if len(body) < MIN_BODY_CHARS:
        if not body:  # refused with or without a site: no text, no record
            judge_.refuse("too_short", f"{len(body)} characters of running text")
        judge_.object("too_short", f"{len(body)} characters of running text")
    category, sources["category"] = _pick(tree, meta, sel.category, ("meta_section", meta.section))
    sources["canonical"] = f"generic:{meta.canonical_source}" if meta.canonical_source else "none"
    return _Fields(title, lead, date_raw, byline, body, category)


def _assemble(
    tree: lxml_html.HtmlElement,
    url: str,
    site: SiteConfig | None,
    sel: Selectors,
    meta: PageMeta,
    fetched_at: str | None,
    choice: _BodyChoice,
    fields: _Fields,
    verdicts: list[str],
) -> ArticleItem:
    """The record from the picked fields, with its hashes, date precision and verdict."""
    language = site.language if site is not None else (meta.html_lang or "vi").split("-")[0]
    published_at, precision = parse_published(fields.date_raw)
    return ArticleItem(
        site=site.key if site is not None else "",
        url=url,
        title=fields.title or "",
        lead=fields.lead or None,
        body=fields.body,
        authors=fields.byline.authors,
        source=fields.byline.source,
        published_at=published_at,
        published_at_raw=fields.date_raw,
        published_at_precision=precision,
        category=fields.category,
        tags=unique((visible_text(n) for s in sel.tags for n in select(tree, s)), limit=MAX_TAGS),
        images=choice.part.images,
        language=language,
        extractor=choice.extractor,
        url_hash=url_hash(url),
        content_hash=content_hash(fields.title or "", fields.lead, fields.body),
        fetched_at=fetched_at,
        field_sources=choice.sources,
        verdict="; ".join(verdicts) or None,
    )


@dataclass(frozen=True)
class _Body:
    """The running text and images of a page, and byline lines cut out of the body."""

    body: str
    images: list[dict[str, str | None]]
    bylines: list[str]


def _site_body(tree: lxml_html.HtmlElement, container: lxml_html.HtmlElement, sel: Selectors, url: str) -> _Body:
    images = _images(tree, container, sel.hero_image, sel.image_blocks, sel.captions, url)
    cleaned = copy.deepcopy(container)
    for node in list(cleaned.iter(*_DROP_TAGS)):
        _drop(node)
    for selector in (*sel.remove, *sel.image_blocks, *sel.captions, *_css(sel.authors)):
        for node in select(cleaned, selector):
            _drop(node)
    # A trailing right-aligned byline or credit is furniture of the body, wherever the
    # site's guessed author selector points.
    byline_nodes = right_aligned_bylines(cleaned)
    bylines = [clean_line(node.text_content()) for node in byline_nodes]
    for node in byline_nodes:
        _drop(node)
    return _Body(_without_status(_body_text(cleaned)), images, bylines)


def _generic_body(result: GenericResult, url: str, byline_texts: list[str]) -> _Body:
    """The generic path's body, without the trailing byline lines the page right-aligns."""
    image_url = urljoin(url, result.image.strip()) if result.image else ""
    image = [{"url": image_url, "caption": None}] if is_web_url(image_url) else []
    lines = _without_status(clean_text(result.body)).split("\n")
    bylines: list[str] = []
    while lines and lines[-1] in byline_texts and len(bylines) < 2:
        bylines.insert(0, lines.pop())
    return _Body("\n".join(lines), image, bylines)


def _without_status(body: str) -> str:
    """``body`` without a developing story's closing "Cập nhật..." status line."""
    lines = body.split("\n")
    while lines and is_status_line(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _strip_page_furniture(tree: lxml_html.HtmlElement, sel: Selectors) -> bool:
    """Remove what is never article text from the whole page, before either path runs.

    The site's ``page_remove`` selectors and fixed footer (``footer_start``), and on any page a
    top-bar "today" date paragraph (the fetch day, SITES.md §3.3), whichever selector would match it.
    Whether anything was removed.
    """
    removed = 0
    for selector in sel.page_remove:
        for node in select(tree, selector):
            _drop(node)
            removed += 1
    for node in list(tree.iter("p")):
        text = node.text_content()
        if len(text) <= _MAX_DATE_LINE_CHARS and is_today_banner(text):
            _drop(node)
            removed += 1
    if sel.footer_start:
        start = re.compile(sel.footer_start, re.IGNORECASE)
        paragraphs = list(tree.iter("p"))
        starts = [i for i, node in enumerate(paragraphs) if start.match(clean_line(node.text_content()))]
        if starts and len(paragraphs) - starts[-1] >= _MIN_FOOTER_PARAGRAPHS:
            for node in paragraphs[starts[-1] :]:
                _drop(node)
                removed += 1
    return removed > 0


def _lead_by_pattern(tree: lxml_html.HtmlElement, pattern: str) -> tuple[str | None, str]:
    """The first <p> of the page whose text matches the site's lead pattern."""
    found = re.compile(pattern)
    for node in tree.iter("p"):
        text = clean_line(node.text_content())
        if found.match(text):
            return text, "site:lead_pattern"
    return None, "none"


def _date(
    tree: lxml_html.HtmlElement, meta: PageMeta, sel: Selectors, generic: GenericResult | None
) -> tuple[str | None, str, str | None]:
    """The publication date's text, the rule that gave it, and a byline the date line carries.

    The first candidate, in order of trust, that reads as a date wins: the site's selectors
    (every node each one matches), JSON-LD, meta tags, a visible weekday date line, trafilatura.
    A "today" banner is never one, whichever rule finds it first. When no candidate reads as a
    date, the first text found is kept as the raw value.
    """

    def candidates() -> Iterator[tuple[str, str]]:  # lazily: most pages stop at the first
        for selector in sel.date:
            yield from ((text, f"site:{selector}") for text in _texts(tree, meta, selector))
        fallbacks: tuple[tuple[str, Callable[[], str | None]], ...] = (
            ("jsonld_date", lambda: _first_text(meta.ld_article.get("datePublished"))),
            ("meta_published", lambda: meta.published),
            ("weekday_date", lambda: _weekday_date_line(tree)),
            ("trafilatura", lambda: generic.date if generic else None),
        )
        for rule, value_of in fallbacks:
            value = value_of()
            if value and value.strip():
                yield clean_line(value), f"generic:{rule}"

    first: tuple[str | None, str, str | None] = (None, "none", None)
    for text, rule in candidates():
        if is_today_banner(text):
            continue
        date_text, byline = split_date_byline(text, sel.date_byline if rule.startswith("site:") else None)
        if parse_published(date_text)[0] is not None:
            return date_text, rule, byline
        if first[0] is None:
            first = (date_text, rule, byline)
    return first


def _weekday_date_line(tree: lxml_html.HtmlElement) -> str | None:
    """The first short leaf element whose text is a date line starting with a weekday."""
    for node in tree.iter("p", "span", "div", "time"):
        if any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in node):
            continue
        text = clean_line(node.text_content())
        if len(text) <= _MAX_DATE_LINE_CHARS and is_weekday_date(text) and not is_today_banner(text):
            return text
    return None


def _byline(
    tree: lxml_html.HtmlElement,
    meta: PageMeta,
    selectors: tuple[str, ...],
    body: _Body,
    generic: GenericResult | None,
    site: SiteConfig | None,
    date_byline: str | None = None,
) -> tuple[Byline, str, str]:
    """Authors and credit, and the rules that gave each: site selectors (the byline the date
    line carries last among them), then generic rules."""
    site_name = site.name if site is not None else None
    candidates: list[tuple[str, list[str]]] = []
    for selector in selectors:
        texts = _texts(tree, meta, selector, names=True)
        if texts:
            candidates.append((f"site:{selector}", texts))
    if date_byline:
        candidates.append(("site:date_line", [date_byline]))
    candidates.append(("generic:right_aligned", body.bylines))
    candidates.append(("generic:meta_author", [meta.author] if meta.author else []))
    candidates.append(("generic:jsonld_author", ld_authors(meta.ld_article)))
    if generic is not None:
        candidates.append(("generic:trafilatura", [clean_line(a) for a in generic.authors]))
    authors: list[str] = []
    source: str | None = None
    authors_rule = source_rule = "none"
    for rule, texts in candidates:
        byline = split_byline(texts)
        # JSON-LD and meta authors sometimes name the outlet itself, which is no byline.
        byline = Byline([a for a in byline.authors if a != site_name], byline.source)
        if byline.authors and not authors:
            authors, authors_rule = byline.authors, rule
        if byline.source and source is None:
            source, source_rule = byline.source, rule
    return Byline(authors, source), authors_rule, source_rule


def _pick(
    tree: lxml_html.HtmlElement,
    meta: PageMeta,
    selectors: tuple[str, ...],
    *fallbacks: tuple[str, str | None],
) -> tuple[str | None, str]:
    """The first text found by the site's ``selectors``, then by the generic ``fallbacks``."""
    for selector in selectors:
        texts = _texts(tree, meta, selector)
        if texts:
            return texts[0], f"site:{selector}"
    for rule, value in fallbacks:
        if value and value.strip():
            return clean_line(value), f"generic:{rule}"
    return None, "none"


def _texts(tree: lxml_html.HtmlElement, meta: PageMeta, selector: str, names: bool = False) -> list[str]:
    """Non-empty texts a selector finds: CSS, or ``meta:<name>`` / ``jsonld:<property>``.

    With ``names``, a node with a titled link gives the link's title (profile links carry the
    full name).
    """
    if selector.startswith("meta:"):
        found = META_CONTENT(tree, name=selector[5:])
        return [t for t in (clean_line(str(v)) for v in found[:1]) if t]
    if selector.startswith("jsonld:"):
        value = meta.ld_article.get(selector[7:])
        if selector == "jsonld:author":
            return ld_authors(meta.ld_article)
        return [t for t in (ld_text(value),) if t]
    texts: list[str] = []
    for node in select(tree, selector):
        titled = _TITLED_LINKS(node) if names else []
        text = clean_line(str(titled[0])) if titled else visible_text(node)
        if text:
            texts.append(text)
    return texts


def _css(selectors: tuple[str, ...]) -> tuple[str, ...]:
    """The CSS selectors among a field's selectors (not the ``meta:``/``jsonld:`` ones)."""
    return tuple(s for s in selectors if not s.startswith(("meta:", "jsonld:")))


def _looks_like_article(meta: PageMeta, url: str, site: SiteConfig) -> bool:
    """Evidence, beyond having text, that a known site's page in an unrecognised template is an article.

    Tag, search and section pages have plenty of text too; the generic path only runs on pages
    that declare themselves articles or sit at one of the site's article URL shapes. (Pages with
    no site at all are judged by :mod:`crawler.extract.articleness`.)
    """
    if site.is_article_path(urlsplit(url).path):
        return True
    return bool(meta.ld_types & ARTICLE_TYPES) or meta.og_type == "article" or meta.published is not None


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
        if len(found) >= MAX_IMAGES:
            return
        src = None if img is None else (img.get("src") or img.get("data-src"))
        if not src:
            return
        absolute = urljoin(url, src.strip())
        if not is_web_url(absolute):  # data:, javascript:, file: ... are no image to keep
            return
        if absolute not in seen:
            seen.add(absolute)
            found.append({"url": absolute, "caption": caption or None})

    captioned: list[tuple[lxml_html.HtmlElement | None, str | None]] = []
    for selector in blocks:
        for block in select(container, selector):
            caption = next(
                (visible_text(c) for s in captions for c in select(block, s) if visible_text(c)),
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


def _first(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> lxml_html.HtmlElement | None:
    found = _first_match(tree, selectors)
    return None if found is None else found[0]


def _first_match(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> tuple[lxml_html.HtmlElement, str] | None:
    """The first node matched by the CSS ``selectors``, in order, and the selector that matched."""
    for selector in _css(selectors):
        found = select(tree, selector)
        if found:
            return found[0], selector
    return None


def _first_line(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> str | None:
    for selector in selectors:
        for node in select(tree, selector):
            text = visible_text(node)
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


__all__ = ["Rejection", "decode_page", "extract", "page_canonical", "parse_html"]
