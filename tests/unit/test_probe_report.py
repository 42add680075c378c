"""The probe's verdict rules and report, on hand-built results (issue 12, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from crawler import exit_codes
from crawler.crawl.probe_report import (
    EXIT_CODES,
    EntryResult,
    Fetch,
    ProbedPage,
    SiteResult,
    format_text,
    judge,
    overall,
    report_json,
)

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schema" / "probe.schema.json").read_text(encoding="utf-8"))
BASE = "https://bocongan.gov.vn"
SITE_SOURCES = {
    "title": "site:h1",
    "lead": "site:p.sapo",
    "body": "site:div.tinymce-content",
    "authors": "site:div.resource-author",
    "source": "none",
    "published_at": "site:jsonld:datePublished",
    "category": "site:div.text-bca-main-01",
    "canonical": "generic:og_url",
    "images": "site",
}


def entry(path: str, kind: str = "feed", links: int = 5, **fields: object) -> EntryResult:
    answer: dict[str, object] = {"status": 200, "content_type": "application/rss+xml", "size": 4000}
    return EntryResult(url=BASE + path, kind=kind, links=links, **{**answer, **fields})  # type: ignore[arg-type]


def page(n: int, extractor: str | None = "site", **sources: str) -> ProbedPage:
    return ProbedPage(
        url=f"{BASE}/bai-viet/tin-{n}-17549658{n:02d}",
        status=200,
        content_type="text/html; charset=utf-8",
        size=420_000,
        found_in=BASE + "/api/rss/34.xml",
        extractor=extractor,
        title=f"Tin {n}" if extractor else None,
        field_sources={**SITE_SOURCES, **sources} if extractor else {},
    )


def site(entries: list[EntryResult], pages: list[ProbedPage], stopped: str | None = None) -> SiteResult:
    result = SiteResult("bocongan", "Bộ Công an", BASE, 3.0, 1 / 3, 1, entry_points=entries, pages=pages)
    result.stopped = stopped
    verdict = judge(result)
    result.verdict, result.reasons, result.notes = verdict.verdict, verdict.reasons, verdict.notes
    return result


def healthy_entries() -> list[EntryResult]:
    return [entry("/api/rss/34.xml"), entry("/chuyen-muc/chi-dao-dieu-hanh", "listing", links_rule="site:article a")]


def test_site_path_everywhere_is_ok_and_a_byline_fallback_is_only_a_note() -> None:
    result = site(healthy_entries(), [page(1), page(2, authors="generic:meta_author"), page(3)])
    assert (result.verdict, result.reasons) == ("ok", [])
    assert result.notes == ["byline from generic:meta_author on 1/3"]


def test_generic_body_degrades_and_the_verdict_line_says_how_often() -> None:
    pages = [page(n, "generic", body="generic:trafilatura") for n in (1, 2, 3)]
    pages[0].field_sources["authors"] = pages[1].field_sources["authors"] = "generic:meta_author"
    result = site(healthy_entries(), pages)
    assert result.verdict == "degraded"
    assert result.reasons == [
        "generic path on 3/3 pages (site template not recognised)",
        "body from generic:trafilatura on 3/3 pages",
    ]
    assert format_text([result])[-1] == (
        "bocongan  degraded  generic path on 3/3 pages (site template not recognised); "
        "body from generic:trafilatura on 3/3 pages; byline from generic:meta_author on 2/3"
    )


def test_a_core_field_from_a_fallback_degrades_even_on_the_site_path() -> None:
    result = site(healthy_entries(), [page(1, published_at="none"), page(2), page(3, title="generic:og_title")])
    assert result.verdict == "degraded"
    assert result.reasons == ["title from generic:og_title on 1/3 pages", "published_at found by no rule on 1/3 pages"]


def test_a_failed_or_empty_entry_point_degrades() -> None:
    entries = [
        *healthy_entries(),
        entry("/api/rss/99.xml", status=404, content_type="text/html", error="http_404"),
        entry("/chuyen-muc/x", "listing", links=0, links_rule="site:article a"),
        entry("/chuyen-muc/y", "listing", links=4, links_rule="generic:all_links"),
    ]
    result = site(entries, [page(1), page(2), page(3)])
    assert result.verdict == "degraded"
    assert result.reasons == [
        "entry points failed: 1/5 (http_404)",
        "no links in /chuyen-muc/x",
        "listing markup not recognised on /chuyen-muc/y (all links taken)",
    ]


def test_a_gone_feed_of_a_site_with_optional_feeds_is_a_note_not_a_downgrade() -> None:
    """CAO discovers through its listings (SITES.md §3.3): a 403/404 feed is noted, as a crawl warns."""
    cao = "https://congan.com.vn"
    entries = [
        EntryResult(url=cao + "/rss/vu-an", kind="feed", status=404, error="http_404"),
        EntryResult(url=cao + "/rss/home.rss", kind="feed", status=403, error="http_403"),
        EntryResult(url=cao + "/tin-chinh", kind="listing", status=200, links=5, links_rule="site:li > h3 > a"),
    ]
    result = SiteResult("cao", "CAO", cao, 0.0, 0.0, 2, entry_points=entries, pages=[page(1), page(2)])
    verdict = judge(result)
    assert (verdict.verdict, verdict.reasons) == ("ok", [])
    assert verdict.notes[0] == "optional feeds gone: /rss/vu-an (http_404), /rss/home.rss (http_403)"
    failing = [EntryResult(url=cao + "/rss/vu-an", kind="feed", status=500, error="http_500"), *entries[2:]]
    assert (
        judge(SiteResult("cao", "CAO", cao, 0.0, 0.0, 2, entry_points=failing, pages=[page(1)])).verdict == "degraded"
    )


def test_an_entry_point_left_unasked_without_a_challenge_is_a_failure() -> None:
    unasked = entry("/rss", "feed_index", links=0, status=None, content_type=None, size=None, error="not_fetched")
    result = site([*healthy_entries(), unasked], [page(1), page(2), page(3)])
    assert (result.verdict, result.reasons) == ("degraded", ["entry points failed: 1/3 (not_fetched)"])


def test_a_credited_page_without_byline_is_no_byline_fallback() -> None:
    credited = page(2, authors="none", source="generic:credit")
    result = site(healthy_entries(), [page(1), credited, page(3)])
    assert (result.verdict, result.notes) == ("ok", [])


def test_challenges_with_no_article_are_broken_and_say_so() -> None:
    entries = [
        entry("/api/rss/34.xml", content_type="text/html", size=1100, challenge=True, error="challenge"),
        entry("/api/rss/35.xml", status=None, content_type=None, size=None, error="not_fetched"),
        entry("/chuyen-muc/a", "listing", status=None, content_type=None, size=None, error="not_fetched"),
    ]
    result = site(entries, [], stopped="challenge")
    assert result.verdict == "broken"
    assert result.reasons == ["firewall challenge on /api/rss/34.xml; probe stopped (2 entry points not fetched)"]
    text = format_text([result])
    assert any("/api/rss/34.xml" in line and "CHALLENGE" in line for line in text)
    assert text[-1].startswith("bocongan  broken    firewall challenge on /api/rss/34.xml")


@pytest.mark.parametrize(
    ("pages", "reason"),
    [
        ([], "no article page to try: the entry points gave no article link"),
        (
            [ProbedPage(url=BASE + "/bai-viet/v-1754965800", status=200, not_article="not_article_type")],
            "no page gave an article (not_article_type)",
        ),
        (
            [ProbedPage(url=BASE + "/bai-viet/v-1754965800", status=500, error="http_500")],
            "article pages failed: 1/1 (http_500)",
        ),
    ],
)
def test_no_article_at_all_is_broken(pages: list[ProbedPage], reason: str) -> None:
    result = site(healthy_entries(), pages)
    assert result.verdict == "broken"
    assert reason in result.reasons


def test_one_article_among_failures_is_degraded_not_broken() -> None:
    failed = ProbedPage(url=BASE + "/bai-viet/x-1754965800", status=None, error="timeout")
    result = site(healthy_entries(), [page(1), failed])
    assert (result.verdict, result.reasons) == ("degraded", ["article pages failed: 1/2 (timeout)"])


def test_overall_verdict_is_the_worst_and_maps_to_the_documented_exit_codes() -> None:
    ok = site(healthy_entries(), [page(1)])
    degraded = site(healthy_entries(), [page(2, "generic", body="generic:trafilatura")])
    broken = site(healthy_entries(), [])
    assert overall([ok]) == "ok"
    assert overall([ok, degraded]) == "degraded"
    assert overall([broken, ok, degraded]) == "broken"
    assert EXIT_CODES == {
        "ok": exit_codes.EXIT_OK,
        "degraded": exit_codes.EXIT_UNHEALTHY,
        "broken": exit_codes.EXIT_NOTHING,
    }


def test_report_validates_against_the_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    challenged = site([entry("/api/rss/34.xml", challenge=True, error="challenge")], [], stopped="challenge")
    challenged.robots_txt = Fetch(url=BASE + "/robots.txt", status=200, content_type="text/plain", size=120)
    sites = [site(healthy_entries(), [page(1), page(2, "generic", body="generic:trafilatura")]), challenged]
    report = report_json(
        sites,
        tool={"name": "newscrawl", "version": "0.1.0", "scrapy": "2.19.0"},
        started_at="2026-10-06T08:00:00+00:00",
        finished_at="2026-10-06T08:01:10+00:00",
        options={"articles": 3, "base_urls": {}, "settings": {}, "user_agent": "newscrawl/0.1", "robotstxt_obey": True},
    )
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert (report["verdict"], report["exit_code"]) == ("broken", 3)
    assert list(report["sites"][0]["pages"][0]["field_sources"])[:3] == ["title", "lead", "body"]
    # The schema is strict: a field it does not know is an error, so it cannot drift silently.
    report["sites"][0]["pages"][0]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(report)
