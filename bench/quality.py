"""Extraction quality benchmark: ``python -m bench.quality`` prints two tables.

1. Public pages: scores article bodies on the scrapinghub
   article-extraction-benchmark (136 pages, ``html/<id>.html.gz`` +
   ``ground-truth.json``) with the upstream metric (see ``bench/metric.py``) and
   times the extractors in the same run. Rows: trafilatura
   ``include_comments=False`` (the baseline every time ratio is relative to),
   ``favor_precision``, ``fast``, readability-lxml, and the project's generic
   path ``crawler.extract.generic.extract_generic``. Add rows by appending to the list
   returned by ``default_extractors()``.
2. Replica pages: every ``article`` route of ``tests/sites/<key>/`` (rendered
   as the real site serves it) against its reviewed golden record
   (``expected/<name>.json``). Body: shingle P/R/F1 of ``bench/metric.py``;
   title, lead, authors: share of exact matches (whitespace and Unicode form
   folded); date: same calendar day, and date+time: the same instant (n/a for
   trafilatura, which gives days only). Rows: the project's per-site path
   (``crawler.extract.article.extract`` with the site config), its generic path
   (``extract`` with ``site=None``, what a redesigned site gets) and
   trafilatura's own ``bare_extraction(with_metadata=True,
   include_comments=False)``, plain, ``favor_precision`` and ``fast``, as
   baselines; per site and over all sites. The golden records are the per-site
   path's reviewed output, so that row measures drift from them, not an
   independent truth.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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
    from crawler.extract.generic import extract_generic

    result = extract_generic(html, url)
    return result.body if result else None


def default_extractors() -> list[tuple[str, ExtractFn]]:
    """The rows of the table, baseline first."""
    return [
        ("trafilatura include_comments=False", trafilatura_fn()),
        ("trafilatura favor_precision", trafilatura_fn(favor_precision=True)),
        ("trafilatura fast", trafilatura_fn(fast=True)),
        ("readability-lxml", readability_text),
        ("crawler.extract.generic.extract_generic", generic_text),
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


# --- replica pages -----------------------------------------------------------

# A whole-article extractor: the page and its real URL -> the scored fields (title, lead,
# body, published_at, authors), or None when it finds no article.
ArticleFn = Callable[["ReplicaPage"], "dict[str, Any] | None"]
SCORED = ("title", "lead", "date", "datetime", "authors")


@dataclass(frozen=True)
class ReplicaPage:
    site: str
    name: str
    url: str
    html: bytes
    golden: dict[str, Any]


@dataclass(frozen=True)
class ReplicaRow:
    path: str
    site: str
    body: Scores
    exact: dict[str, float | None]  # field -> share of exact matches (None: not applicable)
    ms_per_page: float


def load_replica_pages(sites_dir: Path | None = None) -> list[ReplicaPage]:
    """Every article page of every replica, as the real site serves it, with its golden record."""
    from crawler.extract.urls import canonical_url
    from crawler.testing.replica import SITES_DIR, SiteReplica

    root = sites_dir or SITES_DIR
    pages: list[ReplicaPage] = []
    for folder in sorted(p for p in root.iterdir() if (p / "site.json").is_file()):
        site = SiteReplica(folder)
        for route in site.routes_of("article"):
            golden = json.loads((folder / "expected" / f"{route.name}.json").read_text(encoding="utf-8"))
            url = canonical_url(site.real_base + route.path)
            pages.append(ReplicaPage(site.key, str(route.name), url, site.render(route, site.real_base), golden))
    return pages


def project_fn(*, generic: bool) -> ArticleFn:
    """The project's extraction: the site's path, or (``generic``) the path a redesign gets."""
    from crawler.extract.article import NotArticle, extract
    from crawler.sites.registry import sites

    configs = sites()

    def run(page: ReplicaPage) -> dict[str, Any] | None:
        result = extract(page.html, page.url, None if generic else configs[page.site])
        if isinstance(result, NotArticle):
            return None
        return {k: getattr(result, k) for k in ("title", "lead", "body", "published_at", "authors")}

    return run


def trafilatura_article_fn(*, favor_precision: bool = False, fast: bool = False) -> ArticleFn:
    """trafilatura's own article and metadata extraction; its ``description`` stands for the lead."""
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    def run(page: ReplicaPage) -> dict[str, Any] | None:
        doc = bare_extraction(
            page.html.decode("utf-8"),
            url=page.url,
            include_comments=False,
            favor_precision=favor_precision,
            fast=fast,
            with_metadata=True,
        )
        if not isinstance(doc, Document) or not doc.text:
            return None
        authors = [a.strip() for a in (doc.author or "").replace(",", ";").split(";") if a.strip()]
        return {
            "title": doc.title,
            "lead": doc.description,
            "body": doc.text,
            "published_at": doc.date,
            "authors": authors,
        }

    return run


