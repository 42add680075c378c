"""bench/perf's comparison with the naive spider (issue 28) runs end to end, as documented.

The figures themselves are the bench's (bench/RESULTS-perf.md), never a timed test: this runs
the smallest comparison (5 articles per site, one round, one spinner) to check the harness
works (the replica served from its own process, each contender's articles counted, the ratio
line) and that the README's and RESULTS' bench command lines are ones bench.perf accepts.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from bench import perf
from tests.helpers import REPO


def test_the_versus_comparison_runs_and_counts_every_contenders_articles() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.perf", "--part", "versus", "--sizes", "5", "--busy", "1", "--repeat", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("synthetic replica, 5 articles per site (15 in all); ")
    assert "1 other busy process" in lines[0]
    rows = {line.split("  ")[0]: line for line in lines if re.search(r"\d+\.\d+x\s+\d+", line)}
    assert set(rows) == {
        "fetch only (Scrapy, no extraction)",
        "naive spider (bench/naive.py)",
        "newscrawl crawl (2 workers)",
    }
    for line in rows.values():  # every contender stored (or fetched) the 15 articles
        assert re.search(r"x\s+15\b", line), line
    assert "crawl process" in rows["newscrawl crawl (2 workers)"]


def test_documented_bench_perf_commands_are_accepted() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8") + (REPO / "bench" / "RESULTS-perf.md").read_text(
        encoding="utf-8"
    )
    commands = re.findall(r"python -m bench\.perf([^`(\n]*)", text)  # "(first run, ...)": a note
    assert any("--busy 0 1" in c for c in commands)
    for command in commands:
        perf.parser().parse_args(shlex.split(command))  # exits (SystemExit) on an unknown option
