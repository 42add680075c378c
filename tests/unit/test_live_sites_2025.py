"""What the live CAO and Báo Thanh tra pages show (SITES.md §3.3, §2.2; issue 24), fact by fact.

Every page here is shaped as §3.3 describes the text of 59 live CAO pages of 2025 (which strings
are ``<p>``s, in which order, with which spaces and Unicode forms); the words are our own.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.crawl.news_spider import NewsSpider
from crawler.crawl.runs import run_status
from crawler.crawl.site_spiders import spiders
from crawler.extract.article import Rejection, extract
from crawler.extract.bylines import is_status_line, looks_like_names, split_date_byline
from crawler.extract.dates import is_today_banner, is_weekday_date
from crawler.extract.items import ArticleItem
from crawler.extract.siteconfig import SiteConfig
from crawler.sites.registry import sites
from tests.helpers import project_crawler

CAO_URL = "https://congan.com.vn/tin-chinh/tin-thu-nghiem_186001.html"
NBSP = "\u00a0"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# The top bar's "today" line, decomposed weekday, day and month not zero-padded (§3.3).
TODAY = f"{nfd('Thứ Năm')}, Ngày 20 Tháng 3, 2025"
# The publication date line with its byline: CR LF, spaces, NBSP | NBSP, the name (§3.3).
DATE_LINE = f"{nfd('Thứ Tư')}, 19/03/2025 13:37\r\n        {NBSP}|{NBSP}A. Quân"
BODY = "".join(
    f"<p>Đoạn {n}: lực lượng Công an phường phối hợp với các đoàn thể tuyên truyền, hướng dẫn người dân "
    f"cài đặt ứng dụng định danh điện tử và cảnh giác với các cuộc gọi giả danh cơ quan chức năng.</p>"
    for n in range(1, 5)
)
FOOTER = "".join(
    f"<p>{line}</p>"
    for line in (
        "Thông tin liên hệ",
        "Tòa soạn: 18 Nguyễn Trãi, phường Bến Thành, TP.HCM",
        "Giấy phép hoạt động báo điện tử số 999/GP-BTTTT",
        "Bản quyền thuộc về Báo Công an TP.HCM",
        "Email: toasoan@example.vn",
        "Đường dây nóng: 0909 000 111",
    )
)


def cao_page(
    *,
    date_line: str = DATE_LINE,
    banner_style: str = ' style="white-space: nowrap;"',
    lead: str = f"<p>(CAO){NBSP}Ngày 19-3, Công an TP.HCM ra quân bảo đảm an ninh, trật tự.</p>",
    body: str = BODY,
    content_id: str = "article_content",
    author_box: str = "",
    footer: str = FOOTER,
    flat: bool = False,
) -> str:
    """A CAO article page in the 2025 shape; ``flat`` puts every <p> in one container, as a
    page whose article and footer share a parent (what an every-<p> extractor sees)."""
    head = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tin thử nghiệm</title></head><body>
<div class="top"><p class="f11"{banner_style}>{TODAY}</p><p></p></div>
<ol class="breadcrumb"><li><a href="/">Trang chủ</a></li><li><a href="/quoc-te">Quốc tế</a></li></ol>
<h1 class="article_title">Tin thử nghiệm</h1>
<p class="hidden-xs f11 padT5 clorA" style="white-space: nowrap;">{date_line}</p>"""
    if flat:
        return f"{head}<div class='main'>{lead}{body}{author_box}{footer}</div></body></html>"
    return f"""{head}{lead}<div id="{content_id}">{body}{author_box}</div>
<div class="footer-info">{footer}</div></body></html>"""


def item_of(page: str, site: SiteConfig | None = None, url: str = CAO_URL) -> ArticleItem:
    result = extract(page, url, site or sites()["cao"])
    assert isinstance(result, ArticleItem), result
    return result


def generic_only(site: SiteConfig) -> SiteConfig:
    """The site with a body selector that matches nothing: its template "redesigned"."""
    return dataclasses.replace(site, selectors=dataclasses.replace(site.selectors, body=("#no-such-body",)))


# --- CAO: the byline inside the date line -------------------------------------------------


def test_byline_in_the_date_line_is_the_author_when_no_author_box() -> None:
    item = item_of(cao_page())
    assert item.authors == ["A. Quân"]
    assert item.field_sources["authors"] == "site:date_line"
    assert item.published_at == "2025-03-19T13:37:00+07:00"
    assert item.published_at_raw == "Thứ Tư, 19/03/2025 13:37"  # no byline, no "|", NFC
    assert "A. Quân" not in item.body


