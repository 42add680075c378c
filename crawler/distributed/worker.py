"""Distributed crawling on Redis: a shared frontier for any number of ``newscrawl crawl`` workers.

Switched on by ``NEWS_REDIS_URL`` (``newscrawl crawl --redis URL``, see :func:`redis_settings`):

- :class:`RunScheduler` (scrapy-redis's Scheduler with its RFPDupeFilter) keeps the request
  queue and the dupefilter in Redis, both keyed by a *run id* the workers agree on when they
  start (the first one creates it, the others join). The dupefilter lives only as long as its
  run, so feeds and listings are fetched once per run and again in the next one (the trap of
  scrapy-redis's persistent dupefilter, scrapy-redis issue #120). A popped request stays in the
  worker's *in-flight* hash until its callback's output is scheduled or stored, so a worker
  killed mid-crawl loses nothing: the others put its in-flight requests back in the queue once
  its heartbeat (``NEWS_REDIS_HEARTBEAT_TTL`` seconds) has expired. A worker stops when the
  queue is empty and no live worker of its run has a request in flight; the last one out ends
  the run, whose keys expire ``NEWS_REDIS_RUN_GRACE`` seconds later (a worker starting in
  between joins the ended run and finds nothing to do: schedule runs further apart). Every run
  key expires ``NEWS_REDIS_RUN_TTL`` seconds after the last heartbeat.
- "Already stored" still comes from the article store: the ingest process mirrors each site's
  known url_hashes (and unfinished listing pages) to Redis, and a worker reads that mirror at
  start in place of its SQLite file (``spider.state``: crawler/crawl/state.py).
- :class:`RecordPipeline` replaces the storage pipeline: workers never write the article
  database, they append each record to a Redis Stream that ``newscrawl ingest`` (crawler/distributed/ingest.py)
  writes to SQLite.

Conditional GET is off in distributed mode: no single worker knows whether the whole run (and
its ingest) went clean, which is what saving entry-point validators depends on.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import redis
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.settings import BaseSettings
from scrapy_redis.dupefilter import RFPDupeFilter  # type: ignore[import-untyped]
from scrapy_redis.queue import PriorityQueue  # type: ignore[import-untyped]
from scrapy_redis.scheduler import Scheduler  # type: ignore[import-untyped]
from twisted.internet import task

from crawler.crawl.news_spider import NewsSpider
from crawler.crawl.state import CrawlState
from crawler.distributed.stream import Keys, RedisClient, connect, encode_record, worker_id

logger = logging.getLogger(__name__)


def redis_settings(url: str, settings: BaseSettings | None = None) -> dict[str, Any]:
    """Setting overrides that switch a crawl to distributed mode on the Redis at ``url``.

    ``settings`` (the project settings) lets the storage pipeline be swapped for
    :class:`RecordPipeline` while any other pipeline stays in place.
    """
    pipelines = dict(settings.getdict("ITEM_PIPELINES")) if settings is not None else {}
    order = pipelines.pop("crawler.crawl.pipelines.StoragePipeline", 300)
    pipelines["crawler.crawl.pipelines.StoragePipeline"] = None
    pipelines["crawler.distributed.worker.RecordPipeline"] = order
    return {
        "NEWS_REDIS_URL": url,
        "SCHEDULER": "crawler.distributed.worker.RunScheduler",
        "ITEM_PIPELINES": pipelines,
    }


# Join the current run of a spider, or start one (atomic, so two workers starting together
# agree on one run). KEYS: run key; ARGV: new run id, worker id, ttl, key base.
_JOIN = """
local run = redis.call('GET', KEYS[1])
local created = 0
if not run then
  run = ARGV[1]
  created = 1
  redis.call('SET', KEYS[1], run, 'EX', ARGV[3])
end
local members = ARGV[4] .. ':' .. run .. ':members'
redis.call('SADD', members, ARGV[2])
redis.call('EXPIRE', members, ARGV[3])
return {run, created}
"""

# Leave a run; the last worker out, with nothing queued or in flight, ends it: its keys live
# on for a grace period, so a worker started a moment too late joins the finished run (and
# finds nothing to do) instead of starting a second one that would fetch every page again.
# KEYS: run key; ARGV: run id, worker id, key base, heartbeat prefix, grace seconds.
_LEAVE = """
local base = ARGV[3] .. ':' .. ARGV[1]
local members = base .. ':members'
redis.call('SREM', members, ARGV[2])
for _, m in ipairs(redis.call('SMEMBERS', members)) do
  if redis.call('EXISTS', ARGV[4] .. m) == 0 and redis.call('EXISTS', base .. ':inflight:' .. m) == 0 then
    redis.call('SREM', members, m)
  end
