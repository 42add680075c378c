"""The downloader middlewares: error names, Retry-After, challenge pages, per-site backoff."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Spider
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError

from crawler.crawl.middlewares import (
    BackoffRetryMiddleware,
    ChallengePage,
    HeadMetaRefreshMiddleware,
    OffOriginRedirect,
    RedirectGuardMiddleware,
    RedirectLoop,
    SameOriginMiddleware,
    _retry_after,
    error_kind,
    is_challenge,
)
from crawler.testing.faults import CHALLENGE_PAGE
from tests.helpers import project_crawler

URL = "https://congan.com.vn/vu-an/bat-giu-nghi-pham_180721.html"


def _crawler(**overrides: Any) -> Crawler:
    """A crawler with the project's settings (and ``overrides``), stats ready, a spider set."""
    crawler = project_crawler(**overrides)
    crawler.spider = Spider.from_crawler(crawler, name="cao")
    crawler.spider.origins = {"https://congan.com.vn"}  # type: ignore[attr-defined]
    return crawler


def _response(status: int = 200, body: bytes = b"<html><body>ok</body></html>", **headers: str) -> Response:
    return HtmlResponse(URL, status=status, body=body, headers=headers, request=Request(URL))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (HttpError(_response(404), "ignored"), "http_404"),
        (OffOriginRedirect("outside"), "offsite_redirect"),
        (RedirectLoop("loop"), "redirect_loop"),
        (ChallengePage("challenge"), "challenge"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots"),
        (IgnoreRequest("Cancelling download: exceeds DOWNLOAD_MAXSIZE"), "too_large"),
        (IgnoreRequest("max size reached"), "too_large"),
        (IgnoreRequest("Redirect to nowhere"), "redirect_loop"),
        (IgnoreRequest("something else"), "ignored"),
        (TCPTimedOutError(), "timeout"),
        (ConnectionRefusedError(), "connection_refused"),
        (DNSLookupError(), "dns"),
        (ConnectionResetError(), "connection_lost"),
        (KeyError("odd"), "KeyError"),  # an unknown failure keeps its own name
    ],
)
def test_error_kind_names_each_failure(error: BaseException, kind: str) -> None:
    assert error_kind(error) == kind


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert _retry_after(_response(503, **{"Retry-After": "120"})) == 120.0
    later = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 80 <= _retry_after(_response(503, **{"Retry-After": later})) <= 90
    earlier = email.utils.formatdate(time.time() - 90, usegmt=True)
    assert _retry_after(_response(503, **{"Retry-After": earlier})) == 0.0  # in the past: no wait
    assert _retry_after(_response(503, **{"Retry-After": "soon"})) == 0.0
    assert _retry_after(_response(503)) == 0.0


def test_only_a_small_page_framing_the_firewall_is_a_challenge() -> None:
    assert is_challenge(_response(body=CHALLENGE_PAGE))
    # A real article loads the firewall's script too, and may even quote the words.
    script = b'<script src="/_Incapsula_Resource?SWJIYLWA=1"></script>'
    article = b"<html><body>" + b"<p>Tin tuc ve Incapsula incident.</p>" * 3000 + script + b"</body></html>"
    assert not is_challenge(_response(body=article))
    assert not is_challenge(_response(body=b"<html><body><p>Bai viet.</p>" + script + b"</body></html>"))
    assert not is_challenge(_response(403, body=CHALLENGE_PAGE))  # an error status is handled as one


def _backoff(crawler: Crawler, delay: float) -> tuple[BackoffRetryMiddleware, Slot]:
    slot = Slot(concurrency=1, delay=delay, jitter=0)
    downloader = SimpleNamespace(get_slot_key=lambda request: "congan.com.vn", slots={"congan.com.vn": slot})
    crawler.engine = SimpleNamespace(downloader=downloader)  # type: ignore[assignment]
    return BackoffRetryMiddleware.from_crawler(crawler), slot


def test_a_429_raises_the_site_delay_to_retry_after_and_retries() -> None:
    crawler = _crawler(NEWS_BACKOFF_START=5.0, NEWS_BACKOFF_MAX=300.0)
    middleware, slot = _backoff(crawler, 1.0)
    result = middleware.process_response(Request(URL), _response(429, **{"Retry-After": "42"}))
    assert isinstance(result, Request) and result.meta["retry_times"] == 1
    assert slot.delay == 42.0
    assert crawler.stats is not None
    assert crawler.stats.get_value("newscrawl/blocked/http_429") == 1
    assert crawler.stats.get_value("newscrawl/faults/http_429") == 1


