"""Is a page an article? What the page and its extracted text say.

Extraction returns the text of any page; this is the judgement on top. Without a site (``newscrawl
extract`` without ``--site``) it is the record's ``verdict`` (``--strict`` refuses on it). The
crawl's own sites decide first with their templates and article URL shapes
(``crawler.extract.article._looks_like_article``), and refuse a page in an unrecognised template
that this judgement rules out. Requiring article metadata there refused
real articles (many sites declare ``og:type=website`` everywhere, or no type at all), so the
decision weighs the page's own evidence instead:

against (any one refuses the page):

* the text is mostly image captions (a photo story or album);
* the text is mostly teasers: short blocks that sit next to a headline link to another page
  (a tag, author, section or search listing);
* the URL is a listing or media path (``/tag/``, ``/tac-gia/``, ``/search``, ``/video/``...)
  -- a media path only counts when the text is thin, since video articles with real text exist;
* the page declares a non-article type (``og:type`` video or profile, JSON-LD ``VideoObject``,
  ``ImageGallery``...) and nothing on it declares an article;

for (one is needed):

* the page declares an article (JSON-LD article type, ``og:type=article`` in any case,
  ``article:published_time``);
* a headline (``<h1>``) with a date next to it, at the top of the page;
* an article-shaped URL (a slug of at least three words, a numeric id, or a date path) and
  running text (a paragraph of at least 20 words, or three of at least 8).

The thresholds were chosen on the tuning half of the public benchmark and on the replicas'
trap pages (``python -m bench.quality``, ``tests/unit/test_articleness.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml import html as lxml_html

from crawler.extract.pagemeta import ARTICLE_TYPES, NON_ARTICLE_TYPES, PageMeta

__all__ = ["Evidence", "PageSignals", "judge", "read_signals"]

_TOKEN = re.compile(r"\w+")
_MOSTLY = 0.5  # share of the text's words above which captions or teasers make the page
_THIN_WORDS = 150  # a media page (video, album) with fewer words of text is not an article
_LONG_PARA = 20  # words: one paragraph this long is running text
_PARA = 8  # words: three paragraphs this long are running text
_CARD_EXTRA = 40  # words a teaser card holds beyond the teaser and its headline
_HEADLINE_WINDOW = 40  # text nodes after the headline searched for its date (a third of it before)
_KEY_WORDS = 6  # a paragraph is found in the tree by its first words

# Listing pages: tags, authors, sections, search, pagination. English words come from courlan's
# navigation filter; the Vietnamese ones (tag, tác giả, chuyên mục, tìm kiếm, trang N) are ours.
# After a listing or media word: the end of the path segment, an extension, or a number
# ("page-2", "video-9A1B2C3D4"); not more words ("/tag-heuer-watch-review" is an article slug).
_WORD_END = r"(?:/|$|\.|-(?=[0-9a-f]*\d)[0-9a-f]+(?:/|$))"
_LISTING_PATH = re.compile(
    r"(?:^|/)(?:tags?|topics?|auth?ors?|tac-gia|category|categories|chuyen-muc|archives?|search|tim-kiem|"
    rf"page|trang|users?|profiles?){_WORD_END}",
    re.IGNORECASE,
)
# Media pages: video, photo albums, galleries, podcasts ("anh" is Vietnamese for photo).
_MEDIA_PATH = re.compile(rf"(?:^|/)(?:videos?|albums?|anh|photos?|galler(?:y|ies)|podcasts?){_WORD_END}", re.IGNORECASE)
_NON_ARTICLE_OG = ("video", "profile", "music", "book")
# An id: four or more digits, or eight or more hex digits with a digit among them.
_ID = re.compile(r"(?<![0-9a-z])(?:\d{4,}|(?=[0-9a-f]*\d)[0-9a-f]{8,})(?![0-9a-z])", re.IGNORECASE)
_DATE_PATH = re.compile(r"/(?:19|20)\d\d/\d{1,2}/")
_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# Dates as pages print them: 15/03/2024, 15-3-2024, 2024-03-15, 2024/03/15, 15.03.2024,
# March 15, 2024, 15 March 2024, Nov. 18, 2019; 2024年3月15日.
_DATE = re.compile(
    rf"(?<!\d)(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|(?:19|20)\d\d[/.-]\d{{1,2}}[/.-]\d{{1,2}}"
    rf"|(?:19|20)\d\d年\d{{1,2}}月\d{{1,2}}日)(?!\d)"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d\b"
    rf"|\b\d{{1,2}}\.?\s+(?:{_MONTHS})\.?,?\s+(?:19|20)\d\d\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PageSignals:
    """What the page itself says (read before the generic path consumes its tree)."""

    declares_article: bool
    declares_other: str | None  # the non-article type it declares, if any
    headline_dated: bool
    article_url: bool
    listing_url: bool
    media_url: bool
    caption_keys: frozenset[tuple[str, ...]]  # first words of its image captions
    teaser_keys: frozenset[tuple[str, ...]]  # first words of its teasers of other pages

    def evidence(self, text: str) -> Evidence:
        """The evidence for the page's extracted main ``text`` (one paragraph a line)."""
        lines = [line for line in text.split("\n") if line.strip()]
        sizes = [len(_TOKEN.findall(line)) for line in lines]
        words = sum(sizes)
        return Evidence(
            signals=self,
            words=words,
            long_paragraphs=sum(n >= _LONG_PARA for n in sizes),
            paragraphs=sum(n >= _PARA for n in sizes),
            caption_share=_share(lines, sizes, words, self.caption_keys),
            teaser_share=_share(lines, sizes, words, self.teaser_keys),
        )


