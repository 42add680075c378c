"""Does the generic path generalise? ``python -m bench.quality --part general`` prints the answer.

Two data sets, used differently:

* the 136 pages of the article-extraction-benchmark (``bench/quality.py``), in ``K`` folds fixed
  by page id (``sha256("newscrawl-quality-fold:" + id)`` modulo ``K``). For every fold, the
  correction (none, or the edge trim with one of the thresholds of :data:`TRIM_GRID`) is
  **chosen** on the other ``K - 1`` folds and **measured** on the fold: the mean and spread of
  those out-of-fold figures are what the correction is worth on pages it was not chosen on.
  Ties go to the simplest (no correction first).
* the 884 pages of trafilatura's own evaluation set (``bench/benchmarks/trafilatura-eval``, see bench/datasets.py),
  never used to choose anything: the independent check. Scored by its snippets: a ``with``
  snippet found is a true positive, missing a false negative; a ``without`` snippet found is a
  false positive (whitespace-normalised text; a refused page misses all its ``with`` snippets).

Both tables also run plain ``trafilatura.extract(include_comments=False)`` and the product
(``crawler.extract_article(page, url)``, what ``newscrawl extract`` prints) page by page in turn,
in the same process, so the time ratio compares like with like.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import datasets
from bench.metric import Scores, evaluate
from storage.text import clean_text, shingles

DEFAULT_EVAL_DIR = datasets.eval_set()
K = 5
FOLD_SALT = "newscrawl-quality-fold:"
# (agreement, min_kept) of the edge trim; (0.6, 0.6) is the one the project used before.
TRIM_GRID: tuple[tuple[float, float], ...] = tuple(
    (a, k) for a in (0.5, 0.6, 0.7, 0.8, 0.9) for k in (0.5, 0.6, 0.7, 0.8)
)


@dataclass(frozen=True)
class EvalPage:
    """One page of trafilatura's evaluation set and its snippets."""

    url: str
    html: bytes
    with_: tuple[str, ...]
    without: tuple[str, ...]


def load_eval_pages(eval_dir: Path = DEFAULT_EVAL_DIR, limit: int | None = None) -> list[EvalPage]:
    """The pages of ``evaldata.json`` in URL order (raw bytes: the extractors decode them)."""
    data = json.loads((eval_dir / "evaldata.json").read_text(encoding="utf-8"))
    pages: list[EvalPage] = []
    for url in sorted(data):
        if limit is not None and len(pages) >= limit:
            break
        item = data[url]
        with gzip.open(eval_dir / "pages" / item["file"], "rb") as f:
            html = f.read()
        pages.append(EvalPage(url, html, tuple(item.get("with") or ()), tuple(item.get("without") or ())))
    return pages


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class SnippetCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, text: str | None, page: EvalPage) -> None:
        body = _norm(text or "")
        for snippet in page.with_:
            if text is not None and _norm(snippet) in body:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in page.without:
            if text is not None and _norm(snippet) in body:
                self.fp += 1
            else:
                self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def snippet_scores(texts: Sequence[str | None], pages: Sequence[EvalPage]) -> SnippetCounts:
    counts = SnippetCounts()
    for text, page in zip(texts, pages, strict=True):
        counts.add(text, page)
    return counts


# --- the candidates and the corrections ---------------------------------------


@dataclass(frozen=True)
class PageTexts:
    """Every text one page gives: plain trafilatura, the generic candidates, the product."""

    plain: str | None
    main: str | None  # trafilatura's full extraction as the generic path runs it
    reference: str  # the readability port's text (what the edge trim compares with)
    product: str | None  # the body of crawler.extract_article(page, url); None: refused or raised
    product_error: str = ""
    verdict: str | None = None  # the product's "not an article" reason, if any
    seconds: dict[str, float] = field(default_factory=dict)  # plain, product
    repeats: tuple[str, ...] = ()  # the record's title, lead and authors (for ``drop_repeats``)


Correction = Callable[[str, str], str]

_TOKEN_RE = re.compile(r"\w+")
_COVERED = 0.5  # a paragraph is covered when half its shingles are in the reference


def _shingles(tokens: list[str]) -> list[tuple[str, ...]]:
    return shingles(tokens, 4)


