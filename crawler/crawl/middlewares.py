"""Downloader middlewares for a hostile network: origin guard, backoff, challenge pages.

Scrapy's RetryMiddleware retries at once and ignores ``Retry-After``; a news site that answers
429/503, or an Incapsula firewall that answers 200 with a JavaScript challenge, wants the
crawler to slow down for that site, not to hammer it again. That per-site slow-down is what
this module adds; the retry bookkeeping itself stays Scrapy's (``get_retry_request``).
"""

from __future__ import annotations

import logging
import re
from email.utils import parsedate_to_datetime
from time import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro

from crawler.extract.urls import canonical_url, origin

logger = logging.getLogger(__name__)

# Markers of anti-bot interstitials served with status 200 (Incapsula/Imperva, Cloudflare).
# Every bocongan.gov.vn page ends with a ``<script src="/_Incapsula_Resource?...">`` (SITES.md
# §1.3, CONFIRMED), so the script alone is not a challenge: the challenge is a ~1 KB page whose
# body is an iframe onto that resource. Looked for in the lower-cased body: plain ``in`` for the
# fixed phrases, a regex only for the iframe and only on pages naming the resource (a
# case-insensitive regex alternation over every page cost ~2 ms a page).
_CHALLENGE_PHRASES = (
    b"incapsula incident",
    b"request unsuccessful. incapsula",
    b"cf-browser-verification",
    b"challenge-platform",
    b"checking your browser before accessing",
)
_CHALLENGE_IFRAME = re.compile(rb"<iframe[^>]+_incapsula_resource")
_CHALLENGE_MAX_BYTES = 64 * 1024  # a challenge page is small; an article quoting the words is not


class OffOriginRedirect(IgnoreRequest):
    """A request (usually a redirect target) outside the crawled site's origin."""


class RedirectLoop(IgnoreRequest):
    """A redirect chain that came back to a URL it had already visited."""


class ChallengePage(IgnoreRequest):
    """The site kept answering with an anti-bot challenge instead of the page."""


class SiteUnreachable(IgnoreRequest):
    """The site's host never answered: its name does not resolve or it refuses connections."""


# Failures that say the host cannot be reached at all (no DNS, nothing listening, no network):
# met before the site ever answered, every further request of the run would meet them too.
UNREACHABLE_KINDS = frozenset({"dns", "connection_refused", "no_route"})
UNREACHABLE_STAT = "newscrawl/unreachable"


_UNREACHABLE_TEXT = {
    "dns": "name not found",
    "connection_refused": "connection refused",
    "no_route": "no route to host",
}

_ERROR_KINDS = {
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "ResponseDataLossError": "truncated",
    "_DataLoss": "truncated",
    "ConnectionLost": "connection_lost",
    "ResponseFailed": "connection_lost",
    "ConnectionResetError": "connection_lost",
    "ConnectionAborted": "connection_lost",
    "ResponseNeverReceived": "connection_lost",
    "ConnectionDone": "connection_lost",
    "ConnectionRefusedError": "connection_refused",
    "DownloadConnectionRefusedError": "connection_refused",
    "DNSLookupError": "dns",
    "CannotResolveHostError": "dns",
    "NoRouteError": "no_route",
    "CancelledError": "too_large",
    "DownloadCancelledError": "too_large",
    "DownloadTimeoutError": "timeout",
    "DownloadFailedError": "connection_lost",
}


def error_kind(error: BaseException | None) -> str:
    """A stable, named counter for a fetch failure."""
    if isinstance(error, HttpError):
        return f"http_{error.response.status}"
    if isinstance(error, OffOriginRedirect):
        return "offsite_redirect"
    if isinstance(error, RedirectLoop):
        return "redirect_loop"
    if isinstance(error, ChallengePage):
        return "challenge"
    if isinstance(error, SiteUnreachable):
        return "unreachable"
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return "robots"
        if "DOWNLOAD_MAXSIZE" in message or "max size" in message:
            return "too_large"
        if "redirect" in message.lower():
            return "redirect_loop"
        return "ignored"
    name = type(error).__name__
    return _ERROR_KINDS.get(name, name)


def is_challenge(response: Response) -> bool:
    """Whether a 200 response is an anti-bot challenge page rather than content."""
    if response.status != 200 or len(response.body) > _CHALLENGE_MAX_BYTES:
        return False
    body = response.body.lower()
    if any(phrase in body for phrase in _CHALLENGE_PHRASES):
        return True
    return b"_incapsula_resource" in body and _CHALLENGE_IFRAME.search(body) is not None


