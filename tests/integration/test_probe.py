"""``newscrawl probe`` against the replicas: ok, a changed template, a firewall (issue 12, item 6).

Each test serves replicas on 127.0.0.1 and runs the command in a subprocess (the Twisted
reactor runs once per process), with the politeness delay shortened by ``-s``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from crawler.sites.registry import sites
from crawler.testing.faults import FaultPlan
from crawler.testing.replica import SiteReplica
from crawler.testing.server import ReplicaServer
from tests.helpers import REPO, VARIANT, build_variant, site_keys

SCHEMA = json.loads((REPO / "schema" / "probe.schema.json").read_text(encoding="utf-8"))
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


class ChallengeEverything(FaultPlan):
    """A firewall that answers every request but robots.txt with its challenge page."""

    def choose(self, route_kind: str, path: str) -> str | None:
        return None if route_kind == "robots" else "challenge"


class ChallengeRobotsToo(FaultPlan):
    """A firewall that challenges even robots.txt (crawler.testing.faults never faults it)."""

    def choose(self, route_kind: str, path: str) -> str | None:
        return "challenge"


def probe(server: ReplicaServer, *args: str, db: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``newscrawl probe ARGS`` on the served replicas, with ``NEWS_DB_PATH`` pointing at ``db``."""
    base_urls = [a for key in server.sites for a in ("--base-url", f"{key}={server.base_url(key)}")]
    env = {**os.environ, "NEWS_DB_PATH": str(db)}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "probe", *args, *base_urls, *FAST],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def verdict_lines(text: str) -> dict[str, str]:
    """The closing table: site key -> the rest of its line."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("site      verdict"))
    return {line.split()[0]: line.split(None, 1)[1] for line in lines[start + 1 :] if line.strip()}


def test_the_replicas_probe_ok_with_the_site_path_and_nothing_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    report_path = tmp_path / "report.json"
    with ReplicaServer() as server:
        done = probe(server, "--json", str(report_path), db=db)
        requested = {key: dict(site.requests) for key, site in server.sites.items()}
        replicas = server.sites
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert {key: line.split()[0] for key, line in verdict_lines(done.stdout).items()} == dict.fromkeys(
        site_keys(), "ok"
    )
    assert not db.exists(), "probe must never create or touch the database"

    report = json.loads(report_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert (report["verdict"], report["exit_code"], report["options"]["robotstxt_obey"]) == ("ok", 0, True)
    configs = sites()
    for result in report["sites"]:
        key = result["key"]
        site = configs[key]
        served = requested[key]
        entry_paths = {*site.feeds, *site.sitemaps, *site.listings, *([site.feed_index] if site.feed_index else [])}
        _assert_polite(served, replicas[key], entry_paths)
        assert result["verdict"] == "ok", (key, result["reasons"])
        assert result["pace"]["delay_s"] == 0, "the user's -s DOWNLOAD_DELAY wins over the site's pace"
        assert {urlsplit(e["url"]).path for e in result["entry_points"]} >= entry_paths
        assert all(e["status"] == 200 and e["error"] is None for e in result["entry_points"]), key
        articles = [p for p in result["pages"] if p["extractor"]]
        assert len(articles) == 3 and all(p["extractor"] == "site" for p in articles), key
        for p in articles:
            assert all(p["field_sources"][f].startswith("site:") for f in ("title", "body", "published_at")), p


def _assert_polite(served: dict[str, int], replica: SiteReplica, entry_paths: set[str]) -> None:
    """robots.txt read once and obeyed, no pagination, at most 2 x 3 article pages."""
    assert served.get("/robots.txt") == 1
    assert not any(served.get(r.path) for r in replica.routes_of("disallowed"))
    article_paths = {r.path for r in replica.routes_of("article")}
    assert sum(n for path, n in served.items() if path in article_paths) <= 6
    listing_paths = {r.path for r in replica.routes_of("listing")}
    assert not {p for p in served if p in listing_paths} - entry_paths, "a probe never paginates"


def test_probe_keeps_the_site_pace(tmp_path: Path) -> None:
    scale = 0.15  # bocongan's 2-4 s shortened to 0.3-0.6 s (NEWS_DELAY_SCALE, the crawl's own knob)
    report_path = tmp_path / "report.json"
    with ReplicaServer(["bocongan"]) as server:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "probe", "bocongan", "--json", str(report_path),
             "--base-url", f"bocongan={server.base_url('bocongan')}",
             "-s", f"NEWS_DELAY_SCALE={scale}", "-s", "AUTOTHROTTLE_ENABLED=False"],
            cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        timeline = list(server.sites["bocongan"].timeline)
    assert done.returncode == 0, done.stderr[-3000:]
    [result] = json.loads(report_path.read_text(encoding="utf-8"))["sites"]
    assert result["pace"] == {"delay_s": pytest.approx(3.0 * scale), "jitter": pytest.approx(1 / 3), "concurrency": 1}
    # Requests one at a time, at least the shortest gap apart (0.3 s); the margin absorbs when a
    # loaded machine delays one request's arrival more than the next one's.
    gaps = [b - a for (a, _), (b, _) in pairwise(timeline)]
    assert min(gaps) >= 2.0 * scale * 0.7, sorted(gaps)[:5]


def test_a_changed_template_is_degraded_with_the_fallback_named(tmp_path: Path) -> None:
    changed = build_variant(VARIANT, tmp_path / "sites")
    db = tmp_path / "news.sqlite3"
    with ReplicaServer([changed], sites_dir=tmp_path / "sites") as server:
        done = probe(server, changed, "--articles", "2", "--json", "-", db=db)
    assert done.returncode == 6, done.stderr[-3000:]
    # With --json -, the report is stdout and the human text goes to stderr.
    report = json.loads(done.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    [result] = report["sites"]
    assert (result["key"], result["verdict"], report["exit_code"]) == (changed, "degraded", 6)
    assert [p["extractor"] for p in result["pages"]] == ["generic", "generic"]
    assert all(p["field_sources"]["body"].startswith("generic:") for p in result["pages"])
    assert "generic path on 2/2 pages (site template not recognised)" in result["reasons"]
    line = verdict_lines(done.stderr)[changed]
    assert line.startswith("degraded  generic path on 2/2 pages"), line
    assert not db.exists()


def test_a_site_answering_only_challenges_is_broken_and_not_pressed(tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    report_path = tmp_path / "report.json"
    with ReplicaServer(["cao"], faults=ChallengeEverything(1.0)) as server:
        done = probe(server, "cao", "--json", str(report_path), db=db)
        served = dict(server.sites["cao"].requests)
    assert done.returncode == 3, done.stderr[-3000:]
    assert verdict_lines(done.stdout)["cao"].startswith("broken    firewall challenge on /rss/home.rss")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    [result] = report["sites"]
    assert (result["verdict"], result["stopped"], report["exit_code"]) == ("broken", "challenge", 3)
    assert any("firewall challenge" in reason for reason in result["reasons"])
    challenged = [e for e in result["entry_points"] if e["challenge"]]
    assert challenged and all(e["status"] == 200 and e["error"] == "challenge" for e in challenged)
    # The first challenge ends the probe: only what was already in flight (the site's
    # concurrency, 2) was asked, each once; the other entry points and no article were not.
    concurrency = result["pace"]["concurrency"]
    assert len(challenged) <= concurrency
    assert {e["error"] for e in result["entry_points"]} - {"challenge"} == {"not_fetched"}
    assert result["pages"] == []
    assert sum(n for path, n in served.items() if path != "/robots.txt") == len(challenged)
    assert not db.exists()


def test_a_challenged_robots_txt_ends_the_probe_before_any_entry_point(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with ReplicaServer(["thanhtra"], faults=ChallengeRobotsToo(1.0)) as server:
        done = probe(server, "thanhtra", "--json", str(report_path), db=tmp_path / "news.sqlite3")
        served = dict(server.sites["thanhtra"].requests)
    assert done.returncode == 3, done.stderr[-3000:]
    [result] = json.loads(report_path.read_text(encoding="utf-8"))["sites"]
    assert result["robots_txt"]["challenge"] is True
    assert {e["error"] for e in result["entry_points"]} == {"not_fetched"}
    assert result["reasons"][0].startswith("firewall challenge on /robots.txt; probe stopped")
    assert served == {"/robots.txt": 1}


def test_bad_arguments_exit_2_in_one_line(tmp_path: Path) -> None:
    with ReplicaServer(["cao"]) as server:
        for args, message in [
            (["nosuchsite"], "unknown site nosuchsite"),
            (["cao", "--articles", "0"], "--articles must be at least 1"),
            (["cao", "--json", str(tmp_path / "missing" / "r.json")], "cannot write the report"),
        ]:
            done = probe(server, *args, db=tmp_path / "news.sqlite3")
            assert done.returncode == 2, (args, done.stderr)
            assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
            assert server.sites["cao"].requests == {}, "nothing was fetched"


def readme_section(heading: str = "## Probing the live sites") -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert heading in text, f"README.md has no {heading!r} section"
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def normalised(output: str) -> str:
    """Output without what depends on the replica's port: the port and the page sizes."""
    output = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", output)
    return re.sub(r"\b\d+ (KB|B)\b", r"N \1", output)


