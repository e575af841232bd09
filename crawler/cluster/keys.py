"""The Redis keys the cluster's processes share, the connection, and the messages passed.

Every key starts with `smcat:`. Per crawl (`crawl:<id>:`): `requests` (the frontier, a
sorted set of scrapy-redis), `dupefilter`, `held` (requests a worker took and has not
finished: token -> request), `counts` (worker -> its counts as JSON), `stop` (why a worker
stopped the crawl), `waiting` (why its requests wait, for a minute). Shared: `crawls` (open
crawls: id -> spider and arguments), `items` (what workers send), `items:ingesting` (the
writer's batch in progress, with `ingest:batch` its token), `workers` (worker -> last seen),
`worker:<id>` (alive while it exists), `cookies:<platform>` (cookie id -> cookie),
`cookies:<platform>:benched` (id -> until, ms on Redis' clock), `cookie:<platform>:<id>` and
`site:<host>` (their next free moment).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, cast, get_args

import redis

from crawler import items as item_types
from crawler.items import Item
from smcat.errors import SmcatError

PREFIX = "smcat:"
CRAWLS = PREFIX + "crawls"
ITEMS = PREFIX + "items"
INGESTING = PREFIX + "items:ingesting"
BATCH = PREFIX + "ingest:batch"
WORKERS = PREFIX + "workers"
WORKER_TTL = 5  # seconds a worker counts as alive after its last heartbeat
_ITEM_TYPES = {cls.__name__: cls for cls in get_args(item_types.Item)}


def connect(url: str) -> redis.Redis:
    """A client of the cluster's Redis (redis://, rediss:// for TLS; a password in the URL),
    checked at once. The URL is never put in a message: it may hold the password."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SmcatError(
            "the cluster URL must start with redis:// or rediss:// (as in "
            "redis://:PASSWORD@HOST:6379/0): fix --cluster or cluster_redis in smcat.toml"
        )
    client = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
    try:
        client.ping()
    except redis.AuthenticationError:
        raise SmcatError(
            "the cluster's Redis refused the password: give it in the URL, as in "
            "redis://:PASSWORD@HOST:6379/0"
        ) from None
    except redis.RedisError as error:
        host = client.connection_pool.connection_kwargs.get("host", "?")
        raise SmcatError(
            f"cannot reach the cluster's Redis at {host} ({type(error).__name__}): start it, "
            "or fix --cluster"
        ) from None
    return client


def crawl_key(crawl_id: int, part: str) -> str:
    """A key of one crawl: requests, dupefilter, held, counts or stop."""
    return f"{PREFIX}crawl:{crawl_id}:{part}"


def worker_key(worker: str) -> str:
    """The key that is there while the worker lives."""
    return f"{PREFIX}worker:{worker}"


def cookies_key(platform: str) -> str:
    return f"{PREFIX}cookies:{platform}"


def benched_key(platform: str) -> str:
    return f"{PREFIX}cookies:{platform}:benched"


@dataclass(frozen=True)
class Registered:
    """An open crawl of the cluster: its id, spider name, arguments and Scrapy overrides."""

    crawl_id: int
    spider: str
    arguments: dict[str, Any]
    overrides: dict[str, Any]


def register(client: redis.Redis, crawl: Registered) -> None:
    """Open a crawl for the workers."""
    value = {"spider": crawl.spider, "arguments": crawl.arguments, "overrides": crawl.overrides}
    client.hset(CRAWLS, str(crawl.crawl_id), json.dumps(value))


def open_crawls(client: redis.Redis) -> dict[int, Registered]:
    """The crawls open now, by id."""
    found = cast(dict[bytes, bytes], client.hgetall(CRAWLS))
    crawls = {}
    for key, value in found.items():
        data = json.loads(value)
        crawl_id = int(key)
        crawls[crawl_id] = Registered(
            crawl_id, data["spider"], data["arguments"], data.get("overrides", {})
        )
    return crawls


# -- messages: what a worker sends the writer, as JSON -------------------------------------------


def item_message(crawl_id: int, item: Item) -> bytes:
    """An item of a crawl as a message."""
    body = {"crawl": crawl_id, "kind": "item", "type": type(item).__name__, "fields": vars(item)}
    return json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")


def raw_message(crawl_id: int, fields: dict[str, Any]) -> bytes:
    """A kept response (`crawler.pipelines.raw_response_fields`) as a message."""
    kept = {**fields, "body": base64.b64encode(fields["body"]).decode("ascii")}
    return json.dumps({"crawl": crawl_id, "kind": "raw", "fields": kept}).encode("utf-8")


@dataclass(frozen=True)
class Message:
    """A message read back: its crawl, and an item or a kept response's fields."""

    crawl_id: int
    item: Item | None = None
    raw: dict[str, Any] | None = None


def read_message(data: bytes) -> Message:
    """A message as `item_message` or `raw_message` wrote it; ValueError if it is neither."""
    body = json.loads(data)
    crawl_id = int(body["crawl"])
    if body["kind"] == "raw":
        fields = dict(body["fields"])
        fields["body"] = base64.b64decode(fields["body"])
        return Message(crawl_id, raw=fields)
    kind = _ITEM_TYPES.get(body.get("type"))
    if body["kind"] != "item" or kind is None:
        raise ValueError(f"not an item or response message: {body.get('kind')}/{body.get('type')}")
    return Message(crawl_id, item=kind(**body["fields"]))
