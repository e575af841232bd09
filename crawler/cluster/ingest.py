"""`smcat cluster ingest`: the cluster's one writer into SQLite.

Messages are taken with a reliable pop: a batch is moved (LMOVE, in one script) from `items`
to `items:ingesting` under a fresh token, written in one SQLite transaction that also records
the token, and only then dropped from Redis. A writer killed at any point finds the batch
still in `items:ingesting` on restart: it writes it unless SQLite has its token (then the
batch was committed, and is only dropped). Items go through the local pipeline's `ItemWriter`,
kept responses through `Store.add_raw_response`, the crawl's end through `record_end`, so a
cluster crawl stores what a local one does; a writer started again mid-crawl takes the posts
and comments the crawl observed already as seen (observations stay once per crawl).

A crawl is done (`done`) when its frontier is empty and no worker holds one of its requests.
Workers send a request's results before they release it, so once both are seen empty every
result is in `items`: the writer then writes what is queued and closes the crawl, with the
counts the workers sent added to its own. A worker that stopped beating for WORKER_TTL
seconds holds nothing: its requests go back to the frontier.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import redis
from scrapy.spiderloader import SpiderLoader

from crawler.cluster.frontier import requeue_held
from crawler.cluster.keys import (
    BATCH,
    CRAWLS,
    INGESTING,
    ITEMS,
    Registered,
    connect,
    crawl_key,
    open_crawls,
    read_message,
    worker_key,
)
from crawler.pipelines import record_end
from crawler.pseudonyms import Pseudonymizer
from crawler.runner import scrapy_settings
from crawler.spiders.base import SmcatSpider
from crawler.writer import ItemWriter
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import Store

BATCH_SIZE = 500
_WRITER_COUNTS = ("stored", "rejected", "duplicates")
_CRAWL_PARTS = ("requests", "dupefilter", "held", "counts", "stop", "waiting")

# move up to ARGV[1] messages from KEYS[1] to KEYS[2], oldest first
_TAKE = """
local moved = 0
for i = 1, tonumber(ARGV[1]) do
  if not redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') then break end
  moved = moved + 1
