"""Run spiders in this process with smcat's settings, and report how each crawl ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scrapy import Spider
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawler.settings import from_smcat
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import CrawlRecord, Store


def scrapy_settings(
    settings: Settings, overrides: Mapping[str, Any] | None = None
) -> ScrapySettings:
    """crawler/settings.py with smcat's settings laid over it (then any explicit overrides)."""
    result = ScrapySettings()
    result.setmodule("crawler.settings", priority="project")
    # the add-on would read smcat.toml and SMCAT_* again; these settings already hold them
    result.set("ADDONS", {}, priority="cmdline")
    result.setdict(from_smcat(settings), priority="cmdline")
    if overrides:
        result.setdict(dict(overrides), priority="cmdline")
    return result


def run_spiders(
    crawls: Sequence[tuple[type[Spider], Mapping[str, Any]]],
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
) -> list[CrawlRecord]:
    """Run the spiders (each with its arguments) together, and return their crawl records.

    Scrapy's reactor runs once per process, so a command gathers all its crawls in one call.
    """
    process = CrawlerProcess(scrapy_settings(settings, overrides))
    crawlers = []
    for spider_class, arguments in crawls:
        crawler = process.create_crawler(spider_class)
        process.crawl(crawler, **arguments)
        crawlers.append(crawler)
    process.start()
    crawl_ids = [getattr(c.spider, "crawl_id", None) for c in crawlers]
    if None in crawl_ids:
        raise SmcatError("a crawl did not start: run again with SMCAT_LOG_LEVEL=INFO to see why")
    with Store.open(settings.db, readonly=True) as store:
        return [store.crawl(crawl_id) for crawl_id in crawl_ids]
