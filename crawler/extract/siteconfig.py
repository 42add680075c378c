"""The SiteConfig type: everything the shared spider and extractor need to know of one site.

Site data itself lives in ``crawler/sites/<key>.py`` as one ``SITE = SiteConfig(...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from crawler.extract.urls import origin, rebase


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for the site's article template (first match wins where one is wanted).

    ``body`` must match for the template to count as recognised; the rest are optional.
    """

    body: tuple[str, ...]
    title: tuple[str, ...] = ("h1",)
    lead: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # An image block holds an <img> and its caption; captions are taken from inside it.
    image_blocks: tuple[str, ...] = ("figure",)
    captions: tuple[str, ...] = ("figcaption",)
    hero_image: tuple[str, ...] = ()
    # Furniture inside the body container (related boxes, bylines, share bars, ads).
    remove: tuple[str, ...] = ()
    # A regex on a paragraph's text (NFC, spaces folded): when no ``lead`` selector matches,
    # the first <p> of the page whose text matches it is the lead.
    lead_pattern: str | None = None
    # The date line also carries the byline, after this separator ("19/03/2025 13:37 | A. Quân").
    date_byline: str | None = None
    # Page furniture removed from the whole page before either path (site or generic) runs:
    # CSS selectors, and a regex on the text of the <p> that starts a fixed footer (that <p>
    # and every later <p> of the page are removed; the last match counts).
    page_remove: tuple[str, ...] = ()
    footer_start: str | None = None


@dataclass(frozen=True)
class ApiListing:
    """A JSON API that pages a category's articles beyond page 1 (backfill only).

    ``url`` is formatted with ``base`` (the API origin and prefix), ``slug`` (the category
    path's last segment) and ``page`` (0-based); ``items`` names the list of articles in the
    answer and ``slug_field`` the article slug in each item, joined to ``article_path``.
    """

    base: str
    url: str
    article_path: str
    items: tuple[str, ...] = ("data", "content", "items")
    slug_field: str = "slug"
    page_size: int = 10


@dataclass(frozen=True)
class UrlVariant:
    """Another host that serves the site's articles at a derived URL (an AMP copy, a mobile host).

    A URL on ``host`` whose path fully matches ``path`` (a regex) is the article whose path on
    the site is ``re.sub(path, to, ...)``: discovery requests that URL, on the origin being
    crawled, so a variant is never fetched, stored or counted as an article of its own.
    """

    host: str
    path: str
    to: str


@dataclass(frozen=True)
class SiteConfig:
    """One news site: its identity, entry points, URL shapes and template selectors.

    Paths are root-relative and joined to the crawl's base URL, so the same config crawls the
    real site or a replica of it.
    """

    key: str
    name: str
    base_url: str
    article_patterns: tuple[str, ...]
    selectors: Selectors
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    # Format of the listing page N >= 2, from the listing path: "{path}?page={n}".
    pagination: str | None = None
    listing_links: str = "a[href]"
    language: str = "vi"
    extra_hosts: tuple[str, ...] = field(default=())
    # An HTML page that links the site's feeds; links matching ``feed_links`` are read as feeds.
    feed_index: str | None = None
    feed_links: str = r"\.(?:xml|rss)$"
    # The site's known safe pace, applied per spider below any setting the user passes:
    # seconds between requests (randomised by ``delay_jitter``, ±share) and requests at once.
    download_delay: float | None = None
    delay_jitter: float | None = None
    concurrency: int | None = None
    # Backfill beyond listing page 1 through a JSON API (off unless NEWS_API_BACKFILL is set).
    api: ApiListing | None = None
    # The feeds are a bonus, the listings the discovery: a feed answering 403/404/410 is one
    # warning (counted ``dropped/feed_unavailable``), not a fetch error of the run.
    feeds_optional: bool = False
    # Hosts serving variants of the site's articles (AMP), read as the article itself.
    url_variants: tuple[UrlVariant, ...] = ()

    @cached_property
    def _article_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.article_patterns)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The site's host and its aliases (``www.``, old domains): all one site."""
        return ((urlsplit(self.base_url).hostname or ""), *self.extra_hosts)

    def stored_url(self, url: str, origins: tuple[str, ...]) -> str:
        """The URL a page fetched at ``url`` is stored under: moved from any of ``origins`` (the
        site as crawled, :meth:`origins_for`) to the real site's ``base_url``, path and query
        kept, so a replica's or mirror's articles are keyed as the real site's. The one place
        the crawl rebases a URL for storage (the spider's bookkeeping and the extraction worker)."""
        own = origin(url)
        return rebase(url, own, self.base_url) if own in origins else url

    def origins_for(self, base_url: str) -> tuple[str, ...]:
        """Origins that are this site when it is crawled at ``base_url``, ``base_url``'s first.

        Crawling the site itself, its aliases (``extra_hosts``) are the same site: a redirect
        to ``www.`` is followed and its articles keyed to ``base_url``. A replica or mirror at
        another host has only its own origin.
        """
        parts = urlsplit(base_url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        own = f"{scheme}://{parts.netloc.lower()}"
        if host not in self.hosts:
            return (own,)
        port = f":{parts.port}" if parts.port else ""
        aliases = [f"{s}://{h}{port}" for h in self.hosts for s in (scheme, "https")]
        return (own, *dict.fromkeys(a for a in aliases if a != own))

    def main_url(self, url: str, base_url: str) -> str:
        """``url`` itself, or for a variant (``url_variants``) the article's URL at ``base_url``.

        ``base_url`` is the origin being crawled (the site, or a replica of it), so a variant
        link found on a replica leads back to the replica.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        for variant in self.url_variants:
            if host == variant.host and re.fullmatch(variant.path, parts.path):
                path = re.sub(variant.path, variant.to, parts.path)
                query = f"?{parts.query}" if parts.query else ""
                return base_url.rstrip("/") + path + query
        return url

    def is_article_path(self, path: str) -> bool:
        """Whether a URL path has the shape of one of the site's article URLs."""
        return any(r.search(path) for r in self._article_res)
