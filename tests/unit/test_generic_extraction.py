"""Tests of the benchmark metric and of the generic article extractor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import datasets
from bench.metric import (
    accuracy_score,
    evaluate,
    ngrams,
    shingle_matching,
    tokenize,
)
from crawler.extract.generic import GenericResult, extract_generic

BENCHMARK_DIR = datasets.article_set()
EVAL_DIR = datasets.eval_set()

# --- (a) the metric on hand-made texts ---------------------------------------


def test_tokenize_is_unicode_words() -> None:
    assert tokenize("Công an, Hà Nội: 2024!") == ["Công", "an", "Hà", "Nội", "2024"]
    assert tokenize(None) == []


def test_shingles_overlap_and_short_text() -> None:
    assert ngrams("a b c d e") == [("a", "b", "c", "d"), ("b", "c", "d", "e")]
    assert ngrams("a b") == [("a", "b")]  # under 4 tokens: one short shingle
    assert ngrams("") == []


def test_exact_match() -> None:
    text = "one two three four five six"
    assert shingle_matching(text, text) == (1.0, 0.0, 0.0)
    s = evaluate([(text, "One two three four five six")])  # case matters
    assert s.accuracy == 0.0
    s = evaluate([(text, "one, two three! four five six")])  # punctuation does not
    assert (s.precision, s.recall, s.f1, s.accuracy) == (1.0, 1.0, 1.0, 1.0)


def test_partial_overlap_by_hand() -> None:
    # true: a b c d e f -> abcd bcde cdef (3 shingles)
    # pred: c d e f g h -> cdef defg efgh (3 shingles)
    # TP=1 (cdef), FP=2, FN=2 -> normalised by 5; P = 1/3, R = 1/3
    tp, fp, fn = shingle_matching("a b c d e f", "c d e f g h")
    assert (tp, fp, fn) == pytest.approx((0.2, 0.4, 0.4))
    s = evaluate([("a b c d e f", "c d e f g h")])
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(1 / 3)


def test_averages_over_pages_then_harmonic_mean() -> None:
    # page 1: pred is the first 4 of 5 true shingles -> P=1, R=4/5
    # page 2: pred has extra text: true 1 shingle, pred 3 shingles incl. it -> P=1/3, R=1
    pairs = [
        ("a b c d e f g h", "a b c d e f g"),
        ("w x y z", "w x y z q r"),
    ]
    s = evaluate(pairs)
    p = (1 + 1 / 3) / 2
    r = (4 / 5 + 1) / 2
    assert s.precision == pytest.approx(p)
    assert s.recall == pytest.approx(r)
    assert s.f1 == pytest.approx(2 * p * r / (p + r))
    assert s.accuracy == 0.0


def test_short_texts_and_empty_prediction() -> None:
    # short texts are one shingle each: equal -> perfect, different -> zero
    assert shingle_matching("hello world", "hello  world!") == (1.0, 0.0, 0.0)
    assert shingle_matching("hello world", "hello there") == pytest.approx((0.0, 0.5, 0.5))
    # an empty prediction counts for recall (0) but not for precision
    s = evaluate([("a b c d e", None), ("a b c d", "a b c d")])
    assert s.precision == 1.0
    assert s.recall == pytest.approx(0.5)
    assert s.accuracy == pytest.approx(0.5)
    assert accuracy_score("", None) == 1.0


# --- (b) the generic path on the benchmarks: the guard of the measured figures -------------
#
# Figures of `python -m bench.quality --part general` (bench/RESULTS-quality.md, "Generalisation"),
# chosen on nothing: the generic path has no parameter left to choose. Extraction is
# deterministic: repeated full runs gave the same figures to the last digit (the measured noise
# is 0), so the floor is the figure itself, rounded down at the 4th decimal. Each step the figures
# credit fails one of these tests when removed (bench/RESULTS-quality.md shows each).
PUBLIC_F1 = 0.9579  # extract_article without a site, 136 public pages: 0.95799 (plain trafilatura: the same)
EVAL_F1 = 0.9268  # extract_article without a site, 884 trafilatura-eval pages: 0.9269 (plain: 0.9267)
NOISE = 0.0
OPT_OUT = "NEWSCRAWL_NO_BENCHMARKS"


def _benchmark_data(path: Path) -> None:
    """Fail when benchmark data is missing, saying what is missing; skip only on an explicit opt-out.

    In CI (``CI`` set) a missing benchmark always fails: a guard that skips guards nothing.
    """
    if path.is_file():
        return
    message = (
        f"benchmark data missing: {path} (the repository keeps them in bench/benchmarks/; "
        f"NEWSCRAWL_BENCHMARKS names another copy); set {OPT_OUT}=1 to skip these tests outside CI"
    )
    if os.environ.get("CI") or not os.environ.get(OPT_OUT):
        pytest.fail(message)
    pytest.skip(f"{OPT_OUT} set: {message}")


def test_missing_benchmark_data_fails_unless_opted_out_outside_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "ground-truth.json"
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(OPT_OUT, raising=False)
    with pytest.raises(pytest.fail.Exception, match=f"benchmark data missing: {missing}"):
        _benchmark_data(missing)
    monkeypatch.setenv(OPT_OUT, "1")
    with pytest.raises(pytest.skip.Exception, match=f"{OPT_OUT} set: benchmark data missing"):
        _benchmark_data(missing)
    monkeypatch.setenv("CI", "1")  # CI ignores the opt-out
    with pytest.raises(pytest.fail.Exception, match="benchmark data missing"):
        _benchmark_data(missing)


@pytest.mark.slow  # extracts the 136 benchmark pages twice
def test_generic_path_quality_on_benchmark() -> None:
    """extract() without a site, as `newscrawl extract` runs it, against plain trafilatura run here.

    It refuses none of the benchmark's pages, scores at least trafilatura
    ``extract(include_comments=False)`` on the same pages in the same run, and at least the
    measured figure.
    """
    _benchmark_data(BENCHMARK_DIR / "ground-truth.json")
    from bench.metric import evaluate
    from bench.quality import extract_no_site, load_pages, score_pages, trafilatura_fn

    pages = load_pages(BENCHMARK_DIR)
    assert len(pages) == 136
    trafilatura_scores, _ = score_pages(pages, trafilatura_fn())
    outcomes = [extract_no_site(p) for p in pages]
    refused = [(p.url, o.reason) for p, o in zip(pages, outcomes, strict=True) if o.text is None]
    assert refused == []
    record_scores = evaluate((p.truth, o.text) for p, o in zip(pages, outcomes, strict=True))
    assert record_scores.f1 >= trafilatura_scores.f1, (record_scores, trafilatura_scores)
    assert record_scores.f1 >= PUBLIC_F1 - NOISE, record_scores


@pytest.mark.slow  # extracts the 884 pages of trafilatura's evaluation set twice: minutes
def test_generic_path_quality_on_trafilatura_eval() -> None:
    """The independent check: `crawler.extract_article(page, url)` on trafilatura's own evaluation
    pages, none of which chose anything here: no refusal, no crash, snippet F1 at least plain
    trafilatura's in the same run and at least the measured figure."""
    _benchmark_data(EVAL_DIR / "evaldata.json")
    import trafilatura

    from bench.general import load_eval_pages, snippet_scores
    from crawler.api import extract_item

    pages = load_eval_pages(EVAL_DIR)
    assert len(pages) == 884
    bodies: list[str | None] = []
    failed: list[str] = []
    for page in pages:
        try:
            bodies.append(extract_item(page.html, page.url).body)
        except Exception as exc:  # NotAnArticle included: no page may be refused
            bodies.append(None)
            failed.append(f"{page.url}: {exc!r}")
    plain = snippet_scores([trafilatura.extract(p.html, url=p.url, include_comments=False) for p in pages], pages)
    mine = snippet_scores(bodies, pages)
    assert failed == []
    assert mine.f1 >= plain.f1, (mine, plain)
    assert mine.f1 >= EVAL_F1 - NOISE, mine


