"""Scrapy and project settings. Project settings are ``NEWS_*``; every default is here.

Nothing is read from the environment at import: ``NEWS_ENVIRONMENT`` names the environment
variables that override a setting, and ``crawler.crawl.runner.project_settings`` reads and
checks them (against ``NEWS_SETTING_RANGES``) when a command asks for its settings, so a
malformed value is one line naming it (exit 2), never a traceback at import.
"""

from __future__ import annotations

from storage.db import BUSY_TIMEOUT

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["crawler.crawl.site_spiders"]

# --- Politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = "newscrawl/0.1 (news monitoring crawler; +https://github.com/newscrawl/newscrawl)"
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0  # NEWS_DOWNLOAD_DELAY in the environment
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
# A site module may set its own known safe pace (SiteConfig.download_delay, delay_jitter,
# concurrency: bocongan is one request at a time, 2-4 s apart); it applies at spider priority,
# so `-s DOWNLOAD_DELAY=...` still wins. NEWS_DELAY_SCALE scales those site delays (tests).
NEWS_DELAY_SCALE = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # NEWS_DOWNLOAD_DELAY sets it too (to 1.0 when the delay is 0)
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control runs Python sent to a local HTTP port by anyone who can read its
# token file (left behind by a SIGKILLed crawl). Off; `-s REMOTE_CONTROL_ENABLED=True` turns it on.
REMOTE_CONTROL_ENABLED = False

REDIRECT_MAX_TIMES = 5
DOWNLOADER_MIDDLEWARES = {
    "crawler.crawl.middlewares.SameOriginMiddleware": 40,  # before offsite, robots.txt and any connection
    "crawler.crawl.middlewares.RedirectGuardMiddleware": 650,  # sees 3xx answers before RedirectMiddleware
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.crawl.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.crawl.middlewares.HeadMetaRefreshMiddleware": 580,  # Scrapy's place for it
}
# Backoff on 429/503/challenge pages: the site's delay rises to Retry-After (at least
# NEWS_BACKOFF_START seconds), doubles on each further blocking answer, never above the cap.
NEWS_BACKOFF_START = 5.0
NEWS_BACKOFF_MAX = 300.0

# --- Pipeline and run bookkeeping -----------------------------------------------------------
ITEM_PIPELINES = {"crawler.crawl.pipelines.StoragePipeline": 300}
# Scrapy's own per-page costs, measured as the crawl process's CPU seconds for the synthetic
# replica's 3,000 articles (bench/perf --part versus settings, psutil):
# - CONCURRENT_ITEMS: Scrapy starts that many asyncio tasks for the output of every response
#   (default 100), to run asynchronous pipelines side by side. Ours is synchronous (it queues
#   the record for the next batch) and an article page yields one item: 1 took the crawl
#   process from 34.6 to 18.9 CPU s. Kept.
# - The async callback path: parse_article as a coroutine returning a list instead of an async
#   generator gave 19.7 CPU s against 18.9, no gain; the async generator is kept.
# - Stats and logging per page: a handful of in-memory counter increments, and Scrapy's per-page
#   lines are DEBUG (not emitted at the default INFO); under 1% of the process in py-spy. Kept.
CONCURRENT_ITEMS = 1
# The quality gate writes its stats before the run recorder stores them (490 < 500). Scrapy's
# RemoteControl extension is off by default, but loading it to find that out imports aiohttp:
# 0.12 s of every crawl's start-up. None keeps Scrapy from loading it; REMOTE_CONTROL_ENABLED
# puts it back (crawler/crawl/runner.py, EnvironmentAddon).
EXTENSIONS = {
    "crawler.crawl.quality.QualityGate": 490,
    "crawler.crawl.runs.RunRecorder": 500,
    "scrapy.extensions.remote_control.RemoteControl": None,
}
LOG_LEVEL = "INFO"  # NEWS_LOG_LEVEL in the environment

