"""The Douyin parsers on real public recordings they were not built on, read in place as
tests/test_real_recordings.py reads Weibo's; expected values come from the raw JSON."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.parsers.douyin_live import room_from_object
from crawler.parsers.douyin_user import parse_post_list, parse_profile, post_from_aweme
from tests.conftest import needs_samples, read_sample

FETCHED = datetime(2023, 3, 18, 21, 10, tzinfo=timezone(timedelta(hours=8)))
pytestmark = needs_samples("douyin")


def sample(name: str) -> dict:
    return read_sample("douyin", name)


def test_real_profile() -> None:
    payload = sample("web_user_profile_other__2023-03.json")
    user = payload["user"]
    account = parse_profile(payload, FETCHED)
    assert (account.platform, account.account_id) == ("douyin", user["sec_uid"])
    assert account.screen_name == user["nickname"]
    assert account.description == user["signature"]
    assert (account.followers, account.following, account.posts, account.total_likes) == (
        user["follower_count"],
        user["following_count"],
        user["aweme_count"],
        user["total_favorited"],
    )
    assert account.extra["uid"] == user["uid"] and account.extra["unique_id"] == user["unique_id"]
    assert account.url.endswith(user["sec_uid"])
    assert account.avatar_url in user["avatar_larger"]["url_list"]


def test_real_post_list() -> None:
    payload = sample("web_aweme_post__2023-03.json")
    page = parse_post_list(payload, FETCHED)
    assert not page.rejects
    assert (page.has_more, page.max_cursor) == (payload["has_more"] == 1, payload["max_cursor"])
    assert len(page.posts) == len(payload["aweme_list"])
    for post, aweme in zip(page.posts, payload["aweme_list"], strict=True):
        stats = aweme["statistics"]
        assert post.post_id == aweme["aweme_id"]
        assert datetime.fromisoformat(post.created_at).timestamp() == aweme["create_time"]
        assert post.text == aweme["desc"]
        assert post.account_id == aweme["author"]["sec_uid"]
        assert (post.likes, post.comments, post.shares, post.collects) == (
            stats["digg_count"],
            stats["comment_count"],
            stats["share_count"],
            stats["collect_count"],
        )
        assert post.plays == (stats["play_count"] or None)  # 0 on the web means not told
        assert post.is_pinned == bool(aweme["is_top"])
        assert (post.media_type, post.video_seconds) == ("video", aweme["duration"] / 1000)
        hashtags = [t["hashtag_name"] for t in aweme["text_extra"] if t.get("hashtag_name")]
        assert post.topics == hashtags


def test_a_real_aweme_without_its_create_time_is_dated_by_its_id() -> None:
    """The id's upper 32 bits are the upload second: 15 s before create_time in this
    recording (the issue counted 16 of 18 real posts within 30 s)."""
    for aweme in sample("web_aweme_post__2023-03.json")["aweme_list"]:
        post = post_from_aweme({k: v for k, v in aweme.items() if k != "create_time"}, FETCHED)
        assert post.created_at_precision == "derived"
        gap = datetime.fromisoformat(post.created_at).timestamp() - aweme["create_time"]
        assert abs(gap) <= 30


def test_real_live_room_object() -> None:
    """The room object of the app's room info (the recording's envelope is a paid API's)."""
    room = sample("app_webcast_room_info__titodata_2020.json")["data"]["data"]
    item = room_from_object(room, FETCHED)
    assert item.room_id == room["id_str"]
    assert item.status == "ended" and room["status"] == 4
    assert item.title == room["title"]
    assert item.account_id == room["owner"]["sec_uid"]
    assert datetime.fromisoformat(item.started_at).timestamp() == room["create_time"]
    assert (item.viewers_now, item.viewers_total, item.likes) == (
        room["user_count"],
        room["stats"]["total_user"],
        room["like_count"],
    )
    assert item.extra["owner_followers"] == room["owner"]["follow_info"]["follower_count"]