def test_backoff_starts_at_the_floor_doubles_and_stops_at_the_cap() -> None:
    crawler = _crawler(NEWS_BACKOFF_START=5.0, NEWS_BACKOFF_MAX=12.0)
    middleware, slot = _backoff(crawler, 1.0)
    delays = []
    for _ in range(3):
        middleware.process_response(Request(URL), _response(503))
        delays.append(slot.delay)
    assert delays == [5.0, 10.0, 12.0]


def test_a_challenge_page_slows_down_and_is_never_returned_as_content() -> None:
    crawler = _crawler(RETRY_TIMES=1)
    middleware, slot = _backoff(crawler, 2.0)
    retried = middleware.process_response(Request(URL), _response(body=CHALLENGE_PAGE))
    assert isinstance(retried, Request) and slot.delay == 5.0
    with pytest.raises(ChallengePage):
        middleware.process_response(retried, _response(body=CHALLENGE_PAGE))  # retries used up
    assert crawler.stats is not None and crawler.stats.get_value("newscrawl/faults/challenge") == 2


def test_an_unblocked_answer_passes_untouched() -> None:
    crawler = _crawler()
    middleware, slot = _backoff(crawler, 1.0)
    response = _response()
    assert middleware.process_response(Request(URL), response) is response
    assert slot.delay == 1.0


def test_requests_and_redirects_off_the_site_origin_are_dropped() -> None:
    crawler = _crawler()
    same_origin = SameOriginMiddleware.from_crawler(crawler)
    same_origin.process_request(Request(URL))  # on the site: passes
    with pytest.raises(OffOriginRedirect):
        same_origin.process_request(Request("https://congan.com.vn:8443/x_1.html"))  # another port
    guard = RedirectGuardMiddleware.from_crawler(crawler)
    away = _response(301, Location="https://example.org/")
    with pytest.raises(OffOriginRedirect):
        guard.process_response(Request(URL), away)
    loop = Request(URL, meta={"redirect_urls": [URL]})
    with pytest.raises(RedirectLoop):
        guard.process_response(loop, _response(302, Location=URL))
    assert crawler.stats is not None and crawler.stats.get_value("newscrawl/faults/redirect_loop") == 1


def _refresh_mw() -> HeadMetaRefreshMiddleware:
    return HeadMetaRefreshMiddleware.from_crawler(_crawler())


def test_a_meta_refresh_in_the_head_still_redirects() -> None:
    for spelling in (b"refresh", b"REFRESH", b"Refresh"):
        body = (
            b'<html><head><meta http-equiv="'
            + spelling
            + b'" content="0; url=/moved.html"></head><body>x</body></html>'
        )
        response = HtmlResponse(URL, body=body, encoding="utf-8")
        redirected = _refresh_mw().process_response(Request(URL), response)
        assert isinstance(redirected, Request)
        assert redirected.url == "https://congan.com.vn/moved.html"


def test_a_page_without_refresh_is_passed_on_undecoded() -> None:
    # The crawl process never needs an article's text: the workers decode the bytes.
    body = ("<html><head><title>Tin</title></head><body>" + "Công an điều tra. " * 5000 + "</body></html>").encode()
    response = HtmlResponse(URL, body=body, encoding="utf-8")
    assert _refresh_mw().process_response(Request(URL), response) is response
    assert response._cached_ubody is None  # the page was not decoded to look for one


def test_a_utf16_page_goes_to_scrapys_own_check() -> None:
    # In UTF-16 "refresh" is not spelt in ASCII bytes: such a page is always decoded and checked.
    text = '<html><head><meta http-equiv="refresh" content="0; url=/moved.html"></head><body>x</body></html>'
    response = HtmlResponse(URL, body=text.encode("utf-16"), encoding="utf-16")
    redirected = _refresh_mw().process_response(Request(URL), response)
    assert isinstance(redirected, Request)  # what Scrapy makes of the URL's bytes is its own
    assert redirected.url.startswith("https://congan.com.vn/moved.html")
