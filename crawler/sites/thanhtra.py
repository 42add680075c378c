"""Báo Thanh tra (thanhtra.com.vn): the Tailwind site of 2024 on, legacy and hex article URLs.

Discovery: category pages ``/<slug>-<HEX9>`` and their load-more fragments
``/<slug>-<HEX9>/trang-<N>/loadmore`` (an empty ``div#pagination`` ends the walk). No feed or
sitemap is known. Class strings hold ``[``/``#`` so selectors match the whole class attribute.
"""

from __future__ import annotations

from crawler.extract.siteconfig import Selectors, SiteConfig

SITE = SiteConfig(
    key="thanhtra",
    name="Báo Thanh tra",
    base_url="https://thanhtra.com.vn",
    extra_hosts=("www.thanhtra.com.vn",),
    article_patterns=(
        r"^/[a-z0-9-]+(/[a-z0-9-]+)?/[a-z0-9-]+-\d{5,}\.html$",
        r"^/[a-z0-9-]+-[0-9A-F]{9}/[a-z0-9-]+-[0-9a-f]{9}\.html$",
    ),
    listings=(
        "/chinh-tri-1F7B169C8",
        "/thanh-tra-CA492F2B8",
        "/tiep-dan-khieu-to-0FCABC87C",
        "/phong-chong-tham-nhung-A52D004FA",
        "/xa-hoi-C5ACF42DB",
        "/phap-luat-B2DDDF86E",
    ),
    pagination="{path}/trang-{n}/loadmore",
    listing_links="#pagination article a",
    selectors=Selectors(
        body=("div#editor-detail",),
        title=('h1[class="text-black text-[32px] leading-tight font-bold mb-4"]', "h1"),
        lead=('p[class="text-lg text-justify font-semibold mb-4"]',),
        date=('p[class="text-[#707070] text-sm"]',),
        authors=('div[class="flex-shrink-0 font-semibold text-base mr-4"]',),
        category=("main nav a:last-child",),
        tags=("div.tags a",),
        hero_image=("article div.mb-4 > img", "div.mb-4 img"),
        image_blocks=("div.editor-image-wrapper", "figure"),
        captions=("p.editor-image-caption", ".editor-image-caption", "figcaption"),
    ),
)
