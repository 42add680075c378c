"""One article at a time, as an analyst asks (issue 25): `extract` finds the site from the
URL, `history --diff` shows what changed, and the Python API checks what it is given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from storage import open_archive
from storage.articles import save_article
from storage.db import open_db
from tests.helpers import REPO, build_replica_db

PAGE = REPO / "tests/sites/cao/pages/articles/177958.html"
URL = (
    "https://congan.com.vn/vu-an/phong-chong-ma-tuy/"
    "triet-pha-duong-day-dua-ma-tuy-tu-tphcm-len-da-lat-phuc-vu-tiec-bay-lac_177958.html"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_extract_without_site_uses_the_site_the_url_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "extract", "--url", "https://congan.com.vn/vu-an/x_177958.html", str(PAGE))
    record = json.loads(out)
    assert code == 0 and record["site"] == "cao" and record["extractor"] == "site"
    assert record["authors"] == ["Thanh Hiếu", "Phúc Lộc"]  # the generic path lost the co-author
    assert record["published_at"] == "2025-05-22T14:20:00+07:00"
    code, out, _ = run(capsys, "extract", "--generic", "--url", "https://congan.com.vn/vu-an/x_177958.html", str(PAGE))
    assert code == 0 and json.loads(out)["extractor"] == "generic"


def test_extract_refuses_several_sites_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "extract", "--site", "cao", "--site", "bocongan", str(PAGE))
    assert code == 2 and "names several" in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def edited_db(tmp_path: Path) -> str:
    """The replica articles, the drug-ring story then stored twice more with edits."""
    path = tmp_path / "news.sqlite3"
    build_replica_db(path).close()
    db = open_db(path)
    row = dict(next(db.query("select * from articles where url = ?", [URL])))
    for name in ("authors", "tags", "images"):
        row[name] = json.loads(row[name])
    second = {**row, "body": row["body"].replace("9 đối tượng", "11 đối tượng"), "content_hash": "1" * 64}
    assert save_article(db, second) == "updated"
    third = {**second, "title": second["title"] + " (cập nhật)", "content_hash": "2" * 64}
    assert save_article(db, third) == "updated"
    db.close()
    return str(path)


def test_history_diff_of_the_last_two_versions(edited_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", URL, "--diff", "--db", edited_db)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("--- v2 ") and lines[1].startswith("+++ v3 ")
    assert any(line.startswith("+title: ") and line.endswith("(cập nhật)") for line in lines)
    assert not any("11 đối tượng" in line for line in lines if line[:1] in "+-")


def test_history_diff_of_any_two_versions(edited_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", URL, "--diff", "1", "2", "--db", edited_db)
    removed = [line for line in out.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert (
        code == 0 and any("9 đối tượng" in line for line in removed) and any("11 đối tượng" in line for line in added)
    )
    code, out, _ = run(capsys, "history", URL, "--diff", "1", "--json", "--db", edited_db)
    diff: dict[str, Any] = json.loads(out)
    assert (diff["from"], diff["to"]) == (1, 3) and any(line.startswith("+title: ") for line in diff["diff"])
    code, _, err = run(capsys, "history", URL, "--diff", "1", "7", "--db", edited_db)
    assert code == 2 and "no version 7 (stored: 1, 2, 3)" in err


def test_archive_takes_the_dates_the_cli_takes(tmp_path: Path) -> None:
    build_replica_db(tmp_path / "news.sqlite3").close()
    with open_archive(tmp_path / "news.sqlite3") as archive:
        iso = archive.search("công an", since="2025-09-24T00:00:00+07:00", limit=None)
        assert iso and archive.search("công an", since="24/09/2025", limit=None) == iso
        newest = max((r["published_at"] or "")[:10] for r in archive)
        days = (datetime.now(UTC) - datetime.fromisoformat(newest + "T00:00:00+07:00")).days + 2
        assert archive.search("công an", since=f"{days}d", limit=None), "relative dates reach back"
        assert archive.search("công an", since="yesterday") == []  # the replicas are older
        records = list(archive.records(site=["cao", "thanhtra"], until="31/12/2025", query="công an"))
        assert records and all(r["published_at"][:10] <= "2025-12-31" for r in records)
        assert {r["site"] for r in records} == {"cao", "thanhtra"}


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda a: a.search("công an", since="someday"), "since must be a date like"),
        (lambda a: a.search("công an", until="31/31/2025"), "until must be a date like"),
        (lambda a: a.search("công an", limit=0), "limit must be"),
        (lambda a: a.search("công an", sort="newest"), "sort must be"),
        (lambda a: a.search("-heroin"), "only excluded words"),
        (lambda a: a.records(query="ma OR"), "OR needs a term"),
        (lambda a: a.get(None), "url must be a string"),
    ],
)
def test_archive_refuses_bad_arguments_in_one_error(tmp_path: Path, call: Any, says: str) -> None:
    build_replica_db(tmp_path / "news.sqlite3").close()
    with open_archive(tmp_path / "news.sqlite3") as archive, pytest.raises(ValueError, match=says):
        call(archive)


def test_archive_get_cleans_tracking_parameters(tmp_path: Path) -> None:
    build_replica_db(tmp_path / "news.sqlite3").close()
    with open_archive(tmp_path / "news.sqlite3") as archive:
        stored = archive.get(URL)
        assert stored is not None
        assert archive.get(URL + "?utm_source=fb&zarsrc=30#binh-luan") == stored


def test_extract_article_validates_its_arguments() -> None:
    from crawler import extract_article

    with pytest.raises(ValueError, match="unknown site 'congan'"):
        extract_article(PAGE.read_text(encoding="utf-8"), URL, "congan")
    with pytest.raises(ValueError, match="page must be"):
        extract_article(None, URL)  # type: ignore[arg-type]
