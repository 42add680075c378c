"""Extraction quality benchmark: ``python -m bench.quality`` prints the tables.

1. Public pages: the body text of the scrapinghub article-extraction-benchmark's 136 pages
   (``html/<id>.html.gz`` + ``ground-truth.json``) scored with the upstream metric (see
   ``bench/metric.py``), split into a **tuning** half and a **held-out** half fixed by page id
   (``bench/split.py``, lists in ``bench/quality-split.json``). Every extractor runs on every
   page in the same process; each table gives P/R/F1, exact-match accuracy, how many pages the
   extractor refused (no result: ``None``, or "not an article") or returned empty (no word),
   ms/page and the time ratio against trafilatura ``extract(include_comments=False)``, the
   first row. Rows: trafilatura ``extract`` (plain, ``fast``), trafilatura ``bare_extraction``
   (``with_metadata=True``, what the generic path builds on), readability-lxml, the inner
   generic function ``crawler.extract.generic.extract_generic``, and ``newscrawl extract`` as users run
   it (``--url URL FILE``, no ``--site``): ``crawler.cli.main`` with those arguments on the
   page saved to a file, its JSON record's ``body`` scored. Pages the CLI refuses are listed
   with the reason it printed.
2. Generalisation (``--part general``, ``bench/general.py``): the corrections of the generic
   path cross-validated on the 136 pages (5 folds) and checked on trafilatura's own evaluation
   set (884 pages, ``bench/benchmarks/trafilatura-eval``), beside plain trafilatura in the
   same run.
3. Replica pages: every ``article`` route of ``tests/sites/<key>/`` (rendered
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
import contextlib
import gzip
import importlib
import io
import json
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import datasets
from bench.metric import Scores, evaluate
from bench.split import written_split

DEFAULT_BENCHMARK_DIR = datasets.article_set()
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Page:
    id: str
    html: str
    truth: str
    url: str | None


@dataclass(frozen=True)
class Outcome:
    """One extractor's answer for one page: the body text, or None and why it refused."""

    text: str | None
    reason: str = ""


# An extractor gets a page and returns its body text (or refuses).
PageFn = Callable[[Page], Outcome]
# The older, simpler form: (html, url) -> body text or None.
ExtractFn = Callable[[str, "str | None"], "str | None"]


@dataclass(frozen=True)
class RowResult:
    name: str
    scores: Scores
    ms_per_page: float
    refused: list[tuple[str, str]] = field(default_factory=list)  # (page id, reason)
    empty: list[str] = field(default_factory=list)


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


def split_pages(pages: Sequence[Page]) -> dict[str, list[Page]]:
    """The pages of each half of the written split (``tuning``, ``held_out``), in id order."""
    split = written_split()
    by_id = {p.id: p for p in pages}
    return {half: [by_id[i] for i in ids if i in by_id] for half, ids in split.items()}


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


def _plain(fn: ExtractFn) -> PageFn:
    def run(page: Page) -> Outcome:
        text = fn(page.html, page.url)
        return Outcome(text, "" if text is not None else "returned None")

    return run


def trafilatura_fn(*, favor_precision: bool = False, fast: bool = False) -> ExtractFn:
    import trafilatura

    def run(html: str, url: str | None) -> str | None:
        return trafilatura.extract(html, include_comments=False, favor_precision=favor_precision, fast=fast)

    return run


def trafilatura_bare_text(html: str, url: str | None) -> str | None:
    """trafilatura ``bare_extraction`` as the generic path calls it, without the edge trim."""
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    doc = bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    return doc.text if isinstance(doc, Document) else None


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


def extract_no_site(page: Page) -> Outcome:
    """``crawler.extract.article.extract(page, url, None)``: what ``newscrawl extract`` runs, in process."""
    from crawler.extract.article import Rejection, extract
    from crawler.extract.urls import canonical_url

    result = extract(page.html.encode("utf-8"), canonical_url(page.url or ""), None)
    if isinstance(result, Rejection):
        return Outcome(None, f"{result.reason}: {result.detail}")
    return Outcome(result.body)


def generic_text(html: str, url: str | None) -> str | None:
    from crawler.extract.generic import extract_generic

    result = extract_generic(html, url)
    return result.body if result else None


