"""Parsers for a Douyin creator on the web API: the profile (/aweme/v1/web/user/profile/other/)
and the list of their posts (/aweme/v1/web/aweme/post/, paged by max_cursor). Pure functions:
a decoded JSON payload and the time it was fetched in, items out.

Accounts are keyed by sec_uid, the id the web API is asked with; the numeric uid and the
handle (unique_id, or short_id when unset) are kept in `extra`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from crawler.items import AccountItem, PostItem, RejectItem
from crawler.parsers.common import (
    Paging,
    PayloadError,
    count_of,
    inner,
    inner_list,
    mentions_in,
    read_or_reject,
    whole_of,
)
from crawler.parsers.douyin_common import PLATFORM, checked, epoch_time, first_url, id_time
from smcat.units import DERIVED, SECOND, parse_count

# 2: a time derived from the id, forward_count, millisecond times (#19)
PARSER_VERSION = "douyin_user/2"
IMAGE_POST = 68  # aweme_type of an image post (图文); videos are 0, 4, 51, 55, 61 and others
_GENDER: dict[object, str] = {1: "m", 2: "f"}  # keyed by what the answer holds
_ACCOUNT_EXTRA = (
    "uid", "unique_id", "short_id", "ip_location", "favoriting_count", "mix_count",
    "is_star", "live_commerce", "with_commerce_entry", "enterprise_verify_reason",
)  # fmt: skip
_AWEME_EXTRA = ("aweme_type", "group_id", "preview_title")


@dataclass
class PostPage(Paging):
    """One page of a creator's post list: its posts, what could not be parsed, and the cursor
    of the next page (asked for only while `has_more`)."""

    posts: list[PostItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    has_more: bool = False
    max_cursor: int = 0


def parse_profile(payload: Any, fetched_at: datetime) -> AccountItem:
    """A creator's account and counts from a user/profile/other answer."""
    user = checked(payload, "profile").get("user")
    if not isinstance(user, Mapping) or not user.get("sec_uid"):
        raise PayloadError("profile answer has no user with a sec_uid")
    sec_uid = str(user["sec_uid"])
    verified_reason = user.get("custom_verify") or user.get("enterprise_verify_reason") or None
    place = [str(user[k]) for k in ("country", "province", "city") if user.get(k)]
    # short_id "0" is Douyin's "no numeric handle"
    extra = {k: user[k] for k in _ACCOUNT_EXTRA if user.get(k) not in (None, "", "0")}
    if star_atlas := inner(user, "commerce_user_info").get("star_atlas"):
        extra["star_atlas"] = star_atlas  # a 星图 (paid promotion) creator
    return AccountItem(
        platform=PLATFORM,
        account_id=sec_uid,
        observed_at=fetched_at.isoformat(),
        screen_name=user.get("nickname"),
        description=user.get("signature") or None,
        gender=_GENDER.get(gender) if isinstance(gender := user.get("gender"), int) else None,
        location=" ".join(place) or None,
        verified=bool(verified_reason),
        verified_type=whole_of(user.get("verification_type"), "verification_type"),
        verified_reason=verified_reason,
        url=f"https://www.douyin.com/user/{sec_uid}",
        avatar_url=first_url(user.get("avatar_larger") or user.get("avatar_thumb")),
        followers=count_of(user.get("follower_count"), "follower_count"),
        following=count_of(user.get("following_count"), "following_count"),
        posts=count_of(user.get("aweme_count"), "aweme_count"),
        total_likes=count_of(user.get("total_favorited"), "total_favorited"),
        extra=extra,
    )


