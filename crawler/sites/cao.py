"""CAO, Báo Công an TP.HCM (congan.com.vn): the Bootstrap-3 template, stable 2019-2025.

Discovery: category pages first (``li > h3 > a``; the pager ``/<cat>/page-N`` is the replica's
choice, the real one is unknown), RSS feeds as a bonus: whether they still answer is UNKNOWN
(SITES.md §3.3), so a 403/404 feed is a warning. A listing is not a category: ``/tin-chinh``
lists other sections' articles, and the category is read on the article page.
Inline related boxes sit inside ``#article_content`` and are removed before the body is taken.

What the text of 59 live pages of 2025 shows (SITES.md §3.3, CONFIRMED), and what rests on it:
the first ``<p>`` of the page is a "today" date (removed before extraction, and never taken as
the publication date whatever selector matches it); the publication date ``<p>`` also carries
the byline after NBSP ``|`` NBSP (``date_byline``; the ``article_author`` box may be absent);
weekday names are decomposed (every text is NFC before it is matched); the lead ``<p>`` starts
``(CAO)`` or ``(CATP)``, the fallback when the ``article_head`` class (2019) is gone; a fixed
footer of about 24 ``<p>``s starting ``Thông tin liên hệ`` ends every page.
"""

from __future__ import annotations

from crawler.extract.siteconfig import Selectors, SiteConfig

SITE = SiteConfig(
    key="cao",
    name="CAO - Báo Công an TP.HCM",
    base_url="https://congan.com.vn",
    extra_hosts=("www.congan.com.vn",),
    article_patterns=(r"^/[a-z0-9-]+(/[a-z0-9-]+)?/[^/]+_\d+\.html$",),
    feeds=("/rss/home.rss", "/rss/tin-chinh", "/rss/vu-an"),
    feeds_optional=True,
    listings=("/tin-chinh", "/vu-an", "/vu-an/phong-chong-ma-tuy", "/vu-an/canh-giac"),
    pagination="{path}/page-{n}",
    listing_links="ul.list_news li > h3 > a",
    selectors=Selectors(
        body=("#article_content",),
        title=("h1.article_title", "h1"),
        lead=("[class*='article_head']",),
        date=("[style*='white-space: nowrap']", "[style*='white-space:nowrap']"),
        authors=("[class*='article_author']",),
        category=("ol.breadcrumb li:last-child a",),
        tags=("div.article_tags a", "div.tags a"),
        image_blocks=("div[style*='width:100%']", "div.image-gallery", "figure"),
        captions=("div.d-imgcaption", "figcaption"),
        remove=(".col-sm-12.col-md-6.fLeft", "div.inner-article", ".ad-embed", "#subiz_wrapper"),
        # The lead's text prefix, CONFIRMED (58 of 59 pages of 2025): for when the class is not.
        lead_pattern=r"^\((?:CAO|CATP)\)\s",
        date_byline="|",  # CONFIRMED: "Thứ Tư, 19/03/2025 13:37 | A. Quân" (NBSP around "|")
        # The footer's container is UNKNOWN (the capture has no markup): "#footer" is GUESSED,
        # the text of its first <p> is CONFIRMED and catches it whatever its container.
        page_remove=("#footer",),
        footer_start=r"^Thông tin liên hệ",
    ),
)