@dataclass(frozen=True)
class Evidence:
    """What a page and its main text say about being an article (see the module docstring)."""

    signals: PageSignals
    words: int
    long_paragraphs: int  # paragraphs of >= _LONG_PARA words
    paragraphs: int  # paragraphs of >= _PARA words
    caption_share: float
    teaser_share: float


def read_signals(tree: lxml_html.HtmlElement, url: str, meta: PageMeta) -> PageSignals:
    """The page's own signals: its declared type, headline, URL shape, captions and teasers."""
    og = (meta.og_type or "").strip().lower()
    declares_article = bool(meta.ld_types & ARTICLE_TYPES) or og == "article" or meta.published is not None
    other: str | None = None
    if og.startswith(_NON_ARTICLE_OG):
        other = f"og:type {og}"
    elif meta.ld_types & NON_ARTICLE_TYPES:
        other = f"JSON-LD type {sorted(meta.ld_types & NON_ARTICLE_TYPES)[0]}"
    path = unquote(urlsplit(url).path)
    return PageSignals(
        declares_article=declares_article,
        declares_other=other,
        headline_dated=_headline_dated(tree),
        article_url=_article_url(path),
        listing_url=bool(_LISTING_PATH.search(path)),
        media_url=bool(_MEDIA_PATH.search(path)),
        caption_keys=frozenset(_caption_keys(tree)),
        teaser_keys=frozenset(_teaser_keys(tree)),
    )


def judge(evidence: Evidence) -> str | None:
    """Why the page is not an article, or None when it is one."""
    e, page = evidence, evidence.signals
    if e.caption_share >= _MOSTLY:
        return f"photo story: {e.caption_share:.0%} of the text is image captions"
    if e.teaser_share >= _MOSTLY:
        return f"listing: {e.teaser_share:.0%} of the text is teasers of other pages"
    if page.listing_url:
        return "the URL is a tag, author, section or search page"
    if page.media_url and e.words < _THIN_WORDS:
        return f"the URL is a video or photo page with {e.words} words of text"
    if page.declares_other and not page.declares_article:
        return f"the page declares {page.declares_other}"
    running = e.long_paragraphs >= 1 or e.paragraphs >= 3
    if page.declares_article or page.headline_dated or (page.article_url and running):
        return None
    return "no article metadata, no dated headline, no article URL with running text"


def _article_url(path: str) -> bool:
    """A slug of at least three words, a numeric (or hex) id, or a /yyyy/mm/ date in the path."""
    if _DATE_PATH.search(path) or _ID.search(path):
        return True
    segments = [_EXTENSION.sub("", s) for s in path.split("/") if s]
    return any(len([w for w in re.split(r"[-_+]", s) if w]) >= 3 for s in segments)


