"""Crawling from several machines, for real: Debian's redis-server on a loopback port, worker
and writer processes (`smcat worker`, `smcat cluster ingest`) running the Scrapy spiders
against the replay server. What they store must be what a local crawl of the same fixtures
stores, table by table, also when a worker and the writer are killed mid-way."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import redis

from crawler.cluster.keys import INGESTING, crawl_key
from smcat.demo.replay import ReplayServer
from tests import cluster_support
from tests.cluster_support import (
    assert_same_tables,
    finish,
    rows,
    start,
)
from tests.conftest import FIXTURES

BRANDS = ("5001000001", "5001000002")  # 50 posts over 6 timeline pages, 2 long texts
GIVEAWAY, LAUNCH = "5210008539200130", "5210009743400165"  # posts with comments, replies

redis_url = cluster_support.redis_url  # the fixture: a Redis server of the test's own


def crawl_settings(server: ReplayServer, **more: object) -> dict[str, object]:
    return {"weibo_mobile_url": server.url, "download_delay": 0, "retry_times": 3,
            "retry_backoff": 0.01, **more}  # fmt: skip


def local_crawl(smcat, server: ReplayServer, db: Path) -> None:
    result = smcat("crawl", "weibo-user", *BRANDS, "--db", str(db), **crawl_settings(server))
    assert result.returncode == 0, result.stderr


def submit(smcat, server: ReplayServer, db: Path, url: str, **more: object) -> int:
    result = smcat(
        "crawl", "weibo-user", *BRANDS, "--db", str(db), "--cluster", url,
        **crawl_settings(server, **more),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "submitted to the cluster" in result.stdout
    with sqlite3.connect(db) as connection:
        ((crawl_id, status),) = connection.execute("SELECT crawl_id, status FROM crawls")
    assert status == "running"
    return int(crawl_id)


def test_three_workers_and_one_writer_store_what_a_local_crawl_stores(
    smcat,
    demo_server,
    redis_url,
    tmp_path,
):
    local, cluster = tmp_path / "local.db", tmp_path / "cluster.db"
    local_crawl(smcat, demo_server, local)
    hits_local = len(demo_server.hits)
    demo_server.reset_hits()
    crawl_id = submit(smcat, demo_server, cluster, redis_url)
    assert not demo_server.hits  # submitting fetches nothing
    settings = crawl_settings(demo_server, cluster_redis=redis_url)
    workers = [start(tmp_path, "worker", "--until-done", "--name", f"w{n}", **settings)
               for n in range(3)]  # fmt: skip
    writer = start(tmp_path, "cluster", "ingest", "--db", str(cluster), "--until-done", **settings)
    assert f"crawl {crawl_id}: finished" in finish(writer)
    for worker in workers:
        finish(worker)
    # every page fetched once, by one worker or another
    assert len(demo_server.hits) == hits_local
    assert_same_tables(local, cluster)
    client = redis.Redis.from_url(redis_url)
    assert not client.exists(crawl_key(crawl_id, "requests"), crawl_key(crawl_id, "held"))
    status = smcat("cluster", "status", cluster_redis=redis_url)
    assert status.returncode == 0, status.stderr
    assert "no open crawl" in status.stdout and "items waiting for the writer: 0" in status.stdout


def test_a_worker_and_the_writer_killed_midway_lose_nothing_and_double_nothing(
    smcat,
    demo_server,
    redis_url,
    tmp_path,
):
    local, cluster = tmp_path / "local.db", tmp_path / "cluster.db"
    local_crawl(smcat, demo_server, local)
    # a site delay that makes the crawl last a few seconds, so that the kills land in it
    settings = crawl_settings(demo_server, cluster_redis=redis_url, download_delay=0.25)
    crawl_id = submit(smcat, demo_server, cluster, redis_url, download_delay=0.25)
    client = redis.Redis.from_url(redis_url)
    held_key = crawl_key(crawl_id, "held")
    doomed = start(tmp_path, "worker", "--until-done", "--name", "doomed", **settings)
    other = start(tmp_path, "worker", "--until-done", "--name", "other", **settings)
    writer = start(tmp_path, "cluster", "ingest", "--db", str(cluster), "--batch", "3", **settings)
    # the worker is killed while it holds a request, the writer while a batch is in progress
    kill_while(doomed, lambda: any(t.startswith(b"doomed:") for t in client.hkeys(held_key)))
    kill_while(writer, lambda: client.llen(INGESTING) > 0)
    held = [t for t in client.hkeys(held_key) if t.startswith(b"doomed:")]
    assert held  # the killed worker's requests are still held: the writer puts them back
    assert client.llen(INGESTING)  # a batch in progress: the restarted writer takes it first
    writer = start(tmp_path, "cluster", "ingest", "--db", str(cluster), "--until-done", **settings)
    out = finish(writer)
    assert f"crawl {crawl_id}: finished" in out
    finish(other)
    assert_same_tables(local, cluster, except_counts=True)
    with sqlite3.connect(cluster) as connection:
        (counts,) = connection.execute("SELECT counts FROM crawls").fetchone()
    with sqlite3.connect(local) as connection:
        (local_counts,) = connection.execute("SELECT counts FROM crawls").fetchone()
    assert json.loads(counts)["stored"] == json.loads(local_counts)["stored"]
    # observations once per crawl: as many as posts
    assert sum(rows(cluster, "post_observations").values()) == sum(rows(cluster, "posts").values())


def kill_while(process, condition, timeout: float = 60) -> None:
    """SIGKILL the process at a moment the condition holds: once it is seen to hold, the
    process is frozen (SIGSTOP) and killed if it still holds, else let go and watched again."""
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, "timed out"
        if condition():
            process.send_signal(signal.SIGSTOP)
            if condition():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return
            process.send_signal(signal.SIGCONT)
        time.sleep(0.002)


def test_a_comment_crawl_with_replies_on_two_workers_stores_what_a_local_one_does(
    smcat, redis_url, tmp_path
):
    local, cluster = tmp_path / "local.db", tmp_path / "cluster.db"
    with ReplayServer(FIXTURES / "weibo" / "comments.toml") as server:
        settings = crawl_settings(server)
        args = ("crawl", "weibo-comments", GIVEAWAY, LAUNCH, "--replies")
        assert smcat(*args, "--db", str(local), **settings).returncode == 0
        hits_local = len(server.hits)
        server.reset_hits()
        submitted = smcat(*args, "--db", str(cluster), "--cluster", redis_url, **settings)
        assert submitted.returncode == 0, submitted.stderr
        settings["cluster_redis"] = redis_url
        workers = [start(tmp_path, "worker", "--until-done", **settings) for _ in range(2)]
        writer = start(tmp_path, "cluster", "ingest", "--db", str(cluster), "--until-done",
                       **settings)  # fmt: skip
        assert "finished" in finish(writer)
        for worker in workers:
            finish(worker)
        assert len(server.hits) == hits_local
    assert_same_tables(local, cluster)
