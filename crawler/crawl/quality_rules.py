"""The quality gate's rules: is this run's extraction as good as the site's recent runs?

Pure functions of counts (the extension is ``crawler/crawl/quality.py``). Each spider run collects, from the articles it extracted, the share with a lead, a date,
authors and images, the body lengths and the share that fell back to the generic path, and
compares them with the site's baseline: the pooled figures of its last healthy runs
(``NEWS_QUALITY_BASELINE_RUNS``).

Every rule is a one-sided statistical test (``crawler/crawl/quality_stats.py``) *and* an effect
size; a rule fails only when both hold, so a small run is never judged as if it were a full one:

- ``generic``: more than ``NEWS_QUALITY_MAX_GENERIC_SHARE`` of the articles came from the generic
  path (the template is no longer recognised, a redesign), and so many is improbable against the
  baseline's generic count (Fisher) or, without a baseline, against an assumed healthy share
  ``NEWS_QUALITY_GENERIC_PRIOR`` (binomial);
- ``extracted``: the share of fetched article pages that gave an article fell by
  ``NEWS_QUALITY_MAX_DROP`` or more, improbably, against the baseline's yield (Fisher) or, without
  one, against an assumed ``NEWS_QUALITY_YIELD_PRIOR`` (binomial). "Article pages fetched, no
  article" is this rule's extreme;
- ``lead``, ``date``, ``authors``, ``images``: against a baseline of at least
  ``NEWS_QUALITY_MIN_BASELINE`` articles, a coverage share fell by ``NEWS_QUALITY_MAX_DROP`` or
  more, improbably (Fisher);
- ``body``: the median body length of at least ``NEWS_QUALITY_MIN_BODY`` recent articles is
  below ``1 - NEWS_QUALITY_MAX_BODY_DROP`` of the older healthy runs' median, and the recent
  lengths are improbably short against them (Mann-Whitney U). A run with fewer articles is
  topped up with the newest healthy runs' lengths (which then leave the reference).

"Improbably" means a p-value below ``NEWS_QUALITY_ALPHA / 7`` (Bonferroni over the seven rules):
a healthy run of any size trips a given rule with probability at most ``alpha / 7`` (0.0014)
and the gate as a whole at most ``alpha`` (0.01) — the tests' assumption being that a healthy
run's articles are drawn like the baseline's. The effect sizes make the real rate far lower
(tests/unit/test_quality_false_alarms.py measures it).

A pool with fewer than ``NEWS_QUALITY_MIN_ARTICLES`` articles and article pages is *pending*:
no rule is tested, the run exits as it would have (0 when nothing else failed), an INFO line
says so, and the run is judged with the runs that follow it, pooled — one test per pool, so
looking again at each small run does not add false alarms. The body rule likewise waits, with
an INFO line, until ``NEWS_QUALITY_MIN_BODY`` recent articles and a reference of
``NEWS_QUALITY_MIN_BASELINE`` are there: the few articles of a catch-up run after a network
hiccup are not a fair draw of the site's lengths (bocongan's newest are its short ones).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from crawler.crawl import quality_stats
from crawler.extract.items import ArticleItem

COVERAGE = ("lead", "date", "authors", "images")
RULES = ("generic", "extracted", *COVERAGE, "body")  # each tested at alpha / len(RULES)


@dataclass(frozen=True)
class QualityConfig:
    """Gate thresholds; ``from_settings`` reads the ``NEWS_QUALITY_*`` settings (their
    defaults and meaning are in crawler/settings.py)."""

    baseline_runs: int  # healthy runs pooled into the baseline
    min_baseline: int  # articles the baseline needs before drops are judged
    min_articles: int  # articles or article pages (pooled over pending runs) before a verdict
    min_body: int  # recent articles before the body-length rule is judged
    max_generic_share: float  # above this share of generic articles: a redesign
    generic_prior: float  # generic share assumed healthy while there is no baseline
    yield_prior: float  # articles per article page assumed healthy while there is no baseline
    max_drop: float  # coverage or yield share drop (absolute) that counts as a fall
    alpha: float  # false-alarm rate of the whole gate per judged run (each rule: alpha / len(RULES))
    max_body_drop: float  # median body length below (1 - this) x baseline median

    @classmethod
    def from_settings(cls, settings: Any) -> QualityConfig:
        ints = {"baseline_runs": "BASELINE_RUNS", "min_baseline": "MIN_BASELINE", "min_articles": "MIN_ARTICLES"}
        ints["min_body"] = "MIN_BODY"
        floats = {"max_generic_share": "MAX_GENERIC_SHARE", "max_drop": "MAX_DROP", "alpha": "ALPHA"}
        floats |= {"max_body_drop": "MAX_BODY_DROP", "generic_prior": "GENERIC_PRIOR", "yield_prior": "YIELD_PRIOR"}
        values: dict[str, Any] = {
            **{k: settings.getint(f"NEWS_QUALITY_{n}") for k, n in ints.items()},
            **{k: settings.getfloat(f"NEWS_QUALITY_{n}") for k, n in floats.items()},
        }
        return cls(**values)

    @property
    def rule_alpha(self) -> float:
        """The p-value below which one rule fails: ``alpha`` shared by the rules (Bonferroni)."""
        return self.alpha / len(RULES)


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
    """``judged`` False: too few articles yet (pending); ``reasons`` name the failed checks;
    ``notes`` the rules left for later runs (too few articles for them yet)."""

    judged: bool
    healthy: bool | None
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)


def quantile(values: list[int], q: float) -> int:
    """The ``q`` quantile (nearest rank, 0 <= q <= 1) of ``values``; 0 for no values."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def judge(sample: Sample, history: Sequence[Sample], config: QualityConfig) -> Verdict:
    """The verdict on ``sample`` (a run, pooled with its pending predecessors) against
    ``history`` (the site's healthy runs before it, newest first; empty when there are none)."""
    if max(sample.articles, sample.pages) < config.min_articles:
        return Verdict(False, None)
    baseline = sum(history, Sample())
    reasons = [r for r in (_generic(sample, baseline, config), _extracted(sample, baseline, config)) if r]
    if baseline.articles >= config.min_baseline:
        reasons += [r for name in COVERAGE if (r := _coverage(name, sample, baseline, config))]
    body, note = _body(sample, history, config)
    reasons += [body] if body else []
    return Verdict(True, not reasons, tuple(reasons), (note,) if note else ())


