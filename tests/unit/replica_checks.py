"""The checks of a replica article's extracted record: against its golden file and its truth.

They return the list of what is wrong (empty when the record passes), so the golden tests
assert an empty list and the mutation tests (``test_mutations.py``) assert a non-empty one.
"""

from __future__ import annotations

import json
from typing import Any

from crawler.extract.article import Rejection, extract
from crawler.extract.siteconfig import SiteConfig
from crawler.extract.urls import canonical_url
from crawler.testing.replica import SITES_DIR
from tests.helpers import real_page, replica

# Not in golden files: a person cannot review a hash, and a change to normalisation would
# invite regenerating every golden at once. test_hashes.py checks them against their definition.
NOT_IN_GOLDEN = ("url_hash", "content_hash", "fetched_at")


def extract_record(key: str, path: str, site: SiteConfig) -> tuple[dict[str, Any], str]:
    """The record of replica page ``path`` of site ``key`` extracted with ``site``, and its name."""
    replica_site = replica(key)
    route = replica_site.lookup(path)
    assert route is not None and route.name, path
    result = extract(real_page(replica_site, route), canonical_url(replica_site.real_base + path), site)
    assert not isinstance(result, Rejection), f"{key} {path}: {result}"
    return result.record(), route.name


def reviewed(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of a record a person reviews in a golden file."""
    return {k: v for k, v in record.items() if k not in NOT_IN_GOLDEN}


def golden_of(key: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SITES_DIR / key / "expected" / f"{name}.json").read_text(encoding="utf-8"))
    return data


def truth_of(key: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SITES_DIR / key / "truth.json").read_text(encoding="utf-8"))[name]
    return data


def golden_failures(record: dict[str, Any], golden: dict[str, Any]) -> list[str]:
    """The fields where ``record`` differs from its golden file."""
    mine = reviewed(record)
    return [
        f"{k}: {mine.get(k)!r} != golden {golden.get(k)!r}"
        for k in sorted(set(mine) | set(golden))
        if mine.get(k) != golden.get(k)
    ]


def truth_failures(record: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """What ``record`` gets wrong against the hand-written facts of its page."""
    failures: list[str] = []
    for field in ("title", "lead", "authors", "source", "published_at", "published_at_precision", "category"):
        if record.get(field) != truth.get(field):
            failures.append(f"{field}: {record.get(field)!r} != truth {truth.get(field)!r}")
    if record["extractor"] != "site":
        failures.append(f"extractor {record['extractor']!r}")
    body = str(record["body"])
    if not body.startswith(truth["body_first"]):
        failures.append(f"body starts {body[:80]!r}")
    if not body.endswith(truth["body_last"]):
        failures.append(f"body ends {body[-80:]!r}")
    lines = [" ".join(line.split()) for line in body.split("\n")]
    # Per paragraph of the page's source: [first words, last words] (scripts/truth_from_source.py),
    # or, in entries written before it, the first words only.
    paragraphs: list[str | list[str]] = truth["paragraphs"]
    count = truth.get("paragraph_count", len(paragraphs))
    if len(lines) != count:
        failures.append(f"{len(lines)} paragraphs, the page has {count}")
    for i, (line, words) in enumerate(zip(lines, paragraphs, strict=False)):
        first, last = (words[0], words[1]) if isinstance(words, list) else (words, "")
        if not line.startswith(first):
            failures.append(f"paragraph {i + 1} starts {line[:40]!r}, the page {first!r}")
        if not line.endswith(last):
            failures.append(f"paragraph {i + 1} ends {line[-40:]!r}, the page {last!r}")
    for byline in truth.get("byline_in_text", []):
        if byline in lines:
            failures.append(f"byline {byline!r} left in the body")
    credit = truth.get("source_credit")
    if credit is not None and record.get("source") != credit:
        failures.append(f"source {record.get('source')!r} != the page's credit {credit!r}")
    captions = [img["caption"] for img in record["images"] if img["caption"]]
    if captions != truth["captions"]:
        failures.append(f"captions {captions!r} != truth {truth['captions']!r}")
    for furniture in truth["absent"]:
        for field in ("title", "lead", "body"):
            if furniture in str(record[field] or ""):
                failures.append(f"{furniture!r} in {field}")
    failures.extend(f"caption {c!r} in body" for c in truth["captions"] if c in body)
    return failures
