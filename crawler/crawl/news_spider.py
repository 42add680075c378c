"""The shared spider: discovery (feeds, sitemaps, listings) and the article callback, once.

A site module only declares ``SITE = SiteConfig(...)``; crawler/crawl/site_spiders.py makes its
subclass. What the database says before the run (known articles, entry-point validators,
listing pages and articles to retry) and the validators saved after it live in
:class:`~crawler.crawl.state.CrawlState` (``self.state``).

Scheduled runs re-read the entry points (with conditional GET) but fetch only articles not
stored yet, or stored but young enough to be due for a recheck. Listing pagination stops at
the first page holding no such article; ``-a backfill=1`` walks deeper (``max_pages``,
``until``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.crawl import pool
from crawler.crawl.middlewares import error_kind
from crawler.crawl.pool import ExtractCrash, ExtractionPool, ExtractTimeout
from crawler.crawl.state import CrawlState
from crawler.extract.dates import parse_any, parse_vn_date
from crawler.extract.encodings import read_page
from crawler.extract.items import ArticleItem, Rejection, UrlEvent
from crawler.extract.siteconfig import SiteConfig
from crawler.extract.urls import canonical_url, origin, rebase, url_hash
from storage.articles import STRIKES, now_iso

# No entity expansion, no network, bounded trees: feeds are untrusted input.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
_TRUE = ("1", "true", "yes", "on")
# A feed that is gone or refused: 403 (CAO refuses non-browser clients, SITES.md §3.1), 404, 410.
_FEED_GONE = frozenset({"http_403", "http_404", "http_410"})
# Rejection reasons that are faults of the page (counted as newscrawl/faults/<reason> too):
# an exception inside extraction, a tree deeper than the parser builds. Retried next run.
_FAULTS = frozenset({"extract_error", "parse_depth", "extract_memory"})
# The sitemap protocol's bound on the URLs of one file.
_SITEMAP_MAX_URLS = 50_000


class NewsSpider(scrapy.Spider):
    """Crawls one site from its entry points; ``-a base_url=`` points it at a replica or mirror."""

    site: ClassVar[SiteConfig]

    def __init__(
        self,
        base_url: str | None = None,
        backfill: str | bool = False,
        max_pages: str | int | None = None,
        until: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = (base_url or self.site.base_url).rstrip("/")
        # The site's own origins (aliases included when crawling the site itself); every
        # origin check (offsite, redirects, canonical) goes by these.
        self.site_origins = self.site.origins_for(self.base_url)
        self.allowed_domains = sorted({urlsplit(o).hostname or "" for o in self.site_origins})
        self.origins = set(self.site_origins)
        self.api_base: str | None = None  # set in from_crawler when API backfill is on
        self._api_warned = False
        # Feeds, sitemaps and first listing pages (real-site URLs): the conditional-GET keys.
        # (The feed index is read every run: a 304 on it would hide feeds it lists.)
        paths = (*self.site.feeds, *self.site.sitemaps, *self.site.listings)
        self.entry_urls = {self.record_url(canonical_url(self.base_url + p)) for p in paths}
        self.backfill = str(backfill).lower() in _TRUE
        self.max_pages = int(max_pages) if max_pages else None
        self.until = parse_any(until) if until else None
        self.state = CrawlState()  # loaded from the database in from_crawler
        self._pool: ExtractionPool | None = None

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Apply the site's known safe pace at spider priority: settings the user passes win."""
        super().update_settings(settings)
        site = getattr(cls, "site", None)
        if site is None:
            return
        if site.download_delay is not None:
            delay = site.download_delay * settings.getfloat("NEWS_DELAY_SCALE")
            settings.set("DOWNLOAD_DELAY", delay, priority="spider")
            settings.set("AUTOTHROTTLE_START_DELAY", delay, priority="spider")
        if site.delay_jitter is not None:
            settings.set("DOWNLOAD_DELAY_JITTER", site.delay_jitter, priority="spider")
        if site.concurrency is not None:
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", site.concurrency, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if spider.max_pages is None:
            name = "NEWS_BACKFILL_MAX_PAGES" if spider.backfill else "NEWS_MAX_LISTING_PAGES"
            spider.max_pages = settings.getint(name)
        api = cls.site.api
        if api is not None and spider.backfill and settings.getbool("NEWS_API_BACKFILL"):
            spider.api_base = (settings.getdict("NEWS_API_BASES").get(cls.site.key) or api.base).rstrip("/")
            # Exactly the API's origin is allowed beside the site's; its robots.txt is obeyed
            # like any other (Scrapy's RobotsTxtMiddleware reads it per origin).
            spider.origins.add(origin(spider.api_base))
            spider.allowed_domains.append(urlsplit(spider.api_base).hostname or "")
        spider.state = CrawlState.from_crawler(crawler, cls.site, spider.entry_urls)
        return spider

    # --- discovery ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for path in self.site.feeds:
            yield self._request(path, self.parse_feed, kind="feed", conditional=True)
        if self.site.feed_index:
            yield self._request(self.site.feed_index, self.parse_feed_index, kind="feed_index")
        for path in self.site.sitemaps:
            yield self._request(path, self.parse_sitemap, kind="sitemap", conditional=True)
        for path in self.site.listings:
            yield self._request(
                path, self.parse_listing, kind="listing", cb_kwargs={"path": path, "page": 1}, conditional=True
            )
        for path, page in self.state.resume:  # pick the walk up where a failed run lost it
            yield self._listing_page(path, page)
        for url in self.state.retry:  # articles a failed run lost: discovery may not list them again
            target = rebase(url, self.site.base_url, self.base_url)
            if self._is_article(target) and url_hash(url) not in self.state.known:
                self._count("links/retried")
                yield Request(target, callback=self.parse_article, errback=self.on_error, meta={"kind": "article"})
        for url in self.state.recheck:  # due whatever the feeds say: a 304 feed lists nothing
            target = rebase(url, self.site.base_url, self.base_url)
            if self._is_article(target):
                self._count("links/rechecked")
                meta = {"kind": "article", "recheck": True}
                yield Request(target, callback=self.parse_article, errback=self.on_error, meta=meta)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if self._not_modified(response):
            return
        self._check_xml(response)
        root = _xml_root(response.body)
        links = [] if root is None else root.xpath("//*[local-name()='item']/*[local-name()='link']/text()")
        yield from self._follow_articles(response, self._capped([str(link).strip() for link in links], self.max_links))

    def parse_feed_index(self, response: Response) -> Iterator[Request]:
        """Feeds the site's feed index page lists beyond the configured ones."""
        if self._not_modified(response):  # an empty answer is a fault and an error, as elsewhere
            return
        known = {canonical_url(self.base_url + p) for p in self.site.feeds}
        pattern = re.compile(self.site.feed_links)
        for href in response.xpath("//a/@href").getall():
            url = canonical_url(response.urljoin(href))
            if pattern.search(urlsplit(url).path) and self._on_site(url) and url not in known:
                known.add(url)
                self._count("links/feed_index")
                yield Request(url, callback=self.parse_feed, errback=self.on_error, meta={"kind": "feed"}, priority=10)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if self._not_modified(response):
            return
        self._check_xml(response)
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, ValueError):
            self._count("dropped/bad_sitemap")
            return
        locs = [entry["loc"] for entry in sitemap if "loc" in entry]
        if sitemap.type == "sitemapindex":
            for loc in self._capped(locs, _SITEMAP_MAX_URLS):
                if self._on_site(loc):
                    yield Request(loc, callback=self.parse_sitemap, errback=self.on_error, meta={"kind": "sitemap"})
            return
        yield from self._follow_articles(response, self._capped(locs, _SITEMAP_MAX_URLS))

    def parse_listing(self, response: Response, path: str, page: int) -> Iterator[Request | UrlEvent]:
        if self._not_modified(response):
            if response.status == 200 and page > 1:  # an empty answer: read it again next run
                yield self._listing_event(path, page, "listing_error", "empty")
            return
        if response.status == 404:  # only pagination pages accept a 404: the walk ran past the end
            self._count("listing/end_404")
            return
        hrefs = response.css(self.site.listing_links).xpath("@href").getall()
        if not hrefs and page == 1:
            # A first page without the known list markup means a redesign: take every link
            # (article URL shapes still filter them). On later pages an empty list is the end.
            self._count("listing/markup_not_found")
            hrefs = response.xpath("//a/@href").getall()
        articles = self._capped(
            [u for u in (response.urljoin(h) for h in hrefs) if self._is_article(u)], self.max_links
        )
        requests = list(self._follow_articles(response, articles))
        yield from requests
        if page > 1:
            yield self._listing_event(path, page, "listing_ok", "read")
        if self._next_page_wanted(response, page, found=len(articles), new=len(requests)):
            yield self._listing_page(path, page + 1)
        elif page == 1 and self.api_base is not None and articles:
            yield self._api_page(path, 1)

    # --- backfill through the site's JSON API (SiteConfig.api) -----------------------------

    def _api_page(self, path: str, page: int) -> Request:
        api = self.site.api
        assert api is not None and self.api_base is not None
        url = api.url.format(base=self.api_base, slug=path.rstrip("/").rsplit("/", 1)[-1], page=page)
        return Request(
            url,
            callback=self.parse_api,
            errback=self.on_api_error,
            cb_kwargs={"path": path, "page": page},
            headers={"Accept": "application/json"},
            # One answer decides: JSON, or "API unavailable" (a challenge or an error page is
            # not retried, so an unconfirmed endpoint is never hammered).
            meta={"kind": "api", "dont_retry": True, "handle_httpstatus_all": True},
            priority=5,
        )

    def parse_api(self, response: Response, path: str, page: int) -> Iterator[Request]:
        """One page of the API's article list (0-based ``page``): its articles, then the next."""
        api = self.site.api
        assert api is not None
        if not response.body.strip():
            self._count("faults/empty")  # then unusable, like any answer that is not the list
        try:
            data = json.loads(response.body)
        except ValueError:
            self._api_unavailable(response.url, "the answer is not JSON")
            return
        items = _api_items(data, api.items)
        if items is None:
            self._api_unavailable(response.url, "no article list in the answer")
            return
        self._count("api/pages")
        slugs = [str(i[api.slug_field]) for i in items if isinstance(i, dict) and i.get(api.slug_field)]
        urls = [self.base_url + api.article_path.format(slug=slug) for slug in slugs]
        requests = list(self._follow_articles(response, urls))
        yield from requests
        if slugs and page + 1 < (self.max_pages or 1) and (requests or not self.until):
            yield self._api_page(path, page + 1)

    def on_api_error(self, failure: Failure) -> None:
        self._api_unavailable(failure.request.url, error_kind(failure.value))  # type: ignore[attr-defined]

    def _api_unavailable(self, url: str, why: str) -> None:
        # Not a fetch error of the crawl: the API's request form is a guess, so its absence
        # ends the backfill at page 1 with one warning, and the run's exit code is untouched.
        self._count("api/unavailable")
        if not self._api_warned:
            self._api_warned = True
            self.logger.warning("listing API unavailable (%s at %s): backfill stops at page 1", why, url)

    def _listing_page(self, path: str, page: int) -> Request:
        next_path = self.site.pagination.format(path=path, n=page)  # type: ignore[union-attr]
        request = self._request(next_path, self.parse_listing, kind="listing", cb_kwargs={"path": path, "page": page})
        request.meta["handle_httpstatus_list"] = [404]
        # After the articles already found: a deep walk (a backfill, a first crawl) then keeps a
        # listing page's worth of article requests queued, not the whole archive's (memory
        # stays flat with the archive's size, bench/perf --part memory).
        request.priority = -1
        return request

    def _listing_event(self, path: str, page: int, outcome: str, reason: str) -> UrlEvent:
        listing_path = self.site.pagination.format(path=path, n=page)  # type: ignore[union-attr]
        url = self.record_url(canonical_url(self.base_url + listing_path))
        return UrlEvent(self.site.key, url, url_hash(url), outcome, reason, json.dumps({"path": path, "page": page}))

    def _next_page_wanted(self, response: Response, page: int, found: int, new: int) -> bool:
        if not self.site.pagination or not found or page >= (self.max_pages or 1):
            return False
        if not self.backfill:
            if not new:
                self._count("listing/stopped_known")
            return new > 0  # a page of known articles only: everything older is known too
        if self.until:
            dates = [
                d
                for d in (
                    parse_vn_date(t)
                    for t in response.css(self.site.listing_links)
                    .xpath("ancestor::*[self::article or self::li][1]//text()")
                    .getall()
                )
                if d
            ]
            if dates and max(dates) < self.until:
                self._count("listing/stopped_until")
                return False
        return True

    def _follow_articles(self, response: Response, urls: list[str]) -> Iterator[Request]:
        for raw in urls:
            url = canonical_url(response.urljoin(raw))
            main = canonical_url(self.site.main_url(url, self.base_url))
            if main != url:  # an AMP (or other variant) link: the article itself is fetched
                self._count("links/variant")
                url = main
            if not self._on_site(url):
                self._count("links/offsite")
                continue
            if not self._is_article(url):
                continue
            if url_hash(self.record_url(url)) in self.state.known:
                self._count("links/known")
                continue
            yield Request(url, callback=self.parse_article, errback=self.on_error, meta={"kind": "article"})

    # --- articles -------------------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[ArticleItem | UrlEvent]:
        # The page is parsed in the extraction pool (crawler/crawl/pool.py), so the reactor keeps
        # downloading meanwhile; a page that hangs or kills its worker is counted and retried.
        self._count("pages/article")
        first = canonical_url(response.meta.get("redirect_urls", [response.url])[0])
        url = canonical_url(response.url)
        if not response.body.strip():
            self._count("faults/empty")
        try:
            # The bytes go to the worker: it decodes them, and compresses the page for storage.
            page = await self._extraction_pool().extract(
                response.body, url, self.base_url, self.site.key, now_iso(), _declared_charset(response)
            )
        except (ExtractTimeout, ExtractCrash) as exc:
            kind = "extract_timeout" if isinstance(exc, ExtractTimeout) else "extract_crash"
            self.logger.warning("extraction failed (%s): %s", kind, exc)
            yield self._strike(first, kind)
            return
        except Exception as exc:
            self._count("errors/extract_error")
            self.logger.warning("extraction failed (%s: %s): %s", type(exc).__name__, exc, url)
            yield self._event(first, "error", "extract_error", f"{type(exc).__name__}; will be retried on the next run")
            return
        if page.fault:
            self._count(f"faults/{page.fault}")
        result = page.result
        if isinstance(result, Rejection):
            if result.reason in _FAULTS:
                self._count(f"faults/{result.reason}")
                self.logger.warning("page not extracted (%s: %s): %s", result.reason, result.detail, url)
            if result.reason in STRIKES:
                yield self._strike(first, result.reason)
                return
            self._count(f"dropped/{result.reason}")
            yield self._event(first, "dropped", result.reason, result.detail)
            return
        self._count(f"extractor/{result.extractor}")
        for name, rule in result.field_sources.items():
            # "fields/authors/generic:meta_author": which rule gave each field, for health/probe
            self._count(f"fields/{name}/{rule}")
        yield replace(
            result,
            # The page travels on only when the worker did not prepare its stored form.
            raw_html=b"" if result.prepared is not None else response.body,
            fetched_url=self.record_url(first),
            alias_reason="canonical" if page.canonical else ("redirect" if first != url else None),
        )

    def _extraction_pool(self) -> ExtractionPool:
        """The crawl's extraction pool, started at the first article page (shared by spiders).

        A run that extracts nothing (every entry point unchanged) forks no worker; its
        forkserver, started with the crawl (``pool.start_forkserver``), is all it pays.
        """
        if self._pool is None:
            settings = self.crawler.settings
            self._pool = pool.acquire(
                pool.extract_workers(settings),
                settings.getfloat("NEWS_EXTRACT_TIMEOUT"),
                settings.getint("NEWS_EXTRACT_MEMORY_MB"),
            )
        return self._pool

    def record_url(self, url: str) -> str:
        """The URL an article is stored under: its URL on the real site (aliases folded in)."""
        url = self.site.stored_url(url, self.site_origins)
        main = self.site.main_url(url, self.site.base_url)  # an AMP variant is its article
        return url if main == url else canonical_url(main)

    # --- bookkeeping ----------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[UrlEvent]:
        request = failure.request  # type: ignore[attr-defined]
        kind = error_kind(failure.value)
        listing = request.meta.get("kind") == "listing"
        if listing and request.cb_kwargs.get("page", 1) > 1 and kind != "robots":
            # A pagination page lost to a failure is remembered and read first next run, or
            # the stop-at-known-page rule would never reach the articles behind it.
            yield self._listing_event(request.cb_kwargs["path"], request.cb_kwargs["page"], "listing_error", kind)
        if kind == "offsite_redirect" and request.meta.get("kind") == "article":
            # counted where it was dropped; logged so the article is retried next run
            yield self._event(request.url, "error", kind, "redirected off the site; retried next run")
            return
        if request.meta.get("kind") == "feed" and self.site.feeds_optional and kind in _FEED_GONE:
            # The site's listings are its discovery; a feed it no longer serves (or serves only
            # to browsers) is worth one warning, not a failed run.
            self._count("dropped/feed_unavailable")
            self.logger.warning(
                "feed %s answered %s: skipped, %s is discovered by its listings", request.url, kind[5:], self.site.key
            )
            return
        if request.meta.get("recheck") and kind in ("http_404", "http_410"):
            # A stored article the site took down: what it said stays stored; not a fetch error,
            # and not retried (it is asked again only while it is due for a recheck).
            self._count("rechecked/gone")
            return
        if kind == "robots":
            self._count("dropped/robots")  # RobotsTxtMiddleware's refusal: expected, not an error
            yield self._event(request.url, "dropped", "robots", "disallowed by robots.txt")
            return
        if request.meta.get("kind") == "article" and kind in STRIKES:
            self.logger.info("fetch failed (%s): %s", kind, request.url)
            yield self._strike(request.url, kind)
            return
        self._count(f"errors/{kind}")
        if kind == "too_large" and isinstance(failure.value, IgnoreRequest):
            self._count("faults/too_large")  # a decompression bomb, stopped after download
        self.logger.info("fetch failed (%s): %s", kind, request.url)
        if request.meta.get("kind") == "article":
            yield self._event(request.url, "error", kind, "will be retried on the next run")

    def closed(self, reason: str) -> None:
        if self._pool is not None:
            self._pool = None
            pool.release()

    def _strike(self, url: str, kind: str) -> UrlEvent:
        """The event of an article failure that settles on its second time (``STRIKES``).

        The first time it is an error (``errors/<kind>``), retried next run: a loaded machine or
        a site hiccup can cause it. Failing the same way again, the URL is logged as settled
        (``dropped/<settled>``: ``over_budget``, ``gone``) and not fetched again.
        """
        settled = STRIKES[kind]
        record_url = self.record_url(canonical_url(url))
        if url_hash(record_url) in self.state.struck:
            self._count(f"dropped/{settled}")
            return self._event(url, "dropped", settled, f"{kind} on two runs; not fetched again")
        self._count(f"errors/{kind}")
        return self._event(url, "error", kind, "will be retried on the next run")

    @property
    def max_links(self) -> int:
        """Article links followed from one listing page or feed (``NEWS_MAX_PAGE_LINKS``)."""
        return self.crawler.settings.getint("NEWS_MAX_PAGE_LINKS")

    def _capped(self, urls: list[str], limit: int) -> list[str]:
        """The first ``limit`` of ``urls`` (duplicates dropped); the rest counted, not followed."""
        unique = list(dict.fromkeys(urls))
        if len(unique) > limit:
            self._count("links/capped")
            unique = unique[:limit]
        return unique

    def _event(self, url: str, outcome: str, reason: str, detail: str) -> UrlEvent:
        record_url = self.record_url(canonical_url(url))
        return UrlEvent(self.site.key, record_url, url_hash(record_url), outcome, reason, detail)

    def _not_modified(self, response: Response) -> bool:
        """True when there is nothing to read: a 304 (counted as such) or an empty answer.

        Otherwise the entry point's validators are remembered.
        """
        key = self.record_url(canonical_url(response.url))
        if response.status == 304:
            self._count("pages/not_modified")
            return True
        if response.status == 200 and not response.body.strip():
            self._count("faults/empty")
            self._count("errors/empty")
            return True
        if response.status == 200 and response.meta.get("kind") == "listing":
            self._inspect(response)
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if response.status == 200 and (etag or modified) and key in self.entry_urls:
            self.state.seen_validators[key] = (
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )
        return False

    def _inspect(self, response: Response) -> str:
        """The page's text, counting the encoding faults found on the way."""
        declared = _declared_charset(response)
        text, fault = read_page(response.body, declared)
        if fault:
            self._count(f"faults/{fault}")
        return text

    def _check_xml(self, response: Response) -> None:
        # Entity declarations in a feed are an attack (billion laughs), never content; the
        # parsers here do not expand them, and the run counts them.
        if b"<!ENTITY" in response.body[:65536]:
            self._count("faults/xml_entities")

    def _request(
        self,
        path: str,
        callback: Any,
        kind: str,
        cb_kwargs: dict[str, Any] | None = None,
        conditional: bool = False,
    ) -> Request:
        url = self.base_url + path
        headers: dict[str, str] = {}
        meta: dict[str, Any] = {"kind": kind}
        etag, modified = self.state.validators.get(self.record_url(canonical_url(url)), (None, None))
        # A backfill must walk past page 1 even when it has not changed: no conditional GET.
        if conditional and not self.backfill and (etag or modified):
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
            meta["handle_httpstatus_list"] = [304]
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            cb_kwargs=cb_kwargs or {},
            headers=headers,
            meta=meta,
            priority=10,  # entry points before articles, so discovery finishes early
        )

    def _on_site(self, url: str) -> bool:
        return origin(url) in self.site_origins

    def _is_article(self, url: str) -> bool:
        return self._on_site(url) and self.site.is_article_path(urlsplit(url).path)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/{key}")


def _declared_charset(response: Response) -> str | None:
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    _, _, charset = content_type.partition("charset=")
    return charset.strip().strip('"') or None


def _api_items(data: Any, keys: tuple[str, ...]) -> list[Any] | None:
    """The article list of an API answer: the answer itself, or under one of ``keys``."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in keys:
            found = _api_items(data.get(key), keys) if key in data else None
            if found is not None:
                return found
    return None


def _xml_root(body: bytes) -> Any:
    try:
        return etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None