end
return moved
"""


@dataclass
class IngestRun:
    """What the writer did: messages written, batches, the crawls it closed (id -> status)."""

    messages: int = 0
    batches: int = 0
    closed: dict[int, str] = field(default_factory=dict)
    requeued: int = 0


class Ingester:
    """Writes the cluster's messages into one store, and closes the crawls that are done."""

    def __init__(self, client: redis.Redis, store: Store, settings: Settings) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.writers: dict[int, ItemWriter] = {}
        self.before: dict[int, dict[str, int]] = {}
        self._take = client.register_script(_TAKE)
        self.run = IngestRun()
        self._spiders = SpiderLoader.from_settings(scrapy_settings(settings))

    def step(self, size: int = BATCH_SIZE) -> int:
        """Write one batch (the one in progress first); returns how many messages it held."""
        stored = self.client.get(BATCH)
        token = stored.decode() if isinstance(stored, bytes) else stored
        if token is None or not self.client.llen(INGESTING):
            token = uuid.uuid4().hex
            self.client.set(BATCH, token)
            self._take(keys=[ITEMS, INGESTING], args=[size])
        batch = cast(list[bytes], self.client.lrange(INGESTING, 0, -1))
        if not batch:
            return 0
        if not self.store.batch_ingested(token):
            self._write(list(reversed(batch)), token)  # LMOVE reversed them
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(INGESTING, BATCH)
        pipe.execute()
        self.run.messages += len(batch)
        self.run.batches += 1
        return len(batch)

    def _write(self, batch: list[bytes], token: str) -> None:
        touched: set[int] = set()
        with self.store.transaction():
            for data in batch:
                try:
                    message = read_message(data)
                except (ValueError, KeyError, TypeError) as error:
                    reason = f"not a cluster message: {type(error).__name__}: {error}"
                    self.store.reject("cluster_message", reason, data.decode("utf-8", "replace"))
                    continue
                touched.add(message.crawl_id)
                writer = self._writer(message.crawl_id)
                if message.item is not None:
                    writer.add(message.item)
                elif message.raw is not None:
                    self.store.add_raw_response(**message.raw, crawl_id=message.crawl_id)
            for crawl_id in touched:
                self.writers[crawl_id].flush()
                self.store.save_counts(crawl_id, self._written(crawl_id))
            self.store.mark_batch_ingested(token)

    def _writer(self, crawl_id: int) -> ItemWriter:
        if crawl_id not in self.writers:
            record = self.store.crawl(crawl_id)
            if record is None:
                raise SmcatError(
                    f"crawl {crawl_id} is not in {self.store.path}: ingest into the database "
                    "the crawl was submitted with (--db)"
                )
            crawl = open_crawls(self.client).get(crawl_id)
            overrides = crawl.overrides if crawl is not None else {}
            pseudonymizer = (
                Pseudonymizer(self.settings.pseudonym_salt)
                if overrides.get("SMCAT_PSEUDONYMIZE")
                else None
            )
            writer = ItemWriter(self.store, crawl_id, pseudonymizer)
            writer.observed_already(self.store.observed_in_crawl(crawl_id))
            self.writers[crawl_id] = writer
            self.before[crawl_id] = {k: record.counts.get(k, 0) for k in _WRITER_COUNTS}
        return self.writers[crawl_id]

    def _written(self, crawl_id: int) -> dict[str, int]:
        """The writer's counts of a crawl, with those of earlier runs of the writer."""
        writer, before = self.writers[crawl_id], self.before[crawl_id]
        now = {"stored": writer.written.stored, "rejected": writer.written.rejected,
               "duplicates": writer.duplicates}  # fmt: skip
        return {key: value + before[key] for key, value in now.items()}

    def requeue_dead(self) -> int:
        """Put back in the frontiers the requests held by workers that stopped beating."""
        moved = 0
        for crawl_id in open_crawls(self.client):
            moved += requeue_held(
                self.client, crawl_id, lambda worker: not self.client.exists(worker_key(worker))
            )
        self.run.requeued += moved
        return moved

    def done(self) -> list[Registered]:
        """The open crawls that are done: an empty frontier, no request held; or stopped."""
        found = []
        for crawl in open_crawls(self.client).values():
            key = crawl_key(crawl.crawl_id, "{}").format
            stopped = self.client.exists(key("stop"))
            if stopped or not (self.client.zcard(key("requests")) or self.client.hlen(key("held"))):
                found.append(crawl)
        return found

    def close(self, crawl: Registered) -> str:
        """Record the end of a done crawl (after everything queued is written) and drop it
        from Redis; returns its status."""
        crawl_id = crawl.crawl_id
        stop = self.client.get(crawl_key(crawl_id, "stop"))
        sent = cast(dict[bytes, bytes], self.client.hgetall(crawl_key(crawl_id, "counts")))
        reports = [json.loads(report) for report in sent.values()]
        spider_class = self._spiders.load(crawl.spider)
        spider = spider_class(**crawl.arguments)
        if not isinstance(spider, SmcatSpider):
            raise TypeError(f"the cluster runs smcat's spiders, not {crawl.spider}")
        counts = _summed([report["counts"] for report in reports], spider.alike)
        self._writer(crawl_id)
        counts.update(self._written(crawl_id))
        problems = sum(report["problem_count"] for report in reports)
        firsts = [first for report in reports for first in report["problems"]]
        stop_reason = f"{problems} problem(s); first: {firsts[0]}" if firsts else None
        if stop is not None:
            stop_reason = stop.decode() if isinstance(stop, bytes) else stop
        with self.store.transaction():
            status = record_end(
                self.store, crawl_id, spider, "stopped" if stop else "finished", stop_reason,
                counts,
            )  # fmt: skip
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(CRAWLS, str(crawl_id))
        pipe.delete(*(crawl_key(crawl_id, part) for part in _CRAWL_PARTS))
        pipe.execute()
        self.writers.pop(crawl_id, None)
        self.run.closed[crawl_id] = status
        return status


def _summed(reports: list[dict[str, int]], alike: frozenset[str]) -> dict[str, int]:
    """The workers' counts of a crawl added up; those every worker holds alike (`alike`:
    accounts, raw_kept) are taken once (the largest)."""
    counts: dict[str, int] = {}
    for report in reports:
        for key, value in report.items():
            before = counts.get(key, 0)
            counts[key] = max(before, value) if key in alike else before + value
    return counts


def ingest(
    settings: Settings,
    url: str,
    *,
    until_done: bool = False,
    batch: int = BATCH_SIZE,
    poll: float = 0.5,
    on_batch: Callable[[IngestRun], None] | None = None,
) -> IngestRun:
    """Write the cluster's messages into settings.db and close the crawls that are done, until
    stopped (Ctrl-C), or with `until_done` until no crawl is open and nothing is queued;
    `batch` messages a transaction."""
    with Store.open(settings.db) as store:  # a database it cannot write fails first
        client = connect(url)
        ingester = Ingester(client, store, settings)
        while True:
            ingester.requeue_dead()
            done = ingester.done()
            written = 0
            while taken := ingester.step(batch):
                written += taken
                if on_batch is not None:
                    on_batch(ingester.run)
            for crawl in done:
                ingester.close(crawl)
            if until_done and not open_crawls(client) and not client.llen(ITEMS):
                return ingester.run
            if not written and not done:
                time.sleep(poll)
