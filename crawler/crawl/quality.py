"""Per-site extraction quality gate: is this run's extraction as good as the site's recent runs?

Each spider run collects, from the articles it extracted, the share with a lead, a date,
authors and images, the body lengths and the share that fell back to the generic path, and
compares them with the site's baseline: the pooled figures of its last healthy runs
(``NEWS_QUALITY_BASELINE_RUNS``). A run is unhealthy when

- most of its articles came from the generic path (more than ``NEWS_QUALITY_MAX_GENERIC_SHARE``
  of at least ``NEWS_QUALITY_MIN_GENERIC`` articles): the site's template is no longer
  recognised, a redesign. Needs no history;
- article pages were fetched (at least ``NEWS_QUALITY_MIN_ARTICLES``) but none gave an article;
- against a baseline of at least ``NEWS_QUALITY_MIN_BASELINE`` articles: a coverage share (lead,
  date, authors, images, or articles per fetched article page) fell by at least
  ``NEWS_QUALITY_MAX_DROP`` (absolute) *and* so low a count is improbable under the baseline
  share (binomial lower tail below ``NEWS_QUALITY_ALPHA``), or the median body length fell
  below ``1 - NEWS_QUALITY_MAX_BODY_DROP`` of the baseline's.

Scheduled runs often see two or three new articles. A run with fewer than
``NEWS_QUALITY_MIN_ARTICLES`` (and no failed absolute rule) is left *pending* and judged with
the runs that follow it, pooled, so small runs neither raise false alarms nor escape the gate.
The verdict is stored in ``run_quality`` (``storage/quality.py``), logged at WARNING when
unhealthy, and set as the Scrapy stat ``newscrawl/quality/unhealthy`` (1 or 0; absent while
pending).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from typing import Any

import sqlite_utils
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from crawler.extract.items import ArticleItem
from storage.db import open_db
from storage.quality import baseline_runs, pending_runs, save_quality
from storage.tables import create_quality_tables

logger = logging.getLogger(__name__)

STAT_PREFIX = "newscrawl/quality/"
UNHEALTHY_STAT = STAT_PREFIX + "unhealthy"
COVERAGE = ("lead", "date", "authors", "images")


@dataclass(frozen=True)
class QualityConfig:
    """Gate thresholds; ``from_settings`` reads the ``NEWS_QUALITY_*`` settings (their
    defaults and meaning are in crawler/settings.py)."""

    baseline_runs: int  # healthy runs pooled into the baseline
    min_baseline: int  # articles the baseline needs before drops are judged
    min_articles: int  # articles (pooled over pending runs) before coverage is judged
    min_generic: int  # articles before the generic-share rule applies
    max_generic_share: float  # above this share of generic articles: a redesign
    max_drop: float  # coverage share drop (absolute) that counts as a fall
    alpha: float  # ... when the count is this improbable under the baseline share
    max_body_drop: float  # median body length below (1 - this) x baseline median

    @classmethod
    def from_settings(cls, settings: Any) -> QualityConfig:
        ints = {"baseline_runs": "BASELINE_RUNS", "min_baseline": "MIN_BASELINE", "min_articles": "MIN_ARTICLES"}
        ints["min_generic"] = "MIN_GENERIC"
        floats = {"max_generic_share": "MAX_GENERIC_SHARE", "max_drop": "MAX_DROP", "alpha": "ALPHA"}
        floats["max_body_drop"] = "MAX_BODY_DROP"
        values: dict[str, Any] = {
            **{k: settings.getint(f"NEWS_QUALITY_{n}") for k, n in ints.items()},
            **{k: settings.getfloat(f"NEWS_QUALITY_{n}") for k, n in floats.items()},
        }
        return cls(**values)


@dataclass
class Sample:
    """Extraction figures of one site over one run or a pool of runs (counts, not shares)."""

    pages: int = 0  # article pages fetched
    articles: int = 0
    generic: int = 0
    lead: int = 0
    date: int = 0
    authors: int = 0
    images: int = 0
    body_lengths: list[int] = field(default_factory=list)

    def add(self, item: ArticleItem) -> None:
        self.articles += 1
        self.generic += item.extractor == "generic"
        self.lead += bool(item.lead)
        self.date += bool(item.published_at)
        self.authors += bool(item.authors)
        self.images += bool(item.images)
        self.body_lengths.append(len(item.body))

    def __add__(self, other: Sample) -> Sample:
        counts = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return Sample(**counts)

    def share(self, name: str) -> float:
        """Share of articles with ``name`` (``generic``, a coverage field) or, for
        ``extracted``, of fetched article pages that gave an article."""
        if name == "extracted":
            return self.articles / self.pages if self.pages else 1.0
        return getattr(self, name) / self.articles if self.articles else 0.0

    def body_quantile(self, q: float) -> int:
        return quantile(self.body_lengths, q)

    def row(self) -> dict[str, Any]:
        """The columns of a ``run_quality`` row."""
        return {
            "pages": self.pages,
            "articles": self.articles,
            "generic": self.generic,
            **{f"with_{name}": getattr(self, name) for name in COVERAGE},
            "body_p10": self.body_quantile(0.1),
            "body_median": self.body_quantile(0.5),
            "body_p90": self.body_quantile(0.9),
            "body_lengths": self.body_lengths,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Sample:
        return cls(
            pages=int(row["pages"] or 0),
            articles=int(row["articles"] or 0),
            generic=int(row["generic"] or 0),
            **{name: int(row[f"with_{name}"] or 0) for name in COVERAGE},
            body_lengths=[int(n) for n in row["body_lengths"] or []],
        )


@dataclass(frozen=True)
class Verdict:
    """``judged`` False: too few articles yet (pending); ``reasons`` name the failed checks."""

    judged: bool
    healthy: bool | None
    reasons: tuple[str, ...] = ()


def quantile(values: list[int], q: float) -> int:
    """The ``q`` quantile (nearest rank, 0 <= q <= 1) of ``values``; 0 for no values."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(min(k, n) + 1))


