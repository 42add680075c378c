"""`newscrawl export` for an analyst's colleague (issue 25): a search, an end date, several
sites, the format from the file's name, chosen columns, and a CSV Excel opens in Vietnamese."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from storage.export import EXPORT_FIELDS, Selection, read_state
from storage.search import search
from tests.helpers import build_replica_db


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "news.sqlite3"
    build_replica_db(path).close()
    return path


def export(db_path: Path, *args: str) -> int:
    return main(["export", "--db", str(db_path), "-q", *args])


def jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle.read().splitlines()]


def csv_rows(path: Path) -> list[dict[str, str]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_query_exports_what_search_finds(db_path: Path, tmp_path: Path) -> None:
    db = build_replica_db()
    expected = {h.url for h in search(db, '"lừa đảo" OR "ma túy"', limit=None)}
    folded = {h.url for h in search(db, "lua dao", folded=True, limit=None)}
    assert export(db_path, "--query", '"lừa đảo" OR "ma túy"', "-o", str(tmp_path / "a.jsonl")) == 0
    assert {r["url"] for r in jsonl(tmp_path / "a.jsonl")} == expected
    assert export(db_path, "--query", "lua dao", "--folded", "-o", str(tmp_path / "b.jsonl")) == 0
    assert {r["url"] for r in jsonl(tmp_path / "b.jsonl")} == folded and folded


def test_since_until_and_several_sites(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    args = ["--site", "cao", "--site", "thanhtra", "--since", "01/01/2025", "--until", "2025-12-31", "-o", str(out)]
    assert export(db_path, *args) == 0
    records = jsonl(out)
    assert records and {r["site"] for r in records} == {"cao", "thanhtra"}
    assert all("2025-01-01" <= r["published_at"][:10] <= "2025-12-31" for r in records)
    everything = [r for r in build_replica_db()["articles"].rows if r["site"] in ("cao", "thanhtra")]
    assert len(records) == sum("2025-01-01" <= (r["published_at"] or "")[:10] <= "2025-12-31" for r in everything)


@pytest.mark.parametrize(
    ("name", "kind"), [("d.jsonl", "jsonl"), ("d.csv", "csv"), ("d.jsonl.gz", "jsonl"), ("d.CSV.GZ", "csv")]
)
def test_the_format_comes_from_the_name(db_path: Path, tmp_path: Path, name: str, kind: str) -> None:
    out = tmp_path / name
    assert export(db_path, "-o", str(out)) == 0
    raw = out.read_bytes()
    text = (gzip.decompress(raw) if name.lower().endswith(".gz") else raw).decode("utf-8")
    if kind == "csv":
        assert text.startswith(",".join(EXPORT_FIELDS) + "\r\n")
    else:
        assert json.loads(text.splitlines()[0])["site"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-o", "OUT/all.json"], "cannot tell the format"),
        (["-o", "OUT/all.txt.gz"], "cannot tell the format"),
        (["-o", "OUT/all"], "cannot tell the format"),
        (["-o", "OUT/all.jsonl", "--format", "csv"], "--format csv but"),
        (["-o", "OUT/all.jsonl", "--excel"], "--excel makes a CSV"),
        (["-o", "OUT/all.csv", "--columns", "title,nope"], "unknown column nope"),
        (["-o", "OUT/all.csv", "--query=-heroin"], "--query: '-heroin': only excluded words"),
        (["-o", "OUT/all.csv", "--folded"], "--folded applies to --query"),
    ],
)
def test_what_cannot_be_honoured_is_refused_before_writing(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    argv = [arg.replace("OUT", str(tmp_path)) for arg in args]
    assert export(db_path, *argv) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not Path(argv[1]).exists()


def test_columns_in_the_order_given(db_path: Path, tmp_path: Path) -> None:
    assert export(db_path, "--columns", "title,published_at,url", "-o", str(tmp_path / "a.jsonl")) == 0
    assert all(list(r) == ["title", "published_at", "url"] for r in jsonl(tmp_path / "a.jsonl"))
    assert export(db_path, "--columns", "url,authors", "-o", str(tmp_path / "a.csv.gz")) == 0
    rows = csv_rows(tmp_path / "a.csv.gz")
    assert rows and list(rows[0]) == ["url", "authors"] and any(json.loads(r["authors"]) for r in rows)


def test_excel_csv_starts_with_a_byte_order_mark(db_path: Path, tmp_path: Path) -> None:
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    assert export(db_path, "-o", str(plain)) == 0 and export(db_path, "--excel", "-o", str(excel)) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert excel.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    # What Excel does with it: decode by the BOM, and the Vietnamese is intact.
    assert any("Công an" in row["title"] for row in csv_rows(excel))


def test_an_old_state_file_still_matches_its_selection(tmp_path: Path) -> None:
    # State files written before --until/--query existed recorded none: they still continue.
    old = {"site": "cao", "since": None, "since_field": "published", "one_per_cluster": False}
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"last_version_rowid": 3, "selection": old, "records": 3, "format": 1}), "utf-8")
    assert read_state(state, Selection("cao")).last_version_rowid == 3
    with pytest.raises(ValueError, match="another selection"):
        read_state(state, Selection("cao", query="ma túy"))


def test_incremental_with_a_query_and_several_sites(db_path: Path, tmp_path: Path) -> None:
    state, args = tmp_path / "s.json", ["--query", "công an", "--site", "cao", "--site", "bocongan"]
    assert export(db_path, *args, "--incremental", str(state), "-o", str(tmp_path / "1.jsonl")) == 0
    first = jsonl(tmp_path / "1.jsonl")
    assert first and {r["site"] for r in first} == {"cao", "bocongan"}
    assert export(db_path, *args, "--incremental", str(state), "-o", str(tmp_path / "2.jsonl")) == 0
    assert jsonl(tmp_path / "2.jsonl") == []
    assert export(db_path, "--site", "cao", "--incremental", str(state), "-o", str(tmp_path / "3.jsonl")) == 2
