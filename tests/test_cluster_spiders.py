"""The same spiders in both modes: each crawl that runs in a cluster stores, table by table,
what a local crawl of the same fixtures stores, with its state spread over several workers
(Debian's redis-server, worker and writer processes, the replay server). The crawls share one
Redis, one set of workers and one writer, as a cluster's would."""

from __future__ import annotations

import sqlite3

import pytest

from crawler.crawl import CrawlArgumentError, CrawlPlan, submit
from crawler.spiders.douyin_user import DouyinUserSpider
from smcat.config import Settings
from smcat.demo.replay import ReplayServer
from tests import cluster_support
from tests.cluster_support import assert_same_tables, finish, start
from tests.conftest import FIXTURES

LANKOU = "MS4wLjABAAAAfictional_LANKOU_beauty_0001"  # 7 posts over 3 pages, profile counts 7
XIAOYU = "MS4wLjABAAAAfictional_XIAOYU_fashion_002"  # 3 posts, profile counts 40
WORKERS = 3

redis_url = cluster_support.redis_url  # the fixture: a Redis server of the test's own

# each crawl: its command and the replay manifests it reads
CRAWLS = {
    "douyin_user": (
        ("crawl", "douyin-user", LANKOU, XIAOYU),
        (FIXTURES / "douyin" / "user.toml",),
    ),
}


def crawl_settings(server: ReplayServer, **more: object) -> dict[str, object]:
    return {"douyin_url": server.url, "douyin_live_url": server.url, "weibo_url": server.url,
            "weibo_mobile_url": server.url, "download_delay": 0, "retry_times": 3,
            "retry_backoff": 0.01, **more}  # fmt: skip


def test_each_crawl_in_a_cluster_stores_what_it_stores_locally(smcat, redis_url, tmp_path):
    manifests = sorted({m for _, routes in CRAWLS.values() for m in routes})
    local, cluster = tmp_path / "local.db", tmp_path / "cluster.db"
    with ReplayServer(*manifests) as server:
        settings = crawl_settings(server)
        for command, _ in CRAWLS.values():
            result = smcat(*command, "--db", str(local), **settings)
            assert result.returncode == 0, result.stderr
        hits_local = len(server.hits)
        server.reset_hits()
        # one database, the crawls in the same order: one writer writes them all
        for command, _ in CRAWLS.values():
            submitted = smcat(*command, "--db", str(cluster), "--cluster", redis_url, **settings)
            assert submitted.returncode == 0, submitted.stderr
            assert "submitted to the cluster" in submitted.stdout
        assert not server.hits  # submitting fetches nothing
        settings["cluster_redis"] = redis_url
        workers = [start(tmp_path, "worker", "--until-done", "--name", f"w{n}", **settings)
                   for n in range(WORKERS)]  # fmt: skip
        writer = start(tmp_path, "cluster", "ingest", "--db", str(cluster), "--until-done",
                       **settings)  # fmt: skip
        out = finish(writer)
        for worker in workers:
            finish(worker)
        assert len(server.hits) == hits_local  # every page fetched once
    assert out.count(": finished") == len(CRAWLS), out
    assert_same_tables(local, cluster)
    with sqlite3.connect(cluster) as connection:
        spiders = sorted(spider for (spider,) in connection.execute("SELECT spider FROM crawls"))
    assert spiders == sorted(CRAWLS)


def test_a_browser_crawl_is_refused_by_the_cluster_naming_why(tmp_path):
    plan = CrawlPlan(DouyinUserSpider, {"sec_uids": [LANKOU], "browser": True})
    settings = Settings(db=tmp_path / "refused.db", cluster_redis="redis://127.0.0.1:1/0")
    with pytest.raises(CrawlArgumentError, match="leave out browser") as refused:
        submit(settings, [plan])  # before any connection
    assert refused.value.params == ("browser",)
