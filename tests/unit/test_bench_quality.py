"""bench/quality: the written split follows its rule, and the CLI row runs the CLI's own path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.quality import CliExtractor, Page, run_cli_extract
from bench.split import split_ids, written_split
from tests.helpers import REPO, real_page, replica

CAO_ARTICLE = "/tin-chinh/cong-an-tp-ha-noi-ra-quan-dam-bao-tuyet-doi-an-ninh-an-toan-dai-hoi-xiii-cua-dang_104123.html"
CAO_TAG = "/tag/%C4%90%C3%A0+L%E1%BA%A1t.html"


def test_the_written_split_is_the_rule_applied_to_its_pages() -> None:
    split = written_split()
    tuning, held_out = split["tuning"], split["held_out"]
    assert len(tuning) == len(held_out) == 68
    assert not set(tuning) & set(held_out)
    assert split_ids(tuning + held_out) == (tuning, held_out)


def _saved(tmp_path: Path, path: str) -> tuple[Path, str]:
    site = replica("cao")
    route = site.lookup(path)
    assert route is not None
    file = tmp_path / "page.html"
    file.write_bytes(real_page(site, route))
    return file, site.real_base + path


def _newscrawl_extract(file: Path, url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", "--generic", "--url", url, *flags, str(file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_row_prints_what_newscrawl_extract_prints(tmp_path: Path) -> None:
    file, url = _saved(tmp_path, CAO_ARTICLE)
    record, error = run_cli_extract(file, url)
    done = _newscrawl_extract(file, url)
    assert done.returncode == 0 and error == "" == done.stderr
    assert record == json.loads(done.stdout)
    assert record is not None and record["extractor"] == "generic"  # --generic: the generic path
    with CliExtractor() as cli:
        outcome = cli(Page("p", file.read_text(encoding="utf-8"), "", url))
    assert outcome.text == record["body"]


def test_a_page_that_is_no_article_gets_its_record_and_the_verdict_unless_strict(tmp_path: Path) -> None:
    file, url = _saved(tmp_path, CAO_TAG)
    record, note = run_cli_extract(file, url)
    done = _newscrawl_extract(file, url)
    assert done.returncode == 0 and record == json.loads(done.stdout)
    assert note == done.stderr.strip() and note.startswith("note: not judged an article (not_article: ")
    assert record is not None and record["body"]  # the text is returned all the same
    refused, error = run_cli_extract(file, url, strict=True)
    done = _newscrawl_extract(file, url, "--strict")
    assert refused is None and done.returncode == 1 and done.stdout == ""
    assert error == done.stderr.strip() and error.startswith("not an article: not_article: ")