# Compiled once, like the extraction's own (``.xpath()`` compiles its string on every call).
_TIME_NEAR = etree.XPath(
    "following::*[position() <= 30][self::time or @datetime] | preceding::*[position() <= 10][self::time or @datetime]"
)
_CAPTIONS = etree.XPath("//figcaption | //*[contains(@class, 'aption')]")  # caption, Caption, wp-caption...
_LINKED_HEADINGS = etree.XPath("//h2[.//a[@href]] | //h3[.//a[@href]] | //h4[.//a[@href]] | //h5[.//a[@href]]")


def _headline_dated(tree: lxml_html.HtmlElement) -> bool:
    """An ``<h1>`` of at least three words with a date (or ``<time>``) right before or after it."""
    for h1 in tree.iter("h1"):
        if len(_TOKEN.findall(h1.text_content())) < 3:
            continue
        if _TIME_NEAR(h1):
            return True
        near = [*_texts_after(h1, _HEADLINE_WINDOW), *_texts_before(h1, _HEADLINE_WINDOW // 3)]
        if any(_DATE.search(t) for t in near):
            return True
    return False


def _texts_after(node: lxml_html.HtmlElement, limit: int) -> list[str]:
    """The first ``limit`` non-blank text nodes after ``node`` (not inside it), in document order.

    A walk over following siblings, then the parent's, stopping early: XPath's ``following::``
    axis would collect the whole rest of the page first.
    """
    texts: list[str] = []

    def add(text: str | None) -> bool:
        if text and text.strip():
            texts.append(text)
        return len(texts) >= limit

    current: lxml_html.HtmlElement | None = node
    while current is not None:
        if add(current.tail):
            return texts
        for sibling in current.itersiblings():
            if isinstance(sibling.tag, str) and any(add(t) for t in sibling.itertext()):
                return texts
            if add(sibling.tail):
                return texts
        current = current.getparent()
    return texts


def _texts_before(node: lxml_html.HtmlElement, limit: int) -> list[str]:
    """Up to ``limit`` non-blank text nodes just before ``node``, nearest first (roughly)."""
    texts: list[str] = []
    current: lxml_html.HtmlElement | None = node
    while current is not None and len(texts) < limit:
        for sibling in current.itersiblings(preceding=True):
            if sibling.tail and sibling.tail.strip():
                texts.append(sibling.tail)
            if isinstance(sibling.tag, str):
                texts.extend(t for t in reversed(list(sibling.itertext())) if t.strip())
            if len(texts) >= limit:
                return texts[:limit]
        parent = current.getparent()
        if parent is not None and parent.text and parent.text.strip():
            texts.append(parent.text)
        current = parent
    return texts[:limit]


def _key(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text)[:_KEY_WORDS])


def _share(lines: list[str], sizes: list[int], words: int, keys: frozenset[tuple[str, ...]]) -> float:
    """Share of the text's words in lines whose first words are among ``keys``."""
    if not words or not keys:
        return 0.0
    return sum(n for line, n in zip(lines, sizes, strict=True) if _key(line) in keys) / words


def _caption_keys(tree: lxml_html.HtmlElement) -> set[tuple[str, ...]]:
    found = _CAPTIONS(tree)
    return {k for k in (_key(n.text_content()) for n in found) if k}


def _teaser_keys(tree: lxml_html.HtmlElement) -> set[tuple[str, ...]]:
    """First words of text blocks that sit in a small card with a headline link to another page."""
    keys: set[tuple[str, ...]] = set()
    seen: set[lxml_html.HtmlElement] = set()
    for heading in _LINKED_HEADINGS(tree):
        card = heading.getparent()
        if card is None or card in seen:
            continue
        seen.add(card)
        card_words = len(_TOKEN.findall(card.text_content()))
        heading_words = len(_TOKEN.findall(heading.text_content()))
        for block in _text_blocks(card, heading):
            text = block.text_content()
            block_words = len(_TOKEN.findall(text))
            if block_words >= _PARA and card_words <= block_words + heading_words + _CARD_EXTRA:
                keys.add(_key(text))
    return keys


def _text_blocks(card: lxml_html.HtmlElement, heading: lxml_html.HtmlElement) -> Iterable[lxml_html.HtmlElement]:
    for child in card:
        if child is not heading and isinstance(child.tag, str) and child.tag not in ("a", "img", "figure"):
            yield child
