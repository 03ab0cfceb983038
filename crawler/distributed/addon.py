"""The REDIS_URL switch of distributed mode, and the Redis key names; imports no scrapy-redis.

`DistributedCrawlAddon` (listed in ADDONS) does nothing without REDIS_URL, so a
crawl without it never imports scrapy-redis: the components that use it
(crawler/distributed/redis.py) are named here by their paths and loaded by
Scrapy only when the addon puts them in. `python -m crawler enqueue|status|reset`
reads the key names from here too.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

SCHEDULER = "crawler.distributed.redis.RedisFrontierScheduler"
DUPEFILTER = "crawler.distributed.redis.CanonicalRedisDupeFilter"
QUEUE = "crawler.distributed.redis.InFlightPriorityQueue"

# Keys, per spider name (scrapy-redis's convention for the first three).
QUEUE_KEY = "%(spider)s:requests"
DUPEFILTER_KEY = "%(spider)s:dupefilter"
START_URLS_KEY = "%(spider)s:start_urls"
WORKERS_KEY = "%(spider)s:workers"
INFLIGHT_PREFIX = "%(spider)s:inflight:"
TOKEN_KEY = "%(spider)s:inflight-seq"


def redis_url(settings: BaseSettings | None = None) -> str:
    """REDIS_URL from the settings, else from the environment; "" when distributed mode is off."""
    value = settings.get("REDIS_URL") if settings is not None else ""
    return (value or os.environ.get("REDIS_URL") or "").strip()


def keys_for(spider_name: str) -> dict[str, str]:
    names = {"queue": QUEUE_KEY, "dupefilter": DUPEFILTER_KEY, "start_urls": START_URLS_KEY,
             "workers": WORKERS_KEY, "inflight": INFLIGHT_PREFIX, "tokens": TOKEN_KEY}
    return {k: v % {"spider": spider_name} for k, v in names.items()}


def start_url_from_data(data: bytes | str) -> str:
    """A start-list entry: a JSON object with "url" (scrapy-redis's format) or a bare URL."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text = text.strip()
    if text.startswith("{"):
        return str(json.loads(text).get("url") or "")
    return text


def start_url_data(url: str) -> str:
    return json.dumps({"url": url}, ensure_ascii=False)


class DistributedCrawlAddon:
    """Switches a crawl to the shared Redis frontier when REDIS_URL is set (setting or environment)."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if not url:
            return
        # Defaults at project priority: anything given with -s still wins.
        if not settings.get("REDIS_URL"):
            settings.set("REDIS_URL", url, "project")
        for name, value in {
            "SCHEDULER": SCHEDULER,
            "DUPEFILTER_CLASS": DUPEFILTER,
            "SCHEDULER_QUEUE_CLASS": QUEUE,
            "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
            "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
            "SCHEDULER_PERSIST": True,
        }.items():
            if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
                settings.set(name, value, "project")
        if settings.get("CRAWL_STATE") is None:
            # The incremental state is one SQLite file per process, locked by its crawl: the
            # default (state.sqlite beside WARC_DIR) would be shared, so it is off unless named.
            settings.set("CRAWL_STATE", "", settings.getpriority("CRAWL_STATE"))
            if settings.get("CRAWL_REPORT") is None and settings.get("WARC_DIR"):  # where it would have been
                settings.set("CRAWL_REPORT", str(Path(settings.get("WARC_DIR")).parent / "runs.jsonl"),
                             settings.getpriority("CRAWL_REPORT"))
        if settings.getbool("REDIS_CORPUS_SHARDS") and settings.get("CORPUS_DIR"):
            shard = f"{socket.gethostname()}-{os.getpid()}"
            settings.set("CORPUS_DIR", str(Path(settings.get("CORPUS_DIR")) / shard),
                         settings.getpriority("CORPUS_DIR"))
