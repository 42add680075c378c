"""CAO, Báo Công an TP.HCM (congan.com.vn): the Bootstrap-3 template, stable 2019-2025.

Discovery: RSS feeds and category pages (``li > h3 > a``; the pager ``/<cat>/page-N`` is the
replica's choice, the real one is unknown). Inline related boxes sit inside
``#article_content`` and are removed before the body is taken.
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
    ),
)
