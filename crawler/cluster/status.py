"""`smcat cluster status` and `smcat cluster add-cookie`: what the cluster is doing, and its
cookie pool. A cookie is shown by its id (the start of its SHA-256), never by its text."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import redis

from crawler.cluster.keys import (
    INGESTING,
    ITEMS,
    WORKERS,
    benched_key,
    connect,
    cookies_key,
    crawl_key,
    open_crawls,
)
from smcat.errors import SmcatError

PLATFORMS = ("weibo", "douyin")
SEEN_WITHIN = 60.0  # seconds: a worker seen this recently counts as working


@dataclass(frozen=True)
class CrawlState:
    crawl_id: int
    spider: str
    frontier: int
    held: int
    stopped: str | None
    waiting: str | None


@dataclass(frozen=True)
class CookieState:
    platform: str
    cookie_id: str
    benched_for: float  # seconds left on the bench (0: in use)


@dataclass(frozen=True)
class ClusterStatus:
    crawls: list[CrawlState]
    items_waiting: int
    workers: list[str]
    cookies: list[CookieState]


def cluster_status(url: str) -> ClusterStatus:
    """The open crawls (frontier size, requests held), items waiting for the writer, workers
    seen in the last minute, and the cookies in the pool with their state."""
    client = connect(url)
    crawls = []
    for crawl in sorted(open_crawls(client).values(), key=lambda c: c.crawl_id):
        stop = client.get(crawl_key(crawl.crawl_id, "stop"))
        waiting = client.get(crawl_key(crawl.crawl_id, "waiting"))
        crawls.append(CrawlState(
            crawl.crawl_id, crawl.spider,
            int(client.zcard(crawl_key(crawl.crawl_id, "requests"))),
            int(client.hlen(crawl_key(crawl.crawl_id, "held"))),
            _text(stop),
            json.loads(waiting) if waiting is not None else None,
        ))  # fmt: skip
    seen = cast(dict[bytes, bytes], client.hgetall(WORKERS))
    now = time.time()
    workers = sorted(w.decode() for w, at in seen.items() if now - float(at) <= SEEN_WITHIN)
    server_now = _server_time(client)
    cookies = []
    for platform in PLATFORMS:
        scored = client.zrange(benched_key(platform), 0, -1, withscores=True)
        benched = dict(cast(list[tuple[bytes, float]], scored))
        for cookie_id in sorted(cast(list[bytes], client.hkeys(cookies_key(platform)))):
            left = max(0.0, (benched.get(cookie_id, 0) - server_now) / 1000)
            cookies.append(CookieState(platform, cookie_id.decode(), left))
    waiting_items = int(client.llen(ITEMS)) + int(client.llen(INGESTING))
    return ClusterStatus(crawls, waiting_items, workers, cookies)


def add_cookie(url: str, platform: str, path: Path) -> str:
    """Add the Cookie header in the file `path` to the platform's pool; returns its id."""
    if platform not in PLATFORMS:
        raise SmcatError(f"the cookie pool is for {' or '.join(PLATFORMS)}, not {platform!r}")
    try:
        cookie = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SmcatError(f"cannot read {path} ({error.strerror}): name the cookie file") from None
    if not cookie or "=" not in cookie:
        raise SmcatError(
            f"{path} holds no Cookie header (name=value; ...): copy it from the browser"
        )
    client = connect(url)
    cookie_id = hashlib.sha256(cookie.encode()).hexdigest()[:10]
    client.hset(cookies_key(platform), cookie_id, cookie)
    client.zrem(benched_key(platform), cookie_id)
    return cookie_id


def _server_time(client: redis.Redis) -> float:
    """Redis' clock in ms: the bench's times are on it."""
    seconds, micros = client.time()
    return seconds * 1000 + micros / 1000


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
