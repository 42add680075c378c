"""What ``newscrawl probe`` found on each site, the verdict rules, and the two ways to show it.

Pure: no Scrapy, no network, no database. :mod:`crawler.crawl.probe` fills these records while it
fetches; :func:`judge` turns one site's records into ``ok`` / ``degraded`` / ``broken`` with
the reasons; :func:`format_text` prints them the way the other commands print tables and
:func:`report_json` writes the versioned report (``schema/probe.schema.json``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.exit_codes import EXIT_NOTHING, EXIT_OK, EXIT_UNHEALTHY
from crawler.sites.registry import sites

REPORT_FORMAT = "newscrawl-probe"
REPORT_VERSION = 1
# Fields whose producing rule the extractor reports (ArticleItem.field_sources), record order.
FIELDS = ("title", "lead", "body", "authors", "source", "published_at", "category", "canonical", "images")
# A site whose pages take these from anything but its own selectors is degraded.
CORE_FIELDS = ("title", "body", "published_at")
# Fields worth a note when they fall back: "byline from generic:meta_author on 2/3".
NOTED_FIELDS = ("lead", "authors", "category")
LABELS = {"authors": "byline"}
VERDICTS = ("ok", "degraded", "broken")
# The command's exit code per overall verdict.
EXIT_CODES = {"ok": EXIT_OK, "degraded": EXIT_UNHEALTHY, "broken": EXIT_NOTHING}


@dataclass
class Fetch:
    """The last answer to one request: status, content type and size, or why there was none.

    ``error`` is the crawler's name for a failed fetch (``crawler.crawl.middlewares.error_kind``:
    ``http_404``, ``challenge``, ``robots``, ``timeout``...), ``not_fetched`` when the probe
    stopped before asking, None when a page came back and was read.
    """

    url: str
    status: int | None = None
    content_type: str | None = None
    size: int | None = None
    challenge: bool = False
    retries: int = 0
    error: str | None = None


@dataclass
class EntryResult(Fetch):
    """One entry point (feed, sitemap, listing page, feed index) and the links found in it.

    ``links`` counts article links, and for a feed index or a sitemap index the feeds or
    sitemaps it lists (each then an entry point of its own).
    """

    kind: str = "listing"
    links: int = 0
    # Listing pages: which rule found the links ("site:<selector>", or "generic:all_links"
    # when the site's list markup matched nothing and every link on the page was taken).
    links_rule: str | None = None

    @property
    def answered(self) -> bool:
        return self.error is None and self.status == 200


@dataclass
class ProbedPage(Fetch):
    """One article page: what extraction made of it and which rule gave each field."""

    found_in: str | None = None
    extractor: str | None = None  # site / generic; None when no article came out
    not_article: str | None = None  # the extractor's reason, when the page is not an article
    title: str | None = None
    field_sources: dict[str, str] = field(default_factory=dict)

    @property
    def is_article(self) -> bool:
        return self.extractor is not None


@dataclass
class SiteResult:
    """Everything probed on one site; ``verdict``, ``reasons`` and ``notes`` come from :func:`judge`."""

    key: str
    name: str
    base_url: str
    delay: float
    jitter: float
    concurrency: int
    robots_txt: Fetch | None = None
    entry_points: list[EntryResult] = field(default_factory=list)
    pages: list[ProbedPage] = field(default_factory=list)
    stopped: str | None = None  # why the probe stopped asking this site early ("challenge")
    stats: dict[str, int | float] = field(default_factory=dict)
    verdict: str = "broken"
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: list[str]
    notes: list[str]


def judge(site: SiteResult) -> Verdict:
    """The verdict on one site.

    - ``broken``: no page gave an article (challenges, fetch errors, no links, not articles);
    - ``degraded``: articles came out, but some through the generic path, or with a core field
      (title, body, published_at) from a rule other than the site's selectors, or an entry point
      failed or held no article link, or an article page failed or was a challenge;
    - ``ok`` otherwise. Non-core fields that fell back are notes, never a downgrade.
    """
    articles = [p for p in site.pages if p.is_article]
    challenged = _challenged(site)
    reasons: list[str] = []
    if site.stopped and site.stopped.startswith("unreachable"):
        # No network, no DNS, nothing listening: the one thing worth saying (crawl/middlewares.py).
        return Verdict("broken", [f"{site.stopped}; probe stopped at its first request"], [])
    if challenged:
        stop = f"; probe stopped ({_not_fetched(site)} not fetched)" if site.stopped == "challenge" else ""
        reasons.append(f"firewall challenge on {', '.join(challenged[:3])}{_more(challenged, 3)}{stop}")
    # Entry points left unasked are a failure unless a challenge stopped the probe (said above).
    skipped = ("challenge", "not_fetched") if site.stopped else ("challenge",)
    failed = [e for e in site.entry_points if not e.answered and e.error not in skipped]
    gone = [e for e in failed if _optional_feed_gone(site.key, e)]  # as a crawl counts them: a note
    failed = [e for e in failed if e not in gone]
    if failed:
        kinds = _counted(e.error or f"http_{e.status}" for e in failed)
        reasons.append(f"entry points failed: {len(failed)}/{len(site.entry_points)} ({kinds})")
    empty = [e for e in site.entry_points if e.answered and not e.links]
    if empty:
        reasons.append(f"no links in {', '.join(_path(e.url) for e in empty[:3])}{_more(empty, 3)}")
    unrecognised = [e for e in site.entry_points if e.links_rule and not e.links_rule.startswith("site:")]
    if unrecognised:
        paths = ", ".join(_path(e.url) for e in unrecognised[:3]) + _more(unrecognised, 3)
        reasons.append(f"listing markup not recognised on {paths} (all links taken)")
    page_errors = [p for p in site.pages if p.error and p.error not in ("challenge", "not_fetched")]
    if page_errors:
        reasons.append(
            f"article pages failed: {len(page_errors)}/{len(site.pages)} ({_counted(p.error or '' for p in page_errors)})"
        )
    not_articles = [p for p in site.pages if p.not_article]
    if not articles:
        if not site.pages and not challenged:
            reasons.append("no article page to try: the entry points gave no article link")
        if not_articles:
            reasons.append(f"no page gave an article ({_counted(p.not_article or '' for p in not_articles)})")
        return Verdict("broken", reasons or ["no article could be extracted"], [])
    notes = []
    if gone:
        notes.append(f"optional feeds gone: {', '.join(f'{_path(e.url)} ({e.error})' for e in gone)}")
    if not_articles:
        notes.append(f"not articles: {_counted(p.not_article or '' for p in not_articles)}")
    n = len(articles)
    generic = sum(p.extractor == "generic" for p in articles)
    if generic:
        reasons.append(f"generic path on {generic}/{n} pages (site template not recognised)")
    for name in CORE_FIELDS:
        line = _fallback_line(name, articles, core=True)
        if line:
            reasons.append(line)
    for name in NOTED_FIELDS:
        line = _fallback_line(name, articles, core=False)
        if line:
            notes.append(line)
    return Verdict("degraded" if reasons else "ok", reasons, notes)


def _fallback_line(name: str, pages: list[ProbedPage], core: bool) -> str | None:
    """``body from generic:trafilatura on 3/3 pages`` for the pages where ``name`` was not the site's."""
    if name == "authors":  # a page credited to another outlet ("Theo TTXVN") names no author
        pages = [p for p in pages if p.field_sources.get("source", "none") == "none"] or pages
    sources = [p.field_sources.get(name, "none") for p in pages]
    fallen = Counter(s for s in sources if not s.startswith("site"))
    if not fallen:
        return None
    rule, count = fallen.most_common(1)[0]
    label = LABELS.get(name, name)
    what = f"found by no rule on {count}/{len(pages)}" if rule == "none" else f"from {rule} on {count}/{len(pages)}"
    others = sum(fallen.values()) - count
    more = f" (+{others} from other fallbacks)" if others else ""
    return f"{label} {what}{' pages' if core else ''}{more}"


