"""Odd values real answers carry (issue #19): a null card, a post's user as a text, a next
page of "2a", a follower count of "-", a Douyin create_time in milliseconds, a max_cursor of
"abc". Each through its parser, and through a real crawl over the replay server: the good
rows are stored, the bad entry is in `rejects` with its reason, and the crawl says so."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request, TextResponse

from crawler.items import RejectItem
from crawler.parsers import douyin_user, weibo_mobile
from crawler.spiders.base import WeiboSpider
from crawler.spiders.weibo_user import WeiboUserSpider
from smcat.demo.replay import ReplayServer
from tests.conftest import FIXTURES

FETCHED = datetime(2025, 11, 5, 8, 0, tzinfo=UTC)
ODD_UID = "5001000077"
ODD_SEC_UID = "MS4wLjABAAAAfictional_odd_cursor_03"
GOOD_POSTS = ["5210007329600263", "5210006523200249", "5210005414431228"]
TEXT_USER_POST = "5210005947200235"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


# -- through the parsers ----------------------------------------------------------------------


def test_a_hidden_follower_count_is_unknown_not_a_crash() -> None:
    account = weibo_mobile.parse_profile(
        fixture("weibo/mobile/profile_hidden_followers.json"), FETCHED
    )
    assert account.followers is None
    assert (account.account_id, account.posts) == ("5001000002", 22)


def test_a_null_card_and_a_text_user_are_rejected_alone_and_page_2a_ends_the_paging() -> None:
    page = weibo_mobile.parse_timeline(fixture("weibo/mobile/timeline_odd_cards.json"), FETCHED)
    assert [post.post_id for post in page.posts] == GOOD_POSTS
    null_card, text_user = page.rejects
    assert null_card.payload is None and null_card.reason == "PayloadError: a timeline card is None"
    assert text_user.payload["mblog"]["id"] == TEXT_USER_POST
    assert text_user.reason == "PayloadError: user is '速行运动官方', not an object"
    assert {r.kind for r in page.rejects} == {"weibo_mblog"}
    # the cursor is no number: the page keeps its posts, its timeline ends here, and why
    assert page.ended and page.next_page is None
    assert page.cursor_problem == "the paging cursor page is '2a'"


def test_a_millisecond_create_time_and_a_cursor_of_abc() -> None:
    page = douyin_user.parse_post_list(fixture("douyin/user/posts_odd_cursor.json"), FETCHED)
    seconds = douyin_user.parse_post_list(fixture("douyin/user/posts_xiaoyu_p1.json"), FETCHED)
    # read as milliseconds: the same time as the post's own in seconds
    assert [p.created_at for p in page.posts] == [p.created_at for p in seconds.posts]
    assert page.posts[1].created_at == "2025-10-31T16:00:00+08:00"
    assert [r.payload for r in page.rejects] == [None]
    assert (page.has_more, page.max_cursor) == (False, 0)
    assert page.cursor_problem == "the paging cursor max_cursor is 'abc'"


# -- through a crawl --------------------------------------------------------------------------


@pytest.fixture
def weibo_server() -> Iterator[ReplayServer]:
    with ReplayServer(FIXTURES / "weibo" / "odd.toml") as server:
        yield server


@pytest.fixture
def douyin_server() -> Iterator[ReplayServer]:
    with ReplayServer(FIXTURES / "douyin" / "odd.toml") as server:
        yield server


def test_a_weibo_crawl_stores_the_good_cards_and_rejects_the_odd_ones(
    smcat, weibo_server, tmp_path
) -> None:
    db = tmp_path / "odd.db"
    result = smcat(
        "crawl", "weibo-user", ODD_UID, "--db", str(db),
        weibo_mobile_url=weibo_server.url, download_delay=0, retry_times=0,
    )  # fmt: skip
    assert result.returncode == 1  # a problem was recorded: the crawl does not pass as done
    stored = [post_id for (post_id,) in query(db, "SELECT post_id FROM posts ORDER BY post_id")]
    assert stored == sorted(GOOD_POSTS)
    assert query(db, "SELECT followers, posts FROM account_snapshots") == [(None, 22)]
    rejects = query(db, "SELECT kind, reason, payload FROM rejects ORDER BY id")
    assert len(rejects) == 3
    # the page's problem first (a reject with the response), then its two odd cards
    kind, reason, response = rejects[0]
    assert kind == "weibo_response" and "the paging cursor page is '2a'" in reason
    assert json.loads(response)["status"] == 200
    assert rejects[1] == ("weibo_mblog", "PayloadError: a timeline card is None", None)
    kind, reason, card = rejects[2]
    assert (kind, reason) == ("weibo_mblog", "PayloadError: user is '速行运动官方', not an object")
    assert json.loads(card)["mblog"]["id"] == TEXT_USER_POST
    assert weibo_server.hit_count("timeline-5001000077-p1") == 1
    status, why = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "'2a'" in why
    # the crawl is not clean: --new will not take the account as crawled up to now
    assert query(db, "SELECT crawled_up_to FROM accounts") == [(None,)]


def test_a_douyin_crawl_reads_milliseconds_and_stops_paging_at_a_cursor_of_abc(
    smcat, douyin_server, tmp_path
) -> None:
    db = tmp_path / "odd.db"
    result = smcat(
        "crawl", "douyin-user", ODD_SEC_UID, "--db", str(db),
        douyin_url=douyin_server.url, download_delay=0, retry_times=0,
    )  # fmt: skip
    assert result.returncode == 1
    created = dict(query(db, "SELECT post_id, created_at FROM posts"))
    assert created["7430000000000000202"] == "2025-10-31T16:00:00+08:00"
    assert len(created) == 3
    kinds = [kind for (kind,) in query(db, "SELECT kind FROM rejects ORDER BY id")]
    assert kinds == ["douyin_response", "douyin_aweme"]  # the cursor's problem, the null entry
    assert "max_cursor is 'abc'" in query(db, "SELECT reason FROM crawls")[0][0]
    assert douyin_server.hit_count("posts-odd-cursor") == 1


# -- in the spider ----------------------------------------------------------------------------


def read_through(spider: WeiboSpider, parse: Any) -> tuple[list[RejectItem], Any]:
    """What `_parsed` yields and returns for a timeline page."""
    url = "http://127.0.0.1/api/container/getIndex"
    body = b'{"ok": 1, "data": {}}'
    response = TextResponse(url, body=body, status=200, request=Request(url))
    parsed = spider._parsed(response, parse, "timeline of 1, page 1")
    yielded = []
    try:
        while True:
            yielded.append(next(parsed))
    except StopIteration as stop:
        return yielded, stop.value


def test_a_parser_bug_is_a_problem_kept_with_the_response_never_a_lost_page() -> None:
    spider = WeiboSpider(name="weibo_test")

    def broken(payload: Any, when: datetime) -> Any:
        return payload["data"]["cards"][0]  # a parser bug: KeyError, not a PayloadError

    (reject,), page = read_through(spider, broken)
    assert page is None
    assert reject.kind == "weibo_response"
    assert reject.reason == "timeline of 1, page 1: KeyError: 'cards'"
    assert reject.payload["body"] == '{"ok": 1, "data": {}}' and reject.payload["status"] == 200
    assert spider.stop_reason == "1 problem(s); first: timeline of 1, page 1: KeyError: 'cards'"


def test_a_long_text_that_breaks_its_parser_keeps_the_post_and_says_why() -> None:
    spider = WeiboUserSpider(uids="5001000001")
    spider.long_texts_due[("5001000001", 1)] = 1
    post = weibo_mobile.parse_timeline(
        fixture("weibo/mobile/timeline_5001000001_p3.json"), FETCHED
    ).posts[0]
    url = "http://127.0.0.1/statuses/extend?id=1"
    meta = {"post": post, "uid": "5001000001", "page": 1}
    response = TextResponse(url, body=b"[]", status=200, request=Request(url, meta=meta))

    def broken(payload: Any) -> str:
        return payload["data"]  # a parser bug: TypeError on a list, not a PayloadError

    problem, kept, checkpoint = spider._long_text(response, broken)
    assert kept is post and checkpoint.value == 1
    assert problem.reason == f"long text of {post.post_id}: TypeError: " + (
        "list indices must be integers or slices, not str"
    )