def test_the_2019_author_box_still_wins_when_present() -> None:
    item = item_of(cao_page(author_box='<div class="article_author">Minh Khang</div>'))
    assert item.authors == ["Minh Khang"]
    assert item.field_sources["authors"] == "site:[class*='article_author']"


def test_a_date_line_without_byline_gives_no_author() -> None:
    item = item_of(cao_page(date_line=f"{nfd('Chủ Nhật')}, 23/03/2025 07:05"))
    assert item.authors == []
    assert item.published_at == "2025-03-23T07:05:00+07:00"


@pytest.mark.parametrize(
    ("line", "date", "byline"),
    [
        (DATE_LINE, "Thứ Tư, 19/03/2025 13:37", "A. Quân"),
        ("Thứ Sáu, 21/03/2025 08:00 | T.Nam", "Thứ Sáu, 21/03/2025 08:00", "T.Nam"),
        ("Thứ Sáu, 21/03/2025 08:00", "Thứ Sáu, 21/03/2025 08:00", None),
        # What follows the bar must read as names: a sentence is not a byline.
        (
            "Thứ Sáu, 21/03/2025 08:00 | Lực lượng chức năng tiếp tục kiểm tra, xử lý nghiêm các trường hợp vi phạm.",
            "Thứ Sáu, 21/03/2025 08:00",
            None,
        ),
    ],
)
def test_split_date_byline(line: str, date: str, byline: str | None) -> None:
    assert split_date_byline(line, "|") == (date, byline)


# --- CAO: the top bar's "today" date ------------------------------------------------------


def test_today_banner_is_never_the_publication_date_even_when_the_date_selector_matches_it_first() -> None:
    # The banner has the same nowrap style as the date line and comes first in the page.
    item = item_of(cao_page())
    assert item.published_at == "2025-03-19T13:37:00+07:00"
    assert "Ngày 20 Tháng 3" not in item.body


def test_today_banner_in_a_div_is_skipped_by_the_date_rule_itself() -> None:
    # Not a <p>, so not removed as page furniture: the date rule must still pass over it.
    page = cao_page().replace(
        f'<p class="f11" style="white-space: nowrap;">{TODAY}</p>',
        f'<div class="f11" style="white-space: nowrap;">{TODAY}</div>',
    )
    item = item_of(page)
    assert item.published_at == "2025-03-19T13:37:00+07:00"
    assert item.field_sources["published_at"] == "site:[style*='white-space: nowrap']"


def test_a_page_whose_only_date_is_the_banner_has_no_publication_date() -> None:
    item = item_of(cao_page(date_line=""))
    assert item.published_at is None
    assert "Tháng 3" not in (item.published_at_raw or "")


@pytest.mark.parametrize(
    ("text", "banner"),
    [
        (TODAY, True),
        ("Thứ Năm, Ngày 20 Tháng 3, 2025", True),
        (f"{nfd('Chủ Nhật')}, Ngày 6 Tháng 4, 2025", True),
        ("Thứ Tư, 19/03/2025 13:37", False),
        ("Ngày 20 tháng 3 năm 2025, Công an TP.HCM tổ chức hội nghị.", False),
    ],
)
def test_is_today_banner(text: str, banner: bool) -> None:
    assert is_today_banner(text) is banner


# --- decomposed weekday names -------------------------------------------------------------


def test_decomposed_weekday_is_nfc_in_the_record_and_still_parses() -> None:
    item = item_of(cao_page(date_line=f"{nfd('Thứ Bảy')}, 05/04/2025 18:20"))
    assert item.published_at_raw == unicodedata.normalize("NFC", "Thứ Bảy, 05/04/2025 18:20")
    assert unicodedata.is_normalized("NFC", item.published_at_raw or "")
    assert item.published_at == "2025-04-05T18:20:00+07:00"


def test_weekday_rules_match_decomposed_text() -> None:
    assert is_weekday_date(nfd("Thứ Hai, 24/03/2025 09:00"))
    assert is_weekday_date(nfd("Chủ nhật, 16/03/2025 - 09:30"))
    assert not is_weekday_date("08:00 22/11/2024")


def test_decomposed_body_paragraph_is_nfc_in_the_body() -> None:
    body = BODY + f"<p>{nfd('Người dân cần cảnh giác với các đối tượng giả danh cán bộ Công an.')}</p>"
    item = item_of(cao_page(body=body))
    assert "Người dân cần cảnh giác với các đối tượng giả danh cán bộ Công an." in item.body


