"""The cluster's writer stopped at the worst moments, in this process against a real Redis:
a batch taken but not committed is written on restart; a batch committed but not yet dropped
from Redis is not written twice; a post fetched again after a restart is observed once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from crawler.cluster.ingest import Ingester
from crawler.cluster.keys import (
    INGESTING,
    ITEMS,
    Registered,
    connect,
    item_message,
    raw_message,
    register,
)
from crawler.items import PostItem, RejectItem
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import Store
from tests import cluster_support
from tests.cluster_support import redis_server

FETCHED = "2025-12-01T12:00:00+08:00"
REFETCHED = "2025-12-01T12:05:00+08:00"

redis_url = cluster_support.redis_url  # the fixture: a Redis server of the test's own


class Crash(BaseException):
    """A stand-in for SIGKILL at one point of the writer (nothing after it runs)."""


def post(post_id: str, observed_at: str = FETCHED) -> PostItem:
    return PostItem(
        platform="weibo", post_id=post_id, created_at="2025-11-01T10:00:00+08:00",
        observed_at=observed_at, account_id="5001000001", text="正文", likes=3,
    )  # fmt: skip


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[tuple[redis.Redis, Settings, int]]:
    """A Redis with one open crawl recorded in a fresh database, and the writer's settings."""
    settings = Settings(db=tmp_path / "c.db")
    with Store.open(settings.db) as store:
        crawl_id = store.start_crawl("weibo_user", {"uids": ["5001000001"]})
    client = redis.Redis.from_url(redis_url)
    register(client, Registered(crawl_id, "weibo_user", {"uids": ["5001000001"]}, {}))
    yield client, settings, crawl_id


def queue(client: redis.Redis, crawl_id: int) -> None:
    """Two posts, a reject and a kept response: rows that a second write would double."""
    raw = {"url": "http://127.0.0.1/x", "status": 200, "fetched_at": FETCHED, "body": b"{}",
           "content_type": "application/json", "parser_version": None}  # fmt: skip
    messages = [
        item_message(crawl_id, post("1")),
        item_message(crawl_id, post("2")),
        item_message(crawl_id, RejectItem("weibo_response", "bad card", {"card": 1}, 200)),
        raw_message(crawl_id, raw),
    ]
    client.lpush(ITEMS, *messages)


def counts(settings: Settings) -> dict[str, int]:
    with Store.open(settings.db) as store:
        tables = ("posts", "post_observations", "rejects", "raw_responses")
        return {table: store.count(table) for table in tables}


EXPECTED = {"posts": 2, "post_observations": 2, "rejects": 1, "raw_responses": 1}


def test_a_batch_taken_but_not_committed_is_written_after_a_restart(cluster, monkeypatch):
    client, settings, crawl_id = cluster
    queue(client, crawl_id)
    with Store.open(settings.db) as store:
        ingester = Ingester(client, store, settings)
        monkeypatch.setattr(store, "mark_batch_ingested", _crash)
        with pytest.raises(Crash):
            ingester.step()
    assert client.llen(INGESTING) == 4 and counts(settings)["posts"] == 0  # rolled back
    monkeypatch.undo()
    with Store.open(settings.db) as store:
        assert Ingester(client, store, settings).step() == 4
    assert counts(settings) == EXPECTED
    assert not client.llen(INGESTING) and not client.llen(ITEMS)


def test_a_batch_committed_but_not_dropped_is_not_written_twice(cluster, monkeypatch):
    client, settings, crawl_id = cluster
    queue(client, crawl_id)
    with Store.open(settings.db) as store:
        ingester = Ingester(client, store, settings)
        monkeypatch.setattr(ingester.client, "pipeline", _crash)  # the drop from Redis
        with pytest.raises(Crash):
            ingester.step()
    monkeypatch.undo()
    assert counts(settings) == EXPECTED and client.llen(INGESTING) == 4
    with Store.open(settings.db) as store:
        Ingester(client, store, settings).step()
    assert counts(settings) == EXPECTED  # the reject and the response are not kept twice
    assert not client.llen(INGESTING)


def test_a_post_fetched_again_after_a_restart_is_observed_once_a_crawl(cluster):
    client, settings, crawl_id = cluster
    client.lpush(ITEMS, item_message(crawl_id, post("1")))
    with Store.open(settings.db) as store:
        Ingester(client, store, settings).step()
    # a worker killed before it released the page: another fetched it again, later
    client.lpush(ITEMS, item_message(crawl_id, post("1", REFETCHED)))
    with Store.open(settings.db) as store:
        Ingester(client, store, settings).step()
    assert counts(settings)["post_observations"] == 1


def _crash(*_: object, **__: object) -> None:
    raise Crash


def test_the_cluster_url_takes_a_password_and_its_faults_are_one_line() -> None:
    with redis_server(password="a-long-test-password") as url:
        assert connect(url).ping()
        wrong = url.replace("a-long-test-password", "not-it")
        with pytest.raises(SmcatError, match="refused the password") as refused:
            connect(wrong)
        assert "not-it" not in str(refused.value)
        with pytest.raises(SmcatError, match="refused the password"):
            connect(url.replace(":a-long-test-password@", ""))  # no password given
    with pytest.raises(SmcatError, match="cannot reach"):
        connect(url)  # the server is gone
    with pytest.raises(SmcatError, match="must start with redis://"):
        connect("http://127.0.0.1:6379")
