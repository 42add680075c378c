"""Bộ Công an (bocongan.gov.vn): the Nuxt portal since Aug 2025, plus migrated era-A pages.

What the code rests on (SITES.md §1.3, §1.4b; a capture of the live site, 2026-10-06):
CONFIRMED: the article template below (``div.tinymce-content`` body, ``div.resource-author``
byline, breadcrumb ``div.text-bca-main-01``, ``og:url`` as the only canonical, the time of day
only in JSON-LD ``datePublished`` in UTC), the per-category RSS feeds ``/api/rss/<n>.xml``
listed by the ``/rss`` page, category page 1 (``article.card-large``), the frozen sitemap, and
the pace that passes the Imperva firewall: one request at a time, at least 2 s apart.
There is no page-N URL: the pager is client-side, and ``?page=N`` gets the firewall's
challenge. Deeper pages come from the portal's JSON API, whose endpoint names are CONFIRMED
but whose request form is INFERRED: that backfill stays off (NEWS_API_BACKFILL) until someone
checks it against the live site, and a non-JSON answer just means "API unavailable".
"""

from __future__ import annotations

from crawler.sites import ApiListing, Selectors, SiteConfig
from crawler.spiders.base import NewsSpider

# The era-A web part; its child positions are the confirmed ones (title, date, sapo, body, author).
_PART = "#ctl00_ctl30_g_a823d20f_9452_45d0_bad1_428f6d2d36fe > div"
_ERA_A = f"{_PART} > div:nth-of-type(2)"
_SAPO_B = 'p[class="text-justify mb-[22px] text-bca-gray-700 font-medium lg:text-[20px]"]'

SITE = SiteConfig(
    key="bocongan",
    name="Bộ Công an",
    base_url="https://bocongan.gov.vn",
    extra_hosts=("www.bocongan.gov.vn", "mps.gov.vn", "www.mps.gov.vn"),
    article_patterns=(
        r"^/bai-viet/.+-\d{10}/?$",
        r"^/bai-viet/.+-d\d+-t\d+/?$",
        r"^/tin-tuc-su-kien/.+-t\d+\.html$",
    ),
    # Feeds 34-36 are CONFIRMED; the /rss index page names any others, read at each run.
    feeds=("/api/rss/34.xml", "/api/rss/35.xml", "/api/rss/36.xml"),
    feed_index="/rss",
    feed_links=r"/api/rss/\d+\.xml$",
    sitemaps=("/sitemap.xml",),  # frozen at 2025-08-20: the archive only
    listings=(
        "/chuyen-muc/chi-dao-dieu-hanh",
        "/chuyen-muc/thong-tin-doi-ngoai-1751367399",
        "/chuyen-muc/tin-an-ninh-trat-tu-1753170263",
        "/chuyen-muc/hoat-dong-cua-bo-cong-an-1754966863",
        "/chuyen-muc/canh-bao-toi-pham-1750063351",
    ),
    pagination=None,  # no page URL exists; see ``api``
    listing_links="article.card-large a",
    download_delay=3.0,  # randomised ±1/3: every gap between 2 s and 4 s
    delay_jitter=1 / 3,
    concurrency=1,
    api=ApiListing(
        base="https://api-portal.bocongan.gov.vn/backend-portal",  # __NUXT__ apiBase, CONFIRMED
        # GET with a query string and a 0-based page: INFERRED from the page's fetch keys.
        url="{base}/articles/category-slug?category_slug={slug}&page={page}&size=10",
        article_path="/bai-viet/{slug}",
    ),
    selectors=Selectors(
        body=("div.tinymce-content", f"{_ERA_A} > div:nth-of-type(4)"),
        title=("h1", f"{_ERA_A} > h1", "meta:og:title"),
        lead=(_SAPO_B, "p.text-justify.text-bca-gray-700.font-medium", f"{_ERA_A} > div:nth-of-type(2)"),
        # The visible date is dd/mm/yyyy only; the time of day is only in JSON-LD (UTC).
        date=("jsonld:datePublished", "p.text-bca-gray-400", f"{_ERA_A} > div:nth-of-type(1) > div:nth-of-type(1)"),
        authors=("div.resource-author p", "meta:author", "jsonld:author", f"{_ERA_A} > div:nth-of-type(5)"),
        category=(
            'nav[aria-label="Breadcrumb"] a[href*="/chuyen-muc/"] div.text-bca-main-01',
            "a[href*='/chuyen-muc/'] .text-bca-main-01",
            f"{_PART} > div:nth-of-type(1) li:last-child a",
        ),
        tags=("span.tag",),
        image_blocks=("figure", "table.image"),
        captions=("figcaption", "td.image_desc", "td.caption"),
        # Furniture beside the body (read-aloud player, font-size and share bars, most-read).
        remove=("#text-to-speech", "#action-social", "#article-bottom", ".share", ".related"),
    ),
)


class BoconganSpider(NewsSpider):
    name = SITE.key
    site = SITE
