"""The Python API: what a notebook needs without the ``newscrawl`` command.

``from crawler import extract_article`` (re-exported lazily by ``crawler/__init__.py``) turns
one saved page into the record the crawler stores; ``from storage import open_archive`` reads
a database. This module sits beside the layered packages (ARCHITECTURE.md): it imports
``extract`` and ``sites`` and nothing imports it but the package root and the CLI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from trafilatura.utils import decode_file
from w3lib.encoding import html_body_declared_encoding

from crawler.extract.article import Rejection, extract
from crawler.extract.encodings import decode_page
from crawler.extract.items import ArticleItem
from crawler.extract.pagemeta import page_canonical, parse_html, parse_page
from crawler.extract.urls import canonical_url
from crawler.sites.registry import site_for_url, sites


class NotAnArticle(ValueError):
    """The page holds no article (a listing, a video page, an empty page); ``reason`` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"not an article: {reason}" + (f": {detail}" if detail else ""))
        self.reason = reason
        self.detail = detail


def page_url(page: str | bytes) -> str | None:
    """The absolute http(s) URL a page declares for itself (``<link rel=canonical>``, else
    ``og:url``), or None (none declared, or a relative one: nothing to resolve it against)."""
    return _declared_url(parse_html(page))


def _declared_url(tree: Any) -> str | None:
    found = page_canonical(tree) if tree is not None else None
    return found if found and urlsplit(found).scheme in ("http", "https") and urlsplit(found).netloc else None


def site_of(url: str) -> str | None:
    """The key of the crawled site ``url`` is on (by host), or None."""
    found = site_for_url(url)
    return found.key if found else None


def extract_article(
    page: str | bytes,
    url: str | None = None,
    site: str | None = None,
    *,
    generic: bool = False,
    strict: bool = False,
) -> dict[str, Any]:
    """The record of one page (the fields of README "The record", in that order).

    ``url`` is where the page lives; without it, the URL the page declares (``rel=canonical``,
    ``og:url``). ``site`` is a site key (``cao``, ``thanhtra``, ``bocongan``...); without it, the
    site the URL is on (:func:`site_of`), else the generic extractor (what a page of any other
    site gets); ``generic`` uses the generic extractor whatever the site. On the generic path
    every page with text gets its record, and whether it is an article is
    :func:`article_verdict`'s answer, not a refusal, unless ``strict``. Raises
    :class:`NotAnArticle` when the page holds no text (or, with a site or ``strict``, no
    article), and ``ValueError`` when no URL is given or declared, for an unknown site key, or
    for a page that is neither text nor bytes.
    """
    item = extract_item(page, url, site, generic=generic)
    if strict and item.verdict is not None:
        reason, _, detail = item.verdict.partition(": ")
        raise NotAnArticle(reason, detail)
    return item.record()


def article_verdict(page: str | bytes, url: str | None = None) -> str | None:
    """Why the generic path judges ``page`` not an article (``reason: detail``), None when it is one."""
    return extract_item(page, url, None, generic=True).verdict


def _saved_page_text(page: bytes) -> str:
    """A saved page's text. It has no HTTP header: UTF-8 when it is valid UTF-8 (decode_page's
    rule), else the charset its ``<head>`` declares, else trafilatura's own guess (what plain
    trafilatura reads). Parsed as UTF-8 regardless, Latin-1 pages lost their accented letters
    (trafilatura-eval has dozens)."""
    declared = html_body_declared_encoding(page)
    if declared is None:
        try:
            return page.decode("utf-8")
        except UnicodeDecodeError:
            return str(decode_file(page))
    return decode_page(page, declared)


def extract_item(
    page: str | bytes, url: str | None = None, site: str | None = None, *, generic: bool = False
) -> ArticleItem:
    """The extracted item of one page (the record, its verdict and where each field came from);
    arguments as :func:`extract_article`'s."""
    if not isinstance(page, str | bytes):
        raise ValueError(f"page must be the HTML as str or bytes, got {type(page).__name__}")
    known = sites()
    if site is not None and site not in known:
        raise ValueError(f"unknown site {site!r} (known: {', '.join(known)})")
    if isinstance(page, bytes):
        page = _saved_page_text(page)
    parsed = parse_page(page)  # once: the declared URL is read from the tree extraction uses
    address = url or _declared_url(parsed[0])
    if not address:
        raise ValueError("the page declares no URL (rel=canonical or og:url): pass url=")
    if generic and site:
        raise ValueError(f"site={site!r} and generic=True: choose one")
    config = None if generic else known[site] if site else site_for_url(address)
    result = extract(page, canonical_url(address), config, parsed=parsed)
    if isinstance(result, Rejection):
        raise NotAnArticle(result.reason, result.detail)
    return result
