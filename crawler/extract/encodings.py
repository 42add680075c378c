"""Decoding fetched bytes to text: UTF-8 first, then the charset the page or server declares.

Scrapy's ``TextResponse.text`` (w3lib's ``html_to_unicode``) trusts a declared charset over the
bytes; a server that says ``charset=iso-8859-1`` in front of a UTF-8 page (a common default) then
garbles every Vietnamese letter. So bytes that are valid UTF-8 are read as UTF-8 whatever is
declared; only bytes that are not are read in the declared charset -- the HTTP header's, then
the page's own ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` (w3lib reads both).

Legacy Vietnamese charsets: windows-1258 is a Python codec (``cp1258``). VISCII (RFC 1456) and
TCVN 5712:1993 (VN1, "TCVN3" in common use) have no Python codec and no package on PyPI; their
byte tables below are glibc's charmaps (``/usr/share/i18n/charmaps/VISCII.gz`` and
``TCVN5712-1.gz``, single-byte entries), each byte mapped to its character. Both, like
windows-1258, may write a tone mark as a combining character after its letter: the text is put
in NFC downstream (``storage.text.clean_text``). VNI and VPS are font encodings that no page
declares as a charset: not supported.
"""

from __future__ import annotations

import re

from w3lib.encoding import html_body_declared_encoding, resolve_encoding

__all__ = ["decode_page", "decode_page_as", "encoding_fault", "is_utf8", "read_page"]

# How far into a page its <meta> charset is looked for (the HTML standard says 1024 bytes;
# pages with long heads put it later, and w3lib reads 4096).
_HEAD_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def _table(c0: dict[int, str], high: str) -> str:
    """A charmap decoding table: ASCII with some C0 positions holding letters, then 0x80-0xFF."""
    low = "".join(c0.get(i, chr(i)) for i in range(128))
    assert len(low) + len(high) == 256
    return low + high


# VISCII puts six capital letters in C0 positions, TCVN 5712 (VN1) twelve. TCVN3 (VN3, the
# .VnTime fonts) is the subset of VN1 without the capitals that need a tone mark (INFERRED from
# the standard's three levels): its pages read right with the VN1 table.
_VISCII = _table(
    {2: "Ẳ", 5: "Ẵ", 6: "Ẫ", 20: "Ỷ", 25: "Ỹ", 30: "Ỵ"},
    "\u1ea0\u1eae\u1eb0\u1eb6\u1ea4\u1ea6\u1ea8\u1eac\u1ebc\u1eb8\u1ebe\u1ec0\u1ec2\u1ec4\u1ec6\u1ed0"
    "\u1ed2\u1ed4\u1ed6\u1ed8\u1ee2\u1eda\u1edc\u1ede\u1eca\u1ece\u1ecc\u1ec8\u1ee6\u0168\u1ee4\u1ef2"
    "\xd5\u1eaf\u1eb1\u1eb7\u1ea5\u1ea7\u1ea9\u1ead\u1ebd\u1eb9\u1ebf\u1ec1\u1ec3\u1ec5\u1ec7\u1ed1"
    "\u1ed3\u1ed5\u1ed7\u1ee0\u01a0\u1ed9\u1edd\u1edf\u1ecb\u1ef0\u1ee8\u1eea\u1eec\u01a1\u1edb\u01af"
    "\xc0\xc1\xc2\xc3\u1ea2\u0102\u1eb3\u1eb5\xc8\xc9\xca\u1eba\xcc\xcd\u0128\u1ef3"
    "\u0110\u1ee9\xd2\xd3\xd4\u1ea1\u1ef7\u1eeb\u1eed\xd9\xda\u1ef9\u1ef5\xdd\u1ee1\u01b0"
    "\xe0\xe1\xe2\xe3\u1ea3\u0103\u1eef\u1eab\xe8\xe9\xea\u1ebb\xec\xed\u0129\u1ec9"
    "\u0111\u1ef1\xf2\xf3\xf4\xf5\u1ecf\u1ecd\u1ee5\xf9\xfa\u0169\u1ee7\xfd\u1ee3\u1eee",
)
_TCVN = _table(
    {1: "Ú", 2: "Ụ", 4: "Ừ", 5: "Ử", 6: "Ữ", 17: "Ứ", 18: "Ự", 19: "Ỳ", 20: "Ỷ", 21: "Ỹ", 22: "Ý", 23: "Ỵ"},
    "\xc0\u1ea2\xc3\xc1\u1ea0\u1eb6\u1eac\xc8\u1eba\u1ebc\xc9\u1eb8\u1ec6\xcc\u1ec8\u0128"
    "\xcd\u1eca\xd2\u1ece\xd5\xd3\u1ecc\u1ed8\u1edc\u1ede\u1ee0\u1eda\u1ee2\xd9\u1ee6\u0168"
    "\xa0\u0102\xc2\xca\xd4\u01a0\u01af\u0110\u0103\xe2\xea\xf4\u01a1\u01b0\u0111\u1eb0"
    "\u0300\u0309\u0303\u0301\u0323\xe0\u1ea3\xe3\xe1\u1ea1\u1eb2\u1eb1\u1eb3\u1eb5\u1eaf\u1eb4"
    "\u1eae\u1ea6\u1ea8\u1eaa\u1ea4\u1ec0\u1eb7\u1ea7\u1ea9\u1eab\u1ea5\u1ead\xe8\u1ec2\u1ebb\u1ebd"
    "\xe9\u1eb9\u1ec1\u1ec3\u1ec5\u1ebf\u1ec7\xec\u1ec9\u1ec4\u1ebe\u1ed2\u0129\xed\u1ecb\xf2"
    "\u1ed4\u1ecf\xf5\xf3\u1ecd\u1ed3\u1ed5\u1ed7\u1ed1\u1ed9\u1edd\u1edf\u1ee1\u1edb\u1ee3\xf9"
    "\u1ed6\u1ee7\u0169\xfa\u1ee5\u1eeb\u1eed\u1eef\u1ee9\u1ef1\u1ef3\u1ef7\u1ef9\xfd\u1ef5\u1ed0",
)
_MAPS = {table: dict(enumerate(table)) for table in (_VISCII, _TCVN)}
_LEGACY = {
    "viscii": _VISCII,
    "csviscii": _VISCII,
    "viscii1.1-1": _VISCII,
    "tcvn": _TCVN,
    "tcvn3": _TCVN,
    "tcvn-5712": _TCVN,
    "tcvn5712": _TCVN,
    "tcvn5712-1": _TCVN,
    "tcvn5712-1:1993": _TCVN,
    "tcvn-5712:1993": _TCVN,
    "x-viet-tcvn5712": _TCVN,
    "x-viet-tcvn": _TCVN,
}