end
if redis.call('SCARD', members) > 0 or redis.call('ZCARD', base .. ':requests') > 0 then
  return 0
end
for _, key in ipairs({KEYS[1], base .. ':dupefilter', base .. ':requests'}) do
  redis.call('EXPIRE', key, ARGV[5])
end
return 1
"""

# Pop the best request and record it as in flight, in one step. KEYS: queue, in-flight hash.
_POP = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], popped[1])
return popped[1]
"""


class RunScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler with a per-run queue and dupefilter and in-flight tracking."""

    def __init__(self, server: RedisClient, crawler: Crawler) -> None:
        super().__init__(server, persist=True)
        self.crawler = crawler
        settings = crawler.settings
        self.keys = Keys(settings.get("NEWS_REDIS_PREFIX"))
        self.heartbeat_ttl = max(1, settings.getint("NEWS_REDIS_HEARTBEAT_TTL"))
        self.run_ttl = max(self.heartbeat_ttl * 2, settings.getint("NEWS_REDIS_RUN_TTL"))
        self.poll = settings.getfloat("NEWS_REDIS_POLL")
        self.grace = max(1, settings.getint("NEWS_REDIS_RUN_GRACE"))
        self.worker = worker_id()
        self.run = ""
        self.inflight: dict[str, Request] = {}
        self.stats = crawler.stats
        self._beat: task.LoopingCall | None = None
        self._pop = server.register_script(_POP)
        self._started = time.time()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunScheduler:
        server = connect(crawler.settings.get("NEWS_REDIS_URL"))
        server.ping()  # fail at start, in one line, when Redis is not there
        return cls(server, crawler)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        name = spider.name
        self._heartbeat()  # before joining, so no peer takes this worker for dead
        run, created = self.server.register_script(_JOIN)(
            keys=[self.keys.run(name)],
            args=[uuid.uuid4().hex[:12], self.worker, self.run_ttl, self.keys.base(name)],
        )
        self.run = run.decode()
        logger.info("%s: %s run %s as worker %s", name, "started" if created else "joined", self.run, self.worker)
        self.queue = PriorityQueue(self.server, spider, self._key("requests"))
        self.df = RFPDupeFilter(self.server, self._key("dupefilter"))
        self._refresh_ttls()
        assert isinstance(spider, NewsSpider), f"{spider.name}: not a newscrawl spider"
        load_mirror(self.server, self.keys, spider.name, spider.state, self._count)
        # The engine polls the scheduler on this beat when nothing is in flight locally: short,
        # so an idle worker picks up requests another worker queues.
        engine = self.crawler.engine
        if engine is not None:
            engine._SLOT_HEARTBEAT_INTERVAL = self.poll
        self._beat = task.LoopingCall(self._tick)
        self._beat.start(1.0, now=False)

    def close(self, reason: str) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self._settle()
        # Anything still in flight (a shutdown) goes back to the queue for the other workers.
        leftovers = self.server.hvals(self._inflight_key(self.worker))
        for data in leftovers:
            self.queue.push(self.queue._decode_request(data))
        self.server.delete(self._inflight_key(self.worker))
        self.server.delete(self.keys.heartbeat(self.spider.name, self.worker))
        ended = self.server.register_script(_LEAVE)(
            keys=[self.keys.run(self.spider.name)],
            args=[
                self.run,
                self.worker,
                self.keys.base(self.spider.name),
                self.keys.heartbeat(self.spider.name),
                self.grace,
            ],
        )
        logger.info(
            "%s: left run %s (%s, %d requeued)%s",
            self.spider.name,
            self.run,
            reason,
            len(leftovers),
            "; run ended" if ended else "",
        )

    def enqueue_request(self, request: Request) -> bool:
        # scrapy-redis's own passes ``spider=`` to the stats, deprecated in Scrapy 2.19.
        if not request.dont_filter and self.df.request_seen(request):
            self._count("redis/filtered_duplicate")
            return False
        self.queue.push(request)
        self._count("redis/enqueued")
        return True

    def next_request(self) -> Request | None:
        self._settle()
        token = uuid.uuid4().hex
        data = self._pop(keys=[self.queue.key, self._inflight_key(self.worker)], args=[token])
        if not data:
            return None
        request = self.queue._decode_request(data)
        self.inflight[token] = request
        self._count("redis/dequeued")
        return request  # type: ignore[no-any-return]

    def has_pending_requests(self) -> bool:
        """Work is left while the queue holds requests or a live worker has one in flight."""
        if len(self.queue):
            return True
        self._settle()
        if self.inflight:
            return True
        return self._peers_busy()

    # --- internals ------------------------------------------------------------------------

    def _key(self, what: str) -> str:
        return self.keys.of_run(self.spider.name, self.run, what)

    def _inflight_key(self, worker: str) -> str:
        return self._key(f"inflight:{worker}")

    def _settle(self) -> None:
        """Forget in-flight requests the engine is done with (callback output handled)."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        busy = getattr(slot, "inprogress", None)
        if busy is None:
            return
        done = [token for token, request in self.inflight.items() if request not in busy]
        if done:
            self.server.hdel(self._inflight_key(self.worker), *done)
            for token in done:
                del self.inflight[token]

    def _peers_busy(self) -> bool:
        members = [m.decode() for m in self.server.smembers(self._key("members")) if m.decode() != self.worker]
        busy = False
        for member in members:
            if not self.server.hlen(self._inflight_key(member)):
                continue
            if self.server.exists(self.keys.heartbeat(self.spider.name, member)):
                busy = True
                continue
            self._requeue_dead(member)
            busy = True
        return busy

    def _requeue_dead(self, member: str) -> None:
        claim = self._key(f"claimed:{member}:{self.worker}")
        try:
            self.server.rename(self._inflight_key(member), claim)  # atomic: one survivor wins
        except redis.ResponseError:
            return  # another worker claimed it first
        requests = self.server.hvals(claim)
        for data in requests:
            self.queue.push(self.queue._decode_request(data))
        self.server.delete(claim)
        self.server.srem(self._key("members"), member)
        self._count("redis/requeued_from_dead_worker", len(requests))
        logger.warning("worker %s is gone: %d in-flight requests put back in the queue", member, len(requests))

    def _tick(self) -> None:
        try:
            self._settle()
            self._heartbeat()
            self._refresh_ttls()
        except redis.RedisError as exc:
            logger.error("redis heartbeat failed: %s", exc)

    def _heartbeat(self) -> None:
        stats = self.stats.get_stats() if self.stats is not None else {}
        beat = {
            "worker": self.worker,
            "spider": self.spider.name,
            "run": self.run,
            "inflight": len(self.inflight),
            "responses": stats.get("downloader/response_count", 0),
            "records": stats.get("newscrawl/redis/records_pushed", 0),
            "started": self._started,
            "at": time.time(),
        }
        self.server.set(self.keys.heartbeat(self.spider.name, self.worker), json.dumps(beat), ex=self.heartbeat_ttl)

    def _refresh_ttls(self) -> None:
        pipe = self.server.pipeline(transaction=False)
        pipe.expire(self.keys.run(self.spider.name), self.run_ttl)
        for what in ("members", "requests", "dupefilter", f"inflight:{self.worker}"):
            pipe.expire(self._key(what), self.run_ttl)
        pipe.execute()

    def _count(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"newscrawl/{key}", count)


