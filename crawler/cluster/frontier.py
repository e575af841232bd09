"""scrapy-redis' scheduler, adapted by subclassing for workers that may die mid-crawl.

scrapy-redis pops a request from the frontier and forgets it: a worker killed while it holds
requests loses them, and the crawl ends with pages missing. Here the pop also records the
request as held by this worker (both in one Lua script), and the hold is released only once
the request's results are in Redis (`crawler.cluster.outbox`). The writer puts back the
requests of workers that stopped beating (`crawler.cluster.ingest`); a worker that stops
cleanly puts back its own. The rest (the sorted-set queue, the persistent duplicate filter,
the request serialisation) is scrapy-redis' own.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, cast

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.cluster.keys import crawl_key
from crawler.cluster.outbox import outbox_of

HELD = "smcat_held"
"""Request meta: the token under which this worker holds the request."""

# scrapy-redis 0.9 calls Spider.log and passes the spider to the stats, both deprecated in
# Scrapy 2.13+: the warnings say nothing a user can act on
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")

_TAKE = """
local taken = redis.call('ZRANGE', KEYS[1], 0, 0)
if #taken == 0 then return false end
redis.call('ZREM', KEYS[1], taken[1])
redis.call('HSET', KEYS[2], ARGV[1], taken[1])
return taken[1]
"""


class HeldQueue(PriorityQueue):
    """scrapy-redis' priority queue whose pop records what it took as held."""

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.held_key = ""
        self.worker = ""
        self._take = server.register_script(_TAKE)
        self._tokens = itertools.count()

    def pop(self, timeout: int = 0) -> Request | None:
        token = f"{self.worker}:{next(self._tokens)}"
        data = self._take(keys=[self.key, self.held_key], args=[token])
        if data is None:
            return None
        request = cast(Request, self._decode_request(data))
        request.meta[HELD] = token
        return request


class ClusterScheduler(Scheduler):
    """scrapy-redis' scheduler over a HeldQueue for one crawl of the cluster."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        settings = crawler.settings
        scheduler = cast(ClusterScheduler, super().from_crawler(crawler))
        scheduler.crawler = crawler
        scheduler.crawl_id = settings.getint("SMCAT_CLUSTER_CRAWL")
        scheduler.worker = settings.get("SMCAT_CLUSTER_WORKER")
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.queue.held_key = crawl_key(self.crawl_id, "held")
        self.queue.worker = self.worker

    def enqueue_request(self, request: Request) -> bool:
        # a retry or a redirect of a held request: the new one is in the frontier before the
        # old is released (with the responses kept under it)
        token = request.meta.pop(HELD, None)
        queued = cast(bool, super().enqueue_request(request))
        if token is not None:
            outbox_of(self.crawler).send(token, [])
        return queued

    def close(self, reason: str) -> None:
        """Put back in the frontier what this worker still holds (it stops cleanly)."""
        requeue_held(self.server, self.crawl_id, lambda worker: worker == self.worker)
        super().close(reason)


def requeue_held(client: redis.Redis, crawl_id: int, whose: Any) -> int:
    """Put back in the frontier the requests of the crawl held by the workers for which
    `whose(worker)` is true; returns how many."""
    held_key, frontier = crawl_key(crawl_id, "held"), crawl_key(crawl_id, "requests")
    held = cast(dict[bytes, bytes], client.hgetall(held_key))
    moved = 0
    for token, data in held.items():
        worker = token.decode().rsplit(":", 1)[0]
        if not whose(worker):
            continue
        pipe = client.pipeline(transaction=True)
        pipe.execute_command("ZADD", frontier, -1, data)  # ahead of new pages: it was due
        pipe.hdel(held_key, token)
        pipe.execute()
        moved += 1
    return moved
