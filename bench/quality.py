"""Article-body quality benchmark: ``python -m bench.quality``.

Scores extractors on the scrapinghub article-extraction-benchmark (136 pages,
``html/<id>.html.gz`` + ``ground-truth.json``) with the upstream metric
(see ``bench/metric.py``) and times them in the same run.

Rows: trafilatura ``include_comments=False`` (the baseline every time ratio is
relative to), ``favor_precision``, ``fast``, readability-lxml, and the
project's generic path ``crawler.generic.extract_generic``. Add rows by
appending to the list returned by ``default_extractors()``.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.metric import Scores, evaluate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BENCHMARK_DIR = REPO.parent / "shared" / "benchmarks" / "article-extraction-benchmark"

# An extractor gets the page HTML and its URL (if known) and returns the body text.
ExtractFn = Callable[[str, "str | None"], "str | None"]


@dataclass(frozen=True)
class Page:
    id: str
    html: str
    truth: str
    url: str | None


@dataclass(frozen=True)
class RowResult:
    name: str
    scores: Scores
    ms_per_page: float


def load_pages(benchmark_dir: Path, limit: int | None = None) -> list[Page]:
    """Load the benchmark pages (sorted by id), at most ``limit`` of them."""
    truth = json.loads((benchmark_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages: list[Page] = []
    for page_id in sorted(truth):
        if limit is not None and len(pages) >= limit:
            break
        with gzip.open(benchmark_dir / "html" / f"{page_id}.html.gz", "rt", encoding="utf-8") as f:
            html = f.read()
        item = truth[page_id]
        pages.append(Page(page_id, html, item.get("articleBody") or "", item.get("url")))
    return pages


def score_pages(pages: Sequence[Page], fn: ExtractFn, repeat: int = 1) -> tuple[Scores, float]:
    """Run ``fn`` on every page; return the scores and the best ms/page of ``repeat`` runs."""
    best = float("inf")
    preds: list[str | None] = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        preds = [fn(p.html, p.url) for p in pages]
        best = min(best, time.perf_counter() - start)
    scores = evaluate((p.truth, pred) for p, pred in zip(pages, preds, strict=True))
    return scores, best * 1000 / max(1, len(pages))


# --- extractors ------------------------------------------------------------


def trafilatura_fn(*, favor_precision: bool = False, fast: bool = False) -> ExtractFn:
    import trafilatura

    def run(html: str, url: str | None) -> str | None:
        return trafilatura.extract(html, include_comments=False, favor_precision=favor_precision, fast=fast)

    return run


def readability_text(html: str, url: str | None) -> str | None:
    """readability-lxml's summary as text, converted like upstream (html_text)."""
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    try:
        html_text = importlib.import_module("html_text")  # what upstream uses
    except ImportError:  # pragma: no cover - fallback when html-text is absent
        import lxml.html

        tree = lxml.html.fromstring(summary)
        for el in tree.iter("p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "blockquote"):
            el.tail = "\n" + (el.tail or "")
        text: str = tree.text_content()
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    result: str = html_text.extract_text(summary)
    return result


def generic_text(html: str, url: str | None) -> str | None:
    from crawler.generic import extract_generic

    result = extract_generic(html, url)
    return result.body if result else None


def default_extractors() -> list[tuple[str, ExtractFn]]:
    """The rows of the table, baseline first."""
    return [
        ("trafilatura include_comments=False", trafilatura_fn()),
        ("trafilatura favor_precision", trafilatura_fn(favor_precision=True)),
        ("trafilatura fast", trafilatura_fn(fast=True)),
        ("readability-lxml", readability_text),
        ("crawler.generic.extract_generic", generic_text),
    ]


def run_benchmark(
    pages: Sequence[Page],
    extractors: Sequence[tuple[str, ExtractFn]],
    repeat: int = 1,
    warmup: int = 3,
) -> list[RowResult]:
    # warm every extractor first (lazy imports, regex compilation, dateparser
    # locale loading) so that no row pays another's start-up cost
    for _, fn in extractors:
        for p in pages[:warmup]:
            fn(p.html, p.url)
    rows: list[RowResult] = []
    for name, fn in extractors:
        scores, ms = score_pages(pages, fn, repeat=repeat)
        rows.append(RowResult(name, scores, ms))
    return rows


def format_table(rows: Sequence[RowResult]) -> str:
    base_ms = rows[0].ms_per_page if rows else 0.0
    header = "| extractor path | P | R | F1 | accuracy | ms/page | time ratio |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in rows:
        s = r.scores
        ratio = r.ms_per_page / base_ms if base_ms else float("nan")
        lines.append(
            f"| {r.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
            f"| {s.accuracy:.3f} | {r.ms_per_page:.1f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--benchmark-dir", type=Path, default=DEFAULT_BENCHMARK_DIR)
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    parser.add_argument("--repeat", type=int, default=1, help="time each row N times, keep the best")
    args = parser.parse_args(argv)
    bdir: Path = args.benchmark_dir
    if not (bdir / "ground-truth.json").is_file():
        parser.error(f"no ground-truth.json in {bdir}")
    pages = load_pages(bdir, args.limit)
    rows = run_benchmark(pages, default_extractors(), repeat=args.repeat)
    print(f"{len(pages)} pages from {bdir}")
    print("time ratio: ms/page relative to trafilatura include_comments=False (first row)")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
