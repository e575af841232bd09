"""`smcat crawl ... --cluster URL`: record the crawl, put its start requests into its frontier
(with scrapy-redis' queue and duplicate filter, as the workers' scheduler would) and open it
for the workers. Nothing is fetched: the spiders run only as far as their start requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis
from scrapy import Request
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from crawler.cluster.keys import Registered, connect, crawl_key, register
from crawler.runner import scrapy_settings
from crawler.spiders.base import SmcatSpider
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import CrawlRecord, Store


class Seeder:
    """Spider middleware of a submitting run: records the crawl, and sends the start requests
    to the frontier instead of the engine."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Seeder:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        if not isinstance(spider, SmcatSpider):
            raise TypeError(f"the cluster runs smcat's spiders, not {spider!r}")
        settings = self.crawler.settings
        client = redis.Redis.from_url(settings.get("REDIS_URL"))  # submit() checked it
        with Store.open(settings.get("SMCAT_DB")) as store:
            crawl_id = store.start_crawl(spider.name, spider.crawl_args)
        spider.crawl_id = crawl_id
        frontier = PriorityQueue(client, spider, crawl_key(crawl_id, "requests"))
        seen = RFPDupeFilter(client, crawl_key(crawl_id, "dupefilter"))
        async for request in start:
            if isinstance(request, Request) and (
                request.dont_filter or not seen.request_seen(request)
            ):
                frontier.push(request)
        arguments = settings.getdict("SMCAT_CLUSTER_ARGUMENTS")
        overrides = settings.getdict("SMCAT_CLUSTER_OVERRIDES")
        register(client, Registered(crawl_id, spider.name, arguments, overrides))
        return
        yield  # an async generator that yields nothing


def submit(
    settings: Settings,
    url: str,
    runs: Sequence[tuple[type[SmcatSpider], dict[str, Any], dict[str, Any]]],
) -> list[CrawlRecord]:
    """Submit crawls (spider, arguments, Scrapy overrides) to the cluster at `url`; returns
    their records (status running: the workers crawl them, the writer closes them)."""
    connect(url)  # an unreachable cluster or a wrong password fails here, in one line
    Store.open(settings.db).close()  # a database that cannot be written fails before Redis
    base = scrapy_settings(settings)
    seeding = {"crawler.cluster.submit.Seeder": 1}
    base.setdict(
        {"ITEM_PIPELINES": {}, "REDIS_URL": url, "EXTENSIONS": {}, "SPIDER_MIDDLEWARES": seeding},
        "cmdline",
    )
    process = CrawlerProcess(base)
    crawlers = []
    for spider_class, arguments, overrides in runs:
        crawler = process.create_crawler(spider_class)
        crawler.settings.setdict(dict(overrides), priority="cmdline")
        crawler.settings.set("SMCAT_CLUSTER_ARGUMENTS", dict(arguments), "cmdline")
        crawler.settings.set("SMCAT_CLUSTER_OVERRIDES", dict(overrides), "cmdline")
        process.crawl(crawler, **arguments)
        crawlers.append(crawler)
    process.start()
    crawl_ids = [getattr(crawler.spider, "crawl_id", None) for crawler in crawlers]
    if not all(isinstance(crawl_id, int) for crawl_id in crawl_ids):
        raise SmcatError(
            "a crawl was not submitted: run again with SMCAT_LOG_LEVEL=INFO to see why"
        )
    with Store.open(settings.db, readonly=True) as store:
        records = [store.crawl(crawl_id) for crawl_id in crawl_ids if isinstance(crawl_id, int)]
    return [record for record in records if record is not None]
