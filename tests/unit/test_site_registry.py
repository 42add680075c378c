"""What knows the sites reads the registry: README table, Datasette descriptions, URL variants.

Adding a site is its module and its replica folder (CONTRIBUTING.md); these tests fail when
something else would have to be edited by hand to learn of it, or forgets it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlite_utils

from crawler.cli.explain import explain
from crawler.cli.web import metadata
from crawler.extract.siteconfig import Selectors, SiteConfig, UrlVariant
from crawler.sites.registry import site_for_url, sites
from tests.helpers import REPO, replica

_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| ([^|]+) \|")


def readme_site_rows() -> dict[str, str]:
    """The README's site table (the first table whose header starts ``| key | site |``): key -> site cell."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| key | site |"))
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        found = _ROW.match(line)
        assert found, f"README site table row not in the `key` | site form: {line!r}"
        rows[found.group(1)] = found.group(2)
    return rows


def test_readme_site_table_lists_exactly_the_registry() -> None:
    rows = readme_site_rows()
    assert sorted(rows) == sorted(sites()), "README site table and crawler/sites/ disagree"
    for key, site in sites().items():
        host = urlsplit(site.base_url).hostname or ""
        assert host in rows[key], f"README row of {key} does not name its host {host}"


def test_datasette_descriptions_name_every_site(db: sqlite_utils.Database) -> None:
    meta = metadata(db, "news")
    column = meta["databases"]["news"]["tables"]["articles"]["columns"]["site"]
    for key, site in sites().items():
        assert urlsplit(site.base_url).hostname in meta["description"]
        assert f"{key} ({site.name})" in column


_SITE = SiteConfig(
    key="example",
    name="Example",
    base_url="https://example.vn",
    extra_hosts=("amp.example.vn",),
    article_patterns=(r"^/[a-z-]+/[a-z0-9-]+-i\d+/?$",),
    url_variants=(UrlVariant(host="amp.example.vn", path=r"(/[a-z-]+/[a-z0-9-]+-i\d+)/?", to=r"\1/"),),
    selectors=Selectors(body=("div.body",)),
)


def test_a_variant_url_is_its_article_on_the_crawled_origin() -> None:
    amp = "https://amp.example.vn/thoi-su/mot-bai-i123"
    assert _SITE.main_url(amp, "https://example.vn") == "https://example.vn/thoi-su/mot-bai-i123/"
    # crawling a replica, the variant leads back to the replica
    assert _SITE.main_url(amp, "http://127.0.0.1:8001") == "http://127.0.0.1:8001/thoi-su/mot-bai-i123/"
    # another path on the variant host, or another host, is left alone
    assert _SITE.main_url("https://amp.example.vn/video", "https://example.vn") == "https://amp.example.vn/video"
    assert (
        _SITE.main_url("https://example.vn/thoi-su/x-i1/", "https://example.vn") == "https://example.vn/thoi-su/x-i1/"
    )


def test_every_variant_host_is_an_alias_of_its_site() -> None:
    # a variant link found anywhere (explain, site_of) is recognised as the site's
    for site in sites().values():
        for variant in site.url_variants:
            assert variant.host in site.extra_hosts
            assert site_for_url(f"https://{variant.host}/") == site


def test_explain_reads_a_variant_url_as_its_article(db: sqlite_utils.Database) -> None:
    checked = 0
    for key, site in sites().items():
        for variant in site.url_variants:
            for route in replica(key).routes_of("article"):
                url = f"https://{variant.host}{route.path.rstrip('/')}"
                main = site.main_url(url, site.base_url)
                if main == url:
                    continue  # not this variant's shape
                lines = explain(db, url)
                assert lines[0] == f"canonical form: {main}", lines
                assert lines[-1].startswith(f"never seen: a {key} article URL"), lines
                checked += 1
    assert checked or not any(site.url_variants for site in sites().values())
