"""What the database tells one site's crawl before it starts, and what the crawl leaves for the next.

Loaded when the spider is made (:meth:`CrawlState.from_crawler`), from ``NEWS_DB_PATH``:

- ``known``: url_hashes of articles stored and not due for a recheck (``NEWS_RECHECK_DAYS``,
  ``NEWS_RECHECK_HOURS``): links to them are not followed;
- ``validators``: the ETag / Last-Modified of each entry point, sent as a conditional GET;
- ``resume``: listing pages a past run failed to read, read first (sites with page URLs only:
  asking a site without them, bocongan, for a page URL only pokes its firewall);
- ``retry``: article URLs a past run failed on, fetched again;
- ``struck``: those whose failure settles when it happens again (``storage.articles.STRIKES``:
  a page over the extraction budget, a dead link), so they are not fetched every run.
- ``recheck``: stored articles due for a recheck, requested directly, so an edit is found
  even when every feed and listing answers 304 (they would list the article's link again
  only when they changed).

When the spider closes, the validators seen this run are saved, but only after a run that
finished without fetch errors, so a killed or failing run can never hide an article behind a
304 next time. In distributed mode the worker replaces ``known`` and ``resume`` with the
ingest's Redis mirror and drops the validators (crawler/distributed/worker.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.extract.siteconfig import SiteConfig
from storage.articles import SETTLED_DROPS, STRIKES, due_for_recheck, known_url_hashes
from storage.crawlstate import load_validators, retry_urls, save_validators, struck_urls, unfinished_listings
from storage.db import open_db

Validators = dict[str, tuple[str | None, str | None]]


@dataclass
class CrawlState:
    """One site's crawl state (see the module docstring); empty when made without a crawler."""

    known: set[str] = field(default_factory=set)
    validators: Validators = field(default_factory=dict)
    resume: list[tuple[str, int]] = field(default_factory=list)  # (listing path, page)
    retry: list[str] = field(default_factory=list)  # real-site article URLs
    struck: set[str] = field(default_factory=set)  # url_hashes failed once with a STRIKES reason
    recheck: list[str] = field(default_factory=list)  # real-site article URLs due for a recheck
    seen_validators: Validators = field(default_factory=dict)  # entry points answered this run
    crawler: Crawler | None = field(default=None, repr=False)  # set by from_crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler, site: SiteConfig, entry_urls: set[str]) -> CrawlState:
        """Load ``site``'s state from the crawl's database; save validators when the spider closes."""
        settings = crawler.settings
        state = cls(crawler=crawler)
        db = open_db(settings.get("NEWS_DB_PATH"), busy_timeout=settings.getfloat("NEWS_DB_BUSY_TIMEOUT"))
        try:
            now = datetime.now(UTC)
            days, hours = settings.getfloat("NEWS_RECHECK_DAYS"), settings.getfloat("NEWS_RECHECK_HOURS")
            state.known = known_url_hashes(db, site.key, days, hours, now)
            state.recheck = due_for_recheck(db, site.key, days, hours, now)
            state.validators = load_validators(db, sorted(entry_urls))
            state.resume = unfinished_listings(db, site.key) if site.pagination else []
            state.retry = retry_urls(db, site.key, SETTLED_DROPS)
            state.struck = struck_urls(db, site.key, STRIKES)
        finally:
            db.close()
        crawler.signals.connect(state.spider_closed, signal=signals.spider_closed)
        return state

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Save the validators seen this run, if the run finished without a fetch error."""
        if self.crawler is None or self.crawler.stats is None or not self.seen_validators:
            return
        stats = self.crawler.stats.get_stats()
        if reason != "finished" or any(k.startswith("newscrawl/errors/") for k in stats):
            return
        settings = self.crawler.settings
        db = open_db(settings.get("NEWS_DB_PATH"), busy_timeout=settings.getfloat("NEWS_DB_BUSY_TIMEOUT"))
        try:
            save_validators(db, self.seen_validators)
        finally:
            db.close()