def parse_post_list(payload: Any, fetched_at: datetime) -> PostPage:
    """A page of a creator's posts from an aweme/post answer; an aweme that cannot be read
    becomes a reject, and the rest of the page is kept."""
    data = checked(payload, "post list")
    awemes = data.get("aweme_list") or []  # null past the last page
    if not isinstance(awemes, list):
        raise PayloadError(f"post list's aweme_list is a {type(awemes).__name__}, not a list")
    page = PostPage()
    page.max_cursor = page.read_cursor(data.get("max_cursor"), "max_cursor")
    page.has_more = bool(data.get("has_more")) and page.cursor_problem is None
    read = partial(post_from_aweme, fetched_at=fetched_at)
    for aweme in awemes:
        if (post := read_or_reject(read, aweme, "douyin_aweme", page.rejects)) is not None:
            page.posts.append(post)
    return page


def post_from_aweme(aweme: Any, fetched_at: datetime) -> PostItem:
    """A post and its counts from an aweme object (a post list's entry, or a detail)."""
    if not isinstance(aweme, Mapping):
        raise PayloadError(f"an aweme is {aweme!r}")
    aweme_id = str(aweme["aweme_id"])
    created_at, precision = epoch_time(aweme.get("create_time")), SECOND
    if created_at is None:
        # the 2020 web answers carry no create_time: the id holds the upload second
        created_at, precision = id_time(aweme_id), DERIVED
    if created_at is None:
        raise PayloadError(f"aweme {aweme_id} has no create_time, and its id gives no time")
    stats = inner(aweme, "statistics")
    images = aweme.get("images") or []
    is_image = aweme.get("aweme_type") == IMAGE_POST or bool(images)
    duration_ms = aweme.get("duration") or inner(aweme, "video").get("duration")
    text = aweme.get("desc") or ""
    extra = {k: aweme[k] for k in _AWEME_EXTRA if aweme.get(k) not in (None, "")}
    if tags := [t["tag_name"] for t in inner_list(aweme, "video_tag") if t.get("tag_name")]:
        extra["video_tags"] = tags  # Douyin's own content categories, broadest first
    if music := inner(aweme, "music").get("title"):
        extra["music"] = music
    if admired := parse_count(stats.get("admire_count")):
        extra["admire_count"] = admired
    if (
        is_image
        and isinstance(images, list)
        and (urls := [u for i in images if (u := first_url(i))])
    ):
        extra["pictures"] = urls  # the review screen shows them when a coder asks
    return PostItem(
        platform=PLATFORM,
        post_id=aweme_id,
        created_at=created_at,
        created_at_precision=precision,
        observed_at=fetched_at.isoformat(),
        account_id=inner(aweme, "author").get("sec_uid"),
        text=text,
        media_type="image" if is_image else "video",
        pic_count=len(images) if is_image else None,
        video_seconds=None if is_image else _seconds(duration_ms),
        region=aweme.get("ip_label") or None,
        url=f"https://www.douyin.com/{'note' if is_image else 'video'}/{aweme_id}",
        is_pinned=bool(aweme.get("is_top")),
        likes=parse_count(stats.get("digg_count")),
        comments=parse_count(stats.get("comment_count")),
        # 转发 within Douyin, to the poster's followers (the app and 2020 answers tell it; the
        # web's no longer does): a repost, apart from share_count's sharing out of Douyin
        reposts=parse_count(stats.get("forward_count")),
        shares=parse_count(stats.get("share_count")),
        collects=parse_count(stats.get("collect_count")),
        # the web API answers 0 for every post it does not tell the plays of
        plays=parse_count(stats.get("play_count")) or None,
        topics=hashtags(aweme),
        mentions=mentions_in(text),
        extra=extra,
    )


def _seconds(milliseconds: object) -> float | None:
    """A video's length from its milliseconds; None where it is not told as a number."""
    if isinstance(milliseconds, int | float) and not isinstance(milliseconds, bool):
        return milliseconds / 1000 if milliseconds > 0 else None
    return None


def hashtags(aweme: Mapping[str, Any]) -> list[str]:
    """The #hashtags of an aweme, from its text_extra, in order and without repeats."""
    names = (
        str(entry["hashtag_name"]).strip()
        for entry in inner_list(aweme, "text_extra")
        if entry.get("hashtag_name")  # @mentions in text_extra carry a user id instead
    )
    return list(dict.fromkeys(n for n in names if n))