# --- the lead -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [f"(CAO){NBSP}", "(CAO) ", f"(CATP){NBSP}", "(CATP) "])
def test_lead_found_by_its_prefix_when_it_has_no_class(prefix: str) -> None:
    lead = f"{prefix}Ngày 19-3, Công an TP.HCM ra quân bảo đảm an ninh, trật tự."
    item = item_of(cao_page(lead=f"<p>{lead}</p>"))
    assert item.lead == " ".join(lead.replace(NBSP, " ").split())
    assert item.field_sources["lead"] == "site:lead_pattern"


def test_lead_inside_the_body_container_is_not_repeated_in_the_body() -> None:
    lead = "<p>(CATP) Sáng 19-3, Công an TP.HCM ra quân bảo đảm an ninh, trật tự.</p>"
    item = item_of(cao_page(lead="", body=lead + BODY))
    assert item.lead == "(CATP) Sáng 19-3, Công an TP.HCM ra quân bảo đảm an ninh, trật tự."
    assert item.body.startswith("Đoạn 1:")


def test_a_page_without_prefix_keeps_its_classed_lead() -> None:  # one page of 59 has no prefix
    item = item_of(cao_page(lead='<p class="article_head">Ngày 19-3, Công an TP.HCM ra quân.</p>'))
    assert item.lead == "Ngày 19-3, Công an TP.HCM ra quân."
    assert item.field_sources["lead"] == "site:[class*='article_head']"


# --- "Cập nhật..." ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Cập nhật...", "Cập nhật…", "Đang cập nhật..."])
def test_a_closing_status_line_is_not_body_text(status: str) -> None:
    item = item_of(cao_page(body=BODY + f"<p>{status}</p>"))
    assert item.body.endswith("cơ quan chức năng.")
    assert "cập nhật" not in item.body.lower()


def test_a_right_aligned_status_line_is_no_byline() -> None:
    item = item_of(
        cao_page(date_line="Thứ Tư, 19/03/2025 13:37", body=BODY + '<p style="text-align:right">Cập nhật...</p>')
    )
    assert item.authors == []
    assert is_status_line("Cập nhật...") and not looks_like_names("Cập nhật...")


def test_updates_in_running_text_stay() -> None:
    line = "Cập nhật lúc 10 giờ, đã có 37 người được đưa đi cấp cứu tại các bệnh viện trong khu vực."
    item = item_of(cao_page(body=BODY + f"<p>{line}</p>"))
    assert item.body.endswith(line)


# --- the fixed footer ---------------------------------------------------------------------


def test_footer_never_reaches_the_body_on_the_site_path() -> None:
    item = item_of(cao_page(body=BODY + FOOTER, footer=""))  # inside the body container
    assert item.extractor == "site"
    assert "Thông tin liên hệ" not in item.body and "Giấy phép" not in item.body


def test_footer_never_reaches_the_body_on_the_generic_path() -> None:
    # Article and footer <p>s share one container: trafilatura alone keeps the footer.
    item = item_of(cao_page(flat=True), generic_only(sites()["cao"]))
    assert item.extractor == "generic"
    assert item.body.startswith("Đoạn 1:")
    for furniture in ("Thông tin liên hệ", "Tòa soạn", "Giấy phép", "Bản quyền", "Đường dây nóng"):
        assert furniture not in item.body


def test_without_the_site_exclusion_the_generic_path_keeps_the_footer() -> None:
    """The guard above is the site exclusion's doing, not trafilatura's."""
    cao = generic_only(sites()["cao"])
    bare = dataclasses.replace(cao, selectors=dataclasses.replace(cao.selectors, footer_start=None))
    item = item_of(cao_page(flat=True), bare)
    assert "Giấy phép" in item.body


def test_a_short_run_after_a_matching_paragraph_is_article_text() -> None:
    tail = "<p>Thông tin liên hệ đường dây nóng của Công an phường được niêm yết tại trụ sở.</p><p>Kết thúc.</p>"
    item = item_of(cao_page(body=BODY + tail, footer=""))
    assert "Thông tin liên hệ đường dây nóng" in item.body


# --- Báo Thanh tra --------------------------------------------------------------------------

TT_URL = "https://thanhtra.com.vn/thanh-tra-CA492F2B8/bai-thu-nghiem-0a1b2c3d4.html"