def is_utf8(charset: str) -> bool:
    """Whether a declared charset name means UTF-8 (``UTF-8``, ``utf8``, ``utf_8``)."""
    return charset.strip().lower().replace("_", "-") in ("utf-8", "utf8")


def decode_page(body: bytes, declared: str | None = None) -> str:
    """Bytes of a page as text (see :func:`decode_page_as`)."""
    return decode_page_as(body, declared)[0]


def decode_page_as(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Bytes of a page as text, and the charset that read them (a Python codec name, or
    ``viscii`` / ``tcvn5712-1``).

    UTF-8 first, whatever is declared (see the module docstring); then the charset ``declared``
    in the HTTP header, then the one the page declares in a ``<meta>``, each only if it reads
    every byte. Bytes nothing reads become U+FFFD in UTF-8 (``utf-8``, the page kept).
    """
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for name in (declared, _meta_charset(body)):
        if not name or is_utf8(name):
            continue
        decoded = _strict(body, name)
        if decoded is not None:
            return decoded
    return body.decode("utf-8", errors="replace"), "utf-8"


def _meta_charset(body: bytes) -> str | None:
    """The charset a page names in its head: w3lib's reading (names Python knows), else a
    legacy Vietnamese name w3lib does not resolve."""
    head = body[:_HEAD_BYTES]
    known = html_body_declared_encoding(head)
    if known:
        return str(known)
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii", errors="replace") if found else None


def _strict(body: bytes, name: str) -> tuple[str, str] | None:
    """``body`` read in charset ``name`` if that charset is known and reads every byte."""
    label = name.strip().strip("\"'").lower()
    table = _LEGACY.get(label)
    try:
        if table is not None:
            # Every byte has a character in both tables: latin-1 gives each byte as itself.
            return body.decode("latin-1").translate(_MAPS[table]), "tcvn5712-1" if table is _TCVN else "viscii"
        codec = resolve_encoding(label)
        if codec is None or codec.startswith("utf-16") or codec.startswith("utf-32"):
            return None
        return body.decode(codec), codec
    except (LookupError, UnicodeDecodeError):
        return None


def read_page(body: bytes, declared: str | None) -> tuple[str, str | None]:
    """The text of a fetched page and the encoding fault met reading it (see
    :func:`encoding_fault`): the one place a crawl decodes a page's bytes, listing pages (the
    spider) and article pages (the extraction worker) alike."""
    text, charset = decode_page_as(body, declared)
    return text, encoding_fault(text, charset, declared)


def encoding_fault(text: str, charset: str, declared: str | None) -> str | None:
    """The fault met reading a page (a ``newscrawl/faults/<kind>`` counter), or None.

    ``invalid_utf8``: bytes no charset read became U+FFFD (the page is kept);
    ``charset_mismatch``: the server declared another charset, the bytes were UTF-8.
    """
    if charset == "utf-8" and "\ufffd" in text:
        return "invalid_utf8"
    if charset == "utf-8" and declared and not is_utf8(declared):
        return "charset_mismatch"
    return None
