"""The SiteConfig type: everything the shared spider and extractor need to know of one site.

Site data itself lives in ``crawler/spiders/<key>.py`` as one ``SITE = SiteConfig(...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property


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
    max_listing_pages: int = 5
    language: str = "vi"
    extra_hosts: tuple[str, ...] = field(default=())

    @cached_property
    def _article_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.article_patterns)

    def is_article_path(self, path: str) -> bool:
        """Whether a URL path has the shape of one of the site's article URLs."""
        return any(r.search(path) for r in self._article_res)
