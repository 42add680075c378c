"""Article-body quality metric of the scrapinghub article-extraction-benchmark.

A faithful reimplementation of the upstream ``evaluate.py``:

* tokens are ``\\w+`` runs (Unicode);
* shingles are overlapping 4-token tuples; a text of fewer than 4 tokens is a
  single short shingle; an empty text has no shingle at all;
* per page, TP/FP/FN are counted over the shingle multisets and normalised by
  their sum so that every page weighs the same;
* precision is averaged over the pages with ``tp + fp > 0``, recall over the
  pages with ``tp + fn > 0``; F1 is the harmonic mean of the two averages;
* accuracy is the share of pages whose whole token sequence matches exactly.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.text import shingles

TpFpFn = tuple[float, float, float]

_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def tokenize(text: str | None) -> list[str]:
    """Split a text into ``\\w+`` tokens (None counts as the empty text)."""
    return _TOKEN_RE.findall(text or "")


def ngrams(text: str | None, n: int = 4) -> list[tuple[str, ...]]:
    """Overlapping ``n``-token shingles; a shorter non-empty text is one shingle."""
    return shingles(tokenize(text), n)


def shingle_matching(true: str | None, pred: str | None, ngram_n: int = 4) -> TpFpFn:
    """TP/FP/FN over the shingle multisets, normalised by their sum."""
    true_sh = Counter(ngrams(true, ngram_n))
    pred_sh = Counter(ngrams(pred, ngram_n))
    tp = fp = fn = 0.0
    for key in set(true_sh) | set(pred_sh):
        t = true_sh.get(key, 0)
        p = pred_sh.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    s = tp + fp + fn
    if s > 0:
        return (tp / s, fp / s, fn / s)
    return (tp, fp, fn)


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def accuracy_score(true: str | None, pred: str | None) -> float:
    """1.0 when the whole token sequences are equal, else 0.0."""
    return float(tokenize(true) == tokenize(pred))


def page_f1(true: str | None, pred: str | None) -> float:
    """F1 of a single page (handy for diagnostics, not part of upstream)."""
    tp, fp, fn = shingle_matching(true, pred)
    p = precision_score(tp, fp, fn)
    r = recall_score(tp, fp, fn)
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def aggregate(tp_fp_fns: Sequence[TpFpFn], accuracies: Sequence[float]) -> Scores:
    """Average P and R over pages (upstream rules), F1 of the two averages."""
    precisions = [precision_score(*x) for x in tp_fp_fns if x[0] + x[1] > 0]
    recalls = [recall_score(*x) for x in tp_fp_fns if x[0] + x[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    accuracy = statistics.mean(accuracies) if accuracies else 0.0
    return Scores(precision, recall, f1, accuracy, len(tp_fp_fns))


def evaluate(pairs: Iterable[tuple[str | None, str | None]]) -> Scores:
    """Score ``(true, pred)`` article-body pairs, one per page."""
    tp_fp_fns: list[TpFpFn] = []
    accuracies: list[float] = []
    for true, pred in pairs:
        tp_fp_fns.append(shingle_matching(true, pred))
        accuracies.append(accuracy_score(true, pred))
    return aggregate(tp_fp_fns, accuracies)
