"""`smcat worker`: crawl from the cluster's frontier, send the results to Redis.

One process runs every open crawl of the cluster, each as a Scrapy crawler of its own spider
(the same spiders as a local crawl) over scrapy-redis' scheduler (`frontier`). What a local
crawl writes to SQLite goes to Redis instead: items and kept responses through the `Outbox`,
the counts (requests, responses, items, errors, the spider's own) under the crawl's `counts`,
a problem that stops the crawl under its `stop`. A spider's start requests are not sent: they
were put in the frontier when the crawl was submitted. Checkpoints are not sent either: a
cluster crawl goes on from its persistent frontier, not from checkpoints.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.reactor import install_reactor
from twisted.python.failure import Failure

from crawler.cluster.frontier import HELD
from crawler.cluster.keys import (
    WORKER_TTL,
    WORKERS,
    Registered,
    connect,
    crawl_key,
    item_message,
    open_crawls,
    raw_message,
    worker_key,
)
from crawler.cluster.outbox import outbox_of
from crawler.items import Checkpoint
from crawler.pipelines import raw_response_fields
from crawler.runner import scrapy_settings
from crawler.spiders.base import SmcatSpider
from smcat.config import Settings

logger = logging.getLogger(__name__)
TICK = 0.3  # seconds between a worker's looks at Redis
CLUSTER_DONE = "cluster_done"  # the close reason of a crawl the writer closed


class Shipper:
    """Spider middleware of the workers: start requests are dropped (the frontier has them);
    a callback's requests go to the frontier and its items, with the responses kept for its
    request, to Redis, before the request's hold is released."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.crawl_id = crawler.settings.getint("SMCAT_CLUSTER_CRAWL")
        self.keep_raw = crawler.settings.getbool("SMCAT_KEEP_RAW", True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Shipper:
        shipper = cls(crawler)
        crawler.signals.connect(shipper.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(shipper.response_received, signal=signals.response_received)
        crawler.signals.connect(shipper.spider_idle, signal=signals.spider_idle)
        return shipper

    def spider_opened(self, spider: Spider) -> None:
        if isinstance(spider, SmcatSpider):
            spider.crawl_id = self.crawl_id

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for _ in start:  # run through: start() also sets the spider's state
            pass
        return
        yield  # an async generator that yields nothing

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        token = response.meta.get(HELD)
        outbox = outbox_of(self.crawler)
        messages: list[bytes] = []
        engine = self.crawler.engine
        try:
            async for output in result:
                if isinstance(output, Request):
                    output.meta.pop(HELD, None)  # a copied meta: the hold is this request's
                    if engine is not None:
                        engine.crawl(output)
                else:  # counted as a local crawl counts its items, checkpoints too
                    outbox.items += 1
                    if not isinstance(output, Checkpoint):
                        messages.append(item_message(self.crawl_id, output))
        finally:
            # the counts go with the results: the writer may close the crawl the moment the
            # hold is released
            outbox.send(token, messages, counts_report(self.crawler))
        return
        yield  # an async generator that yields nothing

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        fields = raw_response_fields(response, request, spider, keep_raw=self.keep_raw)
        if fields is not None:
            outbox_of(self.crawler).keep(request.meta.get(HELD), raw_message(self.crawl_id, fields))

    def spider_idle(self, spider: Spider) -> None:
        """An empty frontier does not end a cluster crawl: the writer does (see ingest)."""
        raise DontCloseSpider


@dataclass
class WorkerRun:
    """What a worker did: the crawls it ran (id -> why its spider closed)."""

    worker: str
    crawls: dict[int, str] = field(default_factory=dict)


def worker_settings(settings: Settings, url: str, worker: str, crawl: Registered) -> dict[str, Any]:
    """The Scrapy settings of one crawl in a worker."""
    return {
        **crawl.overrides,
        "REDIS_URL": url,
        "SMCAT_CLUSTER_CRAWL": crawl.crawl_id,
        "SMCAT_CLUSTER_WORKER": worker,
        "SCHEDULER": "crawler.cluster.frontier.ClusterScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.cluster.frontier.HeldQueue",
        "SCHEDULER_QUEUE_KEY": crawl_key(crawl.crawl_id, "requests"),
        "SCHEDULER_DUPEFILTER_KEY": crawl_key(crawl.crawl_id, "dupefilter"),
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "ITEM_PIPELINES": {},
        "SPIDER_MIDDLEWARES": {"crawler.cluster.worker.Shipper": 1},
        # politeness is the cluster's (Redis), not this process's; a request goes out the
        # moment its turn comes, not after a wait in this process's own download queue
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": settings.concurrent_requests,
        "AUTOTHROTTLE_ENABLED": False,
        "SMCAT_CLUSTER_SITE_DELAY": settings.download_delay,
        "SMCAT_COOKIE_INTERVAL": settings.cookie_interval,
        "SMCAT_COOKIE_COOLOFF": settings.cookie_cooloff,
    }


def run_worker(
    settings: Settings,
    url: str,
    *,
    until_done: bool = False,
    name: str | None = None,
    on_start: Callable[[int, str], None] | None = None,
) -> WorkerRun:
    """Crawl from the cluster at `url` until stopped (Ctrl-C, SIGTERM), or with `until_done`
    until no crawl is open. `on_start(crawl_id, spider)` is told of each crawl taken up."""
    client = connect(url)
    run = WorkerRun(name or f"{socket.gethostname()}-{os.getpid()}")
    base = scrapy_settings(settings)
    downloader = dict(base.getdict("DOWNLOADER_MIDDLEWARES"))
    downloader["crawler.cluster.politeness.ClusterPoliteness"] = 580
    base.set("DOWNLOADER_MIDDLEWARES", downloader, priority="cmdline")
    process = CrawlerProcess(base)
    running: dict[int, Crawler] = {}

    def start(crawl: Registered) -> None:
        spider_class = process.spider_loader.load(crawl.spider)
        crawler = process.create_crawler(spider_class)
        crawler.settings.setdict(worker_settings(settings, url, run.worker, crawl), "cmdline")
        running[crawl.crawl_id] = crawler
        run.crawls[crawl.crawl_id] = "running"
        crawler.signals.connect(
            lambda spider, reason: _closed(client, crawler, crawl.crawl_id, reason, run),
            signal=signals.spider_closed,
            weak=False,
        )

        def ended(result: Any) -> None:
            running.pop(crawl.crawl_id, None)
            if isinstance(result, Failure):  # Scrapy logs the failures of a running crawl
                logger.error("crawl %s could not run: %s", crawl.crawl_id, result.getTraceback())

        process.crawl(crawler, **crawl.arguments).addBoth(ended)
        if on_start is not None:
            on_start(crawl.crawl_id, crawl.spider)

    def tick() -> None:
        _beat(client, run.worker)
        crawls = open_crawls(client)
        for crawl_id, crawler in list(running.items()):
            if crawl_id not in crawls or client.exists(crawl_key(crawl_id, "stop")):
                if crawler.engine is not None and crawler.crawling:
                    deferred_from_coro(crawler.engine.close_spider_async(reason=CLUSTER_DONE))
            else:
                _report_counts(crawler)  # for the requests still under way
                _wake(client, crawl_id, crawler)
        for crawl_id, crawl in crawls.items():
            if crawl_id not in run.crawls and not client.exists(crawl_key(crawl_id, "stop")):
                start(crawl)
        if until_done and not crawls and not running:
            from twisted.internet import reactor

            cast(Any, reactor).stop()  # twisted's module-level reactor is typed loosely

    # the ticker needs the reactor before the first crawler would install it
    install_reactor(base["TWISTED_REACTOR"])
    from twisted.internet import task

    ticker = task.LoopingCall(tick)
    ticker.start(TICK)
    try:
        process.start(stop_after_crawl=False)
    finally:
        client.delete(worker_key(run.worker))
    return run


def _beat(client: redis.Redis, worker: str) -> None:
    client.set(worker_key(worker), "1", ex=WORKER_TTL)
    client.hset(WORKERS, worker, time.time())


def _wake(client: redis.Redis, crawl_id: int, crawler: Crawler) -> None:
    """A worker whose engine went idle looks at the frontier again only every 5 s; when other
    workers have put requests there, take one and hand it to the engine at once."""
    engine = crawler.engine
    if engine is None or engine.downloader.active or not crawler.crawling:
        return
    if not client.zcard(crawl_key(crawl_id, "requests")):
        return
    request = engine.scheduler.next_request() if engine.scheduler is not None else None
    if request is not None:
        # back through the scheduler, which also wakes the engine; its duplicate filter has
        # seen the request already
        engine.crawl(request.replace(dont_filter=True))


def counts_report(crawler: Crawler) -> bytes | None:
    """This worker's counts of the crawl and its problems, for the writer to add up when it
    closes the crawl (None before the spider is made)."""
    spider = crawler.spider
    if not isinstance(spider, SmcatSpider):
        return None
    stats = crawler.stats.get_stats() if crawler.stats else {}
    counts = {
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "items": outbox_of(crawler).items,
        "errors": stats.get("log_count/ERROR", 0),
        **spider.extra_counts,
    }
    report = {"counts": counts, "problems": spider.problems[:1],
              "problem_count": len(spider.problems)}  # fmt: skip
    return json.dumps(report).encode()


def _report_counts(crawler: Crawler) -> None:
    if (report := counts_report(crawler)) is not None:
        outbox_of(crawler).send(None, [], report)


def _closed(
    client: redis.Redis, crawler: Crawler, crawl_id: int, reason: str, run: WorkerRun
) -> None:
    """A spider closed. A problem that closed it stops the crawl for all (with this worker's
    last counts); otherwise the crawl goes on, or was closed already."""
    run.crawls[crawl_id] = reason
    spider = crawler.spider
    if reason not in (CLUSTER_DONE, "shutdown", "finished") and isinstance(spider, SmcatSpider):
        _report_counts(crawler)
        client.set(crawl_key(crawl_id, "stop"), spider.stop_reason or reason)
