"""Run spiders in this process with smcat's settings, and return how each crawl ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from scrapy import Spider
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawler.settings import from_smcat
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import CrawlRecord, Store


def scrapy_settings(settings: Settings) -> ScrapySettings:
    """crawler/settings.py with smcat's settings laid over it."""
    result = ScrapySettings()
    result.setmodule("crawler.settings", priority="project")
    # the add-on would read smcat.toml and SMCAT_* again; these settings already hold them
    result.set("ADDONS", {}, priority="cmdline")
    result.setdict(from_smcat(settings), priority="cmdline")
    return result


class SpiderRun(NamedTuple):
    """A spider to run, the arguments it is made with, and Scrapy settings for its run alone."""

    spider: type[Spider]
    arguments: Mapping[str, object]
    overrides: Mapping[str, object]


def run_spiders(runs: Sequence[SpiderRun], settings: Settings) -> list[CrawlRecord]:
    """Run the spiders together, and return their crawl records.

    Scrapy's reactor runs once per process, so all the crawls of a process run in one call.
    """
    Store.open(settings.db).close()  # a database that cannot be written fails before a request
    process = CrawlerProcess(scrapy_settings(settings))
    crawlers = []
    for spider_class, arguments, overrides in runs:
        crawler = process.create_crawler(spider_class)
        crawler.settings.setdict(dict(overrides), priority="cmdline")
        process.crawl(crawler, **arguments)
        crawlers.append(crawler)
    process.start()
    crawl_ids = [getattr(c.spider, "crawl_id", None) for c in crawlers]
    started = [crawl_id for crawl_id in crawl_ids if isinstance(crawl_id, int)]
    if len(started) < len(crawl_ids):
        raise SmcatError("a crawl did not start: run again with SMCAT_LOG_LEVEL=INFO to see why")
    with Store.open(settings.db, readonly=True) as store:
        return [_recorded(store, crawl_id) for crawl_id in started]


def _recorded(store: Store, crawl_id: int) -> CrawlRecord:
    record = store.crawl(crawl_id)
    if record is None:  # the pipeline records a crawl as it starts
        raise SmcatError(f"crawl {crawl_id} was not recorded: run again with SMCAT_LOG_LEVEL=INFO")
    return record