def _optional_feed_gone(key: str, entry: EntryResult) -> bool:
    """A feed answering 403/404/410 on a site whose feeds are optional (its listings discover)."""
    site = sites().get(key)
    gone = entry.error in ("http_403", "http_404", "http_410") or entry.status in (403, 404, 410)
    return entry.kind == "feed" and gone and site is not None and site.feeds_optional


def _challenged(site: SiteResult) -> list[str]:
    fetches: list[Fetch] = [*([site.robots_txt] if site.robots_txt else []), *site.entry_points, *site.pages]
    return [_path(f.url) for f in fetches if f.challenge or f.error == "challenge"]


def _not_fetched(site: SiteResult) -> str:
    count = sum(e.error == "not_fetched" for e in site.entry_points)
    return f"{count} entry point{'s' if count != 1 else ''}"


def _counted(values: Any) -> str:
    return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in Counter(values).most_common())


def _more(items: list[Any], shown: int) -> str:
    return f" and {len(items) - shown} more" if len(items) > shown else ""


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def overall(sites: list[SiteResult]) -> str:
    """The worst verdict of all sites."""
    return max((s.verdict for s in sites), key=VERDICTS.index, default="broken")


# --- output -----------------------------------------------------------------------------------


def format_text(sites: list[SiteResult]) -> list[str]:
    """Per site: its pace, the entry points, each article page's field sources; then the verdicts."""
    lines: list[str] = []
    for site in sites:
        jitter = f" ±{site.jitter:.0%}" if site.jitter and site.delay else ""
        lines.append(
            f"{site.key} ({site.name}) at {site.base_url}: {site.concurrency} request(s) at a time, "
            f"{site.delay:g} s apart{jitter}"
        )
        if site.robots_txt is not None:
            lines.append(f"  robots.txt  {_answer(site.robots_txt)}")
        lines.append(f"  {'entry point':52}  {'kind':10}  {'answer':30}  {'links':>5}")
        for e in site.entry_points:
            links = str(e.links) if e.answered else "-"
            rule = (
                "  (all links: list markup not found)" if e.links_rule and not e.links_rule.startswith("site:") else ""
            )
            lines.append(f"  {_path(e.url):52}  {e.kind:10}  {_answer(e):30}  {links:>5}{rule}")
        for p in site.pages:
            what = (
                f"{p.extractor} path" if p.extractor else (f"not an article: {p.not_article}" if p.not_article else "")
            )
            linked = f"  (linked from {_path(p.found_in)})" if p.found_in else ""
            lines.append(f"  page {_path(p.url)}")
            lines.append(f"    {_answer(p)}{'  ' + what if what else ''}{linked}")
            for name in FIELDS if p.is_article else ():
                source = p.field_sources.get(name, "none")
                lines.append(f"    {name:13} {source}{_flag(name, source)}")
        lines.append("")
    lines.append(f"{'site':10}{'verdict':10}why")
    for site in sites:
        lines.append(f"{site.key:10}{site.verdict:10}{'; '.join([*site.reasons, *site.notes])}".rstrip())
    return lines


