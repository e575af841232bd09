"""The Douyin parsers on our own fictional fixtures and on the error envelopes Douyin sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.parsers.common import CHINA, PayloadError
from crawler.parsers.douyin_common import DouyinBlocked, checked
from crawler.parsers.douyin_live import parse_enter
from crawler.parsers.douyin_user import parse_post_list, parse_profile, post_from_aweme
from tests.conftest import FIXTURES

FETCHED = datetime(2025, 11, 3, 4, 0, tzinfo=UTC)
LANKOU = "MS4wLjABAAAAfictional_LANKOU_beauty_0001"
XIAOYU = "MS4wLjABAAAAfictional_XIAOYU_fashion_002"
PAGE_2020 = "user/posts_2020_no_create_time.json"  # iesdouyin's shape: no create_time


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / "douyin" / name).read_text(encoding="utf-8"))


def test_profile_keys_the_account_by_sec_uid_and_keeps_the_other_ids():
    account = parse_profile(fixture("user/profile_xiaoyu.json"), FETCHED)
    assert account.account_id.startswith("MS4wLjABAAAA")
    assert (account.followers, account.posts, account.total_likes) == (214171, 40, 5123456)
    assert account.extra["uid"] == "91000000000002"
    assert account.extra["short_id"] == "830360786" and "unique_id" not in account.extra
    assert (account.gender, account.location, account.verified) == ("f", "中国 浙江 杭州", False)
    lankou = parse_profile(fixture("user/profile_lankou.json"), FETCHED)
    assert (lankou.verified, lankou.verified_reason) == (True, "澜蔻护肤官方账号")
    assert "short_id" not in lankou.extra  # "0" means none
    assert lankou.extra["star_atlas"] == 1


def test_post_list_page_reads_counts_media_topics_and_paging():
    page = parse_post_list(fixture("user/posts_lankou_p1.json"), FETCHED)
    assert (page.has_more, page.max_cursor, page.rejects) == (True, 1761811200000, [])
    pinned, sale, note = page.posts
    assert pinned.is_pinned and not sale.is_pinned
    assert pinned.created_at == "2024-09-01T12:00:00+08:00"
    assert pinned.topics == ["澜蔻小蓝瓶", "敏感肌护肤"] and pinned.extra["admire_count"] == 36
    assert sale.topics == ["双十一", "澜蔻小蓝瓶"] and sale.mentions == ["澜蔻直播间"]
    assert (sale.media_type, sale.video_seconds, sale.pic_count) == ("video", 15.2, None)
    assert (note.media_type, note.pic_count, note.video_seconds) == ("image", 4, None)
    assert note.url == "https://www.douyin.com/note/7430000000000000103"
    # an image post's pictures, for the review screen: the first address of each image
    images = fixture("user/posts_lankou_p1.json")["aweme_list"][2]["images"]
    assert note.extra["pictures"] == [image["url_list"][0] for image in images]
    assert "pictures" not in sale.extra
    assert (sale.likes, sale.comments, sale.shares, sale.collects) == (23456, 1890, 902, 3310)
    assert sale.plays is None and sale.region == "广东"
    assert sale.account_id == LANKOU and sale.extra["video_tags"] == ["美妆", "护肤"]
    played = parse_post_list(fixture("user/posts_lankou_p2.json"), FETCHED).posts[0]
    assert played.plays == 385000


def test_an_aweme_whose_time_is_no_epoch_time_is_rejected_and_the_page_kept():
    page = parse_post_list(fixture("user/posts_bad_aweme.json"), FETCHED)
    assert len(page.posts) == 2 and len(page.rejects) == 1
    assert "'2025-10-31 16:00:00' is not an epoch time" in page.rejects[0].reason
    assert page.rejects[0].payload["aweme_id"] == "7430000000000000202"


def test_a_2020_page_without_create_time_keeps_every_post_at_its_id_s_second():
    page = parse_post_list(fixture(PAGE_2020), FETCHED)
    assert page.rejects == [] and len(page.posts) == 3
    assert [post.created_at for post in page.posts] == [
        "2020-06-18T20:05:33+08:00",
        "2020-06-17T12:40:02+08:00",
        "2020-06-14T09:58:47+08:00",
    ]
    assert {post.created_at_precision for post in page.posts} == {"derived"}
    assert page.posts[0].account_id == XIAOYU and page.posts[0].topics == ["小鱼家", "夏日穿搭"]


@pytest.mark.parametrize("create_time", [None, 0, "", "0", "absent"])
def test_an_aweme_without_a_create_time_takes_it_from_its_id(create_time):
    aweme = fixture("user/posts_lankou_p1.json")["aweme_list"][1]
    if create_time == "absent":
        del aweme["create_time"]
    else:
        aweme["create_time"] = create_time
    post = post_from_aweme(aweme, FETCHED)
    assert (
        post.created_at == datetime.fromtimestamp(int(aweme["aweme_id"]) >> 32, CHINA).isoformat()
    )
    assert post.created_at_precision == "derived"


def test_a_post_s_own_create_time_is_kept_to_the_second():
    posts = parse_post_list(fixture("user/posts_lankou_p1.json"), FETCHED).posts
    assert {post.created_at_precision for post in posts} == {"second"}


def test_an_aweme_with_neither_a_time_nor_a_numeric_id_is_rejected():
    aweme = {**fixture(PAGE_2020)["aweme_list"][0], "aweme_id": "@fictional"}
    page = parse_post_list({"status_code": 0, "aweme_list": [aweme]}, FETCHED)
    assert page.posts == [] and "has no create_time, and its id gives no time" in (
        page.rejects[0].reason
    )


def test_forward_count_is_stored_as_reposts_where_the_answer_tells_it():
    page = parse_post_list(fixture(PAGE_2020), FETCHED)
    assert [(p.reposts, p.shares, p.collects) for p in page.posts] == [
        (3, 27, None),
        (0, 40, None),
        (1, 2, None),
    ]
    web = parse_post_list(fixture("user/posts_lankou_p1.json"), FETCHED).posts
    assert {post.reposts for post in web} == {None}  # the web answer tells none


def test_live_room_counts_come_from_display_strings():
    room = parse_enter(fixture("live/enter_live_1.json"), FETCHED)
    assert (room.room_id, room.status, room.account_id) == ("7431000000000000555", "live", LANKOU)
    assert (room.viewers_now, room.viewers_total, room.likes) == (12000, 351000, 86000)
    assert room.started_at == "2025-11-03T19:00:00+08:00" and room.extra["category"] == "美妆"
    ended = parse_enter(fixture("live/enter_ended.json"), FETCHED)
    assert (ended.status, ended.viewers_total) == ("ended", 460000)


def test_an_offline_room_without_a_room_object_is_still_observed():
    room = parse_enter(fixture("live/enter_offline.json"), FETCHED)
    assert (room.room_id, room.status, room.viewers_now) == ("7431000000000000555", "ended", None)


@pytest.mark.parametrize(
    "payload",
    [
        {"status_code": 2483, "status_msg": ""},
        {"status_code": 8, "status_msg": "请先登录"},
        {"status_code": 0, "aweme_list": [], "verify_ticket": "t"},
        {"status_code": 0, "extra": {"verify_ticket": "t"}},
    ],
)
def test_refusals_are_told_apart_and_name_the_fix(payload):
    with pytest.raises(DouyinBlocked, match=r"configure a signer .* or refresh the cookie"):
        checked(payload, "post list")


def test_other_errors_are_payload_errors_not_refusals():
    with pytest.raises(PayloadError, match="status_code 2096") as caught:
        checked({"status_code": 2096, "status_msg": "私密账号"}, "post list")
    assert not isinstance(caught.value, DouyinBlocked)
    with pytest.raises(PayloadError, match="JSON object"):
        checked([], "profile")


def test_a_2025_room_without_owner_takes_its_streamer_from_data_user():
    room = parse_enter(fixture("live/enter_2025_no_owner.json"), FETCHED)
    assert (room.room_id, room.status, room.account_id) == ("7431000000000000777", "live", XIAOYU)
    assert room.extra["owner_nickname"] == "小鱼家服饰"
    assert (room.viewers_now, room.viewers_total, room.likes) == (31000, 523000, 120000)


def test_a_visitor_stand_in_in_data_user_is_no_owner():
    payload = fixture("live/enter_2025_no_owner.json")
    payload["data"]["user"] = {"id_str": "0", "nickname": "用户0000", "sec_uid": ""}
    assert parse_enter(payload, FETCHED).account_id is None


def test_a_2022_room_level_user_count_str_is_the_viewers_now():
    room = parse_enter(fixture("live/enter_2022_user_count.json"), FETCHED)
    assert (room.account_id, room.viewers_now, room.viewers_total) == (XIAOYU, 400, 13000)
    assert room.extra["viewers_now_shown"] == "400+"  # at least 400: the raw text is kept