def edge_trim(main: str, reference: str, agreement: float = 0.6, min_kept: float = 0.6) -> str:
    """The correction ``crawler/extract/generic.py`` applied until 2026-12, kept here as a row.

    When the reference (readability) text and the main text describe the same article (at least
    ``agreement`` of the reference's 4-token shingles occur in the main text), cut the main
    text's leading and trailing paragraphs the reference does not cover, unless that keeps less
    than ``min_kept`` of the main text's tokens.
    """
    ref_tokens = _TOKEN_RE.findall(reference)
    main_tokens = _TOKEN_RE.findall(main)
    if not ref_tokens or not main_tokens:
        return main
    ref_shingles = _shingles(ref_tokens)
    whole = Counter(_shingles(main_tokens))
    hit = sum(min(n, whole[sh]) for sh, n in Counter(ref_shingles).items())
    if hit / len(ref_shingles) < agreement:
        return main
    ref_set = set(ref_shingles)
    ref_joined = f" {' '.join(ref_tokens)} "
    paragraphs = main.split("\n")

    def covered(i: int) -> bool:
        toks = _TOKEN_RE.findall(paragraphs[i])
        if not toks:
            return False
        if len(toks) < 4:
            return f" {' '.join(toks)} " in ref_joined
        sh = _shingles(toks)
        return sum(1 for x in sh if x in ref_set) >= _COVERED * len(sh)

    first = next((i for i in range(len(paragraphs)) if covered(i)), None)
    if first is None:
        return main
    last = next(i for i in range(len(paragraphs) - 1, first - 1, -1) if i == first or covered(i))
    if first == 0 and last == len(paragraphs) - 1:
        return main
    kept = "\n".join(paragraphs[first : last + 1])
    if len(_TOKEN_RE.findall(kept)) < min_kept * len(main_tokens):
        return main
    return kept


def correction(name: str) -> Correction:
    """The text a correction makes of (main, reference): ``none``, ``clean_text`` (the record's
    text hygiene), or ``edge_trim a/k``."""
    if name == "none":
        return lambda main, ref: main
    if name == "clean_text":
        return lambda main, ref: clean_text(main)
    agreement, kept = (float(x) for x in name.split(" ", 1)[1].split("/"))
    return lambda main, ref: edge_trim(main, ref, agreement, kept) if ref else main


def correction_names() -> list[str]:
    """The candidates of the cross-validation, simplest first: ties go to the earlier name."""
    return ["none", *(f"edge_trim {a}/{k}" for a, k in TRIM_GRID)]


def _reference(html: str | bytes) -> str:
    """trafilatura's bundled readability port on a fresh tree, as text (NFC, one line)."""
    from lxml.etree import tostring
    from trafilatura.external import try_readability
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return ""
    try:
        raw: bytes = tostring(try_readability(tree), method="text", encoding="utf-8")
    except Exception:  # the reference is optional, as it was in the generic path
        return ""
    return " ".join(unicodedata.normalize("NFC", raw.decode("utf-8")).split())


def page_texts(html: str | bytes, url: str) -> PageTexts:
    """Run plain trafilatura, the generic candidates and the product on one page."""
    import trafilatura

    from crawler.api import NotAnArticle, extract_item
    from crawler.extract.generic import candidates

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    plain = trafilatura.extract(html, url=url, include_comments=False)
    seconds["plain"] = time.perf_counter() - start
    start = time.perf_counter()
    product: str | None = None
    error = ""
    verdict: str | None = None
    repeats: tuple[str, ...] = ()
    try:
        item = extract_item(html, url)
        product = item.body
        verdict = item.verdict
        repeats = (item.title, item.lead or "", *item.authors)
    except NotAnArticle as exc:
        error = f"refused: {exc}"
    except Exception as exc:  # a crash is a finding, reported, not a stop
        error = f"crash: {type(exc).__name__}: {exc}"
    seconds["product"] = time.perf_counter() - start
    found = candidates(html, url)
    return PageTexts(
        plain=plain,
        main=found.main if found else None,
        reference=_reference(html),
        product=product,
        product_error=error,
        verdict=verdict,
        seconds=seconds,
        repeats=repeats,
    )


def corrected(texts: Sequence[PageTexts], name: str) -> list[str | None]:
    """Every page's text after correction ``name``; ``drop_repeats`` is the record's step that the
    site path applies (body lines repeating the title, lead or an author dropped), on
    ``clean_text``."""
    if name == "drop_repeats":
        from crawler.extract.article import _drop_repeats

        return [None if t.main is None else _drop_repeats(clean_text(t.main), t.repeats) for t in texts]
    fix = correction(name)
    return [None if t.main is None else fix(t.main, t.reference) for t in texts]


# --- cross-validation on the 136 ------------------------------------------------


def fold_of(page_id: str, k: int = K) -> int:
    return int(hashlib.sha256((FOLD_SALT + page_id).encode("utf-8")).hexdigest(), 16) % k


