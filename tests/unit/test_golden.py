"""Every replica page against its reviewed golden record and hand-written facts.

Fundus-style: the test loops over the site registry, so a new site is picked up automatically.
Golden files change only with ``pytest --update-golden`` and are read by a person before commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract.article import Rejection, extract
from crawler.extract.urls import canonical_url
from crawler.sites.registry import sites
from crawler.testing.replica import SITES_DIR
from tests.helpers import real_page, replica, site_keys
from tests.unit.replica_checks import extract_record, golden_failures, golden_of, reviewed, truth_failures, truth_of

ARTICLES = [(key, route.path) for key in site_keys() for route in replica(key).routes_of("article")]
TRAPS = [
    (key, route.path)
    for key in site_keys()
    for route in replica(key).routes.values()
    if route.kind in ("trap", "disallowed")
]


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_article_matches_golden(key: str, path: str, update_golden: bool) -> None:
    record, name = extract_record(key, path, sites()[key])
    golden = SITES_DIR / key / "expected" / f"{name}.json"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        text = json.dumps(reviewed(record), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden record {golden}; run pytest --update-golden and review it"
    assert golden_failures(record, golden_of(key, name)) == []


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_article_matches_hand_written_facts(key: str, path: str) -> None:
    record, name = extract_record(key, path, sites()[key])
    assert truth_failures(record, truth_of(key, name)) == []


def test_truth_lists_every_paragraph_of_every_article() -> None:
    for key, path in ARTICLES:
        route = replica(key).lookup(path)
        assert route is not None
        truth = truth_of(key, str(route.name))
        paragraphs = truth["paragraphs"]
        assert paragraphs and truth.get("paragraph_count", len(paragraphs)) == len(paragraphs), (key, route.name)
        # [first words, last words] from the source, or (older entries) at least four first words
        assert all((isinstance(p, list) and len(p) == 2 and all(p)) or len(p.split()) >= 4 for p in paragraphs), (
            key,
            route.name,
        )


@pytest.mark.parametrize(("key", "path"), TRAPS)
def test_non_article_pages_yield_no_article(key: str, path: str) -> None:
    site = replica(key)
    route = site.lookup(path)
    assert route is not None
    result = extract(real_page(site, route), canonical_url(site.real_base + path), sites()[key])
    assert isinstance(result, Rejection), f"{key} {path} extracted as an article: {result}"


def test_every_site_has_spider_fixtures_and_readme_row() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert sorted(sites()) == site_keys()
    for key in sites():
        assert (SITES_DIR / key / "truth.json").is_file()
        assert f"| `{key}` |" in readme, f"README has no row for site {key}"
