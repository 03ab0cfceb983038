"""Distributed crawling on Redis: the scrapy-redis components `REDIS_URL` switches on.

Imported only in distributed mode: `DistributedCrawlAddon`
(crawler/distributed/addon.py) names these classes when REDIS_URL is set
(setting or environment). Before any component is built, it puts in:

- scrapy-redis's scheduler and dupe filter, through `RedisFrontierScheduler`
  and `CanonicalRedisDupeFilter`: one shared frontier (`news:requests`, a
  sorted set by priority) and one shared seen-set (`news:dupefilter`) of
  fingerprints from `crawler.fingerprint` (canonical URL, as the local dupe
  filter, crawler/dupefilter.py, whose page cap and releases apply here too).
  `SCHEDULER_PERSIST` is on: the first process to finish must not
  wipe the queue the others still work from (`python -m crawler reset` does);
- a per-process corpus shard `CORPUS_DIR/<host>-<pid>` (two processes must
  not number into one directory); WARC files already carry host and pid.
  The single dense corpus is made afterwards with `python -m archive extract`
  over the union of every process's WARC files, which also dedupes (exact and
  near-duplicate) across processes.

scrapy-redis pops a request and forgets it, and marks a request seen before
queueing it: a process killed in between loses it. Here "seen" and "queued"
are one Lua script, and a pop moves the request, atomically, into the process's
in-flight hash `news:inflight:<worker>`; it leaves that hash only when Scrapy
is done with it (its callback's requests are queued, its WARC record is
written). Each process beats `news:workers` (Redis server time, so clocks of
many machines need not agree); a process silent for REDIS_WORKER_TIMEOUT is
dead, and the first live process to notice puts its in-flight requests back
in the queue (they bypass the dupe filter; they are fetched once more).

Start URLs come from the list `news:start_urls` (scrapy-redis's key; pushed
by `python -m crawler enqueue`), read by the spider's `start()` through
`queued_start_urls`, which is also what keeps a process alive while others
still work: it ends once the whole frontier (queue, start list and every
process's in-flight requests) has been empty for REDIS_IDLE_TIMEOUT seconds.
"""
from __future__ import annotations

import logging
import os
import pickle
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy_redis import connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet import task

from crawler.dupefilter import REQUEST_RELEASED, PageBudget
from crawler.distributed.addon import QUEUE, SCHEDULER, DUPEFILTER_KEY, keys_for, start_url_from_data
from crawler.distributed.frontier_scripts import ENQUEUE, FRONTIER, HEARTBEAT, POP_REQUEST, POP_START, REQUEUE
from crawler.engine_state import engine_in_flight, wake_engine

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

def worker_name() -> str:
    """host-pid-random: unique per process, readable in `python -m crawler status`."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class CanonicalRedisDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared seen-set, fed the crawl's REQUEST_FINGERPRINTER (canonical URLs).

    scrapy-redis hashes `canonicalize_url` itself and ignores the setting.
    """

    def __init__(self, server, key, debug=False, fingerprinter=None):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider: Spider) -> CanonicalRedisDupeFilter:
        crawler = spider.crawler
        key = crawler.settings.get("SCHEDULER_DUPEFILTER_KEY", DUPEFILTER_KEY) % {"spider": spider.name}
        return cls(connection.from_settings(crawler.settings), key,
                   debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
                   fingerprinter=crawler.request_fingerprinter)

    def request_fingerprint(self, request: Request) -> str:
        if self.fingerprinter is None:
            return super().request_fingerprint(request)
        return self.fingerprinter.fingerprint(request).hex()


class InFlightPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop moves the request into an in-flight hash."""

    worker: str = ""
    keys: dict[str, str] = {}

    def bind(self, worker: str, keys: dict[str, str]) -> None:
        self.worker, self.keys = worker, keys
        self._pop = self.server.register_script(POP_REQUEST)

    def _encode_request(self, request: Request) -> bytes:
        # Redirect/retry copies carry meta that only makes sense in this process (WARC
        # futures, wire captures): drop what cannot be pickled.
        dropped = [k for k, v in request.meta.items() if not _picklable(v)]
        if dropped:
            request = request.replace(meta={k: v for k, v in request.meta.items() if k not in dropped})
        return super()._encode_request(request)

    def pop_in_flight(self) -> tuple[int, Request] | None:
        """(token, request) of the highest-priority request, now registered in flight; None if empty."""
        result = self._pop(keys=[self.key, self.keys["inflight"] + self.worker, self.keys["tokens"],
                                 self.keys["workers"]], args=[self.worker])
        if not result:
            return None
        token, data = result
        return token, self._decode_request(data)


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value, protocol=-1)
    except Exception:
        return False
    return True


class RedisFrontierScheduler(Scheduler):
    """scrapy-redis's scheduler plus an in-flight registry, heartbeats and reclaiming of dead workers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.crawler: Crawler | None = None
        self.worker = worker_name()
        self._in_flight: dict[Request, int] = {}  # popped here, not yet done → in-flight token
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisFrontierScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        settings = crawler.settings
        instance.heartbeat = settings.getfloat("REDIS_HEARTBEAT_INTERVAL")
        instance.worker_timeout = settings.getfloat("REDIS_WORKER_TIMEOUT")
        instance.idle_timeout = settings.getfloat("REDIS_IDLE_TIMEOUT")
        instance.budget = PageBudget(crawler)  # -a max_pages, per process
        crawler.signals.connect(instance.release, signal=REQUEST_RELEASED)
        return instance

    def open(self, spider: Spider) -> None:
        # scrapy-redis's open(), without its calls deprecated in Scrapy 2.19 (Spider.log, stats spider=).
        self.spider = spider
        self.keys = keys_for(spider.name)
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider,
                                                 key=self.queue_key % {"spider": spider.name},
                                                 serializer=self.serializer)
        if not isinstance(self.queue, InFlightPriorityQueue):
            raise ValueError(f"{type(self).__name__} needs SCHEDULER_QUEUE_CLASS = {QUEUE}")
        self.queue.bind(self.worker, self.keys)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        self._enqueue = self.server.register_script(ENQUEUE)
        self._pop_start = self.server.register_script(POP_START)
        self._heartbeat = self.server.register_script(HEARTBEAT)
        self._requeue = self.server.register_script(REQUEUE)
        self._frontier = self.server.register_script(FRONTIER)
        self._heartbeat(keys=[self.keys["workers"]], args=[self.worker])
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(self.heartbeat, now=False)
        logger.info("distributed crawl: worker %s on %s (queue %s, %d requests waiting)",
                    self.worker, _redacted(self.crawler.settings.get("REDIS_URL")), self.queue.key,
                    len(self.queue))

    def enqueue_request(self, request: Request) -> bool:
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        counted = bool(fingerprint) and self.budget.counts(request)
        if counted and self.server.sismember(self.df.key, fingerprint):
            queued = False  # a duplicate: not the cap's business
        elif counted and not self.budget.take(request):
            return False
        else:
            queued = self._enqueue(keys=[self.df.key, self.queue.key],
                                   args=[fingerprint, -request.priority, self.queue._encode_request(request)])
            if counted and not queued:  # another process added it in between
                self.budget.give_back(request)
        if not queued:
            self.df.log(request, self.spider)
            if self.stats:
                self.stats.inc_value("dupefilter/filtered")
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def release(self, request: Request) -> None:
        """An admitted request dropped before its download (crawler/dupefilter.py): seen no more."""
        if not request.dont_filter:  # else it was never admitted
            self.server.srem(self.df.key, self.df.request_fingerprint(request))
            self.budget.give_back(request)

    def close(self, reason: str):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.release_done(everything=reason == "finished")
        # Whatever is still in flight (shutdown, error) goes back to the queue now, not after a timeout.
        moved, _ = self._requeue(keys=[self.keys["workers"], self.keys["queue"], self.keys["start_urls"]],
                                 args=[self.keys["inflight"], int(self.worker_timeout * 1000), self.worker])
        if moved:
            logger.info("distributed crawl: %d unfinished requests put back in the queue", moved)
        self.server.zrem(self.keys["workers"], self.worker)
        return super().close(reason)

    # --- the frontier ------------------------------------------------------
    def next_request(self) -> Request | None:
        if self._in_flight:  # the engine asks after finishing one: release it now, not at the next tick
            self.release_done()
        popped = self.queue.pop_in_flight()
        if popped is None:
            return None
        token, request = popped
        self._in_flight[request] = token
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def pop_start_url(self) -> tuple[int, str] | None:
        """(token, URL) from the start list, registered in flight until `start_url_done`."""
        result = self._pop_start(keys=[self.keys["start_urls"], self.keys["inflight"] + self.worker,
                                       self.keys["tokens"], self.keys["workers"]], args=[self.worker])
        if not result:
            return None
        token, data = result
        return token, start_url_from_data(data)

    def start_url_done(self, token: int) -> None:
        self.server.hdel(self.keys["inflight"] + self.worker, token)

    def frontier_status(self) -> tuple[int, int, int]:
        """(requests queued, start URLs waiting, requests in flight in any process)."""
        queued, starts, in_flight = self._frontier(
            keys=[self.keys["workers"], self.keys["queue"], self.keys["start_urls"]],
            args=[self.keys["inflight"]])
        return int(queued), int(starts), int(in_flight)

    # --- bookkeeping, every REDIS_HEARTBEAT_INTERVAL -------------------------
    def tick(self) -> None:
        try:
            self._heartbeat(keys=[self.keys["workers"]], args=[self.worker])
            self.release_done()
            moved, dead = self._requeue(
                keys=[self.keys["workers"], self.keys["queue"], self.keys["start_urls"]],
                args=[self.keys["inflight"], int(self.worker_timeout * 1000), ""])
            if dead:
                logger.warning("distributed crawl: %d silent worker(s) gone; %d of their requests "
                               "put back in the queue", dead, moved)
                if self.stats:
                    self.stats.inc_value("redis/requeued_from_dead_workers", moved)
        except Exception:  # a Redis hiccup must not stop the heartbeat loop
            logger.exception("distributed crawl: bookkeeping failed, retrying")

    def release_done(self, everything: bool = False) -> int:
        """Take requests Scrapy is done with out of the in-flight hash; how many.

        Done = no longer in the engine's in-progress set (its callback ran and the
        requests it yielded are queued) and its WARC record, if any, written.
        """
        in_progress = set() if everything else set(engine_in_flight(self.crawler))
        done = []
        for request, token in list(self._in_flight.items()):
            if request in in_progress:
                continue
            location = request.meta.get("warc_location")
            if not everything and location is not None and hasattr(location, "done") and not location.done():
                continue
            done.append(token)
            del self._in_flight[request]
        if done:
            self.server.hdel(self.keys["inflight"] + self.worker, *done)
        return len(done)

    def wake_engine(self) -> None:
        """Make the engine ask for requests now, not at its next 5 s heartbeat."""
        wake_engine(self.crawler)