class SameOriginMiddleware:
    """Drops any request outside the spider's origin before a connection is made.

    Scrapy's offsite filter compares host names only, so a request to the same host on another
    port would pass; here scheme, host and port must match. A second line behind
    :class:`RedirectGuardMiddleware`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SameOriginMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        allowed = getattr(spider, "origins", None)
        stats = self.crawler.stats
        assert stats is not None
        if allowed and origin(request.url) not in allowed:
            stats.inc_value("newscrawl/dropped/offsite_redirect")
            raise OffOriginRedirect(f"outside {sorted(allowed)}: {request.url}")


class RedirectGuardMiddleware:
    """Checks a 3xx answer's target before Scrapy's RedirectMiddleware follows it.

    A target outside the site's origin is dropped without a connection; a target already on the
    chain is a loop (Scrapy's dupefilter would otherwise drop it silently, uncounted).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if not (300 <= response.status < 400 and location):
            return response
        target = canonical_url(urljoin(request.url, location.decode("latin-1")))
        stats = self.crawler.stats
        assert stats is not None
        allowed = getattr(self.crawler.spider, "origins", None)
        if allowed and origin(target) not in allowed:
            stats.inc_value("newscrawl/faults/offsite_redirect")
            stats.inc_value("newscrawl/dropped/offsite_redirect")
            raise OffOriginRedirect(f"redirect from {request.url} leaves the site: {target}")
        chain = {canonical_url(u) for u in (*request.meta.get("redirect_urls", ()), request.url)}
        if target in chain:
            stats.inc_value("newscrawl/faults/redirect_loop")
            raise RedirectLoop(f"redirect loop at {request.url}")
        return response


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirect, without decoding pages that cannot hold one.

    Scrapy looks for ``<meta http-equiv="refresh">`` in the first 4,096 characters of the text,
    but gets them by decoding the whole page (``response.text``), in the crawl process, where
    nothing else needs the text (the extraction workers decode the bytes): a tenth of the crawl
    process's per-page work in ``py-spy``. In an ASCII-compatible encoding those characters lie
    within the first 16 KB (4 bytes a character at most), and a refresh there spells
    ``refresh`` in ASCII: a page without those bytes is passed on untouched. A page with a
    UTF-16/32 byte-order mark, where it would not be spelt so, always goes to Scrapy's check.
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        head = response.body[:16384]
        if b"refresh" not in head.lower() and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return response
        return super().process_response(request, response)


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries like Scrapy's, and slows the whole site down on 429/503 and challenge pages.

    The site's download slot delay is raised to at least ``Retry-After`` (capped by
    ``NEWS_BACKOFF_MAX``) and doubled on each further blocking answer; AutoThrottle brings it
    back down as normal answers return.
    """

    BLOCKING = frozenset({429, 503})

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_max = settings.getfloat("NEWS_BACKOFF_MAX")
        self.backoff_start = settings.getfloat("NEWS_BACKOFF_START")
        self.answered = False  # has the site answered anything yet (any status)?

    def process_request(self, request: Request, spider: Any = None) -> None:
        stats = self.crawler.stats
        if stats is not None and stats.get_value(UNREACHABLE_STAT):  # stopped: no further connection
            raise SiteUnreachable(f"site unreachable: {request.url}")

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        self.answered = True
        if request.meta.get("dont_retry", False):
            return response
        if is_challenge(response):
            self._count("faults/challenge")
            self._slow_down(request, response, "challenge")
            retry = self._retry(request, "anti-bot challenge page")
            if retry is None:
                raise ChallengePage(f"challenge page instead of {request.url}")
            return retry
        if response.status in self.retry_http_codes:
            self._count(f"faults/http_{response.status}")
        if response.status in self.BLOCKING:
            self._slow_down(request, response, f"http_{response.status}")
        return super().process_response(request, response)

    def process_exception(
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        kind = error_kind(exception)
        if kind in UNREACHABLE_KINDS and not self.answered:
            raise self._unreachable(request, kind, exception)
        if kind not in ("robots", "offsite_redirect"):  # refusals of ours, not network faults
            self._count(f"faults/{kind}")
        return super().process_exception(request, exception)

    def _unreachable(self, request: Request, kind: str, exception: Exception) -> SiteUnreachable:
        """Stop the site at its first request that could not connect (a DNS failure, a refused
        connection, no route), before it ever answered: retrying it, and every other request
        of the run, would only print the same failure again for minutes. The reason is kept
        in the stats for the one line the command prints; the next run tries again."""
        stats, engine = self.crawler.stats, self.crawler.engine
        assert stats is not None and engine is not None
        host = urlsplit(request.url).netloc
        if not stats.get_value(UNREACHABLE_STAT):
            reason = f"{host} {_UNREACHABLE_TEXT.get(kind, kind)}"
            stats.set_value(UNREACHABLE_STAT, reason)
            self._count(f"faults/{kind}")
            logger.info("site unreachable, stopping it: %s (%s at %s)", reason, exception, request.url)
            deferred_from_coro(engine.close_spider_async(reason="unreachable"))
        return SiteUnreachable(f"{host} unreachable: {request.url}")

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/{key}")

    def _slow_down(self, request: Request, response: Response, kind: str) -> None:
        engine = self.crawler.engine
        stats = self.crawler.stats
        assert engine is not None and stats is not None
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        wanted = max(slot.delay * 2, self.backoff_start, _retry_after(response))
        slot.delay = min(wanted, self.backoff_max)
        stats.inc_value(f"newscrawl/blocked/{kind}")
        stats.max_value("newscrawl/blocked/max_delay_s", slot.delay)
        logger.warning(
            "%s is blocking or throttling us (%s on %s): slowing down to %.1f s between requests",
            key,
            kind,
            request.url,
            slot.delay,
        )


def _retry_after(response: Response) -> float:
    """Seconds asked by a ``Retry-After`` header (delta or HTTP date); 0 when absent or bad."""
    value = response.headers.get("Retry-After")
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time())
    except (TypeError, ValueError):
        return 0.0
