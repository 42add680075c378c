"""The README's and docs/' promises about exit codes, the systemd unit, Redis URLs and hostile cases hold."""

from __future__ import annotations

import re
from pathlib import Path

from bench.attack import CASES
from crawler import exit_codes as cli
from crawler.cli.args import check_redis_url

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
DISTRIBUTED = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")


def test_the_exit_code_table_lists_every_code_the_command_returns() -> None:
    section = README[README.index("### Exit codes") :]
    section = section[: section.index("\n## ")]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    returned = {value for name, value in vars(cli).items() if name.startswith("EXIT_") and isinstance(value, int)}
    assert documented == returned


def test_the_systemd_unit_counts_only_finished_or_stopped_runs_as_success() -> None:
    codes = re.search(r"^SuccessExitStatus=(.*)$", OPERATIONS, re.MULTILINE)
    assert codes is not None
    assert {int(c) for c in codes.group(1).split()} == {cli.EXIT_ERRORS, cli.EXIT_INTERRUPTED}


def test_every_redis_example_would_be_accepted_by_a_worker() -> None:
    urls = re.findall(r"^newscrawl .*--redis ([a-z]+://\S+)", README + DISTRIBUTED, re.MULTILINE)
    assert urls, "the distributed section shows --redis examples"
    for url in urls:
        check_redis_url(url, insecure=False)


def test_the_attack_table_in_the_readme_has_every_case_intact() -> None:
    section = OPERATIONS[OPERATIONS.index("python -m bench.attack` runs each") :]
    rows = {line.split("  ")[0].strip(): line for line in section.splitlines() if re.search(r"\s(yes|NO)\s", line)}
    for name, _ in CASES:
        assert name in rows, f"README's attack table has no row {name!r}"
        assert " yes " in rows[name], rows[name]
