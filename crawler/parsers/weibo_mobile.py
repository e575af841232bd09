"""Parsers for Weibo's mobile JSON API (m.weibo.cn): profile, user timeline, long text.

Pure functions: a decoded JSON payload and the time it was fetched in, items out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.items import AccountItem, PostItem, RejectItem
from crawler.parsers.common import (
    PayloadError,
    html_to_text,
    mentions_in,
    parse_weibo_time,
    topics_in,
)
from smcat.units import parse_count

PARSER_VERSION = "weibo_mobile/1"
PLATFORM = "weibo"
END_OF_TIMELINE = "这里还没有内容"  # what ok=0 says past the last page, or for an empty account
_POST_CARD = 9
_MEDIA_BY_PAGE_TYPE = {"video": "video", "article": "article", "live": "live"}


@dataclass
class TimelinePage:
    """One page of a user timeline: its posts (reposted originals included), what could not
    be parsed, and how to ask for the next page."""

    posts: list[PostItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    total: int | None = None
    next_page: int | None = None
    since_id: str | None = None
    ended: bool = False


def profile_containerid(uid: str) -> str:
    """The getIndex containerid of an account's profile."""
    return f"100505{uid}"


def timeline_containerid(uid: str) -> str:
    """The getIndex containerid of an account's posts."""
    return f"107603{uid}"


def _data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    if payload.get("ok") != 1:
        raise PayloadError(f"ok={payload.get('ok')!r}: {payload.get('msg') or 'no message'}")
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise PayloadError("no data object in the response")
    return data


def parse_profile(payload: Mapping[str, Any], fetched_at: datetime) -> AccountItem:
    """An account from a getIndex profile response (containerid 100505{uid})."""
    user = _data(payload).get("userInfo")
    if not isinstance(user, Mapping) or "id" not in user:
        raise PayloadError("profile response has no userInfo")
    return account_from_user(user, fetched_at)


def account_from_user(user: Mapping[str, Any], fetched_at: datetime) -> AccountItem:
    """An account from a Weibo user object (a profile's userInfo or a post's user)."""
    uid = str(user["id"])
    return AccountItem(
        platform=PLATFORM,
        account_id=uid,
        observed_at=fetched_at.isoformat(),
        screen_name=user.get("screen_name"),
        description=user.get("description"),
        gender=user.get("gender"),
        verified=user.get("verified"),
        verified_type=user.get("verified_type"),
        verified_reason=user.get("verified_reason"),
        url=f"https://weibo.com/u/{uid}",
        avatar_url=user.get("avatar_hd") or user.get("profile_image_url"),
        followers=parse_count(user.get("followers_count")),
        following=parse_count(user.get("follow_count")),
        posts=parse_count(user.get("statuses_count")),
        extra={k: user[k] for k in ("mbrank", "mbtype", "urank") if k in user},
    )


def parse_timeline(payload: Mapping[str, Any], fetched_at: datetime) -> TimelinePage:
    """A page of a user timeline (getIndex containerid 107603{uid}, paged by page or since_id).

    ok=0 with 这里还没有内容 is the end of the timeline, not an error.
    """
    if (
        isinstance(payload, Mapping)
        and payload.get("ok") == 0
        and payload.get("msg") == END_OF_TIMELINE
    ):
        return TimelinePage(ended=True)
    data = _data(payload)
    info = data.get("cardlistInfo") or {}
    page = TimelinePage(total=parse_count(info.get("total")))
    if info.get("page") is not None:
        page.next_page = int(info["page"])
    if info.get("since_id"):
        page.since_id = str(info["since_id"])
    cards = data.get("cards") or []
    for card in cards:
        if card.get("card_type") != _POST_CARD or not isinstance(card.get("mblog"), Mapping):
            continue
        try:
            page.posts.extend(posts_from_mblog(card["mblog"], fetched_at))
        except (PayloadError, KeyError, TypeError, ValueError) as error:
            page.rejects.append(RejectItem("weibo_mblog", f"{type(error).__name__}: {error}", card))
    page.ended = not page.posts and not page.rejects
    return page


def posts_from_mblog(mblog: Mapping[str, Any], fetched_at: datetime) -> list[PostItem]:
    """The post in an mblog, followed by the post it reposts (if any), each as its own item."""
    origin = mblog.get("retweeted_status")
    post = _post(mblog, fetched_at)
    if not isinstance(origin, Mapping) or "id" not in origin:
        return [post]
    post.is_repost = True
    post.origin_post_id = str(origin["id"])
    embedded = _post(origin, fetched_at)
    embedded.via_repost = True
    embedded.is_pinned = None  # an embedded copy does not say whether its author pinned it
    return [post, embedded]


def _post(mblog: Mapping[str, Any], fetched_at: datetime) -> PostItem:
    post_id = str(mblog["id"])
    user = mblog.get("user") or {}
    text = html_to_text(mblog.get("raw_text") or mblog.get("text"))
    page_info = mblog.get("page_info") or {}
    pic_count = parse_count(mblog.get("pic_num")) or len(mblog.get("pics") or ())
    media_type = _MEDIA_BY_PAGE_TYPE.get(page_info.get("type"))
    if media_type is None:
        media_type = "picture" if pic_count else "text"
    duration = (page_info.get("media_info") or {}).get("duration")
    topics = [t["topic_title"] for t in mblog.get("topic_struct") or () if t.get("topic_title")]
    account_id = str(user["id"]) if user.get("id") is not None else None
    bid = mblog.get("bid") or mblog.get("mblogid")
    return PostItem(
        platform=PLATFORM,
        post_id=post_id,
        created_at=parse_weibo_time(str(mblog["created_at"]), fetched_at),
        observed_at=fetched_at.isoformat(),
        account_id=account_id,
        text=text,
        media_type=media_type,
        pic_count=pic_count,
        video_seconds=float(duration) if media_type == "video" and duration else None,
        source=html_to_text(mblog.get("source")) or None,
        region=_region(mblog.get("region_name")),
        url=f"https://weibo.com/{account_id}/{bid or post_id}" if account_id else None,
        is_long_text=bool(mblog.get("isLongText")),
        is_pinned=_is_pinned(mblog),
        likes=parse_count(mblog.get("attitudes_count")),
        comments=parse_count(mblog.get("comments_count")),
        reposts=parse_count(mblog.get("reposts_count")),
        topics=list(dict.fromkeys([*topics, *topics_in(text)])),
        mentions=mentions_in(text),
        extra={"bid": bid, "edit_count": mblog.get("edit_count")} if bid else {},
    )


def _is_pinned(mblog: Mapping[str, Any]) -> bool:
    title = mblog.get("title") or {}
    return mblog.get("isTop") == 1 or mblog.get("mblogtype") == 2 or title.get("text") == "置顶"


def _region(region_name: object) -> str | None:
    if not isinstance(region_name, str) or not region_name.strip():
        return None
    return region_name.replace("发布于", "").strip() or None


def parse_long_text(payload: Mapping[str, Any]) -> str:
    """The full text of a long post from statuses/extend, as plain text."""
    content = _data(payload).get("longTextContent")
    if not isinstance(content, str) or not content:
        raise PayloadError("extend response has no longTextContent")
    return html_to_text(content)


def with_long_text(post: PostItem, full_text: str) -> PostItem:
    """The post with its full text, and the topics and mentions the full text adds."""
    post.text = full_text
    post.topics = list(dict.fromkeys([*post.topics, *topics_in(full_text)]))
    post.mentions = list(dict.fromkeys([*post.mentions, *mentions_in(full_text)]))
    return post
