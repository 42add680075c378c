"""``newscrawl probe``: is each live site still what the crawler expects? Fetch, extract, report.

For every site asked, a probe spider reads the site's entry points (feeds, sitemaps, first
listing pages) through the crawler's own discovery code, then fetches up to N of the article
pages they link (round robin over the entry points, so each kind is represented) and runs the
extractor on them in-process. Nothing is stored: no item pipeline, no run recorder, no quality
gate, no lock, and the database is never opened.

It is the crawler's own machinery (the site's spider with :class:`ProbeMixin` in front, in a
``CrawlerProcess``), so it sees what a crawl would see: robots.txt obeyed, the project
User-Agent, the retry middleware, and the site's own pace (``download_delay``, ``concurrency``
of its ``SiteConfig``, under any ``-s`` setting the user passes). What differs: a probe never
paginates, and its first firewall challenge ends the probe of that site, unretried.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from importlib.metadata import version
from typing import Any, TypeVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.crawl.middlewares import UNREACHABLE_STAT, ChallengePage, error_kind, is_challenge
from crawler.crawl.news_spider import NewsSpider
from crawler.crawl.pool import extract_page
from crawler.crawl.probe_report import EntryResult, Fetch, ProbedPage, SiteResult, judge
from crawler.crawl.runner import project_settings
from crawler.crawl.site_spiders import spiders
from crawler.extract.items import Rejection
from crawler.extract.siteconfig import SiteConfig
from crawler.extract.urls import canonical_url
from storage.articles import now_iso

F = TypeVar("F", bound=Fetch)

# At most this many article pages per wanted article: pages that turn out not to be articles
# (videos, albums at article-shaped URLs) are replaced, but never without bound.
MAX_PAGES_PER_ARTICLE = 2
# Settings a probe always runs with, whatever the user passes: it never writes anywhere, and it
# is polite to sites it does not crawl.
FORCED: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {},
    "JOBDIR": None,
    "HTTPCACHE_ENABLED": False,
    "ROBOTSTXT_OBEY": True,
}
# Defaults a user may override with -s: a quiet log (the report is the output).
DEFAULTS: dict[str, Any] = {"LOG_LEVEL": "WARNING"}


class ProbeStopped(IgnoreRequest):
    """The probe stopped asking this site (a firewall challenge came back)."""


class ProbeMiddleware:
    """Notes each raw answer on its request, and ends a site's probe at its first challenge.

    It sits just above the retry middleware, so it sees every answer first. A challenge is not
    retried here (the crawler retries it with a growing backoff, minutes on a blocking site):
    it is the answer the probe came for, and each further request would only prolong the
    block. Later requests of the site are dropped before any connection.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProbeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        if isinstance(spider, ProbeMixin) and spider.result.stopped:
            raise ProbeStopped(f"probe of {spider.site.key} stopped ({spider.result.stopped}): {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        answer = {
            "status": response.status,
            "content_type": (response.headers.get("Content-Type") or b"").decode("latin-1") or None,
            "size": len(response.body),
            "challenge": is_challenge(response),
        }
        request.meta["probe_answer"] = answer
        spider = self.crawler.spider
        if not isinstance(spider, ProbeMixin):
            return response
        if urlsplit(request.url).path == "/robots.txt":
            retries = int(request.meta.get("retry_times", 0))
            spider.result.robots_txt = Fetch(url=request.url, retries=retries, **answer)
        if answer["challenge"]:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newscrawl/faults/challenge")
            spider.result.stopped = "challenge"
            raise ChallengePage(f"challenge page instead of {request.url}")
        return response