def _generic(sample: Sample, baseline: Sample, config: QualityConfig) -> str | None:
    n, k = sample.articles, sample.generic
    if not n or k / n <= config.max_generic_share:
        return None
    if baseline.articles >= config.min_baseline:
        p = quality_stats.count_above(k, n, baseline.generic, baseline.articles)
    else:
        p = quality_stats.binomial_above(k, n, config.generic_prior)
    if p >= config.rule_alpha:
        return None
    return (
        f"generic share {k / n:.2f} > {config.max_generic_share:.2f} "
        f"({k} of {n} articles fell back to the generic path: template not recognised)"
    )


def _extracted(sample: Sample, baseline: Sample, config: QualityConfig) -> str | None:
    pages = sample.pages
    k = min(sample.articles, pages)  # a page gives one article at most
    if not pages:
        return None
    judged_on_baseline = baseline.pages >= config.min_baseline
    ref_k = min(baseline.articles, baseline.pages)
    expected = ref_k / baseline.pages if judged_on_baseline else config.yield_prior
    if expected - k / pages < config.max_drop:
        return None  # no drop worth flagging: no test (and no scipy) needed
    if judged_on_baseline:
        p = quality_stats.count_below(k, pages, ref_k, baseline.pages)
    else:
        p = quality_stats.binomial_below(k, pages, expected)
    if p >= config.rule_alpha:
        return None
    if not k:
        return f"extracted share 0.00: no article from {pages} article pages (p {p:.1g})"
    return f"extracted coverage {k / pages:.2f} < baseline {expected:.2f} ({k} of {pages} article pages, p {p:.1g})"


def _coverage(name: str, sample: Sample, baseline: Sample, config: QualityConfig) -> str | None:
    n, k = sample.articles, int(getattr(sample, name))
    ref_k = int(getattr(baseline, name))
    if not n or ref_k / baseline.articles - k / n < config.max_drop:
        return None
    p = quality_stats.count_below(k, n, ref_k, baseline.articles)
    if p >= config.rule_alpha:
        return None
    return f"{name} coverage {k / n:.2f} < baseline {baseline.share(name):.2f} ({k} of {n}, p {p:.1g})"


def _body(sample: Sample, history: Sequence[Sample], config: QualityConfig) -> tuple[str | None, str | None]:
    """The body-length rule: (its failure, or a note saying it waits for more articles)."""
    older = [n for run in history for n in run.body_lengths]  # newest run first
    borrowed = max(0, config.min_body - len(sample.body_lengths))  # too few: borrow from the newest runs
    recent, reference = sample.body_lengths + older[:borrowed], older[borrowed:]
    if len(recent) < config.min_body or len(reference) < config.min_baseline:
        note = (
            f"body length not judged yet: {len(recent)} recent articles (needs {config.min_body}), "
            f"{len(reference)} older ones (needs {config.min_baseline})"
        )
        return None, note
    median, usual = quantile(recent, 0.5), quantile(reference, 0.5)
    if median >= (1 - config.max_body_drop) * usual:
        return None, None
    p = quality_stats.shorter(recent, reference)
    if p >= config.rule_alpha:
        return None, None
    ratio = 1 - config.max_body_drop
    return f"body median {median} chars < {ratio:.2f} x baseline {usual} ({len(recent)} articles, p {p:.1g})", None
