"""Write the paragraph facts of ``tests/sites/<key>/truth.json`` from each article's HTML source.

``python -m scripts.truth_from_source [--write]``: for every article page of every replica, read
the HTML file itself (no code of ``crawler/``, no trafilatura) and list what a person reading
the source sees in the article's text block:

* ``paragraphs``: per paragraph its first and last three words (``[first, last]``);
* ``paragraph_count``; ``byline_in_text``: the right-aligned name line(s) inside the text block
  (not paragraphs), and ``source_credit``: a right-aligned "Theo ..." / "Nguồn: ..." credit;
* ``captions`` (``figcaption`` and caption-classed blocks, in page order);
* ``absent`` gains the first words of every link box inside the text block (related articles).

Without ``--write`` it prints where the truth files disagree with the source, for a person to
review; with it, it rewrites those fields where they agree (other facts, written by hand, stay;
an entry that disagrees is left as it is and printed). The truth checks
(``tests/unit/replica_checks.py``) never run this script: the facts are fixed once reviewed.

Where the text block is, per site, from reading the pages (not from ``crawler/sites``):
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent / "tests" / "sites"
# The element holding the article's text, by site (read in the pages' source).
TEXT_BLOCK = {
    "cao": "//div[@id='article_content']",
    "bocongan": "//div[contains(concat(' ', @class, ' '), ' tinymce-content ')] | //div[@id='contentnews']",
    "thanhtra": "//div[@id='editor-detail'] | //div[contains(concat(' ', @class, ' '), ' editor-detail ')]",
}
BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")
CREDIT = re.compile(r"^[(\[]?\s*(?:theo|nguồn)\s*[:：]?\s+(?P<source>.+?)\s*[)\]]?\s*$", re.IGNORECASE)
RIGHT = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)
WORDS = 3


def _text(node: Any) -> str:
    """The text a reader sees: NFC (some pages write decomposed Vietnamese), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", node.text_content()).split())


def _is_caption(node: Any) -> bool:
    for el in [node, *node.iterancestors()]:
        cls = el.get("class") or ""
        if el.tag in ("figcaption", "figure") or "caption" in cls.lower() or "image_desc" in cls:
            return True
        if el.tag == "table" and el.find(".//img") is not None:
            return True
    return False


def _is_right(node: Any) -> bool:
    cls = f" {node.get('class') or ''} "
    return bool(RIGHT.search(node.get("style") or "")) or " text-right " in cls or " author " in cls


def _link_box(node: Any, block: Any) -> Any:
    """The outermost element between ``node`` and the text block holding two links or more and
    mostly link text (a related-articles box), or None."""
    found = None
    for el in [node, *node.iterancestors()]:
        if el is block:
            break
        links = el.findall(".//a")
        text = len(_text(el))
        if len(links) >= 2 and text and sum(len(_text(a)) for a in links) >= 0.5 * text:
            found = el
    return found


def facts(page: bytes, key: str) -> dict[str, Any]:
    tree = lxml_html.document_fromstring(page)
    block = tree.xpath(TEXT_BLOCK[key])[0]
    paragraphs: list[list[str]] = []
    bylines: list[str] = []
    boxes: list[str] = []
    seen_boxes: set[Any] = set()
    for node in block.iter(*BLOCKS):
        if any(a.tag in BLOCKS for a in node.iterancestors() if a is not block and block in a.iterancestors()):
            continue  # an inner block: its outermost block counts
        text = _text(node)
        if not text or _is_caption(node):
            continue
        box = _link_box(node, block)
        if box is not None:
            if box not in seen_boxes:
                seen_boxes.add(box)
                boxes.append(" ".join(_text(box).split()[:5]))
            continue
        if _is_right(node):
            bylines.append(text)
            continue
        words = text.split()
        paragraphs.append([" ".join(words[:WORDS]), " ".join(words[-WORDS:])])
    source = None
    credits = [b for b in bylines if CREDIT.match(b)]
    if credits:
        match = CREDIT.match(credits[-1])
        source = match.group("source") if match else None
    captions = [
        _text(n)
        for n in block.iter()
        if isinstance(n.tag, str)
        and (
            n.tag == "figcaption"
            or "caption" in (n.get("class") or "").lower()
            or "image_desc" in (n.get("class") or "")
        )
        and _text(n)
    ]
    return {
        "paragraphs": paragraphs,
        "paragraph_count": len(paragraphs),
        "byline_in_text": [b for b in bylines if not CREDIT.match(b)],
        "source_credit": source,
        "captions_in_source": captions,
        "link_boxes": boxes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the truth files' source facts")
    args = parser.parse_args(argv)
    disagreements = 0
    for folder in sorted(p for p in ROOT.iterdir() if (p / "site.json").is_file()):
        key = folder.name
        site = json.loads((folder / "site.json").read_text(encoding="utf-8"))
        truth_file = folder / "truth.json"
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        for route in site["routes"]:
            if route["kind"] != "article" or key not in TEXT_BLOCK:
                continue
            name = route["name"]
            page = (folder / "pages" / route["file"]).read_bytes().replace(b"{{BASE}}", site["real_base"].encode())
            found = facts(page, key)
            entry = truth.setdefault(name, {})
            old = entry.get("paragraphs") or []
            firsts = [p[0] if isinstance(p, list) else " ".join(p.split()[:WORDS]) for p in old]
            if len(old) != found["paragraph_count"] or any(
                not f.startswith(p[0]) and not p[0].startswith(f)
                for f, p in zip(firsts, found["paragraphs"], strict=False)
            ):
                # e.g. a lead or a status line inside the text block, which only a person can tell:
                # the entry is left as written, for review
                disagreements += 1
                print(f"{key} {name}: truth has {len(old)} paragraphs, the source {found['paragraph_count']}")
                continue
            if found["captions_in_source"] != entry.get("captions"):
                print(f"{key} {name}: captions {entry.get('captions')} != source {found['captions_in_source']}")
            if args.write:
                entry["paragraphs"] = found["paragraphs"]
                entry["paragraph_count"] = found["paragraph_count"]
                entry["byline_in_text"] = found["byline_in_text"]
                entry["source_credit"] = found["source_credit"]
                absent = list(entry.get("absent") or [])
                entry["absent"] = absent + [b for b in found["link_boxes"] if b not in absent]
        if args.write:
            lines = truth_file.read_text(encoding="utf-8").splitlines()
            indent = len(lines[1]) - len(lines[1].lstrip()) if len(lines) > 1 else 2  # the file's own
            truth_file.write_text(json.dumps(truth, ensure_ascii=False, indent=indent) + "\n", encoding="utf-8")
    print(f"{disagreements} article(s) where the truth's paragraphs disagree with the source", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
