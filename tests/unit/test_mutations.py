"""The golden and truth checks catch a broken extractor: each test breaks it and expects failures.

Each mutation is one a real regression could make: a paragraph lost in the middle or at the end
of the body, two paragraphs run together, a furniture selector dropped from a site's ``remove``
list, a related-links box kept, a byline left in the body. The checks are the ones
test_golden.py asserts clean (``truth_failures``, ``golden_failures``); the truth files are
written from the pages' HTML source, not from the extractor's output (tests/sites/README.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from crawler.extract import article as extraction
from crawler.extract.pagemeta import parse_html
from crawler.extract.siteconfig import SiteConfig
from crawler.sites.registry import sites
from tests.helpers import real_page, replica
from tests.unit.replica_checks import extract_record, golden_failures, golden_of, reviewed, truth_failures, truth_of
from tests.unit.test_golden import ARTICLES


def _mutate_body(monkeypatch: pytest.MonkeyPatch, change: Callable[[list[str]], None]) -> None:
    """Make the body text go through ``change`` (on its list of paragraphs), at the last step
    both paths share (``_without_status``, after a developing story's status line is cut)."""
    original = extraction._without_status

    def mutated(body: str) -> str:
        lines = original(body).split("\n")
        change(lines)
        return "\n".join(lines)

    monkeypatch.setattr(extraction, "_without_status", mutated)


def _drop_middle(lines: list[str]) -> None:
    del lines[len(lines) // 2]


def _drop_last(lines: list[str]) -> None:
    del lines[-1]


def _merge_middle_two(lines: list[str]) -> None:
    i = max(0, len(lines) // 2 - 1)
    lines[i : i + 2] = [f"{lines[i]} {lines[i + 1]}"]


@pytest.mark.parametrize(
    "mutation",
    [_drop_middle, _drop_last, _merge_middle_two],
    ids=["drop a middle paragraph", "drop the last paragraph", "merge two"],
)
@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_a_lost_or_merged_paragraph_fails_the_checks(
    key: str, path: str, mutation: Callable[[list[str]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    _mutate_body(monkeypatch, mutation)
    record, name = extract_record(key, path, sites()[key])
    assert truth_failures(record, truth_of(key, name)), f"{key} {name}: the truth check missed it"
    assert golden_failures(record, golden_of(key, name)), f"{key} {name}: the golden check missed it"


def _without(site: SiteConfig, selector: str) -> SiteConfig:
    remove = tuple(s for s in site.selectors.remove if s != selector)
    return dataclasses.replace(site, selectors=dataclasses.replace(site.selectors, remove=remove))


def test_leaving_out_any_remove_selector_fails_the_checks_where_it_changes_the_record() -> None:
    """Every ``remove`` selector of every site, left out one at a time, on every page it matches.

    Where the record changes, both checks must say so; and at least one selector must change a
    record, or this test would be checking nothing.
    """
    changed: list[str] = []
    for key, site in sites().items():
        pages = [route for route in replica(key).routes_of("article")]
        for selector in site.selectors.remove:
            for route in pages:
                tree = parse_html(real_page(replica(key), route))
                if tree is None or not tree.cssselect(selector):
                    continue  # nothing on this page for the selector to remove
                record, name = extract_record(key, route.path, _without(site, selector))
                original, _ = extract_record(key, route.path, site)
                if reviewed(record) == reviewed(original):
                    continue  # another selector removes the same nodes
                changed.append(f"{key} {selector} {name}")
                assert truth_failures(record, truth_of(key, name)), f"{key}: {selector!r} left out, {name} passes truth"
                assert golden_failures(record, golden_of(key, name)), (
                    f"{key}: {selector!r} left out, {name} passes golden"
                )
    assert changed, "no remove selector changes any replica record: the mutation checks nothing"


def _link_boxes(site: SiteConfig) -> tuple[str, ...]:
    """The site's ``remove`` selectors that match a box of links (two or more) on some article page."""
    found: list[str] = []
    for selector in site.selectors.remove:
        for route in replica(site.key).routes_of("article"):
            tree = parse_html(real_page(replica(site.key), route))
            if tree is not None and any(len(node.findall(".//a")) >= 2 for node in tree.cssselect(selector)):
                found.append(selector)
                break
    return tuple(found)


def test_keeping_the_related_links_boxes_fails_the_truth_check() -> None:
    """Every site's link boxes (related articles, "read more") kept in the body: caught on every page it changes."""
    changed: list[str] = []
    for key, site in sites().items():
        boxes = _link_boxes(site)
        broken = dataclasses.replace(
            site,
            selectors=dataclasses.replace(
                site.selectors, remove=tuple(s for s in site.selectors.remove if s not in boxes)
            ),
        )
        for route in replica(key).routes_of("article"):
            record, name = extract_record(key, route.path, broken)
            if reviewed(record) == reviewed(extract_record(key, route.path, site)[0]):
                continue
            changed.append(f"{key} {name}")
            assert truth_failures(record, truth_of(key, name)), f"{key} {name}: a kept link box passes truth"
    assert changed, "no page has a link box in its body: the mutation checks nothing"


def test_a_byline_left_in_the_body_fails_the_truth_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The right-aligned byline (or credit) not cut from the body: caught on every page it changes."""
    originals = {
        (key, route.path): extract_record(key, route.path, sites()[key])[0]
        for key in sites()
        for route in replica(key).routes_of("article")
    }
    monkeypatch.setattr(extraction, "right_aligned_bylines", lambda node: [])
    changed: list[str] = []
    for (key, path), original in originals.items():
        record, name = extract_record(key, path, sites()[key])
        if record["body"] == original["body"]:
            continue
        changed.append(f"{key} {name}")
        assert truth_failures(record, truth_of(key, name)), f"{key} {name}: a byline left in the body passes truth"
    assert changed, "no page has a byline in its body: the mutation checks nothing"
