"""The README's "Extraction health" section says what the quality gate does (issue 22)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from crawler.crawl.quality import QualityConfig, Sample, judge, log_verdict
from crawler.crawl.runner import project_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Extraction health\n", 1)[1].split("\n## ", 1)[0]
SETTINGS = project_settings()
CONFIG = QualityConfig.from_settings(SETTINGS)


def test_every_quality_setting_named_with_a_value_has_that_value() -> None:
    named = re.findall(r"`(NEWS_QUALITY_[A-Z_]+)` \(([\d.]+)\)", SECTION)
    assert len({name for name, _ in named}) >= 9, named
    for name, value in named:
        assert SETTINGS.getfloat(name) == float(value), name


def test_the_documented_false_alarm_rates_are_the_configured_ones() -> None:
    assert f"`NEWS_QUALITY_ALPHA` / 7 (0.01 / 7 ≈ {CONFIG.rule_alpha:.4f}" in SECTION
    assert f"at most {CONFIG.rule_alpha:.4f} per judged run" in " ".join(SECTION.split())
    assert f"at most `NEWS_QUALITY_ALPHA` ({CONFIG.alpha})" in " ".join(SECTION.split())


def test_the_pending_line_is_what_the_gate_logs(caplog: pytest.LogCaptureFixture) -> None:
    shown = SECTION.split("is *pending*", 1)[1].split("```\n", 2)[1].strip()
    verdict = judge(Sample(), [], CONFIG)
    assert not verdict.judged
    with caplog.at_level(logging.INFO, logger="crawler.crawl.quality"):
        log_verdict("cao", verdict, Sample(), CONFIG)
    assert [f"[{r.name}] {r.levelname}: {r.getMessage()}" for r in caplog.records] == [shown]
