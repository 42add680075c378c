"""The dashboard ``newscrawl serve`` opens first: datasette-dashboards with Vega-Lite charts.

Everything here is configuration (Datasette metadata): the plugin draws the charts from SQL, no
JavaScript of ours. Each chart's SQL is also a canned query (``dashboard_<chart>``), so any
figure can be opened, read and edited as SQL; the chart and the query are the same text.

Filters: ``site`` (empty = every site), ``date_start`` and ``date_end`` (``YYYY-MM-DD``, local
Vietnam dates, both inclusive, empty = unbounded). The SQL takes them as named parameters that
may be empty (``:site = ''``) instead of the plugin's ``[[ ... ]]`` optional clauses, which
Datasette's canned queries do not understand.

Speed: every query stays under 200 ms at p95 on 100,000 articles (``python -m bench.dashboard``,
bench/RESULTS-dashboard.md) with the indexes of migration m017 (storage/schema.py); nothing here
writes, so ``serve`` works on a read-only or immutable database.
"""

from __future__ import annotations

from typing import Any

SLUG = "overview"

# The chosen range as two bounds on ``published_at`` (ISO 8601 with +07:00, so a string
# comparison with a local date is a comparison of local dates), and the bucket of the
# time-series charts: a day up to 120 days, a week (its Monday) up to two years, else a month,
# so that a long range stays a readable chart (and under Datasette's 1,000-row limit).
_RANGE = (
    "r as (select coalesce(nullif(:date_start, ''), '0000') as lo, "
    "coalesce(date(nullif(:date_end, ''), '+1 day'), '9999') as hi, "
    "julianday(coalesce(nullif(:date_end, ''), (select substr(max(published_at), 1, 10) from articles))) "
    "- julianday(coalesce(nullif(:date_start, ''), (select substr(min(published_at), 1, 10) from articles))) as days)"
)


def _bucket(column: str) -> str:
    day = f"substr({column}, 1, 10)"
    return (
        f"case when r.days <= 120 then {day} when r.days <= 730 then date({day}, '-6 days', 'weekday 1') "
        f"else substr({column}, 1, 7) || '-01' end"
    )


_UNIT = "case when r.days <= 120 then 'day' when r.days <= 730 then 'week' else 'month' end"
_IN_RANGE = "a.published_at >= r.lo and a.published_at < r.hi"
_SITE = "(:site = '' or a.site = :site)"
# Titles come from the crawled pages and the plugin's table cards set cells as HTML: escaped here.
_TITLE = "replace(replace(replace({}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"

# One row per cluster: its copies, outlets, first publication and whether :site carried it. A
# merged cluster has no members left (storage/dedup.py moves them), so dup_clusters is not read.
_CLUSTERS = (
    "c as (select m.cluster_id, count(*) as copies, count(distinct a.site) as outlets, "
    "min(a.published_at) as first_at, max(a.site = :site) as has_site "
    "from dup_members m join articles a on a.url_hash = m.url_hash group by m.cluster_id)"
)
_STORIES = "c.outlets >= 2 and c.first_at >= r.lo and c.first_at < r.hi and (:site = '' or c.has_site)"

# The runs in range (started_at is UTC: the day bounds are UTC days here), newest first.
_RUNS = (
    "runs as (select x.* from crawl_runs x, r where x.started_at >= r.lo and x.started_at < r.hi "
    "and (:site = '' or x.site = :site) order by x.id desc limit {limit}), "
    "latest as (select site, max(id) as id from crawl_runs group by site)"
)
_LAG = (
    "case when {m} < 60 then {m} || ' min' when {m} < 1440 then ({m} / 60) || ' h ' || ({m} % 60) || ' min' "
    "else ({m} / 1440) || ' d ' || (({m} % 1440) / 60) || ' h' end"
)
_REASONS = _TITLE.format("coalesce(q.reasons, '')")
_MINUTES = "cast(round((julianday(a.published_at) - julianday(t.first_at)) * 1440) as integer)"