# --- (c) behaviour on small hand-written pages ------------------------------

NAV_PAGE = """<!DOCTYPE html><html><head><title>Trang chủ</title></head><body>
<header><nav><ul>
<li><a href="/thoi-su">Thời sự</a></li><li><a href="/the-gioi">Thế giới</a></li>
<li><a href="/kinh-te">Kinh tế</a></li><li><a href="/the-thao">Thể thao</a></li>
<li><a href="/giai-tri">Giải trí</a></li><li><a href="/phap-luat">Pháp luật</a></li>
</ul></nav></header>
<footer><a href="/lien-he">Liên hệ</a> | <a href="/quang-cao">Quảng cáo</a></footer>
</body></html>"""

KEY_SENTENCE = (
    "Sáng 12/3, lực lượng cứu hộ đã đưa toàn bộ 27 hành khách trên chiếc xe khách "
    "gặp nạn ở đèo Bảo Lộc đến nơi an toàn."
)
COMMENT = "Bình luận của bạn đọc: bài viết quá hay, cảm ơn tòa soạn rất nhiều nhé!"

ARTICLE_PAGE = f"""<!DOCTYPE html><html lang="vi"><head>
<meta charset="utf-8"><title>Giải cứu 27 hành khách trên đèo Bảo Lộc</title>
<meta property="og:title" content="Giải cứu 27 hành khách trên đèo Bảo Lộc">
<meta property="og:description" content="Lực lượng cứu hộ đưa hành khách đến nơi an toàn.">
<meta property="og:image" content="https://example.vn/anh/deo-bao-loc.jpg">
<meta name="author" content="Minh Anh">
<meta property="article:published_time" content="2025-03-12T09:30:00+07:00">
</head><body>
<nav><a href="/">Trang chủ</a> <a href="/xa-hoi">Xã hội</a></nav>
<article>
<h1>Giải cứu 27 hành khách trên đèo Bảo Lộc</h1>
<p>{KEY_SENTENCE}</p>
<p>Theo báo cáo ban đầu, chiếc xe khách mang biển số tỉnh Lâm Đồng bị mất phanh khi đang xuống
dốc, tài xế đã chủ động cho xe áp vào vách núi để giảm tốc độ và tránh lao xuống vực sâu.</p>
<p>Lực lượng công an, y tế và cứu hộ địa phương có mặt sau khoảng hai mươi phút, phân luồng giao
thông và sơ cứu cho những người bị thương nhẹ trước khi chuyển họ đến bệnh viện gần nhất.</p>
<p>Cơ quan chức năng đang tiếp tục điều tra nguyên nhân vụ việc, đồng thời kiểm tra tình trạng
kỹ thuật của phương tiện và hồ sơ đăng kiểm của nhà xe.</p>
</article>
<section id="comments" class="comments">
<h3>Bình luận</h3>
<div class="comment"><p>{COMMENT}</p></div>
</section>
<footer>Bản quyền thuộc về Báo Ví Dụ.</footer>
</body></html>"""


def test_generic_returns_none_without_article() -> None:
    assert extract_generic(NAV_PAGE, "https://example.vn/") is None
    assert extract_generic("", None) is None


def test_generic_keeps_article_drops_comments() -> None:
    result = extract_generic(ARTICLE_PAGE, "https://example.vn/xa-hoi/giai-cuu-123.html")
    assert isinstance(result, GenericResult)
    assert KEY_SENTENCE in result.body
    assert "Bình luận của bạn đọc" not in result.body
    assert "cảm ơn tòa soạn" not in result.body
    assert result.title == "Giải cứu 27 hành khách trên đèo Bảo Lộc"
    assert result.date == "2025-03-12"
    assert result.authors == ["Minh Anh"]
    assert result.image == "https://example.vn/anh/deo-bao-loc.jpg"
    assert "\n" in result.body  # paragraphs joined by newlines