class CliExtractor:
    """``newscrawl extract --generic --url URL FILE`` exactly as the console script runs it.

    Calls ``crawler.cli.main`` (the ``newscrawl`` entry point in pyproject.toml) with those
    arguments in this process, so interpreter start-up is not timed; the page is saved to a
    file first, as a user would have it. A test checks that a subprocess ``python -m
    crawler.cli extract`` prints the same record.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-quality-")
        self._files: dict[str, Path] = {}

    def file_of(self, page: Page) -> Path:
        path = self._files.get(page.id)
        if path is None:
            path = Path(self._dir.name) / f"{page.id}.html"
            path.write_text(page.html, encoding="utf-8")
            self._files[page.id] = path
        return path

    def __call__(self, page: Page) -> Outcome:
        record, error = run_cli_extract(self.file_of(page), page.url or "")
        if record is None:
            return Outcome(None, error)
        return Outcome(str(record.get("body") or ""))

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> CliExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_cli_extract(path: Path, url: str, strict: bool = False) -> tuple[dict[str, Any] | None, str]:
    """(record, its stderr) when ``newscrawl extract --generic --url URL PATH`` prints one, else
    (None, its error line). ``strict`` adds ``--strict``."""
    from crawler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        # --generic: the URL names a crawled site, and this row measures the generic path.
        code = main(["extract", "--generic", "--url", url, *(["--strict"] if strict else []), str(path)])
    if code != 0:
        return None, err.getvalue().strip() or f"exit {code}"
    record: dict[str, Any] = json.loads(out.getvalue())
    return record, err.getvalue().strip()


def default_extractors() -> list[tuple[str, PageFn]]:
    """The rows of the table, baseline first."""
    return [
        ("trafilatura extract include_comments=False", _plain(trafilatura_fn())),
        ("trafilatura extract fast", _plain(trafilatura_fn(fast=True))),
        ("trafilatura bare_extraction", _plain(trafilatura_bare_text)),
        ("readability-lxml", _plain(readability_text)),
        ("crawler.extract.generic.extract_generic", _plain(generic_text)),
        ("crawler.extract.article.extract, no site", extract_no_site),
        ("newscrawl extract (CLI, no --site)", CliExtractor()),
    ]


@dataclass(frozen=True)
class PageRun:
    """Every page's outcome and best time (seconds) for one extractor."""

    name: str
    outcomes: dict[str, Outcome]
    seconds: dict[str, float]


def run_extractors(
    pages: Sequence[Page], extractors: Sequence[tuple[str, PageFn]], repeat: int = 1, warmup: int = 3
) -> list[PageRun]:
    """Run every extractor on every page; per page keep the best time of ``repeat`` runs."""
    # warm every extractor first (lazy imports, regex compilation, dateparser
    # locale loading) so that no row pays another's start-up cost
    for _, fn in extractors:
        for p in pages[:warmup]:
            fn(p)
    outcomes: dict[str, dict[str, Outcome]] = {name: {} for name, _ in extractors}
    seconds: dict[str, dict[str, float]] = {name: {} for name, _ in extractors}
    # page by page, every extractor in turn: load from other processes on the machine then
    # slows all rows alike instead of whichever row happened to run during it
    for _ in range(max(1, repeat)):
        for p in pages:
            for name, fn in extractors:
                start = time.perf_counter()
                outcomes[name][p.id] = fn(p)
                took = time.perf_counter() - start
                seconds[name][p.id] = min(took, seconds[name].get(p.id, took))
    runs = [PageRun(name, outcomes[name], seconds[name]) for name, _ in extractors]
    return runs


def _is_empty(text: str | None) -> bool:
    return text is not None and not _WORD.search(text)


def table_rows(pages: Sequence[Page], runs: Sequence[PageRun]) -> list[RowResult]:
    """One row per extractor over ``pages``."""
    rows: list[RowResult] = []
    for run in runs:
        outcomes = [run.outcomes[p.id] for p in pages]
        scores = evaluate((p.truth, o.text) for p, o in zip(pages, outcomes, strict=True))
        ms = sum(run.seconds[p.id] for p in pages) * 1000 / max(1, len(pages))
        refused = [(p.id, o.reason) for p, o in zip(pages, outcomes, strict=True) if o.text is None]
        empty = [p.id for p, o in zip(pages, outcomes, strict=True) if _is_empty(o.text)]
        rows.append(RowResult(run.name, scores, ms, refused, empty))
    return rows


def run_benchmark(
    pages: Sequence[Page], extractors: Sequence[tuple[str, PageFn]], repeat: int = 1, warmup: int = 3
) -> list[RowResult]:
    """The rows over all ``pages`` (one table)."""
    return table_rows(pages, run_extractors(pages, extractors, repeat=repeat, warmup=warmup))


