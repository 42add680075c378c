"""`newscrawl serve` in a real browser: headless Chromium types a Vietnamese search (issue 5).

Chromium comes from Debian's packages (tests/helpers.py: headless_chromium). Screenshots go to
``test-output/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import REPO, build_replica_db, headless_chromium, newscrawl_serve

OUTPUT = REPO / "test-output"
DRUG_RING = "Triệt phá đường dây đưa ma túy từ TP.HCM lên Đà Lạt phục vụ “tiệc bay lắc”"
DRUG_RING_URL = "https://congan.com.vn/vu-an/phong-chong-ma-tuy/triet-pha-duong-day-dua-ma-tuy-tu-tphcm-len-da-lat-phuc-vu-tiec-bay-lac_177958.html"
# A wait bounds a failure, it measures nothing: the page is usually there in well under a second.
WAIT_S = 30


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The articles_browse page URL of `newscrawl serve` on a replica database."""
    db_path = tmp_path_factory.mktemp("web") / "news.sqlite3"
    build_replica_db(db_path).close()
    with newscrawl_serve(db_path) as root:
        yield root + "/news/articles_browse"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile"), "1280,1600") as driver:
        yield driver


def submit_search(driver: WebDriver, name: str, text: str) -> None:
    box = WebDriverWait(driver, WAIT_S).until(expected_conditions.presence_of_element_located((By.NAME, name)))
    box.clear()
    box.send_keys(text)
    page = driver.find_element(By.TAG_NAME, "html")
    box.submit()
    # The results are on a new page: wait until the old one is gone, or a link the old page
    # also listed is found there and goes stale under the test (seen once in a CI run).
    WebDriverWait(driver, WAIT_S).until(expected_conditions.staleness_of(page))


def result_link(driver: WebDriver, title: str) -> str:
    """The href of the result link showing ``title``, once the results page has it."""
    link = WebDriverWait(driver, WAIT_S).until(
        expected_conditions.presence_of_element_located((By.XPATH, f'//td//a[normalize-space()="{title}"]'))
    )
    return str(link.get_attribute("href"))


def test_search_box_finds_an_article_by_its_vietnamese_words(served: str, browser: WebDriver) -> None:
    browser.get(served)
    assert "articles_browse" in browser.title
    facets = {e.get_attribute("data-column") for e in browser.find_elements(By.CSS_SELECTOR, ".facet-info")}
    assert {"site", "category", "published_month"} <= facets
    submit_search(browser, "_search", "ma túy Đà Lạt")
    assert result_link(browser, DRUG_RING) == DRUG_RING_URL, "the title links to the article"
    assert "_search=" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert 1 <= len(rows) < 5, "only the matching articles are listed"
    OUTPUT.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "web-search.png"))

    submit_search(browser, "_search", "mã túy")
    WebDriverWait(browser, WAIT_S).until(lambda d: "0 rows" in d.page_source)


def test_folded_query_finds_the_article_typed_without_accents(served: str, browser: WebDriver) -> None:
    browser.get(served.rsplit("/", 1)[0] + "/search_folded")
    submit_search(browser, "q", "duong day ma tuy da lat")
    assert result_link(browser, DRUG_RING) == DRUG_RING_URL
    OUTPUT.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "web-search-folded.png"))


def test_canned_queries_run_and_dup_clusters_appear_with_their_tables(tmp_path: Path) -> None:
    from datasette.utils import escape_fts  # type: ignore[import-untyped]

    from crawler.cli.web import metadata, register_functions
    from storage import dedup_index

    db = build_replica_db(tmp_path / "news.sqlite3")
    register_functions(db.conn)
    queries = metadata(db, "news")["databases"]["news"]["queries"]
    assert "duplicate_clusters" in queries, "the schema has the cluster tables (migration m013)"
    dedup_index.index_stored(db)  # the replicas hold one story republished by three outlets
    db.conn.create_function("escape_fts", 1, escape_fts)
    params = {"q": "Đà Lat", "url": DRUG_RING_URL}
    for name, query in queries.items():
        if name.startswith("dashboard_"):
            continue  # the dashboard's, which need crawl runs: tests/integration/test_dashboard.py
        rows = list(db.query(query["sql"], params))
        assert rows, f"{name} returned nothing"
    assert next(r["url"] for r in db.query(queries["search_folded"]["sql"], params)) == DRUG_RING_URL


@pytest.mark.parametrize("query", ["cong an da nang", "duong day ma tuy", "ma tuy -heroin", '"lua dao" OR "ma tuy"'])
def test_search_folded_ranks_as_the_cli_does(query: str) -> None:
    # Issue 25: it ranked by bm25 alone, so its top hits differed from `newscrawl search --folded`.
    from crawler.cli.web import queries, register_functions
    from storage.search import search

    db = build_replica_db()
    register_functions(db.conn)
    canned = [r["url"] for r in db.query(queries(db.table_names())["search_folded"]["sql"], {"q": query})]
    assert canned and canned == [hit.url for hit in search(db, query, folded=True, limit=100)]


def test_search_folded_shows_an_empty_form_until_a_query_is_typed(served: str) -> None:
    import json
    import urllib.request

    base = served.rsplit("/", 1)[0]
    with urllib.request.urlopen(base + "/search_folded", timeout=WAIT_S) as page:
        text = page.read().decode("utf-8")
    assert "fts5: syntax error" not in text and 'class="message-error"' not in text
    with urllib.request.urlopen(base + "/search_folded.json?_shape=array&q=ma+tuy+-heroin", timeout=WAIT_S) as page:
        rows = json.loads(page.read())
    assert rows and all("heroin" not in (r["title"] + r["snippet"]).lower() for r in rows)


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    from crawler.cli import main

    assert main(["serve", "--db", str(tmp_path / "missing.sqlite3"), "--port", "0"]) == 5
    assert not (tmp_path / "missing.sqlite3").exists()
