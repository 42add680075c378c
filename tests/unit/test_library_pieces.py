"""Pieces a well-kept library does (issue 15): the crawl lock (filelock), tracking parameters (courlan)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.crawl.lock import CrawlLock, LockHeld
from crawler.extract.urls import canonical_url


def test_a_symlinked_database_path_is_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    db = tmp_path / "real" / "news.sqlite3"
    link = tmp_path / "news.sqlite3"
    link.symlink_to(db)
    with CrawlLock(db):
        with pytest.raises(LockHeld, match=r"pid \d+"):
            with CrawlLock(link):
                pass
    with CrawlLock(link):
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "news.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time; from crawler.crawl.lock import CrawlLock\nwith CrawlLock({str(db)!r}):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockHeld, match=str(holder.pid)):
        with CrawlLock(db):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    holder.stdout.close()
    # wait() returned: the process is gone and the kernel has released its flock, no pause needed.
    with CrawlLock(db):
        pass


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://congan.com.vn/a_1.html?utm_campaign=x&gclid=1&igshid=2&zarsrc=30", "https://congan.com.vn/a_1.html"),
        ("https://congan.com.vn/a_1.html?fbclid=abc&_ga=1#c", "https://congan.com.vn/a_1.html"),
        # parameters that select content stay, sorted
        (
            "https://thanhtra.com.vn/trang-2/loadmore?page=2&cat=5",
            "https://thanhtra.com.vn/trang-2/loadmore?cat=5&page=2",
        ),
    ],
)
def test_tracking_parameters_go_content_parameters_stay(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical
