"""Cost of an unchanged re-crawl against the first crawl of the same replicas.

    python -m bench.recrawl [--repeat N]

Both crawls run as ``newscrawl crawl`` subprocesses against the same replica server (all three
sites, no politeness delay); requests are counted by the replica, wall time by this process.
Figures are printed as ratios of the re-crawl to the first crawl, measured in the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO
from crawler.testing.server import ReplicaServer


def crawl(server: ReplicaServer, db: Path) -> tuple[int, float]:
    for site in server.sites.values():
        site.requests.clear()
    command = [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "--db",
        str(db),
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "LOG_LEVEL=ERROR",
    ]
    for key in server.sites:
        command += ["--base-url", f"{key}={server.base_url(key)}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    elapsed = time.perf_counter() - started
    return sum(sum(site.requests.values()) for site in server.sites.values()), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="first/re-crawl pairs to run")
    args = parser.parse_args()
    print(
        f"{'pair':>4} {'first req':>9} {'first s':>8} {'again req':>9} {'again s':>8} {'req ratio':>9} {'time ratio':>10}"
    )
    ratios = []
    with ReplicaServer() as server, tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.repeat):
            db = Path(tmp) / f"bench-{pair}.sqlite3"
            first_req, first_s = crawl(server, db)
            again_req, again_s = crawl(server, db)
            ratios.append((again_req / first_req, again_s / first_s))
            print(
                f"{pair:>4} {first_req:>9} {first_s:>8.2f} {again_req:>9} {again_s:>8.2f} "
                f"{again_req / first_req:>9.2f} {again_s / first_s:>10.2f}"
            )
    best_req = min(r for r, _ in ratios)
    best_time = min(t for _, t in ratios)
    print(
        f"\nunchanged re-crawl / first crawl: requests {best_req:.2f}x, wall time {best_time:.2f}x (best of {len(ratios)})"
    )


if __name__ == "__main__":
    main()