# --- Project ------------------------------------------------------------------------------
NEWS_DB_PATH = "data/news.sqlite3"
# `newscrawl demo` writes here. Until a first real crawl has made NEWS_DB_PATH, commands that
# read the database (search, export, runs, ...) read the demo database instead, saying so, when
# neither --db nor the NEWS_DB_PATH environment variable named one: what a newcomer who just ran
# `make demo` expects of `newscrawl search`.
NEWS_DEMO_DB_PATH = "data/demo.sqlite3"
NEWS_DEMO_FALLBACK = True  # False once NEWS_DB_PATH is set in the environment
# Extraction runs in a pool of worker processes (crawler/crawl/pool.py) so the reactor keeps
# downloading; a page that hangs or crashes its worker is killed after the timeout, counted
# and fetched again next run.
NEWS_EXTRACT_WORKERS = None  # None: one per core the process may use; 0: in-process
NEWS_EXTRACT_TIMEOUT = 30.0  # seconds per page
# Memory a worker may take beyond what it holds idle, per page (address space, MB; 0: no limit).
# A page over it, over the timeout, or killing its worker is retried once on the next run; the
# second time it is logged as over_budget in url_log and not fetched again.
NEWS_EXTRACT_MEMORY_MB = 1024
# Storage writes are batched in one transaction per NEWS_STORE_BATCH records or
# NEWS_STORE_FLUSH_SECONDS, whichever comes first, and when the crawl is idle or closes.
NEWS_STORE_BATCH = 100
NEWS_STORE_FLUSH_SECONDS = 1.0
# How long a write waits for another process's write lock before the crawl gives up (exit 5).
NEWS_DB_BUSY_TIMEOUT = BUSY_TIMEOUT
# Cap on the database file, in SQLite pages (0: none); a full database stops the crawl cleanly.
NEWS_DB_MAX_PAGES = 0
# Articles published within this many days are refetched when their last fetch is older than
# NEWS_RECHECK_HOURS; a changed content hash then stores a new version.
NEWS_RECHECK_DAYS = 3.0
NEWS_RECHECK_HOURS = 6.0
# Listing pages walked per category: scheduled runs stop earlier, at the first page of known
# articles; backfill runs (`newscrawl crawl --backfill`) walk up to the larger bound.
NEWS_MAX_LISTING_PAGES = 5
NEWS_BACKFILL_MAX_PAGES = 200
# Article links followed from one listing page or feed (the first ones, in page order): real
# pages hold 20-100; a page with 100,000 links is a trap or a broken template. Sitemaps keep
# the protocol's own bound, 50,000 URLs per file.
NEWS_MAX_PAGE_LINKS = 1000

# Extraction quality gate (crawler/crawl/quality_rules.py): a site's run is unhealthy when most of its
# articles fell back to the generic path, or when its field coverage, article yield or body
# length fell versus the site's last healthy runs. Each rule is a one-sided test plus an effect
# size: it fails when the drop is at least the size below *and* its p-value is under
# NEWS_QUALITY_ALPHA / 7 (seven rules, Bonferroni), so a healthy run of any size raises a false
# alarm with probability at most NEWS_QUALITY_ALPHA. See `newscrawl health`.
NEWS_QUALITY_BASELINE_RUNS = 20  # healthy runs pooled into the baseline
NEWS_QUALITY_MIN_BASELINE = 10  # articles the baseline needs before drops are judged
NEWS_QUALITY_MIN_ARTICLES = 5  # articles or article pages (pooled over small runs) before a verdict
NEWS_QUALITY_MIN_BODY = 20  # recent articles (pooled with the newest healthy runs) before body length is judged
NEWS_QUALITY_MAX_GENERIC_SHARE = 0.5  # more than this share via the generic path: a redesign
# Tuning assumptions, not site facts: the shares a healthy site is taken to have while it has no
# baseline yet (its first runs). A site sending more through the generic path from its first
# run is a site whose template was never recognised.
NEWS_QUALITY_GENERIC_PRIOR = 0.1
NEWS_QUALITY_YIELD_PRIOR = 0.7  # articles per fetched article page (traps: video, album pages)
NEWS_QUALITY_MAX_DROP = 0.25  # a coverage or yield share this far below the baseline's...
NEWS_QUALITY_ALPHA = 0.01  # ...and improbable (p < this / 7) is a fall; the gate's false-alarm rate per judged run
NEWS_QUALITY_MAX_BODY_DROP = 0.5  # median body length below (1 - this) x the baseline's, improbably (rank test)

