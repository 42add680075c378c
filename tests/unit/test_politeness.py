"""Each site's known safe pace, and what counts as a firewall challenge (issue #12)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse

from crawler.crawl.middlewares import is_challenge
from crawler.crawl.runner import project_settings
from crawler.crawl.site_spiders import spiders
from crawler.testing.faults import CHALLENGE_PAGE


def _settings(key: str, overrides: dict[str, Any] | None = None) -> Any:
    crawler = Crawler(spiders()[key], project_settings(overrides))
    return crawler.settings


def test_bocongan_default_pace_is_one_request_at_least_two_seconds_apart() -> None:
    settings = _settings("bocongan")
    delay, jitter = settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("DOWNLOAD_DELAY_JITTER")
    assert delay * (1 - jitter) >= 2.0  # the shortest randomised gap
    assert jitter > 0  # randomised, not a fixed beat
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert "newscrawl" in settings.get("USER_AGENT")


def test_settings_the_user_passes_still_win() -> None:
    settings = _settings("bocongan", {"DOWNLOAD_DELAY": 0.25, "CONCURRENT_REQUESTS_PER_DOMAIN": 4})
    assert settings.getfloat("DOWNLOAD_DELAY") == 0.25
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 4


def test_delay_scale_shortens_the_site_pace_for_tests() -> None:
    settings = _settings("bocongan", {"NEWS_DELAY_SCALE": 0.1})
    assert abs(settings.getfloat("DOWNLOAD_DELAY") - 0.3) < 1e-9


def test_other_sites_keep_the_project_pace() -> None:
    for key in ("cao", "thanhtra"):
        settings = _settings(key)
        assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
        assert settings.getfloat("DOWNLOAD_DELAY_JITTER") == 0.5


def _response(body: bytes) -> HtmlResponse:
    return HtmlResponse("https://bocongan.gov.vn/bai-viet/x-1790000000", status=200, body=body)


def test_the_small_iframe_page_is_a_challenge() -> None:
    assert len(CHALLENGE_PAGE) < 2048
    assert is_challenge(_response(CHALLENGE_PAGE))


def test_a_real_page_that_loads_the_firewall_script_is_not_a_challenge() -> None:
    script = (
        b'<script type="text/javascript" src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3"></script>'
    )
    article = b"<html><body><h1>Tin</h1>" + b"<p>Noi dung bai viet.</p>" * 20000 + script + b"</body></html>"
    assert len(article) > 400_000
    assert not is_challenge(_response(article))
    small = b"<html><body><h1>Tin</h1><p>Noi dung.</p>" + script + b"</body></html>"
    assert not is_challenge(_response(small))  # the script alone, even on a small page