def test_readme_probe_examples_run_and_its_sample_output_is_real(tmp_path: Path) -> None:
    section = readme_section()
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.DOTALL)
    commands = [line for lang, body in blocks if lang == "sh" for line in body.splitlines()]
    commands = [c for c in commands if c.startswith("newscrawl probe")]
    assert len(commands) >= 4, commands
    sample_at = next(i for i, (lang, body) in enumerate(blocks) if "--base-url" in body)
    sample_command, (_, sample_output) = blocks[sample_at][1].strip(), blocks[sample_at + 1]
    with ReplicaServer() as server:
        for command in commands:
            args = shlex.split(command, comments=True)[2:]
            if "--base-url" in args:  # the sample: run as printed, at this replica's port
                base = server.base_url("cao")
                args = [a.replace("http://127.0.0.1:8001", base) for a in args]
                done = subprocess.run(
                    [sys.executable, "-m", "crawler.cli", "probe", *args],
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=240,
                    check=False,
                )
                assert command == sample_command
                assert done.returncode == 0, done.stderr[-2000:]
                assert normalised(done.stdout) == normalised(sample_output), "README sample output is stale"
                continue
            done = probe(server, *args, db=tmp_path / "news.sqlite3", cwd=tmp_path)
            assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
            if "--json" in args:
                target = args[args.index("--json") + 1]
                text = done.stdout if target == "-" else (tmp_path / target).read_text(encoding="utf-8")
                jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(text))
    assert not (tmp_path / "news.sqlite3").exists()