def load_mirror(server: RedisClient, keys: Keys, site: str, state: CrawlState, count: Any) -> None:
    """Replace the SQLite-loaded ``known`` and ``resume`` of ``state`` with the ingest's mirror.

    Without a mirror (no ingest has published yet) the spider keeps what its own database says.
    Validators are dropped: no conditional GET in distributed mode (see the module docstring).
    """
    state.validators = {}
    # Without conditional GET every feed is read, so discovery reaches the articles due for a
    # recheck; a list from this worker's own database would send every worker after them.
    state.recheck = []
    if not server.hexists(keys.mirror_meta, site):
        count("redis/known_mirror_missing")
        logger.warning("%s: no known-articles mirror in Redis yet (is `newscrawl ingest` running?)", site)
        return
    state.known = {h.decode() for h in server.smembers(keys.known(site))}
    raw = server.get(keys.resume(site))
    state.resume = [(str(p), int(n)) for p, n in json.loads(raw)] if raw else []
    count("redis/known_mirror", len(state.known))


class RecordPipeline:
    """Appends each record to the Redis Stream read by ``newscrawl ingest``; stores nothing."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.server = connect(crawler.settings.get("NEWS_REDIS_URL"))
        self.stream = Keys(crawler.settings.get("NEWS_REDIS_PREFIX")).records

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        fields = encode_record(item)
        if fields is None:
            return item
        self.server.xadd(self.stream, fields)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newscrawl/redis/records_pushed")
        return item


def worker_results(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-site stats of a worker, for the exit code: a site run that finished without errors
    is ``ok`` even when this worker fetched nothing (its peers took every request), and so is
    one stopped by SIGTERM (its unfinished requests went back to the shared queue)."""
    fixed = {}
    for key, stats in results.items():
        idle = (
            stats.get("newscrawl/status") == "failed"
            and stats.get("finish_reason") in ("finished", "shutdown")
            and not any(k.startswith("newscrawl/errors/") for k in stats)
        )
        fixed[key] = {**stats, "newscrawl/status": "ok"} if idle else stats
    return fixed
