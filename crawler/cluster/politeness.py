"""Politeness for the whole cluster: the per-site delay and the per-cookie rate, kept in Redis
so that four workers with one cookie fetch no faster than one.

Before it goes, each request claims its turn in one Lua script run on Redis' own clock: the
site's turn and, where the platform's cookie pool has cookies, that of the least busy cookie
not benched. Each turn comes back an interval after it was claimed (a token bucket of one
token, refilled once per interval, shared by all workers); a request whose turn has not come
waits until it should have and asks again. A cookie that Weibo answers
418/432 or sends to a login page is benched for a cool-off, and the request is sent again with
another (after a login page, as many times as a request is retried: then the page goes to the
spider, which records it as a local crawl does). With every cookie benched, requests wait for
the first to come back, and `cluster status` says why. Cookies are never logged, nor written
anywhere but to Redis and the request.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.cluster.keys import PREFIX, benched_key, cookies_key, crawl_key
from crawler.spiders.base import LOGIN_MARKERS

COOKIE_ID = "smcat_cookie_id"
"""Request meta: the pool cookie the request went out with (its id, not the cookie)."""
BENCH_STATUSES = frozenset({418, 432})
_LOGIN_TRIES = "smcat_login_tries"  # request meta: cookies that got a login page for it
_WAIT_STEP_MS = 5000  # how long a request waits at most before it asks again for a cookie

# KEYS: the site's next free moment, the pool, the benched set. ARGV: the site's and a
# cookie's intervals (ms), the prefix of the cookies' next free moments. Claims the site (and
# the least busy cookie not benched) if free now: {0, cookie id or nil}; else {ms to wait, nil};
# with every cookie benched {-1, ms until the first comes back}. A turn is claimed when the
# request goes, not booked ahead, so a request that is late (a busy machine) pushes the next
# one back instead of going out right before it.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = tonumber(redis.call('GET', KEYS[1]) or '0') - now
local chosen = false
local ids = redis.call('HKEYS', KEYS[2])
if #ids > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local best = nil
  for _, id in ipairs(ids) do
    if not redis.call('ZSCORE', KEYS[3], id) then
      local at = tonumber(redis.call('GET', ARGV[3] .. id) or '0')
      if best == nil or at < best then best = at; chosen = id end
    end
  end
  if not chosen then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {-1, tonumber(first[2]) - now}
  end
  wait = math.max(wait, best - now)
end
if wait > 0 then return {wait, false} end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 60000)
if chosen then
  redis.call('SET', ARGV[3] .. chosen, now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
end
return {0, chosen}
"""
_BENCH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now
"""


class ClusterPoliteness:
    """Downloader middleware of the cluster's workers: waits for the request's turn at its site
    and, where the platform has a cookie pool, sends it with the cookie whose turn it is."""

    def __init__(self, crawler: Crawler, client: redis.Redis) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.client = client
        self.site_ms = int(settings.getfloat("SMCAT_CLUSTER_SITE_DELAY") * 1000)
        self.cookie_ms = int(settings.getfloat("SMCAT_COOKIE_INTERVAL") * 1000)
        self.cooloff_ms = int(settings.getfloat("SMCAT_COOKIE_COOLOFF") * 1000)
        self.login_tries = settings.getint("RETRY_TIMES")
        self.crawl_id = settings.getint("SMCAT_CLUSTER_CRAWL")
        self._claim = client.register_script(_CLAIM)
        self._bench = client.register_script(_BENCH)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterPoliteness:
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured  # a local crawl
        return cls(crawler, redis.Redis.from_url(url))

    def _platform(self) -> str:
        return str(getattr(self.crawler.spider, "platform", ""))

    async def process_request(self, request: Request) -> None:
        platform = self._platform()
        site = f"{PREFIX}site:{urlparse_cached(request).hostname}"
        # a redirect is followed with the cookie that was redirected, so that it is the one
        # benched if the redirect ends on a login page
        followed = bool(request.meta.get("redirect_urls")) and COOKIE_ID in request.meta
        pool = f"{PREFIX}no-cookies" if followed else cookies_key(platform)
        keys = [site, pool, benched_key(platform)]
        args: list[int | str] = [self.site_ms, self.cookie_ms, f"{PREFIX}cookie:{platform}:"]
        while True:
            wait, cookie_id = cast(list[Any], self._claim(keys=keys, args=args))
            if int(wait) == 0:
                break
            if int(wait) < 0:  # every cookie benched: wait for the first to come back
                self._note_waiting(platform)
                wait = min(int(cookie_id), _WAIT_STEP_MS)
            await asyncio.sleep(int(wait) / 1000)
        if cookie_id is not None:
            cookie = self.client.hget(cookies_key(platform), cookie_id)
            if cookie is not None:
                request.headers["Cookie"] = cast(bytes, cookie)
                request.meta[COOKIE_ID] = cookie_id.decode()

    def process_response(self, request: Request, response: Response) -> Request | Response:
        cookie_id = request.meta.get(COOKIE_ID)
        if cookie_id is None:
            return response
        login = bool(request.meta.get("redirect_urls")) and any(
            marker in response.url for marker in LOGIN_MARKERS
        )
        if response.status not in BENCH_STATUSES and not login:
            return response
        self._bench(keys=[benched_key(self._platform())], args=[cookie_id, self.cooloff_ms])
        tries = request.meta.get(_LOGIN_TRIES, 0)
        if login and tries < self.login_tries:  # the same request again, with another cookie
            meta = {k: v for k, v in request.meta.items() if not k.startswith("redirect_")}
            meta[_LOGIN_TRIES] = tries + 1
            return request.replace(
                url=request.meta["redirect_urls"][0], meta=meta, dont_filter=True
            )
        # a page that wants a login whatever the cookie goes to the spider, which records
        # it as a local crawl does
        return response  # 418/432: the retry middleware sends it again, with another cookie

    def _note_waiting(self, platform: str) -> None:
        """Say why the crawl waits, for `cluster status` (for a minute)."""
        count = self.client.hlen(cookies_key(platform))
        why = f"waiting: all {count} {platform} cookie(s) benched after 418/432 or a login page"
        self.client.set(crawl_key(self.crawl_id, "waiting"), json.dumps(why), ex=60)
