"""Scrapy and project settings. Project settings are ``NEWS_*``; the one place env vars are read."""

from __future__ import annotations

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["crawler.crawl.spiders"]

# --- Politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = "newscrawl/0.1 (news monitoring crawler; +https://github.com/newscrawl/newscrawl)"
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = float(os.environ.get("NEWS_DOWNLOAD_DELAY", "1.0"))
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
# A site module may set its own known safe pace (SiteConfig.download_delay, delay_jitter,
# concurrency: bocongan is one request at a time, 2-4 s apart); it applies at spider priority,
# so `-s DOWNLOAD_DELAY=...` still wins. NEWS_DELAY_SCALE scales those site delays (tests).
NEWS_DELAY_SCALE = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = DOWNLOAD_DELAY or 1.0
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
}
# Backoff on 429/503/challenge pages: the site's delay rises to Retry-After (at least
# NEWS_BACKOFF_START seconds), doubles on each further blocking answer, never above the cap.
NEWS_BACKOFF_START = 5.0
NEWS_BACKOFF_MAX = float(os.environ.get("NEWS_BACKOFF_MAX", "300"))

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
# The quality gate writes its stats before the run recorder stores them (490 < 500).
EXTENSIONS = {"crawler.crawl.quality.QualityGate": 490, "crawler.crawl.runs.RunRecorder": 500}
LOG_LEVEL = os.environ.get("NEWS_LOG_LEVEL", "INFO")

# --- Project ------------------------------------------------------------------------------
NEWS_DB_PATH = os.environ.get("NEWS_DB_PATH", "data/news.sqlite3")
# `newscrawl demo` writes here. Until a first real crawl has made NEWS_DB_PATH, commands that
# read the database (search, export, runs, ...) read the demo database instead, saying so, when
# neither --db nor the NEWS_DB_PATH environment variable named one: what a newcomer who just ran
# `make demo` expects of `newscrawl search`.
NEWS_DEMO_DB_PATH = "data/demo.sqlite3"
NEWS_DEMO_FALLBACK = "NEWS_DB_PATH" not in os.environ
# Extraction runs in a pool of worker processes (crawler/pool.py) so the reactor keeps
# downloading; a page that hangs or crashes its worker is killed after the timeout, counted
# and fetched again next run.
NEWS_EXTRACT_WORKERS = int(os.environ.get("NEWS_EXTRACT_WORKERS", len(os.sched_getaffinity(0))))  # 0: in-process
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
NEWS_DB_BUSY_TIMEOUT = float(os.environ.get("NEWS_DB_BUSY_TIMEOUT", "30"))
# Cap on the database file, in SQLite pages (0: none); a full database stops the crawl cleanly.
NEWS_DB_MAX_PAGES = int(os.environ.get("NEWS_DB_MAX_PAGES", "0"))
# Articles published within this many days are refetched when their last fetch is older than
# NEWS_RECHECK_HOURS; a changed content hash then stores a new version.
NEWS_RECHECK_DAYS = float(os.environ.get("NEWS_RECHECK_DAYS", "3"))
NEWS_RECHECK_HOURS = float(os.environ.get("NEWS_RECHECK_HOURS", "6"))
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

# --- Distributed mode (newscrawl crawl --redis URL; crawler/distributed.py) ---
NEWS_REDIS_PREFIX = "newscrawl"
NEWS_REDIS_HEARTBEAT_TTL = 15  # s without a heartbeat before a worker's in-flight requests are requeued
NEWS_REDIS_RUN_TTL = 300  # s a run's keys outlive the last heartbeat
NEWS_REDIS_RUN_GRACE = 60  # s an ended run stays joinable (late starters find nothing to do)
NEWS_REDIS_POLL = 0.5  # s between an idle worker's polls of the shared queue