def _redacted(url: str) -> str:
    """The URL without a password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # not at import time: that would install the default reactor

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


async def queued_start_urls(crawler: Crawler, poll: float = 0.2) -> AsyncIterator[str]:
    """Start URLs from the Redis start list, until the shared frontier has been idle long enough.

    The spider's `start()` iterates this in distributed mode; while it runs
    Scrapy does not close the spider, so a process with nothing to do waits
    for the work other processes put in the queue. An entry leaves the
    in-flight hash once the spider has turned it into a queued request (the
    consumer asks for the next one). REDIS_IDLE_TIMEOUT < 0 waits forever.
    """
    scheduler = crawler.engine.scheduler if crawler.engine is not None else None
    if not isinstance(scheduler, RedisFrontierScheduler) or getattr(scheduler, "_pop_start", None) is None:
        logger.warning("REDIS_URL is set but the scheduler is not %s: no start URLs from Redis", SCHEDULER)
        return
    idle_since: float | None = None
    while True:
        popped = scheduler.pop_start_url()
        if popped is not None:
            idle_since = None
            token, url = popped
            if url:
                crawler.stats.inc_value("redis/start_urls")
                yield url
            scheduler.start_url_done(token)
            continue
        scheduler.release_done()
        queued, starts, in_flight = scheduler.frontier_status()
        if queued or starts or in_flight:
            idle_since = None
            if queued:
                scheduler.wake_engine()
        else:
            now = time.monotonic()
            idle_since = idle_since or now
            if 0 <= scheduler.idle_timeout <= now - idle_since:
                logger.info("distributed crawl: frontier empty for %.1f s, finishing", now - idle_since)
                return
        await _sleep(poll)
