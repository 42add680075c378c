"""The one-sided tests behind the quality gate's rules (crawler/crawl/quality.py).

Each returns a p-value: how probable a run at least this bad is when the site is healthy. The
gate flags a rule when the p-value is below its share of ``NEWS_QUALITY_ALPHA``, so a healthy
run of any size trips a rule with at most that probability: a small run simply has too little
evidence to reach it.

- A count against the baseline's count (coverage, yield, generic share): Fisher's exact test
  on the 2x2 table (this run, the baseline) x (with, without). It accounts for both sample
  sizes: a baseline of 30 of 30 leads does not make 3 of 5 a certain fall.
- A count against an assumed share, when there is no baseline yet: the exact binomial test.
- Body lengths against the baseline's: the Mann-Whitney U (rank) test. It assumes nothing
  about the length distribution (bocongan's is bimodal: short alerts, long reports).

scipy is imported by the first test a run needs, not with the module: ``scipy.stats`` costs
about 0.7 s of CPU to import. The rules (crawler/crawl/quality_rules.py) test only a run whose
effect is already there (a share or a median worse than its threshold), so a healthy crawl never
imports it: a tenth of a 300-articles-per-site crawl's time on a busy machine (bench/RESULTS-perf.md).
"""

from __future__ import annotations


def count_below(k: int, n: int, ref_k: int, ref_n: int) -> float:
    """P-value of ``k`` of ``n`` being this far below ``ref_k`` of ``ref_n`` (one-sided Fisher)."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k, n - k], [ref_k, ref_n - ref_k]], alternative="less").pvalue)


def count_above(k: int, n: int, ref_k: int, ref_n: int) -> float:
    """P-value of ``k`` of ``n`` being this far above ``ref_k`` of ``ref_n`` (one-sided Fisher)."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k, n - k], [ref_k, ref_n - ref_k]], alternative="greater").pvalue)


def binomial_below(k: int, n: int, share: float) -> float:
    """P(X <= k) for X ~ Binomial(n, share): ``k`` of ``n`` against an assumed share."""
    from scipy.stats import binomtest

    return float(binomtest(k, n, share, alternative="less").pvalue)


def binomial_above(k: int, n: int, share: float) -> float:
    """P(X >= k) for X ~ Binomial(n, share)."""
    from scipy.stats import binomtest

    return float(binomtest(k, n, share, alternative="greater").pvalue)


def shorter(lengths: list[int], reference: list[int]) -> float:
    """P-value of ``lengths`` being shorter than ``reference`` (one-sided Mann-Whitney U)."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(lengths, reference, alternative="less").pvalue)
