"""Test-only stand-ins for extraction bugs, installed in the pool's workers.

The workers are forked by a forkserver, not from the test process, so a monkeypatch in the
test does not reach them: :func:`install` runs in each worker as it starts (the pool's
``initializer``) and replaces ``crawler.extract.article.extract`` there. Production code has no
trigger for it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from crawler.extract import article as extraction

_REAL = extraction.extract


def pathological(page: str | bytes, *args: Any, **kwargs: Any) -> Any:
    """Hangs on a page holding ``TEST-HANG``, kills its process on ``TEST-CRASH``, asks for 512 MB
    on ``TEST-MEMORY`` (zero pages the kernel maps lazily: free without a memory budget)."""
    text = page if isinstance(page, str) else page.decode("utf-8", "replace")
    if "TEST-HANG" in text:
        time.sleep(600)
    if "TEST-CRASH" in text:
        os._exit(3)
    if "TEST-MEMORY" in text:
        bytearray(512 * 1024**2)
    return _REAL(page, *args, **kwargs)


def install() -> None:
    extraction.extract = pathological
