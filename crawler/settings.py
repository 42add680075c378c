"""Scrapy and project settings. Project settings are ``NEWS_*``; the one place env vars are read."""

from __future__ import annotations

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- Politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = "newscrawl/0.1 (news monitoring crawler; +https://github.com/newscrawl/newscrawl)"
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = float(os.environ.get("NEWS_DOWNLOAD_DELAY", "1.0"))
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
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

# --- Pipeline and run bookkeeping -----------------------------------------------------------
ITEM_PIPELINES = {"crawler.pipelines.StoragePipeline": 300}
EXTENSIONS = {"crawler.runs.RunRecorder": 500}
LOG_LEVEL = os.environ.get("NEWS_LOG_LEVEL", "INFO")

# --- Project ------------------------------------------------------------------------------
NEWS_DB_PATH = os.environ.get("NEWS_DB_PATH", "data/news.sqlite3")
# Articles published within this many days are refetched when their last fetch is older than
# NEWS_RECHECK_HOURS; a changed content hash then stores a new version.
NEWS_RECHECK_DAYS = float(os.environ.get("NEWS_RECHECK_DAYS", "3"))
NEWS_RECHECK_HOURS = float(os.environ.get("NEWS_RECHECK_HOURS", "6"))
# Listing pages walked per category: scheduled runs stop earlier, at the first page of known
# articles; backfill runs (`newscrawl crawl --backfill`) walk up to the larger bound.
NEWS_MAX_LISTING_PAGES = 5
NEWS_BACKFILL_MAX_PAGES = 200