def _flag(name: str, source: str) -> str:
    if name not in (*CORE_FIELDS, *NOTED_FIELDS) or source.startswith("site"):
        return ""
    return "  <- not found" if source == "none" else "  <- fallback"


def _answer(fetch: Fetch) -> str:
    if fetch.challenge or fetch.error == "challenge":
        return f"{fetch.status or '-'} CHALLENGE (firewall)"
    if fetch.error == "not_fetched":
        return "not fetched"
    if fetch.error:
        return f"{fetch.status} {fetch.error}" if fetch.status else fetch.error
    kind = (fetch.content_type or "?").split(";")[0].strip()
    size = f"{(fetch.size or 0) / 1024:.0f} KB" if (fetch.size or 0) >= 1024 else f"{fetch.size or 0} B"
    return f"{fetch.status} {kind} {size}"


def report_json(
    sites: list[SiteResult], *, tool: dict[str, str], started_at: str, finished_at: str, options: dict[str, Any]
) -> dict[str, Any]:
    """The report ``--json`` writes: versioned, validated by ``schema/probe.schema.json``."""
    verdict = overall(sites)
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "tool": tool,
        "started_at": started_at,
        "finished_at": finished_at,
        "options": options,
        "verdict": verdict,
        "exit_code": EXIT_CODES[verdict],
        "sites": [_site_json(s) for s in sites],
    }


def _site_json(site: SiteResult) -> dict[str, Any]:
    data = asdict(site)
    for page in data["pages"]:
        sources = page["field_sources"]
        page["field_sources"] = {k: sources[k] for k in sorted(sources, key=_field_order)}
    data["pace"] = {"delay_s": data.pop("delay"), "jitter": data.pop("jitter"), "concurrency": data.pop("concurrency")}
    return data


def _field_order(name: str) -> tuple[int, str]:
    return (FIELDS.index(name) if name in FIELDS else len(FIELDS), name)