class ProbeMixin:
    """Turns a site's spider into a probe: records instead of following, never stores.

    Mixed in before the site's own spider class, so site-specific discovery still runs.
    """

    crawler: Crawler
    site: SiteConfig
    base_url: str

    def __init__(self, *args: Any, articles: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wanted = int(articles)
        self.result = SiteResult(
            key=self.site.key,
            name=self.site.name,
            base_url=self.base_url,
            delay=0.0,
            jitter=0.0,
            concurrency=1,
        )
        self.entries: dict[str, EntryResult] = {}
        self.candidates: dict[str, list[str]] = {}  # article URLs by the entry point that linked them
        self.chosen: set[str] = set()

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)  # type: ignore[misc]  # the site's own pace (NewsSpider)
        # No more requests leave the scheduler than the site takes at once: after a challenge
        # none is already waiting in the downloader, beyond the reach of ProbeMiddleware.
        settings.set("CONCURRENT_REQUESTS", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        # scrapy.Spider's, not NewsSpider's: that one reads the crawl state from the database.
        spider = scrapy.Spider.from_crawler.__func__(cls, crawler, *args, **kwargs)  # type: ignore[attr-defined]
        settings = crawler.settings
        spider.max_pages = 1
        spider.result.delay = settings.getfloat("DOWNLOAD_DELAY")
        spider.result.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER")
        spider.result.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    # --- entry points -----------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        # All of them are listed first, so those never asked (after a challenge) are reported too.
        requests = [r async for r in super().start()]  # type: ignore[misc]
        for request in requests:
            self._entry(request)
        for request in requests:
            yield request

    def _entry(self, request: Request) -> EntryResult:
        url = request.meta.get("redirect_urls", [request.url])[0]
        if url not in self.entries:
            self.entries[url] = EntryResult(url=url, kind=request.meta.get("kind", "listing"), error="not_fetched")
            self.result.entry_points.append(self.entries[url])
        return self.entries[url]

    def _entry_of(self, response: Response) -> EntryResult:
        assert response.request is not None
        return self._entry(response.request)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        return self._read_entry(response, super().parse_feed(response))  # type: ignore[misc]

    def parse_feed_index(self, response: Response) -> Iterator[Any]:
        return self._read_entry(response, super().parse_feed_index(response))  # type: ignore[misc]

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        return self._read_entry(response, super().parse_sitemap(response))  # type: ignore[misc]

    def parse_listing(self, response: Response, path: str, page: int) -> Iterator[Any]:
        entry = self._record(self._entry_of(response), response)
        found = response.css(self.site.listing_links)
        entry.links_rule = f"site:{self.site.listing_links}" if found else "generic:all_links"
        return self._read_entry(response, super().parse_listing(response, path, page))  # type: ignore[misc]

    def _read_entry(self, response: Response, output: Iterable[Any]) -> Iterator[Any]:
        """Run the crawler's own parsing of an entry point; pass on requests for more entry
        points (sitemap children, feeds of an index page), keep nothing else."""
        entry = self._record(self._entry_of(response), response)
        for value in output:
            if isinstance(value, Request) and value.meta.get("kind") != "article":
                self._entry(value)
                entry.links += 1
                yield value

    def _follow_articles(self, response: Response, urls: list[str]) -> Iterator[Request]:
        """Collects the article links of an entry point; the articles are fetched when idle."""
        entry = self._entry_of(response)
        links = self.candidates.setdefault(entry.url, [])
        for raw in urls:
            url = canonical_url(response.urljoin(raw))
            if self._is_article(url) and url not in links:  # type: ignore[attr-defined]
                links.append(url)
        entry.links = len(links)
        return iter(())

    # --- article pages ----------------------------------------------------------------------

    def on_idle(self) -> None:
        """Entry points done (or the last batch of pages): ask for the next article pages."""
        if self.result.stopped:
            return
        have = sum(p.is_article for p in self.result.pages)
        budget = self.wanted * MAX_PAGES_PER_ARTICLE - len(self.result.pages)
        batch = list(self._next_candidates(min(self.wanted - have, budget)))
        if not batch:
            return
        for url, found_in in batch:
            page = ProbedPage(url=url, found_in=found_in, error="not_fetched")
            self.result.pages.append(page)
            meta = {"kind": "article", "probe_page": len(self.result.pages) - 1}
            self.crawler.engine.crawl(Request(url, callback=self.parse_article, errback=self.on_error, meta=meta))
        raise DontCloseSpider

    def _next_candidates(self, count: int) -> Iterator[tuple[str, str]]:
        """Up to ``count`` article URLs not tried yet, with the entry point that linked them.

        Taken in turn from each kind of entry point (feed, sitemap, listing), and within a kind
        from each entry point in the site's order: every discovery path gets a page, and the
        choice does not depend on which answer arrived first.
        """
        by_kind: dict[str, list[Iterator[tuple[str, str]]]] = {}
        for entry in self.result.entry_points:
            links = [(url, entry.url) for url in self.candidates.get(entry.url, ())]
            by_kind.setdefault(entry.kind, []).append(iter(links))
        for url, found_in in _round_robin([_round_robin(lanes) for lanes in by_kind.values()]):
            if count <= 0:
                return
            if url not in self.chosen:
                self.chosen.add(url)
                count -= 1
                yield url, found_in

    def parse_article(self, response: Response) -> None:
        page = self._record(self.result.pages[response.meta["probe_page"]], response)
        text = self._inspect(response)  # type: ignore[attr-defined]
        # In this process, not the crawl's extraction pool: a handful of pages.
        result = extract_page(text, canonical_url(response.url), self.base_url, self.site.key, now_iso()).result
        if isinstance(result, Rejection):
            page.not_article = result.reason
        else:
            page.extractor = result.extractor
            page.title = result.title
            page.field_sources = dict(result.field_sources)

    # --- bookkeeping ------------------------------------------------------------------------

    def _record(self, fetch: F, response: Response) -> F:
        fetch.error = None
        fetch.status = response.status
        fetch.content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        fetch.size = len(response.body)
        fetch.retries = int(response.meta.get("retry_times", 0))
        return fetch

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        kind = error_kind(failure.value)
        if request.meta.get("kind") == "article" and "probe_page" in request.meta:
            fetch: Fetch = self.result.pages[request.meta["probe_page"]]
        else:
            fetch = self._entry(request)
        answer = request.meta.get("probe_answer") or {}
        fetch.status = answer.get("status")
        fetch.content_type = answer.get("content_type")
        fetch.size = answer.get("size")
        fetch.challenge = bool(answer.get("challenge")) or kind == "challenge"
        fetch.retries = int(request.meta.get("retry_times", 0))
        if isinstance(failure.value, HttpError):
            fetch.status = failure.value.response.status
        fetch.error = "not_fetched" if isinstance(failure.value, ProbeStopped) else kind
        return iter(())

    def closed(self, reason: str) -> None:
        """Never NewsSpider's: that one saves the entry points' validators to the database."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        if stats.get(UNREACHABLE_STAT):  # BackoffRetryMiddleware stopped the site at once
            self.result.stopped = f"unreachable: {stats[UNREACHABLE_STAT]}"
        self.result.stats = {
            k: v
            for k, v in stats.items()
            if k.startswith(("newscrawl/faults/", "newscrawl/blocked/", "downloader/")) and isinstance(v, int | float)
        }


def _round_robin(iterators: list[Iterator[Any]]) -> Iterator[Any]:
    """One item from each iterator in turn until all are exhausted."""
    live = deque(iterators)
    while live:
        current = live.popleft()
        for item in current:
            yield item
            live.append(current)
            break


def probe_class(key: str) -> type[NewsSpider]:
    """The probe spider of site ``key``: the site's spider with :class:`ProbeMixin` in front.

    The site's pace comes with it (``NewsSpider.update_settings``), under the user's ``-s``.
    """
    site_spider = spiders()[key]
    return type(f"Probe{site_spider.__name__}", (ProbeMixin, site_spider), {"name": f"probe-{key}"})


def probe_settings(overrides: dict[str, Any]) -> Any:
    """The project's settings, the user's ``-s`` on top, then what a probe always runs with."""
    settings = project_settings({**DEFAULTS, **overrides, **FORCED})
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    # Just above the retry middleware (550): it sees each raw answer, challenges included.
    middlewares[f"{__name__}.ProbeMiddleware"] = 560
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    return settings


def run_probe(keys: list[str], base_urls: dict[str, str], overrides: dict[str, Any], articles: int) -> list[SiteResult]:
    """Probe ``keys`` together in one reactor; each site's result judged."""
    process = CrawlerProcess(probe_settings(overrides))
    crawlers = {}
    for key in keys:
        crawler = process.create_crawler(probe_class(key))
        process.crawl(crawler, base_url=base_urls.get(key), articles=articles)
        crawlers[key] = crawler
    process.start()
    results = []
    for crawler in crawlers.values():
        result: SiteResult = crawler.spider.result  # type: ignore[union-attr]
        verdict = judge(result)
        result.verdict, result.reasons, result.notes = verdict.verdict, verdict.reasons, verdict.notes
        results.append(result)
    return results


def tool_versions() -> dict[str, str]:
    return {"name": "newscrawl", "version": version("newscrawl"), "scrapy": scrapy.__version__}
