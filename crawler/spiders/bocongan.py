"""Bộ Công an (bocongan.gov.vn): the Nuxt portal since Aug 2025, plus migrated era-A pages.

Discovery: category pages (``article.card-large`` cards) and the flat sitemap, which is frozen
at 2025-08-20 (so it only ever yields the archive). There is no RSS feed. Era-B pages carry the
date only in JSON-LD ``datePublished`` (UTC); era-A pages hang off the web-part container below.
"""

from __future__ import annotations

from crawler.sites import Selectors, SiteConfig
from crawler.spiders.base import NewsSpider

# The era-A web part; its child positions are the confirmed ones (title, date, sapo, body, author).
_PART = "#ctl00_ctl30_g_a823d20f_9452_45d0_bad1_428f6d2d36fe > div"
_ERA_A = f"{_PART} > div:nth-of-type(2)"
_SAPO_B = 'p[class="text-justify mb-[22px] text-bca-gray-700 font-medium lg:text-[20px]"]'

SITE = SiteConfig(
    key="bocongan",
    name="Bộ Công an",
    base_url="https://bocongan.gov.vn",
    extra_hosts=("www.bocongan.gov.vn", "mps.gov.vn"),
    article_patterns=(
        r"^/bai-viet/.+-\d{10}/?$",
        r"^/bai-viet/.+-d\d+-t\d+/?$",
        r"^/tin-tuc-su-kien/.+-t\d+\.html$",
    ),
    sitemaps=("/sitemap.xml",),
    listings=(
        "/chuyen-muc/chi-dao-dieu-hanh",
        "/chuyen-muc/tin-an-ninh-trat-tu-1753170263",
        "/chuyen-muc/hoat-dong-cua-bo-cong-an-1754966863",
        "/chuyen-muc/canh-bao-toi-pham-1750063351",
    ),
    # The real pager is client-side Vue; ``?page=N`` is the replica's stand-in (SITES.md §1.3).
    pagination="{path}?page={n}",
    listing_links="article.card-large a",
    selectors=Selectors(
        body=("div.article-content", f"{_ERA_A} > div:nth-of-type(4)"),
        title=("h1", f"{_ERA_A} > h1"),
        lead=(_SAPO_B, "p.text-justify.text-bca-gray-700.font-medium", f"{_ERA_A} > div:nth-of-type(2)"),
        date=(f"{_ERA_A} > div:nth-of-type(1) > div:nth-of-type(1)",),
        authors=("div.article-content p.text-right strong", f"{_ERA_A} > div:nth-of-type(5)"),
        category=("a[href*='/chuyen-muc/'] span.text-bca-main-01", f"{_PART} > div:nth-of-type(1) li:last-child a"),
        tags=("span.tag",),
        image_blocks=("figure", "table.image"),
        captions=("figcaption", "td.image_desc", "td.caption"),
        remove=("p.text-right", ".share", ".related"),
    ),
)


class BoconganSpider(NewsSpider):
    name = SITE.key
    site = SITE
