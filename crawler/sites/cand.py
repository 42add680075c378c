"""CAND, Báo Công an nhân dân (cand.com.vn, from 2026 also cand.vn): the 2022-2025 template.

What the code rests on (SITES.md §4):
CONFIRMED: the article template shared with nhandan.vn's CMS (``h1.box-title-detail``, sapo
``div.box-des-detail p``, ``div.box-date`` "11:10 18/07/2022 |" whose trailing pipe the date
parser ignores, ``div.box-author strong`` "Name -" whose trailing dash the byline splitter
drops, body ``div.detail-content-body`` with ``.contref`` boxes inside, the UIkit breadcrumb
``.uk-breadcrumb``); article URLs ``/<Cat-Slug>/<slug>-i<id>/`` and their AMP copies
``amp.cand.com.vn/<Cat-Slug>/<slug>-i<id>``; the non-article prefixes; the listing links; the
2026 host cand.vn and its sitemap index of monthly ``/sitemaps/news-YYYY-M.xml`` (month not
zero-padded). The 2019 template's selectors (also CONFIRMED) follow the 2022 ones as fallbacks.
INFERRED: the RSS feeds (third-party configs only); that cand.com.vn answers ``/sitemap.xml``
as cand.vn does. GUESSED: marked where used below; each has a fallback.
"""

from __future__ import annotations

from crawler.extract.siteconfig import Selectors, SiteConfig, UrlVariant

# CONFIRMED non-article prefixes: a video or topic URL can end in ``-i<id>/`` too.
_NOT_ARTICLES = r"(?i:topic|rssfeed|emagazine|video|clip|search|tags?)"

SITE = SiteConfig(
    key="cand",
    name="CAND - Báo Công an nhân dân",
    base_url="https://cand.com.vn",
    # cand.vn (2026) and amp.cand.com.vn are CONFIRMED; the www. forms are GUESSED (harmless
    # when unused: an alias only widens what counts as the same site).
    extra_hosts=("cand.vn", "www.cand.com.vn", "www.cand.vn", "amp.cand.com.vn"),
    # Category slugs are mixed case (Kinh-te, Cong-an); the trailing slash is optional (AMP).
    article_patterns=(rf"^/(?!{_NOT_ARTICLES}/)[A-Za-z0-9-]+/[^/]+-i\d+/?$",),
    # The AMP copy of /<Cat>/<slug>-i<id>/ is amp.cand.com.vn/<Cat>/<slug>-i<id> (CONFIRMED):
    # the canonical page is fetched instead, in the template whose selectors are confirmed.
    url_variants=(UrlVariant(host="amp.cand.com.vn", path=r"(/[A-Za-z0-9-]+/[^/]+-i\d+)/?", to=r"\1/"),),
    # Optional: the feeds are INFERRED (third-party configs), and the page listing them is
    # GUESSED to be /rssfeed/ (a CONFIRMED non-article prefix). Fallback: the sitemaps and
    # category pages find every article without them; a missing index is one counted 404.
    feed_index="/rssfeed/",
    feed_links=r"^/rssfeed/[A-Za-z0-9-]+/?$|^/rss/[A-Za-z0-9-]+\.rss$",
    # The index lists one sitemap per month (CONFIRMED on cand.vn; the same path on
    # cand.com.vn is INFERRED, and a redirect to cand.vn is followed as the same site).
    sitemaps=("/sitemap.xml",),
    # Category slugs CONFIRMED (2025); the trailing slash of a category URL is GUESSED.
    listings=("/thoi-su/", "/Cong-an/", "/phap-luat/", "/ban-tin-113/"),
    # The next page is a button (``a.btn-next-page``) a script follows: no page URL is known,
    # so page 1 of each category is read and the sitemaps reach the rest.
    pagination=None,
    listing_links="div.box-widget-loaded article a, h3.box-category-title-text a",
    selectors=Selectors(
        body=("div.detail-content-body", "div.box-widget.post-content"),
        title=("h1.box-title-detail", "h1"),
        lead=("div.box-des-detail p", "div.box-des-detail", "div.box-widget.desnews"),
        date=("div.box-date", "div.box-widget.timepost"),
        authors=("div.box-author strong",),
        # The breadcrumb's class is CONFIRMED; that its last link is the category is GUESSED
        # (fallback: the article:section meta tag, then no category).
        category=(".uk-breadcrumb li:last-child a",),
        # GUESSED: the 2022 template's tag box and image markup are not known; figures are
        # the CMS default, the 2019 image tables (CONFIRMED then) follow.
        tags=("div.box-tag a",),
        image_blocks=("figure", "table.contentimg"),
        captions=("figcaption", "td.note"),
        # Related-article boxes inside the body (CONFIRMED, 2019 and 2022 forms).
        remove=(".contref", ".contentbox"),
    ),
)