def replica_extractors() -> list[tuple[str, ArticleFn]]:
    return [
        ("project per-site path", project_fn(generic=False)),
        ("project generic path", project_fn(generic=True)),
        ("trafilatura include_comments=False", trafilatura_article_fn()),
        ("trafilatura favor_precision", trafilatura_article_fn(favor_precision=True)),
        ("trafilatura fast", trafilatura_article_fn(fast=True)),
    ]


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(unicodedata.normalize("NFC", value).split()) or None
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value


def _field_match(name: str, golden: dict[str, Any], pred: dict[str, Any] | None) -> bool | None:
    """Whether ``pred`` gets field ``name`` right; None when the extractor cannot give it."""
    got = (pred or {}).get("published_at" if name in ("date", "datetime") else name)
    if name == "date":
        return bool(got) and str(got)[:10] == str(golden["published_at"] or "")[:10]
    if name == "datetime":
        if pred is not None and got and "T" not in str(got):
            return None  # a day only
        return bool(got) and _instant(got) == _instant(golden["published_at"])
    want = golden[name]
    if name == "authors":
        return bool(_fold(list(got or [])) == _fold(list(want or [])))
    return bool(_fold(got) == _fold(want))


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def score_replica(pages: Sequence[ReplicaPage], fn: ArticleFn, path: str, site: str) -> ReplicaRow:
    start = time.perf_counter()
    preds = [fn(p) for p in pages]
    ms = (time.perf_counter() - start) * 1000 / max(1, len(pages))
    body = evaluate((p.golden["body"], (pred or {}).get("body")) for p, pred in zip(pages, preds, strict=True))
    exact: dict[str, float | None] = {}
    for name in SCORED:
        matches = [_field_match(name, p.golden, pred) for p, pred in zip(pages, preds, strict=True)]
        known = [m for m in matches if m is not None]
        exact[name] = sum(known) / len(known) if known and len(known) == len(matches) else None
    return ReplicaRow(path, site, body, exact, ms)


def run_replica_benchmark(
    pages: Sequence[ReplicaPage], extractors: Sequence[tuple[str, ArticleFn]]
) -> list[ReplicaRow]:
    """A row per (extractor path, site), then the path over all sites."""
    for _, fn in extractors:  # warm-up: lazy imports, dateparser locales
        fn(pages[0])
    rows: list[ReplicaRow] = []
    keys = sorted({p.site for p in pages})
    for name, fn in extractors:
        for key in keys:
            rows.append(score_replica([p for p in pages if p.site == key], fn, name, key))
        rows.append(score_replica(pages, fn, name, "all"))
    return rows


def format_replica_table(rows: Sequence[ReplicaRow]) -> str:
    header = "| extractor path | site | pages | body P | body R | body F1 | title | lead | date | date+time | authors | ms/page |"
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = " | ".join("n/a" if r.exact[n] is None else f"{r.exact[n]:.3f}" for n in SCORED)
        site = f"**{r.site}**" if r.site == "all" else r.site
        b = r.body
        lines.append(
            f"| {r.path} | {site} | {b.pages} | {b.precision:.3f} | {b.recall:.3f} | {b.f1:.3f} | {cells} "
            f"| {r.ms_per_page:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--benchmark-dir", type=Path, default=DEFAULT_BENCHMARK_DIR)
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    parser.add_argument("--repeat", type=int, default=1, help="time each row N times, keep the best")
    parser.add_argument(
        "--part", choices=("public", "replica", "all"), default="all", help="which table (default: both)"
    )
    args = parser.parse_args(argv)
    bdir: Path = args.benchmark_dir
    if args.part in ("public", "all"):
        if not (bdir / "ground-truth.json").is_file():
            parser.error(f"no ground-truth.json in {bdir} (--part replica needs none)")
        pages = load_pages(bdir, args.limit)
        rows = run_benchmark(pages, default_extractors(), repeat=args.repeat)
        print(f"Public pages: {len(pages)} pages from {bdir}")
        print("time ratio: ms/page relative to trafilatura include_comments=False (first row)")
        print(format_table(rows))
    if args.part in ("replica", "all"):
        replica_pages = load_replica_pages()
        sites = sorted({p.site for p in replica_pages})
        print(f"\nReplica pages: {len(replica_pages)} article pages of {', '.join(sites)} against their golden records")
        print("body: shingle P/R/F1; title, lead, date (day), date+time, authors: share of exact matches")
        print(format_replica_table(run_replica_benchmark(replica_pages, replica_extractors())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
