"""What a worker sends the writer: items and kept responses, each request's sent together with
the release of its hold, in one Redis transaction, so that a worker killed at any moment
leaves either the request held (to be fetched again) or its results queued, never half."""

from __future__ import annotations

from collections import defaultdict
from weakref import WeakKeyDictionary

import redis
from scrapy.crawler import Crawler

from crawler.cluster.keys import ITEMS, crawl_key

_outboxes: WeakKeyDictionary[Crawler, Outbox] = WeakKeyDictionary()


class Outbox:
    """One crawl's messages from this worker, kept per held request until it is done."""

    def __init__(self, client: redis.Redis, crawl_id: int) -> None:
        self.client = client
        self.held_key = crawl_key(crawl_id, "held")
        self._kept: defaultdict[str, list[bytes]] = defaultdict(list)
        self.sent = 0  # messages queued
        self.items = 0  # of which items (the rest: kept responses)

    def keep(self, token: str | None, message: bytes) -> None:
        """Keep a message until the request of `token` is done (sent at once without one)."""
        if token is None:
            self.send(None, [message])
        else:
            self._kept[token].append(message)

    def send(self, token: str | None, messages: list[bytes]) -> None:
        """Queue what was kept under `token` and `messages`, and release the hold."""
        queued = self._kept.pop(token, []) if token is not None else []
        queued += messages
        pipe = self.client.pipeline(transaction=True)
        if queued:
            pipe.lpush(ITEMS, *queued)
        if token is not None:
            pipe.hdel(self.held_key, token)
        pipe.execute()
        self.sent += len(queued)


def outbox_of(crawler: Crawler) -> Outbox:
    """The crawler's outbox (made on first use, from its cluster settings)."""
    if crawler not in _outboxes:
        client = redis.Redis.from_url(crawler.settings.get("REDIS_URL"))
        _outboxes[crawler] = Outbox(client, crawler.settings.getint("SMCAT_CLUSTER_CRAWL"))
    return _outboxes[crawler]
