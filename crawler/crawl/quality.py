"""Per-site extraction quality gate: the Scrapy extension that judges each spider run.

It collects the run's articles, pools a small run with the site's pending runs, judges it
against the site's healthy history with the rules of ``crawler/crawl/quality_rules.py`` (each a
one-sided test with an effect size; their false-alarm rates are written there), stores the
verdict in ``run_quality`` (``storage/quality.py``), logs it (one INFO line while pending, a
WARNING per failed rule) and sets the Scrapy stat ``newscrawl/quality/unhealthy`` (1 or 0;
absent while pending), which makes ``newscrawl crawl`` exit 6.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from crawler.crawl.quality_rules import COVERAGE, RULES, QualityConfig, Sample, Verdict, judge, quantile
from crawler.extract.items import ArticleItem
from storage.db import open_db
from storage.quality import baseline_runs, pending_runs, save_quality
from storage.tables import create_quality_tables

logger = logging.getLogger(__name__)

STAT_PREFIX = "newscrawl/quality/"
UNHEALTHY_STAT = STAT_PREFIX + "unhealthy"
# The rules' names, re-exported: the CLI and the tests know the gate by this module.
__all__ = ["COVERAGE", "RULES", "QualityConfig", "QualityGate", "Sample", "Verdict", "judge", "quantile", "record_run"]


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
        db = open_db(self.db_path, busy_timeout=self.crawler.settings.getfloat("NEWS_DB_BUSY_TIMEOUT"))
        try:
            verdict, pooled = record_run(db, spider.name, int(run_id), self.sample, self.config)
        finally:
            db.close()
        stats.set_value(STAT_PREFIX + "articles", self.sample.articles)
        stats.set_value(STAT_PREFIX + "generic", self.sample.generic)
        stats.set_value(STAT_PREFIX + "pooled_articles", pooled.articles)
        if verdict.judged:
            stats.set_value(UNHEALTHY_STAT, int(not verdict.healthy))
        log_verdict(spider.name, verdict, pooled, self.config)


def log_verdict(site: str, verdict: Verdict, pooled: Sample, config: QualityConfig) -> None:
    """One INFO line while pending (nothing failed, exit code unchanged), an INFO line per rule
    still waiting for articles, a WARNING per failed rule."""
    if not verdict.judged:
        logger.info(
            "quality gate: site %s pending: %d articles from %d article pages so far (judged from %d), "
            "judged with the next runs",
            site,
            pooled.articles,
            pooled.pages,
            config.min_articles,
        )
    for note in verdict.notes:
        logger.info("quality gate: site %s: %s", site, note)
    for reason in verdict.reasons:
        logger.warning("quality gate: site %s unhealthy extraction: %s", site, reason)


def record_run(
    db: sqlite_utils.Database, site: str, run_id: int, sample: Sample, config: QualityConfig
) -> tuple[Verdict, Sample]:
    """Judge one run of ``site`` (pooled with its pending predecessors) against the site's
    healthy history and store its ``run_quality`` row; return the verdict and the pooled sample."""
    create_quality_tables(db)
    pending = pending_runs(db, site, run_id, config.baseline_runs)
    history = [Sample.from_row(r) for r in baseline_runs(db, site, run_id, config.baseline_runs)]
    pooled = sum((Sample.from_row(r) for r in pending), sample)
    verdict = judge(pooled, history, config)
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
