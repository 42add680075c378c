"""``python -m crawler.cli``: the same ``main`` as the ``newscrawl`` console script."""

import sys

from crawler.cli import main

sys.exit(main())
