"""The exit codes of every ``newscrawl`` command (documented in the README), defined once.

At the package root so that both the commands (``crawler.cli``) and the reports that choose a
code (``crawler.crawl.probe_report``) import them without breaking the layers.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERRORS = 1  # finished, but some fetches failed
EXIT_USAGE = 2  # bad arguments (argparse's own code)
EXIT_NOTHING = 3  # nothing could be fetched
EXIT_LOCKED = 4  # another crawl holds the lock
EXIT_STORAGE = 5  # the database cannot be used
EXIT_UNHEALTHY = 6  # a site's extraction failed the quality gate (crawler/crawl/quality.py)
EXIT_INTERRUPTED = 7  # stopped by SIGTERM or SIGINT before the end; what was stored is kept
EXIT_INTERNAL = 70  # a bug (EX_SOFTWARE): never 1, which schedulers may take for a finished run