def chart_sql() -> dict[str, str]:
    """The SQL of every chart, by chart slug (also the canned query ``dashboard_<slug>``)."""
    lag = _LAG.format(m="x.lag")
    return {
        "articles_total": f"with {_RANGE} select count(*) as articles from articles a, r where {_IN_RANGE} and {_SITE}",
        "stories_total": f"with {_RANGE}, {_CLUSTERS} select count(*) as stories from c, r where {_STORIES}",
        "articles_per_day": (
            f"with {_RANGE} select {_bucket('a.published_at')} as period, {_UNIT} as unit, a.site, "
            f"count(*) as articles from articles a, r where {_IN_RANGE} and {_SITE} "
            "group by period, a.site order by period, a.site"
        ),
        "articles_per_category": (
            f"with {_RANGE} select a.site, coalesce(a.category, '(none)') as category, count(*) as articles "
            f"from articles a, r where {_IN_RANGE} and {_SITE} "
            "group by a.site, category order by articles desc, category limit 30"
        ),
        "stories_per_day": (
            f"with {_RANGE}, {_CLUSTERS} select {_bucket('c.first_at')} as period, {_UNIT} as unit, "
            f"count(*) as stories, sum(c.copies) as copies from c, r where {_STORIES} group by period order by period"
        ),
        "largest_stories": (
            f"with {_RANGE}, {_CLUSTERS}, t as (select c.* from c, r where {_STORIES} "
            "order by c.outlets desc, c.copies desc, c.first_at desc limit 15) "
            "select t.cluster_id as story, "
            f"(select {_TITLE.format('a.title')} from dup_members m join articles a on a.url_hash = m.url_hash "
            "where m.cluster_id = t.cluster_id order by a.published_at limit 1) as first_title, "
            "t.outlets, t.copies, substr(t.first_at, 1, 16) as first_published, "
            "(select group_concat(x.site || ' ' || replace(substr(x.published_at, 6, 11), 'T', ' ') || "
            f"case when x.lag = 0 then ' (first)' else ' (+' || {lag} || ')' end, ' · ') "
            f"from (select a.site, a.published_at, {_MINUTES} as lag from dup_members m "
            "join articles a on a.url_hash = m.url_hash where m.cluster_id = t.cluster_id "
            "order by a.published_at) x) as outlets_by_time "
            "from t order by t.outlets desc, t.copies desc, t.first_at desc"
        ),
        "run_outcomes": (
            f"with {_RANGE}, {_RUNS.format(limit=60)}, o as ("
            "select runs.id, 'stored' as outcome, coalesce(runs.articles_new, 0) + coalesce(runs.articles_updated, 0) "
            "as pages from runs "
            "union all select runs.id, 'duplicate', coalesce(runs.articles_duplicate, 0) from runs "
            "union all select runs.id, 'not modified', coalesce(runs.not_modified, 0) from runs "
            "union all select runs.id, 'dropped: ' || j.key, j.value from runs, json_each(runs.dropped_by_reason) j "
            "where json_valid(runs.dropped_by_reason) "
            "union all select runs.id, 'error: ' || j.key, j.value from runs, json_each(runs.errors_by_kind) j "
            "where json_valid(runs.errors_by_kind)) "
            "select runs.site || ' #' || runs.id as run, runs.id, runs.site, runs.started_at, o.outcome, o.pages, "
            "(runs.id = latest.id) as latest from o join runs on runs.id = o.id "
            "join latest on latest.site = runs.site where o.pages > 0 order by runs.id, o.outcome"
        ),
        "runs_verdict": (
            f"with {_RANGE}, {_RUNS.format(limit=30)} "
            "select case when runs.id = latest.id then '<mark>' || runs.id || ' latest</mark>' else runs.id end "
            "as run, runs.site, substr(runs.started_at, 1, 16) as started_utc, runs.status, "
            "coalesce(runs.articles_new, 0) + coalesce(runs.articles_updated, 0) as stored, "
            "coalesce(runs.errors, 0) as errors, coalesce(runs.errors_by_kind, '{}') as errors_by_kind, "
            "case when q.articles > 0 then round(100.0 * q.generic / q.articles, 1) || ' %' end as generic_share, "
            "case when q.run_id is null then '' when q.judged = 0 then 'pending' when q.healthy = 1 then 'healthy' "
            f"else 'UNHEALTHY ' || {_REASONS} end as verdict "
            "from runs join latest on latest.site = runs.site left join run_quality q on q.run_id = runs.id "
            "order by runs.id desc"
        ),
        "top_authors": (
            f"with {_RANGE} select j.value as author, a.site, count(*) as articles "
            f"from articles a, r, json_each(a.authors) j where {_IN_RANGE} and {_SITE} and a.authors <> '[]' "
            "and json_valid(a.authors) "
            "group by author, a.site order by articles desc, author limit 20"
        ),
        "top_tags": (
            f"with {_RANGE} select j.value as tag, a.site, count(*) as articles "
            f"from articles a, r, json_each(a.tags) j where {_IN_RANGE} and {_SITE} and a.tags <> '[]' "
            "and json_valid(a.tags) "
            "group by tag, a.site order by articles desc, tag limit 20"
        ),
    }


def _vega(spec: dict[str, Any]) -> dict[str, Any]:
    # SVG, not vega-embed's default canvas: the marks are elements a browser test can count.
    # The action menu keeps its PNG/SVG export only ("Open in Vega Editor" needs the internet).
    embed = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}
    return {"usermeta": {"embedOptions": embed}, **spec}


# Periods are dates (YYYY-MM-DD) on a UTC scale, so no browser time zone shifts them; no
# timeUnit, so a bar keeps a visible width whether it stands for a day or a month.
_TIME = {"type": "temporal", "scale": {"type": "utc"}, "axis": {"format": "%Y-%m-%d"}, "title": None}


def _site_color(sites: list[str]) -> dict[str, Any]:
    """One colour per site, the same in every chart whichever sites a chart's rows hold."""
    return {"field": "site", "type": "nominal", "title": "site", "scale": {"domain": sites}}


