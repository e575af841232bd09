"""Scrapy settings for smcat's spiders: polite by default; `crawler.runner` overlays smcat's own
settings (database, delays, base URLs) on these."""

BOT_NAME = "smcat"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Research crawls of public posts; platforms' robots.txt disallow their JSON APIs wholesale.
# Politeness comes from the delay, one request at a time and AutoThrottle instead.
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 3.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30

# 418 and 432 are how Weibo says "too fast" or "not without a cookie"
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [418, 429, 432, 500, 502, 503, 504, 522, 524, 408]
HTTPERROR_ALLOWED_CODES: list[int] = []

# Cookies are sent only when the user configures them; they are never logged or stored.
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 500}
EXTENSIONS = {"crawler.extensions.Progress": 500}
LOG_LEVEL = "WARNING"

# smcat's own settings (overlaid by crawler.runner from smcat.config.Settings)
SMCAT_DB = "smcat.db"
SMCAT_KEEP_RAW = True
WEIBO_MOBILE_URL = "https://m.weibo.cn"
