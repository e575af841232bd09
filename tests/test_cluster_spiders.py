"""The same spiders in both modes: each crawl that runs in a cluster stores, table by table,
what a local crawl of the same fixtures stores, with its state spread over several workers
(Debian's redis-server, worker and writer processes, the replay server). The crawls share one
Redis, one set of workers and one writer, as a cluster's would. And, without a cluster, a
spider as a worker that read none of the answers before: what it needs came with the request."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.crawl import CrawlArgumentError, CrawlPlan, submit
from crawler.items import Checkpoint
from crawler.parsers.common import CHINA
from crawler.spiders.douyin_comments import DouyinCommentsSpider
from crawler.spiders.douyin_user import LIST, DouyinUserSpider
from smcat.config import Settings
from smcat.demo.replay import ReplayServer
from tests import cluster_support
from tests.cluster_support import assert_same_tables, finish, start
from tests.conftest import FIXTURES
from tests.search_pages import write_search_fixture

LANKOU = "MS4wLjABAAAAfictional_LANKOU_beauty_0001"  # 7 posts over 3 pages, profile counts 7
XIAOYU = "MS4wLjABAAAAfictional_XIAOYU_fashion_002"  # 3 posts, profile counts 40
VIDEO, NOTE = "7430000000000000102", "7430000000000000103"  # 7 comments + 4 replies; 3
THREAD = "7432000000000100001"  # the comment whose 3 replies take two reply pages
ON_AIR = "802400000001"  # a live room on the air
COOKIE = "SUB=cluster-test-cookie-7c1d"  # a stand-in, sent to 127.0.0.1 only
WORKERS = 3

redis_url = cluster_support.redis_url  # the fixture: a Redis server of the test's own

# a day of searches for KEYWORD: four busy hours of 12 posts (two pages each), each hour's
# first post also at the end of the hour before (a post found in two windows, by two workers)
KEYWORD = "速行跑鞋"
DAY = datetime(2025, 4, 2, tzinfo=CHINA)
BUSY_HOURS = {DAY + timedelta(hours=h): 12 for h in range(8, 12)}


def crawls(search_routes: Path) -> dict[str, tuple[tuple[str, ...], Path]]:
    """Each crawl: its command and the replay manifest it reads."""
    return {
        "douyin_user": (
            ("crawl", "douyin-user", LANKOU, XIAOYU),
            FIXTURES / "douyin" / "user.toml",
        ),
        # two pages of comments, reply threads of one and two pages
        "douyin_comments": (
            ("crawl", "douyin-comments", VIDEO, NOTE, "--replies"),
            FIXTURES / "douyin" / "comments.toml",
        ),
        "weibo_hot": (("crawl", "weibo-hot"), FIXTURES / "weibo" / "hot.toml"),
        "douyin_live": (("crawl", "douyin-live", ON_AIR), FIXTURES / "douyin" / "live.toml"),
        # with windows of 2 listed pages split, the day is searched hour by hour
        "weibo_search": (
            ("crawl", "weibo-search", KEYWORD, "--since", "2025-04-02", "--until", "2025-04-02"),
            search_routes,
        ),
    }


def crawl_settings(server: ReplayServer, **more: object) -> dict[str, object]:
    return {"douyin_url": server.url, "douyin_live_url": server.url, "weibo_url": server.url,
            "weibo_mobile_url": server.url, "weibo_search_url": server.url,
            "weibo_cookie": COOKIE, "weibo_search_split_at": 2, "download_delay": 0,
            "retry_times": 3, "retry_backoff": 0.01, **more}  # fmt: skip


def test_each_crawl_in_a_cluster_stores_what_it_stores_locally(smcat, redis_url, tmp_path):
    search = write_search_fixture(tmp_path, KEYWORD, BUSY_HOURS, days=2)
    planned = crawls(search.manifest)
    local, cluster = tmp_path / "local.db", tmp_path / "cluster.db"
    with ReplayServer(*(routes for _, routes in planned.values())) as server:
        settings = crawl_settings(server)
        for command, _ in planned.values():
            result = smcat(*command, "--db", str(local), **settings)
            assert result.returncode == 0, result.stderr
        hits_local = len(server.hits)
        server.reset_hits()
        # one database, the crawls in the same order: one writer writes them all
        for command, _ in planned.values():
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
    assert out.count(": finished") == len(planned), out
    assert_same_tables(local, cluster)
    with sqlite3.connect(cluster) as connection:
        found = dict(connection.execute("SELECT spider, counts FROM crawls").fetchall())
    assert sorted(found) == sorted(planned)
    counts = json.loads(found["weibo_search"])  # the day split once, each edge post kept once
    assert (counts["split"], counts["capped_hours"], counts["duplicates"]) == (1, 4, 4)
    assert json.loads(found["douyin_user"])["shortfall"] == 37


def test_a_schedule_is_refused_by_the_cluster_naming_why(smcat, tmp_path):
    for command in (("weibo-hot",), ("douyin-live", ON_AIR)):
        result = smcat("crawl", *command, "--every", "10m", "--for", "1h",
                       "--cluster", "redis://127.0.0.1:1/0")  # fmt: skip
        assert result.returncode == 2, result.stderr
        said = " ".join(result.stderr.replace("│", " ").split())  # the message, unwrapped
        assert "a schedule (--every, --for) without --cluster" in said, result.stderr


def test_a_browser_crawl_is_refused_by_the_cluster_naming_why(tmp_path):
    plan = CrawlPlan(DouyinUserSpider, {"sec_uids": [LANKOU], "browser": True})
    settings = Settings(db=tmp_path / "refused.db", cluster_redis="redis://127.0.0.1:1/0")
    with pytest.raises(CrawlArgumentError, match="leave out browser") as refused:
        submit(settings, [plan])  # before any connection
    assert refused.value.params == ("browser",)


# -- a worker that read none of the answers before: what it needs came with the request --------


def spider(spider_class: type[Spider], **arguments: object) -> Spider:
    crawler = get_crawler(spider_class, {"DOUYIN_URL": "http://127.0.0.1:9"})
    return spider_class.from_crawler(crawler, **arguments)


def answer(name: str, meta: dict[str, object]) -> TextResponse:
    url = "http://127.0.0.1:9/aweme/v1/web/"
    body = (FIXTURES / "douyin" / name).read_bytes()
    headers = {"Content-Type": "application/json"}
    return TextResponse(url, body=body, headers=headers, request=Request(url, meta=meta))


def test_the_last_page_of_a_list_read_elsewhere_compares_it_with_the_profile():
    worker = spider(DouyinUserSpider, sec_uids=[LANKOU])
    before = [
        aweme["aweme_id"]
        for page in ("posts_lankou_p1.json", "posts_lankou_p2.json")
        for aweme in json.loads((FIXTURES / "douyin" / "user" / page).read_text())["aweme_list"]
    ]
    cursor = 1759305600000
    state = {"cursor": cursor, "page": 3, "listed": 7, "fetched": before,
             "cursors": [0, 1761811200000, cursor], "unread": False}  # fmt: skip
    meta = {"sec_uid": LANKOU, "cursor": cursor, "page": 3, LIST: state}
    out = list(worker.parse_posts(answer("user/posts_lankou_p3.json", meta)))
    counts = worker.extra_counts
    assert (counts["posts_listed"], counts["posts_fetched"], counts["shortfall"]) == (7, 7, 0)
    (checkpoint,) = [item for item in out if isinstance(item, Checkpoint)]
    assert checkpoint.value == {"page": 3, "cursor": 1756713600000, "fetched": 7, "done": True,
                                "listed": 7}  # fmt: skip


def test_a_reply_thread_whose_page_another_worker_read_ends_without_a_problem():
    worker = spider(DouyinCommentsSpider, aweme_ids=[VIDEO], replies=True)
    meta = {"post_id": VIDEO, "root": THREAD, "page": 2, "cursor": 2, "origin": 1,
            "cursors": [0, 2]}  # fmt: skip
    out = list(worker.parse_replies(answer("comments/reply_7432000000000100001_p2.json", meta)))
    assert [type(item).__name__ for item in out] == ["CommentItem"]
    assert not worker.problems


def test_a_thread_whose_cursor_came_round_on_another_worker_is_a_problem():
    worker = spider(DouyinCommentsSpider, aweme_ids=[VIDEO], replies=True)
    # the thread asked with cursor 2 before, elsewhere; this page (cursor 0) points to it again
    meta = {"post_id": VIDEO, "root": THREAD, "page": 3, "cursor": 0, "origin": 1,
            "cursors": [0, 2]}  # fmt: skip
    out = list(worker.parse_replies(answer("comments/reply_7432000000000100001_p1.json", meta)))
    assert not [item for item in out if isinstance(item, Request)]
    assert "the cursor came round again (cursor 2)" in worker.problems[0]
