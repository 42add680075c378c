"""Báo Thanh tra (thanhtra.com.vn): the Tailwind site of 2024 on, legacy and hex article URLs.

Discovery: category pages ``/<slug>-<HEX9>`` and their load-more fragments
``/<slug>-<HEX9>/trang-<N>/loadmore`` (an empty ``div#pagination`` ends the walk). No feed or
sitemap is known. Class strings hold ``[``/``#`` so selectors match the whole class attribute.

Every article selector comes from one 2025 crawler (SITES.md §2.2, S1): INFERRED to hold on the
live site, not seen on a captured page. Each has a fallback for when it is wrong: the same class
tokens in any order or with others (``.a.b`` instead of ``[class="a b"]``), then a rule on the
text (the lead's ``(Thanh tra) -`` prefix, CONFIRMED by the sample text; a date line starting
with a weekday) or the generic rules (og:title, meta and JSON-LD dates and authors). The body
container is ``#editor-detail`` for one crawler and ``.editor-detail`` for another (S18): both.
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
        # Id [S1] or class [S18]: which one the live page has is UNKNOWN.
        body=("div#editor-detail", "div.editor-detail"),
        title=('h1[class="text-black text-[32px] leading-tight font-bold mb-4"]', "h1"),
        # INFERRED [S1]; fallback: the class tokens in any order, then the text prefix below.
        lead=('p[class="text-lg text-justify font-semibold mb-4"]', "article p.text-lg.text-justify.font-semibold"),
        lead_pattern=r"^\(Thanh tra\)\s*[-–]",
        # INFERRED [S1]; fallback: a <p> with the grey class among others, then the generic rules
        # (article:published_time, JSON-LD, the first visible "Thứ …, dd/mm/yyyy" line).
        date=('p[class="text-[#707070] text-sm"]', "article p.text-sm[class*='text-[#707070]']"),
        # INFERRED [S1]; fallback: the class tokens in any order, then the generic rules.
        authors=(
            'div[class="flex-shrink-0 font-semibold text-base mr-4"]',
            "article div.flex-shrink-0.font-semibold",
        ),
        category=("main nav a:last-child",),  # GUESSED; fallback: article:section (generic)
        tags=("div.tags a",),
        # INFERRED [S1]; fallback: the article's first image, the hero when there is one.
        hero_image=("article div.mb-4 > img", "div.mb-4 img", "article img"),
        image_blocks=("div.editor-image-wrapper", "figure"),
        captions=("p.editor-image-caption", ".editor-image-caption", "figcaption"),
    ),
)
