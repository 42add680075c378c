"""README's "Using it" block works pasted in order after `make demo` (issue 15).

The demo runs in a fresh folder (as on a fresh clone: `data/` empty), then every line of the
block runs there with bash, in order, with `newscrawl` on the PATH as `. .venv/bin/activate`
puts it. Lines tagged `[internet]`, `[until Ctrl-C]` or `[replica on 8001]` are skipped (the
suite never touches the real sites, and a server would never end); the tags are in the README
itself, so a reader sees which lines need what.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, crawl_args
from tests.integration.replica_edit import edit_article

SKIP_TAGS = ("[internet]", "[until Ctrl-C]", "[replica on 8001]")
VENV = Path(sys.executable).parent.parent


def using_it_block(readme: Path = REPO / "README.md") -> list[str]:
    """The command lines of the first ```sh block under "## Using it"."""
    section = readme.read_text(encoding="utf-8").split("\n## Using it\n", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert block, "README.md: no ```sh block under ## Using it"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like a checkout after `make demo`: .venv, tests/, data/demo.sqlite3."""
    root = tmp_path_factory.mktemp("clone")
    (root / ".venv").symlink_to(VENV)
    (root / "tests").symlink_to(REPO / "tests")
    done = run_line("newscrawl demo", root)
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "demo.sqlite3").exists() and not (root / "data" / "news.sqlite3").exists()
    return root


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_the_block_tags_what_cannot_run_here() -> None:
    lines = using_it_block()
    assert any("[internet]" in line for line in lines) and any("[until Ctrl-C]" in line for line in lines)
    runnable = [line for line in lines if not any(tag in line for tag in SKIP_TAGS)]
    assert len(runnable) >= 15, runnable


def test_every_line_runs_after_the_demo(fresh_clone: Path) -> None:
    for line in using_it_block():
        if any(tag in line for tag in SKIP_TAGS):
            continue
        done = run_line(line, fresh_clone)
        assert done.returncode == 0, f"{line}\nexit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{line}\n{done.stderr}"
    # Read commands said they used the demo database (nothing else was named).
    assert "using the demo database data/demo.sqlite3" in run_line("newscrawl runs", fresh_clone).stderr


def section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_python_api_example_prints_what_the_readme_shows(fresh_clone: Path) -> None:
    code, shown = re.findall(r"^```(?:python)?\n(.*?)^```", section("Python API"), flags=re.MULTILINE | re.DOTALL)[:2]
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", code], cwd=fresh_clone, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown


def test_the_first_hour_search_shows_real_output(fresh_clone: Path) -> None:
    sample = re.search(
        r"^   \$ (newscrawl search .*?)\n(.*?)^   ```", section("First hour"), flags=re.MULTILINE | re.DOTALL
    )
    assert sample
    done = run_line(sample.group(1), fresh_clone)
    shown = "\n".join(line.removeprefix("   ") for line in sample.group(2).splitlines())
    assert done.returncode == 0
    # As a terminal shows it: the demo-database line first, the hits, then "N of M shown".
    fallback, *after = done.stderr.splitlines()
    assert "\n".join([fallback, done.stdout.rstrip("\n"), "", *after]).strip() == shown.strip()
    hint = run_line('newscrawl search "cong an"', fresh_clone).stderr.splitlines()[-1]
    assert hint in " ".join(section("First hour").split())


# README "Using it", "An analyst's task, end to end" (issue 25). Its first block runs on the
# demo database as it is; between the blocks a week of crawls is played on the cao replica (one
# story edited, then crawled again with every stored article due for a recheck); then the
# second block runs. Fetch times differ from run to run and are compared as TIME; everything
# else must be the output as printed.
WALKTHROUGH = "### An analyst's task, end to end"
EDITED = "/vu-an/phong-chong-ma-tuy/triet-pha-duong-day-dua-ma-tuy-tu-tphcm-len-da-lat-phuc-vu-tiec-bay-lac_177958.html"
SENTENCE = "Vụ án đang được tiếp tục mở rộng điều tra."
NEW_SENTENCE = "Ngày 29-5, cơ quan điều tra bắt thêm 2 đối tượng; vụ án đang được mở rộng."
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


def walkthrough_blocks() -> list[list[tuple[str, str]]]:
    """Each ``` block of the walk-through as (command, shown output) pairs."""
    text = section("Using it").split(f"\n{WALKTHROUGH}\n", 1)[1].split("\n### ", 1)[0]
    found = []
    for block in re.findall(r"^```\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        steps = re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]
        found.append([(step.split("\n", 1)[0], step.split("\n", 1)[1] if "\n" in step else "") for step in steps])
    return found


@pytest.fixture(scope="module")
def walk_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of its own after `make demo`: the walk-through changes the demo database."""
    root = tmp_path_factory.mktemp("walk")
    (root / ".venv").symlink_to(VENV)
    (root / "tests").symlink_to(REPO / "tests")
    done = run_line("newscrawl demo", root)
    assert done.returncode == 0, done.stderr
    return root


def test_the_walkthrough_finds_exports_and_shows_what_changed(walk_clone: Path) -> None:
    first, then = walkthrough_blocks()
    assert len(first) >= 2 and len(then) >= 2
    for command, shown in first:
        _runs_as_shown(command, shown, walk_clone)
    with ReplicaServer(["cao"]) as server:
        edit_article(server.sites["cao"], EDITED, SENTENCE, NEW_SENTENCE)
        args = crawl_args(server, Path("data/demo.sqlite3"), "cao")
        recheck = ["-s", "NEWS_RECHECK_DAYS=36500", "-s", "NEWS_RECHECK_HOURS=0", "-q"]
        crawled = run_line(" ".join(["newscrawl", *args, *recheck]), walk_clone)
        assert crawled.returncode == 0, crawled.stderr
    for command, shown in then:
        _runs_as_shown(command, shown, walk_clone)
    assert (walk_clone / "fraud-week1.csv").read_bytes().startswith(b"\xef\xbb\xbf"), "Excel's byte order mark"


def _runs_as_shown(command: str, shown: str, cwd: Path) -> None:
    assert command.startswith("newscrawl ")
    done = run_line(command, cwd)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    printed = _TIME.sub("TIME", done.stdout + done.stderr).strip()
    assert printed == _TIME.sub("TIME", shown).strip(), f"{command}\n{done.stdout}{done.stderr}"