def judge(sample: Sample, baseline: Sample, config: QualityConfig) -> Verdict:
    """The verdict on ``sample`` (a run, pooled with its pending predecessors) against
    ``baseline`` (the pooled healthy runs before it; empty when there are none)."""
    reasons: list[str] = []
    n = sample.articles
    if n >= config.min_generic and sample.share("generic") > config.max_generic_share:
        reasons.append(
            f"generic share {sample.share('generic'):.2f} > {config.max_generic_share:.2f} "
            f"({sample.generic} of {n} articles fell back to the generic path: template not recognised)"
        )
    if n == 0 and sample.pages >= config.min_articles:
        reasons.append(f"extracted share 0.00: no article from {sample.pages} article pages")
    if baseline.articles >= config.min_baseline:
        checks = [(name, int(getattr(sample, name)), n) for name in COVERAGE] if n >= config.min_articles else []
        if sample.pages >= config.min_articles and n:
            checks.append(("extracted", n, sample.pages))
        for name, k, total in checks:
            expected = baseline.share(name)
            observed = k / total
            if expected - observed >= config.max_drop and binom_cdf(k, total, expected) < config.alpha:
                reasons.append(f"{name} coverage {observed:.2f} < baseline {expected:.2f} ({k} of {total})")
        if n >= config.min_articles:
            median, usual = sample.body_quantile(0.5), baseline.body_quantile(0.5)
            if median < (1 - config.max_body_drop) * usual:
                reasons.append(f"body median {median} chars < {1 - config.max_body_drop:.2f} x baseline {usual}")
    if reasons:
        return Verdict(True, False, tuple(reasons))
    if n >= config.min_articles:
        return Verdict(True, True)
    return Verdict(False, None)


class QualityGate:
    """Scrapy extension: collects each extracted article, judges the run when the spider closes.

    Needs ``crawler.crawl.runs.RunRecorder`` (the run id comes from its stat ``newscrawl/run_id``);
    give it a lower ``EXTENSIONS`` order so its stats are in the ``crawl_runs`` row.
    """

    def __init__(self, crawler: Crawler, config: QualityConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.db_path: str = crawler.settings.get("NEWS_DB_PATH")
        self.sample = Sample()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QualityGate:
        ext = cls(crawler, QualityConfig.from_settings(crawler.settings))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, ArticleItem):
            self.sample.add(item)

    def spider_closed(self, spider: Spider) -> None:
        stats = self.crawler.stats
        assert stats is not None
        run_id = stats.get_value("newscrawl/run_id")
        if run_id is None:
            return
        self.sample.pages = int(stats.get_value("newscrawl/pages/article", 0))
        db = open_db(self.db_path)
        try:
            verdict, pooled = record_run(db, spider.name, int(run_id), self.sample, self.config)
        finally:
            db.close()
        stats.set_value(STAT_PREFIX + "articles", self.sample.articles)
        stats.set_value(STAT_PREFIX + "generic", self.sample.generic)
        stats.set_value(STAT_PREFIX + "pooled_articles", pooled.articles)
        if not verdict.judged:
            logger.info("quality gate: %s: %d articles so far, judged with later runs", spider.name, pooled.articles)
            return
        stats.set_value(UNHEALTHY_STAT, int(not verdict.healthy))
        for reason in verdict.reasons:
            logger.warning("quality gate: site %s unhealthy extraction: %s", spider.name, reason)


def record_run(
    db: sqlite_utils.Database, site: str, run_id: int, sample: Sample, config: QualityConfig
) -> tuple[Verdict, Sample]:
    """Judge one run of ``site`` (pooled with its pending predecessors) against the site's
    healthy history and store its ``run_quality`` row; return the verdict and the pooled sample."""
    create_quality_tables(db)
    pending = pending_runs(db, site, run_id, config.baseline_runs)
    history = baseline_runs(db, site, run_id, config.baseline_runs)
    pooled = sum((Sample.from_row(r) for r in pending), sample)
    baseline = sum((Sample.from_row(r) for r in history), Sample())
    verdict = judge(pooled, baseline, config)
    row = {
        "run_id": run_id,
        "site": site,
        **sample.row(),
        "judged": int(verdict.judged),
        "healthy": None if verdict.healthy is None else int(verdict.healthy),
        "reasons": list(verdict.reasons),
        "judged_by": run_id if verdict.judged else None,
    }
    save_quality(db, row, [int(r["run_id"]) for r in pending])
    return verdict, pooled