@dataclass(frozen=True)
class FoldResult:
    fold: int
    pages: int
    chosen: str  # chosen on the other folds
    chosen_f1: float  # measured on this fold
    none_f1: float  # no correction, this fold
    plain_f1: float  # plain trafilatura, this fold
    product_f1: float  # crawler.extract_article as shipped, this fold


def cross_validate(
    ids: Sequence[str], truths: Sequence[str], texts: Sequence[PageTexts], k: int = K
) -> list[FoldResult]:
    names = correction_names()
    outputs = {name: corrected(texts, name) for name in names}
    folds = [fold_of(i, k) for i in ids]

    def f1(rows: list[int], preds: Sequence[str | None]) -> float:
        return evaluate((truths[i], preds[i]) for i in rows).f1

    results: list[FoldResult] = []
    for fold in range(k):
        test = [i for i, f in enumerate(folds) if f == fold]
        train = [i for i, f in enumerate(folds) if f != fold]
        best = max(names, key=lambda n: (round(f1(train, outputs[n]), 6), -names.index(n)))
        results.append(
            FoldResult(
                fold=fold,
                pages=len(test),
                chosen=best,
                chosen_f1=f1(test, outputs[best]),
                none_f1=f1(test, outputs["none"]),
                plain_f1=f1(test, [t.plain for t in texts]),
                product_f1=f1(test, [t.product for t in texts]),
            )
        )
    return results


def chosen_on_all(truths: Sequence[str], texts: Sequence[PageTexts]) -> tuple[str, dict[str, Scores]]:
    """The correction the 136 pages choose as a whole, and every correction's scores there."""
    names = correction_names()
    scores = {n: evaluate(zip(truths, corrected(texts, n), strict=True)) for n in names}
    best = max(names, key=lambda n: (round(scores[n].f1, 6), -names.index(n)))
    return best, scores


def _mean_sd(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}" if len(values) > 1 else f"{values[0]:.4f}"


def format_folds(results: Sequence[FoldResult]) -> str:
    lines = [
        "| fold | pages | correction chosen on the other folds | its F1 on this fold | no correction "
        "| plain trafilatura | extract_article (shipped) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.fold} | {r.pages} | {r.chosen} | {r.chosen_f1:.4f} | {r.none_f1:.4f} | {r.plain_f1:.4f} "
            f"| {r.product_f1:.4f} |"
        )
    lines.append(
        f"| mean ± sd | {sum(r.pages for r in results)} | | {_mean_sd([r.chosen_f1 for r in results])} "
        f"| {_mean_sd([r.none_f1 for r in results])} | {_mean_sd([r.plain_f1 for r in results])} "
        f"| {_mean_sd([r.product_f1 for r in results])} |"
    )
    gain = [r.chosen_f1 - r.none_f1 for r in results]
    lines.append(
        f"\nout-of-fold gain of the chosen correction over none: {_mean_sd(gain)} (per fold: "
        + ", ".join(f"{g:+.4f}" for g in gain)
        + ")"
    )
    over_plain = [r.product_f1 - r.plain_f1 for r in results]
    lines.append(
        "extract_article (shipped) minus plain trafilatura, per fold: "
        + ", ".join(f"{g:+.4f}" for g in over_plain)
        + f"; mean ± sd {_mean_sd(over_plain)}"
    )
    return "\n".join(lines)


def snippet_row(name: str, counts: SnippetCounts, refused: int, crashed: int, ms: float, base_ms: float) -> str:
    timed = ms == ms  # nan: a row computed from another row's run, not timed on its own
    ms_cell, ratio_cell = (f"{ms:.1f}", f"{ms / base_ms:.2f}x") if timed and base_ms else ("n/a", "n/a")
    return (
        f"| {name} | {counts.precision:.3f} | {counts.recall:.3f} | {counts.f1:.4f} | {counts.accuracy:.3f} "
        f"| {refused} | {crashed} | {ms_cell} | {ratio_cell} |"
    )


SNIPPET_HEADER = (
    "| extractor path | P | R | F1 | accuracy | refused | crashed | ms/page | time ratio |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def run_texts(
    items: Sequence[tuple[str | bytes, str]], progress: Callable[[int], None] | None = None
) -> list[PageTexts]:
    """``page_texts`` of every (html, url), after a warm-up on the first three."""
    for html, url in items[:3]:
        page_texts(html, url)
    out: list[PageTexts] = []
    for n, (html, url) in enumerate(items):
        out.append(page_texts(html, url))
        if progress is not None:
            progress(n)
    return out


