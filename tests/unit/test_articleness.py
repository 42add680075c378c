"""The "is this an article" decision for pages with no site (``newscrawl extract`` without --site).

Both ways: every replica trap is judged not an article without a site (its record, if it has
text, carries the ``verdict``; the crawl's per-site checks refuse them, test_golden.py), every
replica article is judged one; and pages that declare nothing about themselves are judged by
what they show. Extraction without a site refuses only a page with no text: the verdict is for
the caller (``newscrawl extract --strict``, the crawl) to act on.
"""

from __future__ import annotations

import pytest

from crawler.extract.article import Rejection, extract
from crawler.extract.articleness import _LISTING_PATH, _MEDIA_PATH, _article_url
from crawler.extract.items import ArticleItem
from crawler.extract.urls import canonical_url
from tests.helpers import real_page, replica
from tests.unit.test_golden import ARTICLES, TRAPS


def _judged_not_article(result: object) -> str:
    """Why ``result`` is not an article: a refusal (no text) or the record's verdict; "" when it is one."""
    if isinstance(result, Rejection):
        return f"{result.reason}: {result.detail}"
    assert isinstance(result, ArticleItem)
    return result.verdict or ""


def _no_site(key: str, path: str) -> object:
    site = replica(key)
    route = site.lookup(path)
    assert route is not None
    return extract(real_page(site, route), canonical_url(site.real_base + path), None)


@pytest.mark.parametrize(("key", "path"), TRAPS)
def test_no_trap_is_taken_for_an_article_without_a_site(key: str, path: str) -> None:
    result = _no_site(key, path)
    assert _judged_not_article(result), f"{key} {path} accepted: {result}"


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_every_replica_article_is_an_article_without_a_site(key: str, path: str) -> None:
    result = _no_site(key, path)
    assert isinstance(result, ArticleItem), f"{key} {path} refused: {result}"
    assert result.verdict is None and result.extractor == "generic"


PARAGRAPHS = [
    "Sáng 15/3, Công an phường Bến Thành phối hợp với Ban quản lý chợ tổ chức kiểm tra an toàn phòng cháy, "
    "chữa cháy tại các ki-ốt kinh doanh quanh khu vực chợ trung tâm.",
    "Qua kiểm tra, đoàn công tác phát hiện nhiều ki-ốt sử dụng ổ cắm điện quá tải, để hàng hóa dễ cháy sát "
    "nguồn điện và chưa trang bị bình chữa cháy theo quy định.",
    "Lãnh đạo Công an phường yêu cầu các hộ kinh doanh khắc phục ngay các tồn tại trong vòng bảy ngày, đồng "
    "thời cam kết sẽ tiếp tục kiểm tra đột xuất trong thời gian tới.",
]


def _page(body: str, head: str = '<meta property="og:type" content="website">') -> bytes:
    return (
        f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Trang tin phường</title>{head}</head>'
        f"<body><nav><a href='/'>Trang chủ</a> <a href='/tin-tuc'>Tin tức</a></nav><main>{body}</main>"
        "<footer>Bản quyền thuộc về Cổng thông tin phường.</footer></body></html>"
    ).encode()


ARTICLE_BODY = "<h1>Kiểm tra an toàn phòng cháy tại chợ Bến Thành</h1><p class='date'>15/03/2024 09:30</p>" + "".join(
    f"<p>{p}</p>" for p in PARAGRAPHS
)


def test_an_article_that_declares_nothing_is_kept_on_its_own_evidence() -> None:
    # og:type website (many sites set it everywhere), no JSON-LD, no published-time meta:
    # the dated headline and the running text make it an article.
    url = "https://phuong.example.vn/tin-tuc/kiem-tra-an-toan-phong-chay-tai-cho"
    result = extract(_page(ARTICLE_BODY), url, None)
    assert isinstance(result, ArticleItem) and result.verdict is None, result
    assert all(p in result.body for p in PARAGRAPHS)
    assert (result.published_at, result.published_at_precision) == ("2024-03-15", "day")  # trafilatura: a day


def test_the_same_page_at_a_tag_url_is_refused() -> None:
    result = extract(_page(ARTICLE_BODY), "https://phuong.example.vn/tag/phong-chay", None)
    assert isinstance(result, ArticleItem)  # text: a record, with the verdict
    assert "tag, author, section or search" in (result.verdict or "")
    assert all(p in result.body for p in PARAGRAPHS)


def test_a_listing_of_teasers_at_an_article_shaped_url_is_refused() -> None:
    cards = "".join(
        f"<div class='item'><h3><a href='/tin-tuc/bai-{i}-{i * 7}.html'>Tin số {i} của phường trong tuần</a></h3>"
        f"<p>{p}</p></div>"
        for i, p in enumerate(PARAGRAPHS * 2)
    )
    result = extract(
        _page(f"<h1>Tin tức trong tuần của phường</h1>{cards}"),
        "https://phuong.example.vn/tin-tuc-trong-tuan-2024",
        None,
    )
    assert _judged_not_article(result).startswith("not_article: listing:"), result


def test_a_photo_story_is_refused_even_when_it_declares_an_article() -> None:
    figures = "".join(
        f"<figure><img src='/anh/{i}.jpg' alt=''><figcaption>{p}</figcaption></figure>"
        for i, p in enumerate(PARAGRAPHS * 2)
    )
    page = _page(f"<h1>Chùm ảnh: một ngày ở chợ Bến Thành</h1>{figures}", '<meta property="og:type" content="article">')
    result = extract(page, "https://phuong.example.vn/chum-anh-mot-ngay-o-cho-ben-thanh-12345.html", None)
    assert _judged_not_article(result).startswith("not_article: photo story:"), result


def test_a_page_without_any_evidence_is_refused() -> None:
    # No metadata, no headline, a URL that is no article's: text alone does not make an article.
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    result = extract(_page(body, ""), "https://phuong.example.vn/gioi-thieu", None)
    assert _judged_not_article(result).startswith("not_article: no article metadata"), result


@pytest.mark.parametrize(
    ("path", "article"),
    [
        ("/thoi-su/cong-an-ra-quan-dam-bao-an-ninh_104123.html", True),
        ("/2019/11/18/investing/asian-market-latest/index.html", True),
        ("/article/3834/1", True),
        ("/skajrim-skorost-bega-kak-uvelichit/", True),
        ("/thanh-tra-CA492F2B8/slug-5c80c26df.html", True),
        ("/hoi-dap", False),
        ("/videos", False),
        ("/", False),
    ],
)
def test_article_url_shapes(path: str, article: bool) -> None:
    assert _article_url(path) is article


@pytest.mark.parametrize(
    ("path", "listing", "media"),
    [
        ("/tag/ma-tuy.html", True, False),
        ("/tac-gia/thanh-thanh", True, False),
        ("/tim-kiem.html", True, False),
        ("/chuyen-muc/an-ninh/trang-2", True, False),
        ("/tag-heuer-watch-review-2019", False, False),
        ("/trang-phuc-cong-an-nhan-dan-moi-12345.html", False, False),
        ("/video/video-csgt-xu-ly-vi-pham_181234.html", False, True),
        ("/video-9A1B2C3D4/ca-khuc-3e7f1a2b9.html", False, True),
        ("/videos-show-police-training-in-hanoi-123456", False, False),
        ("/anh/ngay-hoi-toan-dan_182310.html", False, True),
    ],
)
def test_listing_and_media_paths(path: str, listing: bool, media: bool) -> None:
    assert bool(_LISTING_PATH.search(path)) is listing
    assert bool(_MEDIA_PATH.search(path)) is media
