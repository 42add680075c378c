"""The quality gate's false-alarm rate on random healthy runs, and its power on real breakage (issue 22).

A synthetic healthy site (``healthy_run``): body lengths from two kinds of article (short
alerts and long reports, as bocongan prints), a lead on 95 % of articles, authors on 60 %, 3 %
through the generic path, 90 % of article pages giving an article. Each seed draws a history
of healthy runs (sometimes none: a site's first runs) and a pool of 1 to 30 article pages, and
asks the gate for its verdict. The documented rates (crawler/crawl/quality.py) are an upper
bound per judged pool: ``NEWS_QUALITY_ALPHA`` for the gate, ``alpha / 7`` for each rule.

Margins: if the true rate were exactly the bound, the count of false alarms over N judged
pools would be Binomial(N, bound); the test allows up to that distribution's 99.9th
percentile. The seeds are fixed, so the test is deterministic; the margin says a pass is no
lucky draw. The same gate then has to catch, on every seed, a normal run (20 to 30 articles)
after a template change: all bodies through the generic path, bodies cut to a teaser (1/5),
no lead.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from scipy.stats import binom

from crawler.crawl.quality import RULES, QualityConfig, Sample, Verdict, judge
from crawler.crawl.runner import project_settings

CONFIG = QualityConfig.from_settings(project_settings())
SEEDS = range(600)
# The healthy site: the share of articles with each field, and the yield of article pages.
SHARES = {"generic": 0.03, "lead": 0.95, "date": 0.98, "authors": 0.6, "images": 0.85}
YIELD = 0.9


def body_length(rng: random.Random) -> int:
    """A third short alerts (~900 chars), the rest reports (~2100), both log-normal."""
    return round(rng.lognormvariate(6.8, 0.2) if rng.random() < 0.3 else rng.lognormvariate(7.65, 0.25))


def healthy_run(rng: random.Random, pages: int) -> Sample:
    run = Sample(pages=pages)
    for _ in range(pages):
        if rng.random() >= YIELD:
            continue
        run.articles += 1
        for name, share in SHARES.items():
            setattr(run, name, getattr(run, name) + (rng.random() < share))
        run.body_lengths.append(body_length(rng))
    return run


def history(rng: random.Random) -> list[Sample]:
    """0 to 12 healthy runs of 1 to 25 article pages, newest first (a fifth of seeds: none)."""
    if rng.random() < 0.2:
        return []
    return [healthy_run(rng, rng.randint(1, 25)) for _ in range(rng.randint(1, 12))]


def rule_of(reason: str) -> str:
    return next(rule for rule in RULES if reason.startswith(rule))


def allowed(judged: int, rate: float) -> int:
    """False alarms a rate of ``rate`` exceeds over ``judged`` pools with probability 0.001."""
    return int(binom.ppf(0.999, judged, rate))


def test_healthy_small_runs_raise_no_more_false_alarms_than_documented() -> None:
    verdicts: list[Verdict] = []
    for seed in SEEDS:
        rng = random.Random(seed)
        past = history(rng)
        verdicts.append(judge(healthy_run(rng, rng.randint(1, 30)), past, CONFIG))
    judged = [v for v in verdicts if v.judged]
    alarms = [v for v in judged if v.healthy is False]
    by_rule = Counter(rule_of(reason) for v in alarms for reason in v.reasons)
    assert len(judged) >= 400, "most pools are big enough to judge"
    assert len(verdicts) - len(judged) >= 40, "small pools are pending, never unhealthy"
    assert len(alarms) <= allowed(len(judged), CONFIG.alpha), [v.reasons for v in alarms]
    for rule in RULES:
        assert by_rule[rule] <= allowed(len(judged), CONFIG.rule_alpha), (rule, [v.reasons for v in alarms])
    # Measured: 0 alarms in these 517 judged pools; 19 in 17,358 over 20,000 seeds (0.11 %, each
    # rule at most 0.04 %): the effect sizes keep the gate well under its bound. The gate before
    # issue 22 raised 17 here (authors 7, images 5, extracted 2, body 2, lead 1), over the limit.


def broken(change: Callable[[Sample], Sample]) -> list[Verdict]:
    """The verdict on a normal run (20 to 30 articles) changed by ``change``, per seed."""
    verdicts = []
    for seed in SEEDS[:200]:
        rng = random.Random(seed)
        past = [healthy_run(rng, rng.randint(10, 25)) for _ in range(rng.randint(2, 12))]
        run = healthy_run(rng, rng.randint(22, 33))
        while not 20 <= run.articles <= 30:  # a normal run, not a small one
            run = healthy_run(rng, rng.randint(22, 33))
        verdicts.append(judge(change(run), past, CONFIG))
    return verdicts


def test_a_template_change_still_trips_the_gate_on_a_normal_run() -> None:
    changes: dict[str, Callable[[Sample], Sample]] = {
        "generic": lambda run: replace(run, generic=run.articles),
        "body": lambda run: replace(run, body_lengths=[n // 5 for n in run.body_lengths]),
        "lead": lambda run: replace(run, lead=0),
    }
    for rule, change in changes.items():
        verdicts = broken(change)
        missed = [v for v in verdicts if v.healthy is not False or rule not in map(rule_of, v.reasons)]
        assert not missed, (rule, missed[:3])
    # The unchanged runs are healthy: what trips above is the change.
    assert all(v.healthy for v in broken(lambda run: run))