def ms_per_page(texts: Sequence[PageTexts], key: str) -> float:
    return sum(t.seconds[key] for t in texts) * 1000 / max(1, len(texts))


def report(
    public_ids: Sequence[str],
    public_truths: Sequence[str],
    public: Sequence[PageTexts],
    eval_pages: Sequence[EvalPage],
    evaluated: Sequence[PageTexts],
) -> str:
    """The whole printed report of ``--part general``."""
    out: list[str] = []
    folds = cross_validate(public_ids, public_truths, public)
    best, scores = chosen_on_all(public_truths, public)
    out.append(f"Cross-validation: {len(public)} public pages, {K} folds by sha256({FOLD_SALT!r} + id) mod {K}")
    out.append("chosen on: the other folds; measured on: the fold (shingle F1, bench/metric.py)")
    out.append(format_folds(folds))
    # the record's own step on top of the text: title, lead and byline lines dropped from the body
    ids_folds = [fold_of(i) for i in public_ids]
    cleaned = corrected(public, "clean_text")
    dropped = corrected(public, "drop_repeats")
    drops = []
    for fold in range(K):
        rows = [i for i, f in enumerate(ids_folds) if f == fold]
        with_step = evaluate((public_truths[i], dropped[i]) for i in rows).f1
        without = evaluate((public_truths[i], cleaned[i]) for i in rows).f1
        drops.append(with_step - without)
    out.append(
        "record step 'drop the body lines that repeat the title, lead or byline' (no parameter, nothing "
        f"chosen), per fold: {', '.join(f'{g:+.4f}' for g in drops)}; mean ± sd {_mean_sd(drops)}"
    )
    out.append(f"\nchosen on all {len(public)} pages: {best}")
    for name in dict.fromkeys(("none", "edge_trim 0.6/0.6", best)):
        sc = scores[name]
        out.append(
            f"  {name}: F1 {sc.f1:.4f} (P {sc.precision:.3f} R {sc.recall:.3f}) on all {len(public)}, chosen there"
        )
    base = ms_per_page(public, "plain")
    refused = sum(1 for t in public if t.product is None)
    crashed = sum(1 for t in public if t.product_error.startswith("crash"))
    plain = evaluate(zip(public_truths, [t.plain for t in public], strict=True))
    product = evaluate(zip(public_truths, [t.product for t in public], strict=True))
    out.append(
        f"\nall {len(public)} pages: plain trafilatura F1 {plain.f1:.4f} (P {plain.precision:.3f} R {plain.recall:.3f}) "
        f"{base:.1f} ms/page; extract_article F1 {product.f1:.4f} (P {product.precision:.3f} R {product.recall:.3f}) "
        f"{ms_per_page(public, 'product'):.1f} ms/page ({ms_per_page(public, 'product') / base:.2f}x); "
        f"refused {refused}, crashed {crashed}, judged not an article {sum(1 for t in public if t.verdict)}"
    )
    # the independent check
    base = ms_per_page(evaluated, "plain")
    out.append(f"\nIndependent check: {len(eval_pages)} pages of trafilatura-eval, chosen on: nothing here")
    out.append(SNIPPET_HEADER)
    out.append(
        snippet_row(
            "trafilatura extract include_comments=False",
            snippet_scores([t.plain for t in evaluated], eval_pages),
            sum(1 for t in evaluated if t.plain is None),
            0,
            base,
            base,
        )
    )
    for name in dict.fromkeys(("none", "clean_text", "drop_repeats", "edge_trim 0.6/0.6", best)):
        out.append(
            snippet_row(
                f"generic text, correction {name}",
                snippet_scores(corrected(evaluated, name), eval_pages),
                sum(1 for t in evaluated if t.main is None),
                0,
                float("nan"),
                base,
            )
        )
    out.append(
        snippet_row(
            "crawler.extract_article (shipped)",
            snippet_scores([t.product for t in evaluated], eval_pages),
            sum(1 for t in evaluated if t.product_error.startswith("refused")),
            sum(1 for t in evaluated if t.product_error.startswith("crash")),
            ms_per_page(evaluated, "product"),
            base,
        )
    )
    verdicts = sum(1 for t in evaluated if t.verdict)
    out.append(
        f"records judged not an article (verdict set, the record still returned): {verdicts} of {len(evaluated)}"
    )
    for t, p in zip(evaluated, eval_pages, strict=True):
        if t.product_error:
            out.append(f"  {p.url}: {t.product_error}")
    return "\n".join(out)
