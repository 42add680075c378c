"""Bylines and credits when the site's guessed selectors miss (issue #12).

Each page is built from the markup a Vietnamese CMS body really uses; the text is our own.
"""

from __future__ import annotations

import pytest

from crawler.extract.article import Rejection, extract
from crawler.extract.bylines import credit_of, looks_like_names, split_byline
from crawler.extract.items import ArticleItem
from crawler.sites.registry import sites

_BODY = "".join(
    f"<p>Đoạn {n}: lực lượng chức năng tiếp tục kiểm tra, rà soát các địa bàn trọng điểm, bảo đảm an ninh trật tự "
    f"và an toàn giao thông trong dịp cao điểm cuối năm, không để người dân bị động, bất ngờ.</p>"
    for n in range(1, 5)
)


def _bocongan(body_tail: str, head: str = "", byline_div: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tiêu đề thử</title>
<meta property="og:url" content="https://bocongan.gov.vn/bai-viet/tieu-de-thu-1790000000">{head}</head><body><main>
<nav aria-label="Breadcrumb"><a href="/chuyen-muc/chi-dao-dieu-hanh"><div class="text-bca-main-01">Chỉ đạo điều hành</div></a></nav>
<h1>Tiêu đề thử</h1>
<div class="tinymce-content" style="font-size:16px;">{_BODY}{body_tail}</div>{byline_div}
</main></body></html>"""


def _article(page: str, key: str, url: str) -> ArticleItem:
    result = extract(page, url, sites()[key])
    assert isinstance(result, ArticleItem), result
    return result


URL = "https://bocongan.gov.vn/bai-viet/tieu-de-thu-1790000000"


def test_byline_in_a_styled_right_aligned_last_paragraph() -> None:
    item = _article(_bocongan('<p style="text-align: right;"><strong>Hoàng Nam</strong></p>'), "bocongan", URL)
    assert item.authors == ["Hoàng Nam"]
    assert item.source is None
    assert item.field_sources["authors"] == "generic:right_aligned"
    assert "Hoàng Nam" not in item.body
    assert item.extractor == "site"


def test_byline_only_in_meta_author() -> None:
    item = _article(_bocongan("", head='<meta name="author" content="Lê Minh">'), "bocongan", URL)
    assert item.authors == ["Lê Minh"]
    assert item.field_sources["authors"] == "site:meta:author"


def test_resource_author_comes_first_and_a_credit_goes_to_source() -> None:
    page = _bocongan(
        '<p style="text-align:right"><strong>Theo TTXVN</strong></p>',
        head='<meta name="author" content="Ai Khác">',
        byline_div='<div class="resource-author flex justify-end"><div><svg></svg><p>Công Minh</p></div></div>',
    )
    item = _article(page, "bocongan", URL)
    assert item.authors == ["Công Minh"]
    assert item.source == "TTXVN"
    assert item.field_sources["authors"] == "site:div.resource-author p"
    assert item.field_sources["source"] == "generic:right_aligned"
    assert "Theo TTXVN" not in item.body


def test_cao_credit_in_the_author_box_is_a_source_not_an_author() -> None:
    page = f"""<html><head><title>Tin thử</title></head><body><h1 class="article_title">Tin thử</h1>
<div id="article_content">{_BODY}<div class="article_author">Theo TTXVN</div></div></body></html>"""
    item = _article(page, "cao", "https://congan.com.vn/vu-an/tin-thu_190001.html")
    assert item.authors == []
    assert item.source == "TTXVN"


def test_organisation_named_as_author_is_no_byline() -> None:
    ld = '<script type="application/ld+json">{"@type":"NewsArticle","author":{"@type":"Organization","name":"Bộ Công an"}}</script>'
    item = _article(_bocongan("", head=ld), "bocongan", URL)
    assert item.authors == []


def test_a_right_aligned_sentence_is_not_a_byline() -> None:
    sentence = "Lực lượng công an sẽ tiếp tục theo dõi, xử lý nghiêm các trường hợp vi phạm trong thời gian tới."
    item = _article(_bocongan(f'<p style="text-align: right;">{sentence}</p>'), "bocongan", URL)
    assert item.authors == []
    assert sentence in item.body


def test_title_never_from_jsonld_name() -> None:
    ld = '<script type="application/ld+json">{"@type":"NewsArticle","name":"Bộ Công an","headline":"Tiêu đề JSON"}</script>'
    page = _bocongan("", head=ld).replace("<h1>Tiêu đề thử</h1>", "")
    result = extract(page, URL, sites()["bocongan"])
    assert not isinstance(result, Rejection)
    assert result.title == "Tiêu đề JSON"


@pytest.mark.parametrize(
    ("texts", "authors", "source"),
    [
        (["Thanh Hiếu - Phúc Lộc"], ["Thanh Hiếu", "Phúc Lộc"], None),
        (["Theo TTXVN"], [], "TTXVN"),
        (["(Theo VnExpress)"], [], "VnExpress"),
        (["Nguồn: Bộ Công an"], [], "Bộ Công an"),
        (["Minh Anh, Theo TTXVN"], ["Minh Anh"], "TTXVN"),
        (["Hà An và Quốc Bảo"], ["Hà An", "Quốc Bảo"], None),
    ],
)
def test_split_byline(texts: list[str], authors: list[str], source: str | None) -> None:
    byline = split_byline(texts)
    assert (byline.authors, byline.source) == (authors, source)


def test_names_and_credits_are_told_from_sentences() -> None:
    assert looks_like_names("Công Tuấn")
    assert looks_like_names("Theo TTXVN")
    assert not looks_like_names("Lực lượng công an sẽ tiếp tục theo dõi, xử lý nghiêm các trường hợp vi phạm.")
    assert credit_of("Theo báo Nhân Dân") == "báo Nhân Dân"
    assert credit_of("Theodore Roosevelt") is None
