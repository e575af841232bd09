"""weibo-user through weibo.com's API (a cookie is configured), for real against the replay
server: the same fictional posts as the m.weibo.cn fixtures, so both families must agree."""

from __future__ import annotations

import pytest

from crawler.reparse import reparse
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import DEMO_MANIFEST, FIXTURES
from tests.test_reparse import snapshot, wipe
from tests.test_weibo_crawl import query

COOKIE = "SUB=_2A25smcat-test-cookie-d41d8cd98f; SUBP=0033WrSXqPxfM725Ws9jqgMF55529P9D9W"
ACCOUNTS = ("5001000001", "5001000002")
COLUMNS = (
    "post_id, account_id, created_at, text, is_repost, origin_post_id, media_type, pic_count,"
    " video_seconds, is_long_text, region"
)


@pytest.fixture
def both_apis():
    with ReplayServer(DEMO_MANIFEST, FIXTURES / "weibo" / "web.toml") as server:
        yield server


def crawl(smcat, server, db, *uids, cookie=COOKIE, **settings):
    return smcat(
        "crawl", "weibo-user", *uids, "--db", str(db),
        weibo_mobile_url=server.url, weibo_url=server.url, weibo_cookie=cookie,
        download_delay=0, retry_backoff=0.01, **settings,
    )  # fmt: skip


def test_with_a_cookie_the_web_api_gives_the_same_posts_as_the_mobile_api(
    smcat, both_apis, tmp_path
):
    web, mobile = tmp_path / "web.db", tmp_path / "mobile.db"
    assert crawl(smcat, both_apis, web, *ACCOUNTS).returncode == 0
    used = {hit.route for hit in both_apis.hits}
    assert used and all(route.startswith("weibo-web-") for route in used)
    both_apis.reset_hits()
    assert crawl(smcat, both_apis, mobile, *ACCOUNTS, cookie="").returncode == 0
    assert not any(hit.route.startswith("weibo-web-") for hit in both_apis.hits)

    rows = f"SELECT {COLUMNS} FROM posts ORDER BY post_id"
    assert query(web, rows) == query(mobile, rows)
    assert len(query(web, rows)) == 50
    observations = "SELECT post_id, likes, comments, reposts FROM post_observations ORDER BY 1"
    assert query(web, observations) == query(mobile, observations)
    topics = "SELECT post_id, value FROM post_topics ORDER BY 1, 2"
    assert query(web, topics) == query(mobile, topics)
    followers = "SELECT account_id, followers, following FROM account_snapshots ORDER BY 1"
    assert query(web, followers) == query(mobile, followers)
    assert query(web, "SELECT DISTINCT parser_version FROM raw_responses") == [("weibo_web/2",)]


def test_the_cookie_is_never_logged_printed_or_stored(smcat, both_apis, tmp_path):
    db = tmp_path / "secret.db"
    result = crawl(smcat, both_apis, db, ACCOUNTS[0], log_level="DEBUG")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Crawled (200)" in result.stderr  # the debug log really was on
    for secret in ("_2A25smcat-test-cookie", "0033WrSXqPxfM725Ws9jqgMF55529P9D9W"):
        assert secret not in result.stdout + result.stderr
        for path in tmp_path.glob("secret.db*"):
            assert secret.encode() not in path.read_bytes()


def test_the_cookie_can_come_from_a_file(smcat, both_apis, tmp_path):
    cookie_file = tmp_path / "weibo-cookie.txt"
    cookie_file.write_text(COOKIE + "\n", encoding="utf-8")
    db = tmp_path / "file.db"
    result = crawl(smcat, both_apis, db, ACCOUNTS[1], cookie="", weibo_cookie_file=cookie_file)
    assert result.returncode == 0, result.stderr
    assert any(hit.route.startswith("weibo-web-") for hit in both_apis.hits)
    missing = crawl(
        smcat, both_apis, db, ACCOUNTS[1], cookie="", weibo_cookie_file=tmp_path / "nope.txt"
    )
    assert missing.returncode == 1 and "weibo_cookie_file" in missing.stderr


def test_an_expired_cookie_stops_the_crawl_saying_to_refresh_it(smcat, both_apis, tmp_path):
    db = tmp_path / "expired.db"
    result = crawl(smcat, both_apis, db, "5001000009")
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "refresh SMCAT_WEIBO_COOKIE" in reason
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]


def test_reparse_rebuilds_a_web_crawl(smcat, both_apis, tmp_path):
    db = tmp_path / "web.db"
    assert crawl(smcat, both_apis, db, *ACCOUNTS).returncode == 0
    crawled = snapshot(db)
    wipe(db)
    with Store.open(db) as store:
        assert reparse(store).counts["failed"] == 0
    assert snapshot(db) == crawled
