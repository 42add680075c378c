"""The fixed tuning / held-out split of the public benchmark pages.

Rule: order the page ids by ``sha256("newscrawl-quality-split:" + id)`` (hex) and give the
first half to tuning, the rest to the held-out set. The rule was fixed once, before anything
was tuned against it; ``bench/quality-split.json`` writes the resulting lists down, and a test
checks that the rule still gives exactly those lists. Thresholds of the generic path and of the
"is this an article" decision are chosen on the tuning half only; the held-out half is what
the README quotes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

SPLIT_FILE = Path(__file__).resolve().parent / "quality-split.json"
SALT = "newscrawl-quality-split:"


def split_ids(ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """(tuning, held-out) page ids by the rule above, each list sorted."""
    ordered = sorted(set(ids), key=lambda i: hashlib.sha256((SALT + i).encode("utf-8")).hexdigest())
    half = len(ordered) // 2
    return sorted(ordered[:half]), sorted(ordered[half:])


def written_split(path: Path = SPLIT_FILE) -> dict[str, list[str]]:
    """The lists as written down in ``bench/quality-split.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"tuning": list(data["tuning"]), "held_out": list(data["held_out"])}


def write_split(ids: Iterable[str], path: Path = SPLIT_FILE) -> None:
    tuning, held_out = split_ids(ids)
    data = {
        "rule": f'sort page ids by sha256("{SALT}" + id) in hex; first half tuning, rest held-out',
        "tuning": tuning,
        "held_out": held_out,
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    from bench.datasets import article_set

    truth = json.loads((article_set() / "ground-truth.json").read_text(encoding="utf-8"))
    write_split(truth)
