"""The parsers on real public recordings of m.weibo.cn they were not built on.

The recordings live in the shared folder beside the project (see its SOURCES.txt); the tests
read them in place and are skipped where that folder is absent. Expected values are read from
the raw JSON here, independently of the parsers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.parsers.weibo_cn import parse_wap_comment_page
from crawler.parsers.weibo_mobile import parse_long_text, parse_profile, parse_timeline
from crawler.parsers.weibo_posts import bid_from_mid, mid_from_bid
from crawler.parsers.weibo_web import parse_mymblog
from tests.conftest import needs_samples, read_sample, samples_of

SAMPLES = samples_of("weibo")

FETCHED = datetime(2022, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
pytestmark = needs_samples("weibo")


def sample(name: str) -> dict:
    return read_sample("weibo", name)


def mblogs(payload: dict) -> list[dict]:
    return [c["mblog"] for c in payload["data"]["cards"] if c.get("card_type") == 9]


@pytest.mark.parametrize(
    "name",
    [
        "mweibocn_getIndex_107603_timeline_page__nonebot-bison_2021.json",
        "mweibocn_getIndex_107603_timeline_sinceid__nonebot-bison_2021.json",
    ],
)
def test_real_timelines(name: str) -> None:
    payload = sample(name)
    page = parse_timeline(payload, FETCHED)
    raw = mblogs(payload)
    assert not page.rejects
    reposts = [m for m in raw if "retweeted_status" in m]
    assert len(page.posts) == len(raw) + len(reposts)
    info = payload["data"]["cardlistInfo"]
    assert (page.next_page, page.since_id) == (
        info.get("page"),
        str(info["since_id"]) if info.get("since_id") else None,
    )
    posts = {p.post_id: p for p in page.posts if not p.via_repost}
    embedded = {p.post_id: p for p in page.posts if p.via_repost}
    for mblog in raw:
        post = posts[str(mblog["id"])]
        when = datetime.strptime(mblog["created_at"], "%a %b %d %H:%M:%S %z %Y")
        assert datetime.fromisoformat(post.created_at) == when
        assert (post.likes, post.comments, post.reposts) == (
            mblog["attitudes_count"],
            mblog["comments_count"],
            mblog["reposts_count"],
        )
        assert post.account_id == str(mblog["user"]["id"])
        assert post.is_long_text == bool(mblog.get("isLongText"))
        assert post.is_pinned == (mblog.get("isTop") == 1)
        kind = (mblog.get("page_info") or {}).get("type")
        if kind == "video":
            duration = mblog["page_info"]["media_info"]["duration"]
            assert (post.media_type, post.video_seconds) == ("video", float(duration))
        elif mblog.get("pic_num"):
            assert (post.media_type, post.pic_count) == ("picture", mblog["pic_num"])
        for topic in re.findall(r"#([^#<]+)#", mblog["text"]):
            assert topic in post.topics
        assert "<" not in post.text  # no markup left
    for mblog in reposts:
        origin = mblog["retweeted_status"]
        assert posts[str(mblog["id"])].origin_post_id == str(origin["id"])
        assert embedded[str(origin["id"])].account_id == str(origin["user"]["id"])
        assert embedded[str(origin["id"])].is_pinned is None  # unknown from an embedded copy


def test_real_profile_with_followers_in_wan() -> None:
    payload = sample("mweibocn_getIndex_typeuid_profile__nonebot-bison_2022.json")
    user = payload["data"]["userInfo"]
    account = parse_profile(payload, FETCHED)
    assert account.account_id == str(user["id"]) and account.screen_name == user["screen_name"]
    assert user["followers_count"] == "145.5万" and account.followers == 1_455_000
    assert (account.following, account.posts) == (user["follow_count"], user["statuses_count"])


def test_real_error_profile_is_the_end_not_a_row() -> None:
    payload = sample("mweibocn_getIndex_typeuid_profile_error_ok0__nonebot-bison.json")
    assert parse_timeline(payload, FETCHED).ended


def test_real_long_text() -> None:
    payload = sample("mweibocn_statuses_extend_longtext__nonebot-bison_2021.json")
    text = parse_long_text(payload)
    html = payload["data"]["longTextContent"]
    assert "<" not in text and len(text) > 100
    for topic in re.findall(r"#([^#<]+)#", html):
        assert f"#{topic}#" in text
    assert text.count("\n") == html.count("<br />")


def test_samples_folder_is_where_the_docs_say() -> None:
    assert (SAMPLES / "SOURCES.txt").exists() and Path(SAMPLES).name == "weibo"


def test_real_weibo_com_mymblog_page() -> None:
    payload = sample("weibocom_ajax_statuses_mymblog__NBuddha_2022-04.json")
    page = parse_mymblog(payload, FETCHED)
    raw = payload["data"]["list"]
    assert not page.rejects and not page.ended
    own = {p.post_id: p for p in page.posts if not p.via_repost}
    embedded = {p.post_id: p for p in page.posts if p.via_repost}
    assert set(own) == {str(m["id"]) for m in raw}
    for mblog in raw:
        post = own[str(mblog["id"])]
        assert post.text == mblog["text_raw"].replace("\u200b", "").strip()
        assert post.url.endswith(mblog["mblogid"])
        assert (post.likes, post.comments, post.reposts) == (
            mblog["attitudes_count"],
            mblog["comments_count"],
            mblog["reposts_count"],
        )
        assert post.is_pinned == (mblog.get("isTop") == 1)
        titles = [t["topic_title"] for t in mblog.get("topic_struct") or []]
        assert all(title in post.topics for title in titles)
        if "retweeted_status" in mblog:
            origin = mblog["retweeted_status"]
            assert post.is_repost and post.origin_post_id == str(origin["id"])
            assert embedded[str(origin["id"])].account_id == str(origin["user"]["id"])
        page_info = mblog.get("page_info") or {}
        if page_info.get("object_type") == "video" and "retweeted_status" in mblog:
            # weibo.com hangs the original's video on the repost: it belongs to the original
            origin = embedded[str(mblog["retweeted_status"]["id"])]
            assert origin.media_type == "video" and post.media_type == "text"
            assert origin.video_seconds == float(page_info["media_info"]["duration"])


def test_real_weibo_cn_comment_page() -> None:
    """weibo.cn/comment/J5cVGuUNq as recorded (early 2025: its newest comment says 01月10日)."""
    html = (SAMPLES / "weibocn_html_comment_page__dataabc-weiboSpider_2020.html").read_text(
        encoding="utf-8"
    )
    fetched = datetime(2025, 2, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    post_id = mid_from_bid("J5cVGuUNq")
    page = parse_wap_comment_page(html, post_id, fetched)
    # expected values straight from the markup: each C_ block, in order, once
    blocks = re.findall(r'<div class="c" id="C_(\d+)">(.*?)</div>', html, re.DOTALL)
    unique = dict(blocks)
    assert [c.comment_id for c in page.comments] == list(unique) and not page.rejects
    assert page.page_count == int(re.search(r'name="mp" type="hidden" value="(\d+)"', html)[1])
    for comment in page.comments:
        block = unique[comment.comment_id]
        assert comment.post_id == post_id
        assert comment.likes == int(re.search(r"赞\[(\d+)\]", block)[1])
        assert comment.author_id == re.search(r"fuid=(\d+)", block)[1]
        stamp = re.search(r'<span class="ct">(\d{4}-\d\d-\d\d \d\d:\d\d)', block)
        if stamp:
            assert comment.created_at == stamp[1].replace(" ", "T") + ":00+08:00"
        region = re.search(r"来自来自(\S+?)\s", block)
        assert comment.region == (region[1] if region else None)
    hot = [c.comment_id for c in page.comments if c.extra.get("hot")]
    assert len(hot) == html.count("[热门]")
    first = page.comments[0]
    assert (first.author_name, first.text) == ("LUX力士", "大家和迪迪一起保护动物[心]")
    relative = next(c for c in page.comments if c.comment_id == "5121248325535333")
    assert relative.created_at == "2025-01-10T12:43:00+08:00"  # 01月10日 12:43


def test_short_and_numeric_post_ids_convert_both_ways() -> None:
    html = (SAMPLES / "weibocn_html_comment_page__dataabc-weiboSpider_2020.html").read_text(
        encoding="utf-8"
    )
    # the page's like link names a comment by short id, its reply link by number
    short = re.search(r"/attitude/(\w+)/update\?object_type=comment", html)[1]
    number = re.search(r"/comments/reply/J5cVGuUNq/(\d+)", html)[1]
    assert (mid_from_bid(short), bid_from_mid(number)) == (number, short)
    payload = json.loads(
        (SAMPLES / "weibocom_ajax_statuses_mymblog__NBuddha_2022-04.json").read_text()
    )
    for mblog in payload["data"]["list"]:
        assert mid_from_bid(mblog["mblogid"]) == str(mblog["id"])
        assert bid_from_mid(str(mblog["id"])) == mblog["mblogid"]