def thanhtra_page(
    *,
    body_attr: str = 'id="editor-detail"',
    h1: str = 'class="text-black text-[32px] leading-tight font-bold mb-4"',
    author: str = 'class="flex-shrink-0 font-semibold text-base mr-4"',
    date: str = 'class="text-[#707070] text-sm"',
    lead: str = 'class="text-lg text-justify font-semibold mb-4"',
) -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Bài thử nghiệm</title></head>
<body><main><nav><a href="/thanh-tra-CA492F2B8">Thanh tra</a></nav><article>
<h1 {h1}>Bài thử nghiệm</h1>
<div class="flex items-center mb-4"><div {author}><a href="/tac-gia/minh-an" title="Minh An">Minh An</a></div>
<p {date}>Thứ hai, 07/04/2025 - 10:15</p></div>
<p {lead}>(Thanh tra) - Thanh tra tỉnh công bố kết luận thanh tra việc quản lý đất đai tại hai huyện.</p>
<div class="mb-4"><img src="https://media.thanhtra.com.vn/public/uploads/2025/04/07/a.jpg?w=1319" alt=""></div>
<div {body_attr}>{BODY}</div></article>
<section><h2>Tin cùng chuyên mục</h2><article><span>Thái Hải</span><span>08:00 22/11/2024</span></article></section>
</main></body></html>"""


TT_RIGHT = {
    "title": "Bài thử nghiệm",
    "authors": ["Minh An"],
    "published_at": "2025-04-07T10:15:00+07:00",
    "lead": "(Thanh tra) - Thanh tra tỉnh công bố kết luận thanh tra việc quản lý đất đai tại hai huyện.",
    "category": "Thanh tra",
}


def fields(item: ArticleItem) -> dict[str, object]:
    return {k: getattr(item, k) for k in TT_RIGHT}


@pytest.mark.parametrize(
    ("body_attr", "rule"),
    [
        ('id="editor-detail"', "site:div#editor-detail"),
        ('class="editor-detail"', "site:div.editor-detail"),
        ('class="editor-detail text-lg leading-relaxed"', "site:div.editor-detail"),
    ],
)
def test_thanhtra_body_container_by_id_or_class(body_attr: str, rule: str) -> None:
    item = item_of(thanhtra_page(body_attr=body_attr), sites()["thanhtra"], TT_URL)
    assert item.extractor == "site"
    assert item.field_sources["body"] == rule
    assert fields(item) == TT_RIGHT
    assert item.images[0]["url"].endswith("/a.jpg?w=1319")


def test_thanhtra_fields_right_when_every_exact_class_string_is_wrong() -> None:
    """The class strings come from one crawler (INFERRED): reordered or extra tokens."""
    page = thanhtra_page(
        body_attr='class="editor-detail"',
        h1='class="font-bold text-black text-[32px] leading-tight mb-4 lg:mb-6"',
        author='class="font-semibold flex-shrink-0 text-base mr-3"',
        date='class="text-sm text-[#707070] md:text-base"',
        lead='class="font-semibold text-lg text-justify mb-5"',
    )
    item = item_of(page, sites()["thanhtra"], TT_URL)
    assert fields(item) == TT_RIGHT
    assert item.field_sources["authors"] == "site:article div.flex-shrink-0.font-semibold"
    assert item.field_sources["published_at"] == "site:article p.text-sm[class*='text-[#707070]']"


def test_thanhtra_fields_right_when_the_classes_are_gone_altogether() -> None:
    """No class left at all: the text rules (lead prefix, weekday date line) still hold."""
    page = thanhtra_page(h1="", author='class="byline"', date="", lead="")
    item = item_of(page, sites()["thanhtra"], TT_URL)
    assert item.extractor == "site"
    assert item.lead == TT_RIGHT["lead"]
    assert item.field_sources["lead"] == "site:lead_pattern"
    assert item.published_at == TT_RIGHT["published_at"]
    assert item.field_sources["published_at"] == "generic:weekday_date"
    assert item.title == TT_RIGHT["title"]


# --- bocongan: a trailing right-aligned byline after empty paragraphs ------------------------

BCA_URL_B = "https://bocongan.gov.vn/bai-viet/tin-thu-nghiem-1790000001"
BCA_URL_A = "https://bocongan.gov.vn/bai-viet/tin-thu-nghiem-d2-t41001"
_PART = "ctl00_ctl30_g_a823d20f_9452_45d0_bad1_428f6d2d36fe"
TRAILERS = [
    '<p>&nbsp;</p><p style="text-align: right"><strong>Thanh Bình</strong></p>',
    '<p>&nbsp;</p><p>&nbsp;</p><p style="text-align: right;"><strong>Thanh Bình</strong></p>',
    '<p>&nbsp;</p><p style="text-align:right">Thanh Bình</p><p>&nbsp;</p>',
]


def bocongan_b(tail: str) -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tin thử nghiệm</title>
<meta property="og:url" content="{BCA_URL_B}"></head><body><main><h1>Tin thử nghiệm</h1>
<div class="tinymce-content">{BODY}{tail}</div></main></body></html>"""


