"""Printing stored text on a terminal: nothing a page wrote can drive the terminal.

Titles, snippets and URLs come from pages, and a page can carry ESC sequences (clear the
screen, retitle the window, fake a prompt), BEL, or bidi overrides that reverse what is shown.
Extraction strips them (:func:`storage.text.clean_text`), but a database written by an older
version or by hand may still hold them, so everything printed goes through here too.
"""

from __future__ import annotations

import json
from typing import Any


def printable(text: str, keep: str = "") -> str:
    """``text`` with every non-printable character shown as its Python escape (``\\x1b``,
    ``\\u202e``); characters in ``keep`` (the caller's own markers) pass through."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else ch.encode("unicode_escape").decode("ascii") for ch in text)


def json_line(value: Any) -> str:
    """``json.dumps`` (UTF-8 text kept readable) with every non-printable character escaped as
    ``\\uXXXX``: still valid JSON, the same value once parsed, inert on a terminal."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
