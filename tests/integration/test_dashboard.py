"""The dashboard of `newscrawl serve` in headless Chromium, on a crawled replica database (issue 18).

The database comes from two real crawls of every replica (so each site has a run before its
latest one, and the cross-site story forms a cluster). Every chart must draw marks (the charts
render to SVG), every table must have rows, the figures must match the database, and the site
filter must change them. Screenshots go to ``test-output/`` (the path is printed).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from crawler.cli import dashboard
from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, crawl_args, headless_chromium, newscrawl_serve, plain_datasette, run_cli

OUTPUT = REPO / "test-output"
WAIT_S = 30  # bounds a failure; the page is drawn in about a second
VEGA = [slug for slug, chart in dashboard.charts([]).items() if chart["library"] == "vega-lite"]
TABLES = [slug for slug, chart in dashboard.charts([]).items() if chart["library"] == "table"]
METRICS = [slug for slug, chart in dashboard.charts([]).items() if chart["library"] == "metric"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("dashboard") / "news.sqlite3"
    with ReplicaServer() as server:
        for _ in range(2):
            done = run_cli(*crawl_args(server, db_path), timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
    return db_path


@pytest.fixture(scope="module")
def served(crawled: Path) -> Iterator[str]:
    """The root URL of `newscrawl serve` on the crawled database."""
    with newscrawl_serve(crawled) as root:
        yield root


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile"), "1280,1200", browser_log=True) as driver:
        yield driver


def drawn(driver: WebDriver) -> dict[str, int]:
    """Marks per vega chart, rows per table card, and the metric values, once all are there."""

    def counts(d: WebDriver) -> dict[str, int] | None:
        found: dict[str, int] = {}
        for slug in VEGA:
            found[slug] = len(d.find_elements(By.CSS_SELECTOR, f"#chart-{slug} svg g.mark-rect path"))
        for slug in TABLES:
            found[slug] = len(d.find_elements(By.CSS_SELECTOR, f"#chart-{slug} table tbody tr"))
        for slug in METRICS:
            text = "".join(e.text for e in d.find_elements(By.CSS_SELECTOR, f"#chart-{slug} p"))
            if not text.isdigit():
                return None
            found[slug] = int(text)
        return found if all(found.values()) else None

    try:
        # Vega redraws a chart when a filter changes: an element read mid-redraw is stale, and the
        # next poll reads the new one.
        return WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException,)).until(counts)
    except Exception:
        empty = {slug: n for slug, n in (counts(driver) or {}).items() if not n}
        raise AssertionError(f"charts not drawn: {empty or 'a metric is missing'}") from None


def bar_labels(driver: WebDriver, slug: str) -> list[str]:
    """The bars of a chart as Vega describes them: "period: ...; articles: 2; site: cao"."""
    return [
        str(e.get_attribute("aria-label"))
        for e in driver.find_elements(By.CSS_SELECTOR, f"#chart-{slug} svg g.mark-rect path")
    ]


def no_errors(driver: WebDriver) -> None:
    """No JavaScript error, no failed data request, no error box in the page."""
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
    assert not driver.find_elements(By.CSS_SELECTOR, ".vega-embed .error, .dashboard-card .error, p.message-error")


def screenshot(driver: WebDriver, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, int(height) + 40)
    path = OUTPUT / name
    assert driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def test_every_chart_is_drawn_and_the_site_filter_changes_the_figures(
    served: str, crawled: Path, browser: WebDriver
) -> None:
    db = sqlite_utils.Database(crawled)
    per_site = {r["site"]: r["n"] for r in db.query("select site, count(*) as n from articles group by site")}
    runs = {r["site"]: r["n"] for r in db.query("select site, count(*) as n from crawl_runs group by site")}
    assert set(runs.values()) == {2}, runs

    browser.get(served + "/")  # the home page is the dashboard
    assert browser.current_url == f"{served}/-/dashboards/{dashboard.SLUG}"
    everything = drawn(browser)
    no_errors(browser)
    assert everything["articles_total"] == sum(per_site.values())
    stories = db.execute(
        "select count(*) from (select cluster_id from dup_members group by cluster_id having count(*) > 1)"
    ).fetchone()[0]
    assert stories >= 1 and everything["stories_total"] == stories, "the replicas' republished stories"
    assert everything["runs_verdict"] == sum(runs.values()), "two runs of every site"
    latest = browser.find_elements(By.CSS_SELECTOR, "#chart-runs_verdict mark")
    assert len(latest) == len(runs), "the last run of each site is highlighted"
    story = browser.find_element(By.CSS_SELECTOR, "#chart-largest_stories tbody tr").text
    assert "(first)" in story and "(+" in story, story
    bars = bar_labels(browser, "articles_per_day")
    assert {site for site in per_site if any(f"site: {site}" in bar for bar in bars)} == set(per_site), bars[:3]
    screenshot(browser, "dashboard-all-sites.png")

    browser.set_window_size(1280, 1200)
    Select(browser.find_element(By.ID, "site")).select_by_value("cao")
    browser.find_element(By.CSS_SELECTOR, ".dashboard-filters input[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: "site=cao" in d.current_url)
    cao = drawn(browser)
    no_errors(browser)
    assert cao["articles_total"] == per_site["cao"] < everything["articles_total"]
    assert cao["runs_verdict"] == 2
    assert cao["articles_per_day"] < everything["articles_per_day"]
    bars = bar_labels(browser, "articles_per_day")
    assert all("site: cao" in bar for bar in bars), bars[:3]
    rows = browser.find_elements(By.CSS_SELECTOR, "#chart-runs_verdict tbody tr")
    assert {row.find_elements(By.TAG_NAME, "td")[1].text for row in rows} == {"cao"}
    screenshot(browser, "dashboard-cao.png")


def test_each_chart_is_a_canned_query_that_takes_the_filters(served: str, crawled: Path) -> None:
    """The chart's SQL is the canned query's; the query answers with a site and a date range."""
    for slug in dashboard.chart_sql():
        url = f"{served}/{crawled.stem}/dashboard_{slug}.json?site=cao&date_start=2026-01-01&date_end=&_shape=objects"
        with urllib.request.urlopen(url, timeout=WAIT_S) as response:
            answer = json.load(response)
        assert answer["ok"] and answer["rows"], (slug, answer.get("error"))
        assert answer["query"]["sql"] == dashboard.chart_sql()[slug]
    url = f"{served}/{crawled.stem}/dashboard_articles_total.json?site=&date_start=2099-01-01&date_end=&_shape=objects"
    with urllib.request.urlopen(url, timeout=WAIT_S) as response:
        assert json.load(response)["rows"] == [{"articles": 0}], "the date range filters"


def test_plain_datasette_shows_the_same_dashboard(served: str, crawled: Path, browser: WebDriver) -> None:
    """`datasette DB`, without `newscrawl serve`: the plugin (an entry point of the package) gives
    the same home page, charts and figures."""
    browser.get(served + f"/-/dashboards/{dashboard.SLUG}")
    through_serve = drawn(browser)
    with plain_datasette(crawled) as root:
        browser.get(root + "/")
        assert browser.current_url == f"{root}/-/dashboards/{dashboard.SLUG}"
        assert drawn(browser) == through_serve
        no_errors(browser)
        screenshot(browser, "dashboard-plain-datasette.png")
        browser.get(root + f"/{crawled.stem}/articles")
        link = browser.find_element(By.CSS_SELECTOR, "td.col-title a")
        assert str(link.get_attribute("href")).startswith("https://"), "titles link to their article"