def bocongan_a(tail: str) -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tin thử nghiệm</title></head>
<body><div id="{_PART}"><div><div class="breadcrumb"></div><div class="news-detail">
<h1>Tin thử nghiệm</h1><div class="date-row"><div class="date">21/01/2021</div></div>
<div class="sapo">Sáng 21/01/2021, Công an tỉnh tổ chức lễ ra quân.</div><div class="share-box"></div><div class="content">{BODY}{tail}</div>
</div></div></div></body></html>"""


@pytest.mark.parametrize("tail", TRAILERS)
@pytest.mark.parametrize(("build", "url"), [(bocongan_b, BCA_URL_B), (bocongan_a, BCA_URL_A)], ids=["era_b", "era_a"])
def test_bocongan_trailing_right_aligned_byline_after_empty_paragraphs(build: object, url: str, tail: str) -> None:
    assert callable(build)
    item = item_of(build(tail), sites()["bocongan"], url)
    assert item.extractor == "site"
    assert item.authors == ["Thanh Bình"]
    assert "Thanh Bình" not in item.body
    assert item.body.endswith("cơ quan chức năng.")


@pytest.mark.parametrize("tail", TRAILERS)
def test_bocongan_trailing_byline_is_no_body_text_on_the_generic_path(tail: str) -> None:
    item = item_of(bocongan_b(tail), generic_only(sites()["bocongan"]), BCA_URL_B)
    assert item.extractor == "generic"
    assert "Thanh Bình" not in item.body
    assert item.authors == ["Thanh Bình"]
    assert item.field_sources["authors"] == "generic:right_aligned"


def test_not_an_article_stays_not_an_article() -> None:
    """The page furniture removal does not turn a stub into an article."""
    result = extract(cao_page(body="<p>Ngắn.</p>"), CAO_URL, sites()["cao"])
    assert isinstance(result, Rejection)


# --- CAO's feeds are optional -----------------------------------------------------------------


def _feed_failure(status: int, kind: str = "feed") -> Failure:
    url = "https://congan.com.vn/rss/vu-an"
    request = Request(url, meta={"kind": kind})
    error = HttpError(HtmlResponse(url, status=status, body=b"", request=request), "ignored")
    failure = Failure(error)
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy's errback gets it
    return failure


def _cao_spider(tmp_path: Path) -> NewsSpider:
    crawler = project_crawler(spiders()["cao"], NEWS_DB_PATH=str(tmp_path / "news.sqlite3"))
    made = crawler._create_spider()
    assert isinstance(made, NewsSpider)
    return made


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_gone_feed_is_one_warning_not_an_error(tmp_path: Path, status: int, caplog: pytest.LogCaptureFixture) -> None:
    spider = _cao_spider(tmp_path)
    assert spider.site.feeds_optional
    with caplog.at_level(logging.WARNING):
        assert list(spider.on_error(_feed_failure(status))) == []
    stats = spider.crawler.stats
    assert stats is not None
    assert stats.get_value("newscrawl/dropped/feed_unavailable") == 1
    assert not [k for k in stats.get_stats() if k.startswith("newscrawl/errors/")]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(status) in warnings[0].getMessage()
    assert run_status({**stats.get_stats(), "downloader/response_status_count/200": 5}, "finished") == "ok"


def test_a_failing_feed_is_still_an_error_and_so_is_a_gone_listing(tmp_path: Path) -> None:
    spider = _cao_spider(tmp_path)
    list(spider.on_error(_feed_failure(500)))
    list(spider.on_error(_feed_failure(404, kind="article")))
    stats = spider.crawler.stats
    assert stats is not None
    assert stats.get_value("newscrawl/errors/http_500") == 1
    assert stats.get_value("newscrawl/errors/http_404") == 1
    assert stats.get_value("newscrawl/dropped/feed_unavailable") is None


def test_a_site_whose_feeds_are_its_discovery_counts_a_gone_feed_as_an_error(tmp_path: Path) -> None:
    crawler = project_crawler(spiders()["bocongan"], NEWS_DB_PATH=str(tmp_path / "news.sqlite3"))
    spider = crawler._create_spider()
    assert isinstance(spider, NewsSpider) and not spider.site.feeds_optional
    list(spider.on_error(_feed_failure(404)))
    assert crawler.stats is not None and crawler.stats.get_value("newscrawl/errors/http_404") == 1
