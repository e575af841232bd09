"""What a worker sends the writer: items, kept responses and its counts, each request's sent
together with the release of its hold, in one Redis transaction, so that a worker killed at
any moment leaves either the request held (to be fetched again) or its results queued, never
half."""

from __future__ import annotations

from collections import defaultdict
from weakref import WeakKeyDictionary

import redis
from scrapy.crawler import Crawler

from crawler.cluster.keys import ITEMS, crawl_key

_outboxes: WeakKeyDictionary[Crawler, Outbox] = WeakKeyDictionary()


class Outbox:
    """One crawl's messages from this worker, kept per held request until it is done."""

    def __init__(self, client: redis.Redis, crawl_id: int, worker: str) -> None:
        self.client = client
        self.worker = worker
        self.held_key = crawl_key(crawl_id, "held")
        self.counts_key = crawl_key(crawl_id, "counts")
        self._kept: defaultdict[str, list[bytes]] = defaultdict(list)
        self.sent = 0  # messages queued
        self.items = 0  # of which items (the rest: kept responses)

    def keep(self, token: str | None, message: bytes) -> None:
        """Keep a message until the request of `token` is done (sent at once without one)."""
        if token is None:
            self.send(None, [message])
        else:
            self._kept[token].append(message)

    def send(self, token: str | None, messages: list[bytes], counts: bytes | None = None) -> None:
        """Queue what was kept under `token` and `messages`, with this worker's `counts` of the
        crawl if given, and release the hold."""
        queued = self._kept.pop(token, []) if token is not None else []
        queued += messages
        pipe = self.client.pipeline(transaction=True)
        if queued:
            pipe.lpush(ITEMS, *queued)
        if counts is not None:
            pipe.hset(self.counts_key, self.worker, counts)
        if token is not None:
            pipe.hdel(self.held_key, token)
        pipe.execute()
        self.sent += len(queued)


def outbox_of(crawler: Crawler) -> Outbox:
    """The crawler's outbox (made on first use, from its cluster settings)."""
    if crawler not in _outboxes:
        client = redis.Redis.from_url(crawler.settings.get("REDIS_URL"))
        settings = crawler.settings
        crawl_id, worker = settings.getint("SMCAT_CLUSTER_CRAWL"), settings["SMCAT_CLUSTER_WORKER"]
        _outboxes[crawler] = Outbox(client, crawl_id, worker)
    return _outboxes[crawler]