# Backfill beyond listing page 1 through a site's JSON API (SiteConfig.api). Off: the request
# form of bocongan's API is inferred, not confirmed against the live site. NEWS_API_BASES
# points a site's API at another base URL ({"bocongan": "http://127.0.0.1:8002/api"}).
NEWS_API_BACKFILL = False
NEWS_API_BASES: dict[str, str] = {}

# --- Distributed mode (newscrawl crawl --redis URL; crawler/distributed/) ---
NEWS_REDIS_PREFIX = "newscrawl"
NEWS_REDIS_HEARTBEAT_TTL = 15  # s without a heartbeat before a worker's in-flight requests are requeued
NEWS_REDIS_RUN_TTL = 300  # s a run's keys outlive the last heartbeat
NEWS_REDIS_RUN_GRACE = 60  # s an ended run stays joinable (late starters find nothing to do)
NEWS_REDIS_POLL = 0.5  # s between an idle worker's polls of the shared queue
NEWS_INGEST_BATCH = 200  # records the ingest reads, stores in one transaction and acknowledges at a time

# --- Where settings come from, and what they may be ----------------------------------------------
# Environment variables that set a setting: read when a command starts, never at import (the
# add-on applies them to every crawler, a plain `scrapy crawl` included).
ADDONS = {"crawler.crawl.runner.EnvironmentAddon": 0}
NEWS_ENVIRONMENT = {
    "NEWS_DB_PATH": "NEWS_DB_PATH",
    "NEWS_DOWNLOAD_DELAY": "DOWNLOAD_DELAY",
    "NEWS_BACKOFF_MAX": "NEWS_BACKOFF_MAX",
    "NEWS_LOG_LEVEL": "LOG_LEVEL",
    "NEWS_EXTRACT_WORKERS": "NEWS_EXTRACT_WORKERS",
    "NEWS_DB_BUSY_TIMEOUT": "NEWS_DB_BUSY_TIMEOUT",
    "NEWS_DB_MAX_PAGES": "NEWS_DB_MAX_PAGES",
    "NEWS_RECHECK_DAYS": "NEWS_RECHECK_DAYS",
    "NEWS_RECHECK_HOURS": "NEWS_RECHECK_HOURS",
}
# Allowed ranges (inclusive; whole numbers where both bounds are): a value outside is refused
# in one line, from the environment or from `-s`, before anything runs. The upper bounds are
# where a value stops meaning anything for a news crawl (and before timedelta or SQLite overflow).
NEWS_SETTING_RANGES = {
    "DOWNLOAD_DELAY": (0.0, 3600.0),
    "DOWNLOAD_DELAY_JITTER": (0.0, 1.0),
    "DOWNLOAD_TIMEOUT": (1, 3600),
    "DOWNLOAD_MAXSIZE": (0, 2**31 - 1),
    "CONCURRENT_REQUESTS": (1, 1000),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (1, 1000),
    "RETRY_TIMES": (0, 100),
    "NEWS_DELAY_SCALE": (0.0, 1000.0),
    "NEWS_BACKOFF_START": (0.0, 86400.0),
    "NEWS_BACKOFF_MAX": (0.0, 86400.0),
    "NEWS_EXTRACT_WORKERS": (0, 256),
    "NEWS_EXTRACT_TIMEOUT": (0.1, 3600.0),
    "NEWS_STORE_BATCH": (1, 1_000_000),
    "NEWS_INGEST_BATCH": (1, 100_000),
    "NEWS_STORE_FLUSH_SECONDS": (0.0, 3600.0),
    "NEWS_DB_BUSY_TIMEOUT": (0.0, 86400.0),
    "NEWS_DB_MAX_PAGES": (0, 2**32 - 2),  # SQLite's own largest max_page_count
    "NEWS_RECHECK_DAYS": (0.0, 36500.0),  # a century: every stored article due
    "NEWS_RECHECK_HOURS": (0.0, 87600.0),
    "NEWS_MAX_LISTING_PAGES": (1, 1_000_000),
    "NEWS_BACKFILL_MAX_PAGES": (1, 1_000_000),
}
NEWS_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