def format_table(rows: Sequence[RowResult]) -> str:
    base_ms = rows[0].ms_per_page if rows else 0.0
    header = "| extractor path | P | R | F1 | accuracy | refused | empty | ms/page | time ratio |"
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        s = r.scores
        ratio = r.ms_per_page / base_ms if base_ms else float("nan")
        lines.append(
            f"| {r.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
            f"| {s.accuracy:.3f} | {len(r.refused)} | {len(r.empty)} | {r.ms_per_page:.1f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def goal_lines(rows: Sequence[RowResult]) -> Iterator[str]:
    """The project's rows against the goal (F1 >= 0.970, nothing refused, <= 1.5x), F1 to 4 places."""
    base_ms = rows[0].ms_per_page if rows else 0.0
    for r in rows[-3:]:
        ratio = r.ms_per_page / base_ms if base_ms else float("nan")
        met = r.scores.f1 >= 0.970 and not r.refused and ratio <= 1.5
        yield (
            f"goal {'met' if met else 'MISSED'}: {r.name}: F1 {r.scores.f1:.4f}, refused {len(r.refused)} "
            f"of {r.scores.pages}, {ratio:.2f}x trafilatura's time"
        )


def format_refusals(rows: Sequence[RowResult], pages: Sequence[Page]) -> Iterator[str]:
    urls = {p.id: p.url for p in pages}
    for r in rows:
        for page_id, reason in r.refused:
            yield f"  {r.name}: {page_id[:12]} {urls.get(page_id)}: {reason}"


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
    from crawler.extract.article import Rejection, extract
    from crawler.sites.registry import sites

    configs = sites()

    def run(page: ReplicaPage) -> dict[str, Any] | None:
        result = extract(page.html, page.url, None if generic else configs[page.site])
        if isinstance(result, Rejection):
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
        want_value = str(golden["published_at"] or "")
        if "T" not in want_value:
            return bool(got) and str(got) == want_value  # the page gives a day: so must the record
        if pred is not None and got and "T" not in str(got):
            return None  # a day only
        return bool(got) and _instant(got) == _instant(want_value)
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
    parser.add_argument("--repeat", type=int, default=1, help="time each page N times, keep the best")
    parser.add_argument(
        "--part",
        choices=("public", "replica", "general", "all"),
        default="all",
        help="which tables (default: all; general: cross-validation and trafilatura-eval, bench/general.py)",
    )
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=None,
        help="trafilatura-eval (default: bench/benchmarks, see bench/datasets.py)",
    )
    parser.add_argument("--eval-limit", type=int, default=None, help="only the first N trafilatura-eval pages")
    parser.add_argument("--save", type=Path, default=None, help="--part general: also write every page's texts here")
    args = parser.parse_args(argv)
    bdir: Path = args.benchmark_dir
    if args.part in ("public", "all"):
        if not (bdir / "ground-truth.json").is_file():
            parser.error(f"no ground-truth.json in {bdir} (--part replica needs none)")
        pages = load_pages(bdir)
        extractors = default_extractors()
        try:
            runs = run_extractors(pages, extractors, repeat=args.repeat)
        finally:
            for _, fn in extractors:
                if isinstance(fn, CliExtractor):
                    fn.close()
        halves = split_pages(pages)
        print(f"Public pages: {len(pages)} pages from {bdir}")
        print("split: bench/quality-split.json (rule in bench/split.py); tuned on the tuning half only")
        print("time ratio: ms/page relative to trafilatura extract include_comments=False (first row)")
        for title, part in (
            (f"tuning half ({len(halves['tuning'])} pages)", halves["tuning"]),
            (f"held-out half ({len(halves['held_out'])} pages)", halves["held_out"]),
            (f"all pages ({len(pages)})", pages),
        ):
            rows = table_rows(part, runs)
            print(f"\n{title}")
            print(format_table(rows))
            refusals = list(format_refusals(rows[-3:], part))
            if refusals:
                print("refused by the project's paths:")
                print("\n".join(refusals))
            print("\n".join(goal_lines(rows)))
    if args.part in ("general", "all"):
        _general(args, parser)
    if args.part in ("replica", "all"):
        replica_pages = load_replica_pages()
        sites = sorted({p.site for p in replica_pages})
        print(f"\nReplica pages: {len(replica_pages)} article pages of {', '.join(sites)} against their golden records")
        print("body: shingle P/R/F1; title, lead, date (day), date+time, authors: share of exact matches")
        print(format_replica_table(run_replica_benchmark(replica_pages, replica_extractors())))
    return 0


def _general(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--part general``: the cross-validated 136 and the independent trafilatura-eval check."""
    import dataclasses
    import sys

    from bench import general

    bdir: Path = args.benchmark_dir
    edir: Path = args.eval_dir or general.DEFAULT_EVAL_DIR
    for need in (bdir / "ground-truth.json", edir / "evaldata.json"):
        if not need.is_file():
            parser.error(f"--part general needs {need}")
    pages = load_pages(bdir)
    eval_pages = general.load_eval_pages(edir, args.eval_limit)

    def progress(n: int) -> None:
        if n % 100 == 99:
            print(f"  ... {n + 1} pages", file=sys.stderr, flush=True)

    public = general.run_texts([(p.html, p.url or "") for p in pages])
    evaluated = general.run_texts([(p.html, p.url) for p in eval_pages], progress)
    print(general.report([p.id for p in pages], [p.truth for p in pages], public, eval_pages, evaluated))
    if args.save:
        data = {
            "public": {p.id: dataclasses.asdict(t) for p, t in zip(pages, public, strict=True)},
            "eval": {p.url: dataclasses.asdict(t) for p, t in zip(eval_pages, evaluated, strict=True)},
        }
        args.save.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
