"""Scrapy settings for smcat's spiders: polite by default. smcat's own settings (database, delays,
base URLs from smcat.toml and SMCAT_* variables) are laid over them when a crawler starts: by the
SmcatSettings add-on under `scrapy crawl`, by `crawler.runner` (with the command's flags) under
`smcat crawl`. Nothing is read at import, so no other smcat command depends on them."""

from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from smcat.config import Settings, load_settings
from smcat.errors import SmcatError

BOT_NAME = "smcat"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Research crawls of public posts; platforms' robots.txt disallow their JSON APIs wholesale.
# Politeness comes from the delay, one request at a time and AutoThrottle instead.
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = 4
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# each wait is 0.5 to 1.5 times DOWNLOAD_DELAY, so the requests keep no machine-like beat
DOWNLOAD_DELAY_JITTER = 0.5

# 418 and 432 are how Weibo says "too fast" or "not without a cookie"
RETRY_ENABLED = True
RETRY_HTTP_CODES = [418, 429, 432, 500, 502, 503, 504, 522, 524, 408]
HTTPERROR_ALLOWED_CODES: list[int] = []

# Cookies are sent only when the user configures them; they are never logged or stored.
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 500}
ADDONS = {"crawler.settings.SmcatSettings": 0}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetry": 550,
    "crawler.middlewares.VisitorCookie": 560,
    # last before the download, first after it: nothing else sees a signed URL
    "crawler.middlewares.Signer": 900,
    "crawler.middlewares.FetchTime": 950,
}
EXTENSIONS = {"crawler.extensions.Progress": 500}


def from_smcat(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings that carry smcat's settings."""
    return {
        "SMCAT_DB": str(settings.db),
        "SMCAT_KEEP_RAW": settings.keep_raw,
        "DOWNLOAD_DELAY": settings.download_delay,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 0.1),
        # with no delay asked for (replay server, tests) there is nothing to throttle
        "AUTOTHROTTLE_ENABLED": settings.download_delay > 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_requests,
        "RETRY_TIMES": settings.retry_times,
        "SMCAT_RETRY_BACKOFF": settings.retry_backoff,
        "USER_AGENT": settings.user_agent,
        "WEIBO_MOBILE_URL": settings.weibo_mobile_url,
        "WEIBO_URL": settings.weibo_url,
        "WEIBO_SEARCH_URL": settings.weibo_search_url,
        "WEIBO_CN_URL": settings.weibo_cn_url,
        "SMCAT_WEIBO_SEARCH_SPLIT_AT": settings.weibo_search_split_at,
        "DOUYIN_URL": settings.douyin_url,
        "DOUYIN_LIVE_URL": settings.douyin_live_url,
        "SMCAT_DOUYIN_COOKIE": settings.douyin_cookie.strip(),
        "SMCAT_DOUYIN_SIGNER": settings.douyin_signer,
        "SMCAT_BROWSER": settings.browser,
        "SMCAT_BROWSER_WAIT": settings.browser_wait,
        # not a Scrapy default, so Scrapy's start-up log of changed settings leaves it out
        "SMCAT_WEIBO_COOKIE": weibo_cookie(settings),
        "SMCAT_WEIBO_VISITOR": settings.weibo_visitor,
        "LOG_LEVEL": settings.log_level.upper(),
        "SMCAT_PSEUDONYM_SALT": settings.pseudonym_salt,
    }


def weibo_cookie(settings: Settings) -> str:
    """The configured Weibo cookie, from the setting or else from the cookie file ("" if none)."""
    if settings.weibo_cookie or not settings.weibo_cookie_file:
        return settings.weibo_cookie.strip()
    path = Path(settings.weibo_cookie_file).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise SmcatError(
            f"weibo_cookie_file {path} cannot be read: fix the path or set SMCAT_WEIBO_COOKIE"
        ) from None


class SmcatSettings:
    """Scrapy add-on: smcat's settings from smcat.toml and SMCAT_* for `scrapy crawl`."""

    def update_settings(self, settings: BaseSettings) -> None:
        settings.setdict(from_smcat(load_settings()), priority="addon")
