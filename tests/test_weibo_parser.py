"""The m.weibo.cn parsers on bare JSON: our fixture pages, hand-made edge cases, and times."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.parsers.common import (
    PayloadError,
    html_to_text,
    markup_to_text,
    mentions_in,
    parse_weibo_time,
    topics_in,
)
from crawler.parsers.weibo_mobile import (
    parse_long_text,
    parse_profile,
    parse_timeline,
)
from crawler.parsers.weibo_posts import posts_from_mblog, with_long_text
from tests.conftest import FIXTURES

MOBILE = FIXTURES / "weibo" / "mobile"
CST = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 12, 1, 12, 30, 45, tzinfo=CST)


def load(name: str) -> dict:
    return json.loads((MOBILE / name).read_text(encoding="utf-8"))


def mblogs(name: str) -> list[dict]:
    return [c["mblog"] for c in load(name)["data"]["cards"] if c.get("card_type") == 9]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue Sep 14 21:18:12 +0800 2021", "2021-09-14T21:18:12+08:00"),
        ("Mon Dec 30 04:55:13 +0000 2019", "2019-12-30T04:55:13+00:00"),
        ("刚刚", "2025-12-01T12:30:45+08:00"),
        ("5分钟前", "2025-12-01T12:25:00+08:00"),
        ("3小时前", "2025-12-01T09:00:00+08:00"),
        ("今天 08:05", "2025-12-01T08:05:00+08:00"),
        ("昨天 23:59", "2025-11-30T23:59:00+08:00"),
        ("11-28", "2025-11-28T00:00:00+08:00"),
        ("12-25", "2024-12-25T00:00:00+08:00"),  # a later day this year has not come yet
        ("2023-06-01", "2023-06-01T00:00:00+08:00"),
        ("2023-06-01 18:20", "2023-06-01T18:20:00+08:00"),
        ("30秒前", "2025-12-01T12:30:15+08:00"),
        ("11月28日 09:15", "2025-11-28T09:15:00+08:00"),  # s.weibo.com's forms
        ("12月25日 20:00", "2024-12-25T20:00:00+08:00"),
        ("2023年06月01日 18:20", "2023-06-01T18:20:00+08:00"),
    ],
)
def test_weibo_times_full_and_relative(text: str, expected: str) -> None:
    assert parse_weibo_time(text, FETCHED) == expected


def test_relative_times_are_read_in_china_time_whatever_the_fetch_zone() -> None:
    fetched_utc = datetime(2025, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on Dec 1 in China
    assert parse_weibo_time("昨天 10:00", fetched_utc) == "2025-11-30T10:00:00+08:00"


@pytest.mark.parametrize(
    "text", ["", "soon", "13-45", "2023-02-30", "25:00 今天", "2月30日 10:00", "2023年13月01日"]
)
def test_unreadable_times_raise_payload_error(text: str) -> None:
    with pytest.raises(PayloadError):
        parse_weibo_time(text, FETCHED)


def test_html_to_text_keeps_lines_and_emoji_names() -> None:
    html = (
        '早安<span class="url-icon"><img alt=[心] src="x.png" /></span><br />'
        "第二行 &amp; <a href='/n/小鹿'>@小鹿</a>\u200b"
    )
    assert html_to_text(html) == "早安[心]\n第二行 & @小鹿"
    assert html_to_text(None) == ""
    assert html_to_text("  ") == ""
    assert html_to_text("控制\x00字符\x1f<br />下一行") == "控制字符\n下一行"
    assert html_to_text("没有标签 1 < 2") == "没有标签 1 < 2"


def test_topics_and_mentions_in_text() -> None:
    text = "#双十一# 来啦 #澜蔻小蓝瓶##双十一# 关注@澜蔻护肤 和@微博抽奖平台 @澜蔻护肤"
    assert topics_in(text) == ["双十一", "澜蔻小蓝瓶"]
    assert mentions_in(text) == ["澜蔻护肤", "微博抽奖平台"]


def test_profile_with_a_count_written_in_wan() -> None:
    account = parse_profile(load("profile_5001000002.json"), FETCHED)
    user = load("profile_5001000002.json")["data"]["userInfo"]
    assert user["followers_count"] == "36.8万"
    assert (account.account_id, account.followers) == ("5001000002", 368_000)
    assert account.screen_name == user["screen_name"]
    assert account.observed_at == FETCHED.isoformat()


def test_profile_error_envelope_raises_with_its_message() -> None:
    with pytest.raises(PayloadError, match="用户不存在"):
        parse_profile({"ok": 0, "msg": "用户不存在", "data": {"cards": []}}, FETCHED)


def test_timeline_page_posts_match_the_fixture_cards() -> None:
    name = "timeline_5001000001_p1.json"
    cards, page = mblogs(name), parse_timeline(load(name), FETCHED)
    reposts = [m for m in cards if "retweeted_status" in m]
    assert len(page.posts) == len(cards) + len(reposts) and not page.rejects
    assert page.next_page == load(name)["data"]["cardlistInfo"]["page"]
    by_id = {p.post_id: p for p in page.posts}
    for mblog in cards:
        post = by_id[mblog["id"]]
        assert post.pic_count == len(mblog.get("pics") or [])
        region = (mblog.get("region_name") or "").replace("发布于", "").strip()
        assert post.region == (region or None)
        assert post.is_pinned == (mblog.get("isTop") == 1)
        if (mblog.get("page_info") or {}).get("type") == "video":
            assert post.media_type == "video"
            assert post.video_seconds == float(mblog["page_info"]["media_info"]["duration"])
    for mblog in reposts:
        post = by_id[mblog["id"]]
        origin_id = mblog["retweeted_status"]["id"]
        assert post.is_repost and post.origin_post_id == origin_id
        assert by_id[origin_id].account_id == str(mblog["retweeted_status"]["user"]["id"])


def test_counts_written_as_strings_become_integers() -> None:
    posts = {
        p.post_id: p for p in parse_timeline(load("timeline_5001000001_p1.json"), FETCHED).posts
    }
    assert posts["5210001540807011"].reposts == 1_000_000  # "100万+"
    assert isinstance(posts["5210001540807011"].likes, int)


def test_a_broken_card_is_rejected_and_the_rest_kept() -> None:
    payload = load("timeline_5001000002_p3.json")
    broken = copy.deepcopy(payload)
    first = next(c for c in broken["data"]["cards"] if c.get("card_type") == 9)
    del first["mblog"]["created_at"]
    page = parse_timeline(broken, FETCHED)
    assert len(page.rejects) == 1 and "created_at" in page.rejects[0].reason
    assert page.rejects[0].payload == first
    assert len(page.posts) == len(parse_timeline(payload, FETCHED).posts) - 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "５２１０００２８２９６００１８６"}, "the post's id is"),  # full-width digits
        ({"id": 12.5}, "the post's id is 12.5"),
        ({"id": True}, "the post's id is True"),
    ],
)
def test_an_id_that_is_no_number_rejects_its_card_only(change: dict, reason: str) -> None:
    payload = load("timeline_5001000002_p3.json")
    broken = copy.deepcopy(payload)
    card = next(c for c in broken["data"]["cards"] if c.get("card_type") == 9)
    card["mblog"].update(change)
    page = parse_timeline(broken, FETCHED)
    assert [r.reason for r in page.rejects if reason in r.reason], page.rejects
    assert len(page.posts) == len(parse_timeline(payload, FETCHED).posts) - 1


def test_a_null_user_id_is_no_account_named_none() -> None:
    profile = load("profile_5001000001.json")
    profile["data"]["userInfo"]["id"] = None
    with pytest.raises(PayloadError, match="the user's id is None, not a numeric id"):
        parse_profile(profile, FETCHED)


def test_a_whole_number_id_read_as_a_float_is_the_same_post() -> None:
    payload = load("timeline_5001000002_p3.json")
    card = next(c for c in payload["data"]["cards"] if c.get("card_type") == 9)
    post_id = card["mblog"]["id"]
    card["mblog"]["id"] = float(post_id)  # a JSON writer that wrote 5.210002829600186e15
    assert post_id in {p.post_id for p in parse_timeline(payload, FETCHED).posts}


def test_end_of_timeline_is_not_an_error_but_other_ok0_is() -> None:
    assert parse_timeline(load("timeline_end.json"), FETCHED).ended
    with pytest.raises(PayloadError, match="请求过于频繁"):
        parse_timeline({"ok": 0, "msg": "请求过于频繁"}, FETCHED)
    with pytest.raises(PayloadError):
        parse_timeline(["not", "an", "object"], FETCHED)  # type: ignore[arg-type]


def test_a_pinned_repost_without_text_still_parses() -> None:
    mblog = {
        "id": "1", "created_at": "Tue Sep 14 21:18:12 +0800 2021", "text": "", "isTop": 1,
        "user": {"id": 9}, "retweeted_status": {"id": "2", "created_at": "刚刚", "text": "原文",
                                                "user": {"id": 8}},
    }  # fmt: skip
    repost, origin = posts_from_mblog(mblog, FETCHED)
    assert repost.is_pinned and repost.is_repost and repost.media_type == "text"
    assert (origin.post_id, origin.account_id, origin.text) == ("2", "8", "原文")


def test_long_text_replaces_the_stub_and_adds_its_topics() -> None:
    post_id = "5210003412818032"
    page = parse_timeline(load("timeline_5001000001_p3.json"), FETCHED)
    post = next(p for p in page.posts if p.post_id == post_id)
    assert post.is_long_text and "全文" in post.text
    full = parse_long_text(load(f"extend_{post_id}.json"))
    post = with_long_text(post, full)
    assert post.text == full and "全文" not in full
    assert set(topics_in(full)) <= set(post.topics)
    with pytest.raises(PayloadError):
        parse_long_text({"ok": 1, "data": {"ok": 1}})


PLAIN_TEXTS = [
    "微博 weibo.com",
    "  iPhone 15 Pro Max  ",
    "发布于 上海\n第二行\t制表",
    "零宽\u200b空格\u200b",
    "控制\x07字符\x1f",
    "non-breaking\u00a0space and “quotes” [心]",
    "#话题# @某人 转发抽奖",
]


@pytest.mark.parametrize("text", PLAIN_TEXTS)
def test_plain_text_skips_the_html_parser_with_the_same_result(text: str) -> None:
    assert html_to_text(text) == markup_to_text(text)


def test_text_with_markup_still_goes_through_the_html_parser() -> None:
    html = 'a&amp;b<br/>c<img alt="[笑]" src="x.png">d\r\ne'
    assert html_to_text(html) == markup_to_text(html) == "a&b\nc[笑]d\ne"


@pytest.mark.parametrize(
    "text",
    [
        "Tue Sep 14 21:18:12 +0800 2021",
        "Sun Jan 01 00:00:00 -0530 2023",
        "Fri Feb 29 23:59:59 +0000 2024",
    ],
)
def test_the_full_time_form_reads_as_strptime_reads_it(text: str) -> None:
    expected = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").isoformat()
    assert parse_weibo_time(text, FETCHED) == expected


def test_an_impossible_full_time_is_refused() -> None:
    with pytest.raises(PayloadError, match="unrecognised Weibo time"):
        parse_weibo_time("Tue Feb 30 21:18:12 +0800 2021", FETCHED)
