"""The shared spider: discovery (feeds, sitemaps, listings) and the article callback, once.

A site module only declares ``SITE = SiteConfig(...)`` and a tiny subclass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.extraction import NotArticle, extract, parse_html, page_canonical
from crawler.items import ArticleItem
from crawler.sites import SiteConfig
from crawler.urls import canonical_url, origin, rebase, url_hash
from storage.articles import known_url_hashes, now_iso
from storage.db import open_db

# No entity expansion, no network, bounded trees: feeds are untrusted input.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


class NewsSpider(scrapy.Spider):
    """Crawls one site from its entry points; ``-a base_url=`` points it at a replica or mirror."""

    site: ClassVar[SiteConfig]

    def __init__(self, base_url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = (base_url or self.site.base_url).rstrip("/")
        self.allowed_domains = [urlsplit(self.base_url).hostname or ""]
        self._origins = {origin(self.base_url)}
        self.known: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        db = open_db(crawler.settings.get("NEWS_DB_PATH"))
        try:
            spider.known = known_url_hashes(db, cls.site.key)
        finally:
            db.close()
        return spider

    # --- discovery ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for path in self.site.feeds:
            yield self._request(path, self.parse_feed, kind="feed")
        for path in self.site.sitemaps:
            yield self._request(path, self.parse_sitemap, kind="sitemap")
        for path in self.site.listings:
            yield self._request(path, self.parse_listing, kind="listing", cb_kwargs={"path": path, "page": 1})

    def parse_feed(self, response: Response) -> Iterator[Request]:
        root = _xml_root(response.body)
        links = [] if root is None else root.xpath("//*[local-name()='item']/*[local-name()='link']/text()")
        yield from self._follow_articles(response, [str(link).strip() for link in links])

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, ValueError):
            self._count("dropped/bad_sitemap")
            return
        locs = [entry["loc"] for entry in sitemap if "loc" in entry]
        if sitemap.type == "sitemapindex":
            for loc in locs:
                if self._on_site(loc):
                    yield Request(loc, callback=self.parse_sitemap, errback=self.on_error, meta={"kind": "sitemap"})
            return
        yield from self._follow_articles(response, locs)

    def parse_listing(self, response: Response, path: str, page: int) -> Iterator[Request]:
        if response.status == 404:  # only pagination pages accept a 404: the walk ran past the end
            self._count("listing/end_404")
            return
        hrefs = response.css(self.site.listing_links).xpath("@href").getall()
        if not hrefs and page == 1:
            # A first page without the known list markup means a redesign: take every link
            # (article URL shapes still filter them). On later pages an empty list is the end.
            self._count("listing/markup_not_found")
            hrefs = response.xpath("//a/@href").getall()
        articles = [u for u in (response.urljoin(h) for h in hrefs) if self._is_article(u)]
        yield from self._follow_articles(response, articles)
        if articles and self.site.pagination and page < self.site.max_listing_pages:
            next_path = self.site.pagination.format(path=path, n=page + 1)
            request = self._request(next_path, self.parse_listing, kind="listing", cb_kwargs={"path": path, "page": page + 1})
            request.meta["handle_httpstatus_list"] = [404]
            yield request

    def _follow_articles(self, response: Response, urls: list[str]) -> Iterator[Request]:
        for raw in urls:
            url = canonical_url(response.urljoin(raw))
            if not self._on_site(url):
                self._count("links/offsite")
                continue
            if not self._is_article(url):
                continue
            if url_hash(self.record_url(url)) in self.known:
                self._count("links/known")
                continue
            yield Request(url, callback=self.parse_article, errback=self.on_error, meta={"kind": "article"})

    # --- articles -------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        self._count("pages/article")
        tree = parse_html(response.body)
        declared = page_canonical(tree) if tree is not None else None
        url = canonical_url(response.url)
        if declared and self._on_site(urljoin(response.url, declared)):
            url = canonical_url(urljoin(response.url, declared))
        result = extract(response.body, self.record_url(url), self.site, fetched_at=now_iso())
        if isinstance(result, NotArticle):
            self._count(f"dropped/{result.reason}")
            self.logger.debug("not an article: %s (%s: %s)", response.url, result.reason, result.detail)
            return
        self._count(f"extractor/{result.extractor}")
        result.raw_html = response.body
        result.fetched_url = response.url
        yield result

    def record_url(self, url: str) -> str:
        """The URL an article is stored under: its URL on the real site."""
        return rebase(url, self.base_url, self.site.base_url)

    # --- helpers --------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self._count("dropped/robots")  # RobotsTxtMiddleware's refusal: expected, not an error
            return
        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        else:
            kind = type(failure.value).__name__
        self._count(f"errors/{kind}")
        self.logger.info("fetch failed (%s): %s", kind, failure.request.url)

    def _request(self, path: str, callback: Any, kind: str, cb_kwargs: dict[str, Any] | None = None) -> Request:
        return Request(
            self.base_url + path,
            callback=callback,
            errback=self.on_error,
            cb_kwargs=cb_kwargs or {},
            meta={"kind": kind},
            priority=10,  # entry points before articles, so discovery finishes early
        )

    def _on_site(self, url: str) -> bool:
        return origin(url) in self._origins

    def _is_article(self, url: str) -> bool:
        return self._on_site(url) and self.site.is_article_path(urlsplit(url).path)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/{key}")


def _xml_root(body: bytes) -> Any:
    try:
        return etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None