def _bars_by(label: str, title: str, sites: list[str]) -> dict[str, Any]:
    """Horizontal bars, one per ``label``, split by site, longest first."""
    return _vega(
        {
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
                "x": {"aggregate": "sum", "field": "articles", "type": "quantitative", "title": title},
                "color": _site_color(sites),
            },
        }
    )


def charts(sites: list[str]) -> dict[str, dict[str, Any]]:
    """The cards (without their SQL), by slug; ``sites`` fixes the site colours."""
    return {
        "articles_total": {"title": "Articles in range", "library": "metric", "display": {"field": "articles"}},
        "stories_total": {
            "title": "Stories carried by several outlets",
            "library": "metric",
            "display": {"field": "stories"},
        },
        "articles_per_day": {
            "title": "Articles per day per site (per week or month over long ranges)",
            "library": "vega-lite",
            "display": _vega(
                {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "period", **_TIME},
                        "y": {"field": "articles", "type": "quantitative", "stack": "zero"},
                        "color": _site_color(sites),
                    },
                }
            ),
        },
        "articles_per_category": {
            "title": "Articles per category (choose a site to see only its own)",
            "library": "vega-lite",
            "display": _bars_by("category", "articles", sites),
        },
        "stories_per_day": {
            "title": "Stories carried by several outlets, per day of first publication",
            "library": "vega-lite",
            "display": _vega(
                {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "period", **_TIME},
                        "y": {"field": "stories", "type": "quantitative"},
                    },
                }
            ),
        },
        "largest_stories": {
            "title": "Largest stories in range: each outlet's publication time (Vietnam time) and lag behind the first",
            "library": "table",
        },
        "run_outcomes": {
            "title": "Crawl runs (latest 60 in range): pages by outcome; the last run of each site outlined",
            "library": "vega-lite",
            "display": _vega(
                {
                    "mark": {"type": "bar", "tooltip": True, "stroke": "black"},
                    "encoding": {
                        "x": {"field": "run", "type": "ordinal", "sort": {"field": "id", "op": "min"}, "title": None},
                        "y": {"field": "pages", "type": "quantitative", "stack": "zero"},
                        "color": {"field": "outcome", "type": "nominal"},
                        "strokeWidth": {
                            "field": "latest",
                            "type": "nominal",
                            "scale": {"domain": [0, 1], "range": [0, 2]},
                            "legend": None,
                        },
                    },
                }
            ),
        },
        "runs_verdict": {
            "title": "Crawl health per run (latest 30 in range): stored, errors by kind, generic share, quality gate",
            "library": "table",
        },
        "top_authors": {
            "title": "Top authors",
            "library": "vega-lite",
            "display": _bars_by("author", "articles", sites),
        },
        "top_tags": {"title": "Top tags", "library": "vega-lite", "display": _bars_by("tag", "articles", sites)},
    }


_LAYOUT = [
    ["articles_total", "stories_total"],
    ["articles_per_day", "articles_per_day"],
    ["articles_per_category", "stories_per_day"],
    ["largest_stories", "largest_stories"],
    ["run_outcomes", "run_outcomes"],
    ["runs_verdict", "runs_verdict"],
    ["top_authors", "top_tags"],
    ["queries", "queries"],
]


def canned_queries() -> dict[str, dict[str, Any]]:
    """The charts' SQL as canned queries ``dashboard_<slug>`` (forms with site and dates)."""
    sql = chart_sql()
    return {
        f"dashboard_{slug}": {
            "title": f"Dashboard: {chart['title']}",
            "description": "Leave site and dates empty for every site and all time; dates are YYYY-MM-DD.",
            "sql": sql[slug],
        }
        for slug, chart in charts([]).items()
    }


def plugin_config(database: str, sites: list[str]) -> dict[str, Any]:
    """The datasette-dashboards configuration: one dashboard on ``database``, whose sites are ``sites``."""
    sql = chart_sql()
    cards: dict[str, Any] = {
        slug: {**chart, "db": database, "query": sql[slug]} for slug, chart in charts(sites).items()
    }
    links = "\n".join(f"- [{chart['title']}](/{database}/dashboard_{slug})" for slug, chart in cards.items())
    cards["queries"] = {
        "library": "markdown",
        "display": "### The SQL of every chart\n\nEach figure above is a canned query: open it, change it, "
        f"export its rows.\n\n{links}\n\nAll tables: [{database}](/{database}).",
    }
    return {
        SLUG: {
            "title": "newscrawl: what the outlets published",
            "description": "Articles, shared stories and crawl health. Site and dates filter every chart "
            "(dates are Vietnam dates; empty = all).",
            "layout": _LAYOUT,
            "filters": {
                "site": {
                    "name": "Site",
                    "type": "select",
                    "db": database,
                    "query": "select distinct site from articles order by site",
                },
                "date_start": {"name": "From", "type": "date"},
                "date_end": {"name": "To", "type": "date"},
            },
            "charts": cards,
        }
    }
