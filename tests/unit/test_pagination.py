"""When a listing walk asks for the next page (NewsSpider._next_page_wanted), and what the crawl state keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.crawl.news_spider import NewsSpider
from crawler.crawl.site_spiders import spiders
from tests.helpers import project_crawler

LISTING = "https://congan.com.vn/vu-an/page-2"


def listing(*dates: str) -> HtmlResponse:
    """A CAO listing page with one item per date (our own text; the site's markup)."""
    items = "".join(
        f'<li class="clearfix"><h3><a href="/vu-an/tin-so-{i}_{180000 + i}.html">Tin số {i}</a></h3>'
        f'<span class="f11 clorA">{date}</span></li>'
        for i, date in enumerate(dates)
    )
    body = f'<html><body><ul class="list_news">{items}</ul></body></html>'
    return HtmlResponse(LISTING, body=body.encode(), encoding="utf-8")


def spider(tmp_path: Path, key: str = "cao", **kwargs: object) -> NewsSpider:
    crawler = project_crawler(spiders()[key], NEWS_DB_PATH=str(tmp_path / "news.sqlite3"))
    made = crawler._create_spider(**kwargs)
    assert isinstance(made, NewsSpider)
    return made


def stat(s: NewsSpider, key: str) -> object:
    assert s.crawler.stats is not None
    return s.crawler.stats.get_value(f"newscrawl/{key}")


def test_a_scheduled_run_walks_on_while_a_page_brings_new_articles(tmp_path: Path) -> None:
    s = spider(tmp_path)
    assert s.max_pages == 5  # NEWS_MAX_LISTING_PAGES
    assert s._next_page_wanted(listing("10/07/2026"), page=2, found=3, new=1)
    assert not s._next_page_wanted(listing("10/07/2026"), page=2, found=3, new=0)
    assert stat(s, "listing/stopped_known") == 1  # everything older is known too


def test_the_walk_stops_at_max_pages_and_at_an_empty_page(tmp_path: Path) -> None:
    s = spider(tmp_path, max_pages="3")
    assert s._next_page_wanted(listing("10/07/2026"), page=2, found=3, new=3)
    assert not s._next_page_wanted(listing("10/07/2026"), page=3, found=3, new=3)
    assert not s._next_page_wanted(listing(), page=2, found=0, new=0)


def test_a_site_without_page_urls_never_asks_for_one(tmp_path: Path) -> None:
    s = spider(tmp_path, key="bocongan")
    assert s.site.pagination is None
    assert not s._next_page_wanted(listing("10/07/2026"), page=1, found=10, new=10)


def test_backfill_walks_past_known_pages_up_to_its_own_bound(tmp_path: Path) -> None:
    s = spider(tmp_path, backfill="1")
    assert s.max_pages == 200  # NEWS_BACKFILL_MAX_PAGES
    assert s._next_page_wanted(listing("10/07/2026"), page=2, found=3, new=0)


@pytest.mark.parametrize(
    ("dates", "wanted"),
    [
        (("02/03/2026 08:00", "01/03/2026 17:30"), True),  # still after --until
        (("28/02/2026", "27/02/2026 09:15"), False),  # the whole page is older
        (("28/02/2026", "01/03/2026"), True),  # the newest item decides
        ((), True),  # no date on the page: the walk goes on
    ],
)
def test_backfill_until_stops_at_the_first_page_older_than_the_date(
    tmp_path: Path, dates: tuple[str, ...], wanted: bool
) -> None:
    s = spider(tmp_path, backfill="1", until="2026-03-01T00:00:00+07:00")
    page = listing(*dates) if dates else listing("không rõ ngày")
    assert s._next_page_wanted(page, page=2, found=2, new=0) is wanted
    assert stat(s, "listing/stopped_until") == (None if wanted else 1)


def test_entry_point_validators_are_kept_only_after_a_clean_run(tmp_path: Path) -> None:
    first = spider(tmp_path)
    entry = sorted(first.entry_urls)[0]
    first.state.seen_validators[entry] = ('"v1"', None)
    first.state.spider_closed(first, "shutdown")  # killed: a 304 next time could hide articles
    assert spider(tmp_path).state.validators == {}
    assert first.crawler.stats is not None
    first.crawler.stats.inc_value("newscrawl/errors/timeout")
    first.state.spider_closed(first, "finished")  # finished with fetch errors: not kept either
    assert spider(tmp_path).state.validators == {}
    clean = spider(tmp_path)
    clean.state.seen_validators[entry] = ('"v2"', "Tue, 06 Oct 2026 02:30:00 GMT")
    clean.state.spider_closed(clean, "finished")
    assert spider(tmp_path).state.validators == {entry: ('"v2"', "Tue, 06 Oct 2026 02:30:00 GMT")}


def test_an_empty_feed_index_or_api_answer_is_counted_as_the_empty_fault(tmp_path: Path) -> None:
    # Every other entry point counted an empty 200 as faults/empty; these two did not, so the
    # fault-injection test failed whenever the empty answer fell on one of them.
    cand = spider(tmp_path, "cand")
    assert cand.site.feed_index
    empty = HtmlResponse(cand.base_url + cand.site.feed_index, body=b"", encoding="utf-8")
    assert list(cand.parse_feed_index(empty)) == []
    assert stat(cand, "faults/empty") == 1 and stat(cand, "errors/empty") == 1
    bocongan = spider(tmp_path, "bocongan")
    assert bocongan.site.api is not None
    answer = HtmlResponse(bocongan.base_url + "/api", body=b"  ", encoding="utf-8")
    assert list(bocongan.parse_api(answer, "/chuyen-muc/x", 1)) == []
    assert stat(bocongan, "faults/empty") == 1 and stat(bocongan, "api/unavailable") == 1
