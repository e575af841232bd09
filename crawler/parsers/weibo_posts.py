"""Weibo posts and accounts from the objects both of Weibo's APIs use: a post ("mblog", the
same shape in m.weibo.cn timelines and weibo.com /ajax lists) and a user. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from crawler.items import AccountItem, PostItem
from crawler.parsers.common import (
    PayloadError,
    count_of,
    flag_of,
    html_to_text,
    inner,
    inner_list,
    mentions_in,
    numeric_id,
    topics_in,
    weibo_time,
    whole_of,
    window_side,
)
from smcat.units import parse_count

PLATFORM = "weibo"
# Weibo's short post ids (mblogid/bid) are the numeric mid in base 62, 4 characters per 7 digits
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MEDIA_BY_PAGE_TYPE = {"video": "video", "article": "article", "live": "live"}
# a play count as Weibo shows it (87万次播放, 53.2万次观看) or as a bare number: the count
_SHOWN_PLAYS = re.compile(r"\s*(\d[\d,]*(?:\.\d+)?[万亿]?\+?)\s*(?:次|$)")
_DELETED = "删除"  # in the notice of an original its author (or Weibo) deleted


def mid_from_bid(bid: str) -> str:
    """The numeric id (mid) of a post from its short id: J5cVGuUNq -> 4512413447368168."""
    if not bid or any(ch not in _BASE62 for ch in bid):
        raise ValueError(f"not a Weibo short id: {bid!r}")
    # groups from the right; every group but the leftmost stands for exactly 7 digits
    groups = [bid[max(0, end - 4) : end] for end in range(len(bid), 0, -4)]
    digits = [str(sum(_BASE62.index(ch) * 62**i for i, ch in enumerate(reversed(g))))
              for g in groups]  # fmt: skip
    return digits[-1] + "".join(d.zfill(7) for d in reversed(digits[:-1]))


def bid_from_mid(mid: str) -> str:
    """The short id of a post from its numeric id: 4512413447368168 -> J5cVGuUNq."""
    if not mid.isdigit():
        raise ValueError(f"not a numeric Weibo id: {mid!r}")
    groups = [mid[max(0, end - 7) : end] for end in range(len(mid), 0, -7)]
    encoded = []
    for i, group in enumerate(groups):
        number, chars = int(group), ""
        while number:
            number, rest = divmod(number, 62)
            chars = _BASE62[rest] + chars
        last = i == len(groups) - 1
        encoded.append(chars if last else chars.rjust(4, "0"))
    return "".join(reversed(encoded))


def account_from_user(user: Mapping[str, Any], fetched_at: datetime) -> AccountItem:
    """An account from a Weibo user object (a profile's userInfo or a post's user)."""
    uid = numeric_id(user.get("id"), "the user's id")
    return AccountItem(
        platform=PLATFORM,
        account_id=uid,
        observed_at=fetched_at.isoformat(),
        screen_name=user.get("screen_name"),
        description=user.get("description"),
        gender=user.get("gender"),
        verified=flag_of(user.get("verified"), "verified"),
        verified_type=whole_of(user.get("verified_type"), "verified_type"),
        verified_reason=user.get("verified_reason"),
        url=f"https://weibo.com/u/{uid}",
        avatar_url=user.get("avatar_hd") or user.get("profile_image_url"),
        followers=count_of(user.get("followers_count"), "followers_count"),
        following=count_of(user.get("follow_count"), "follow_count"),
        posts=count_of(user.get("statuses_count"), "statuses_count"),
        extra={k: user[k] for k in ("mbrank", "mbtype", "urank") if k in user},
    )


def posts_from_mblog(mblog: Any, fetched_at: datetime) -> list[PostItem]:
    """The post in an mblog, followed by the post it reposts (if any), each as its own item.

    An original Weibo no longer shows (deleted, hidden by its author, its account closed) comes
    as a stub with Weibo's notice for text and no time or author: the repost is kept with the
    original's id and the notice in `extra`, and no row is made for the original."""
    if not isinstance(mblog, Mapping):
        raise PayloadError(f"a post is {mblog!r}, not an object")
    origin = mblog.get("retweeted_status")
    if not isinstance(origin, Mapping) or "id" not in origin:
        return [_post(mblog, fetched_at)]
    mblog, origin = _media_to_the_original(mblog, origin)
    post = _post(mblog, fetched_at)
    post.is_repost = True
    post.origin_post_id = numeric_id(origin.get("id"), "the reposted post's id")
    if _unavailable(origin):
        post.extra = {**post.extra, **_unavailable_origin(origin)}
        return [post]
    embedded = _post(origin, fetched_at)
    embedded.via_repost = True
    embedded.is_pinned = None  # an embedded copy does not say whether its author pinned it
    return [post, embedded]


def _unavailable(origin: Mapping[str, Any]) -> bool:
    """Whether a reposted original is Weibo's stub for a post it no longer shows."""
    return _deleted(origin) or not origin.get("created_at") or not origin.get("user")


def _deleted(mblog: Mapping[str, Any]) -> bool:
    """Whether a post says it is deleted: "deleted": "1" (or 1, true) in Weibo's stubs."""
    return str(mblog.get("deleted")).lower() in ("1", "true")


def _unavailable_origin(origin: Mapping[str, Any]) -> dict[str, Any]:
    """What a repost keeps of an original Weibo no longer shows: whether it was deleted, and
    Weibo's notice in its own words (抱歉，此微博已被作者删除。, 根据博主设置，此内容无法访问)."""
    notice = _plain_text(origin)
    deleted = _deleted(origin) or _DELETED in notice
    return {
        "origin_state": "deleted" if deleted else "unavailable",
        "origin_notice": notice or None,
    }


def _plain_text(mblog: Mapping[str, Any]) -> str:
    """A post's text as plain text: text_raw (weibo.com) or raw_text where the API gives it, else
    the HTML text."""
    plain = mblog.get("text_raw") or mblog.get("raw_text")
    if plain and not isinstance(plain, str):
        raise PayloadError(f"post {mblog.get('id')}'s text is {plain!r}")
    return plain.replace("\u200b", "").strip() if plain else html_to_text(mblog.get("text"))


def _post(mblog: Mapping[str, Any], fetched_at: datetime) -> PostItem:
    post_id = numeric_id(mblog.get("id"), "the post's id")
    user = inner(mblog, "user")  # a user as a text: the post is rejected, with the reason
    text = _plain_text(mblog)
    page_info = inner(mblog, "page_info")
    pic_count = parse_count(mblog.get("pic_num")) or len(mblog.get("pics") or ())
    # m.weibo.cn names the kind in page_info.type, weibo.com in page_info.object_type
    kinds = (page_info.get("type"), page_info.get("object_type"))
    media_type = next(
        (_MEDIA_BY_PAGE_TYPE[k] for k in kinds if isinstance(k, str) and k in _MEDIA_BY_PAGE_TYPE),
        None,
    )
    if media_type is None:
        media_type = "picture" if pic_count else "text"
    media_info = inner(page_info, "media_info")
    duration = media_info.get("duration")
    topics = [t["topic_title"] for t in inner_list(mblog, "topic_struct") if t.get("topic_title")]
    source = mblog.get("source")
    account_id = numeric_id(user["id"], "the author's id") if user.get("id") is not None else None
    bid = mblog.get("bid") or mblog.get("mblogid")
    created = weibo_time(str(mblog["created_at"]), fetched_at)
    return PostItem(
        platform=PLATFORM,
        post_id=post_id,
        created_at=created.at,
        created_at_precision=created.precision,
        observed_at=fetched_at.isoformat(),
        account_id=account_id,
        text=text,
        media_type=media_type,
        pic_count=pic_count,
        video_seconds=float(duration) if media_type == "video" and duration else None,
        source=html_to_text(source) or None if isinstance(source, str) else None,
        region=_region(mblog.get("region_name")),
        url=f"https://weibo.com/{account_id}/{bid or post_id}" if account_id else None,
        is_long_text=bool(mblog.get("isLongText")),
        is_pinned=_is_pinned(mblog),
        likes=parse_count(mblog.get("attitudes_count")),
        comments=parse_count(mblog.get("comments_count")),
        reposts=parse_count(mblog.get("reposts_count")),
        plays=_plays(page_info, media_info) if media_type == "video" else None,
        topics=list(dict.fromkeys([*topics, *topics_in(text)])),
        mentions=mentions_in(text),
        extra=_extra(bid, mblog.get("edit_count"), _picture_urls(mblog)),
    )


def _extra(bid: Any, edit_count: Any, pictures: list[str]) -> dict[str, Any]:
    """A post's fields beyond the columns: its short id and edits, and its pictures' thumbnail
    addresses (the review screen shows them when a coder asks)."""
    extra: dict[str, Any] = {"bid": bid, "edit_count": edit_count} if bid else {}
    if pictures:
        extra["pictures"] = pictures
    return extra


def _picture_urls(mblog: Mapping[str, Any]) -> list[str]:
    """The thumbnail addresses of a post's pictures, in order: m.weibo.cn lists them in
    `pics` ({url, large}), weibo.com in `pic_infos` by the ids `pic_ids` orders. A shape other
    than these gives none: pictures are a help to coders, not a reason to lose the post."""
    pics, infos = mblog.get("pics"), mblog.get("pic_infos")
    if isinstance(pics, list):
        found = [pic.get("url") for pic in pics if isinstance(pic, Mapping)]
    elif isinstance(infos, Mapping):
        ids = mblog.get("pic_ids")
        order = ids if isinstance(ids, list) else list(infos)
        sizes = [infos.get(pid) for pid in order if isinstance(pid, str)]
        thumbnails = [size.get("thumbnail") for size in sizes if isinstance(size, Mapping)]
        found = [thumb.get("url") for thumb in thumbnails if isinstance(thumb, Mapping)]
    else:
        return []
    return [
        url for url in found if isinstance(url, str) and url.startswith(("https://", "http://"))
    ]


def _media_to_the_original(
    mblog: Mapping[str, Any], origin: Mapping[str, Any]
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """A repost cannot carry a video or an article of its own: a page_info on it is the
    original's (weibo.com copies the original's card onto the repost). The repost loses it;
    the original gets it when it has none of its own."""
    page_info = inner(mblog, "page_info")
    if not page_info:
        return mblog, origin
    repost = {k: v for k, v in mblog.items() if k != "page_info"}
    return repost, origin if origin.get("page_info") else {**origin, "page_info": page_info}


def _plays(page_info: Mapping[str, Any], media_info: Mapping[str, Any]) -> int | None:
    """A video's play count: weibo.com gives media_info.online_users_number (532452) beside
    online_users ("53.2万次观看"), m.weibo.cn page_info.play_count ("87万次播放"). Wording
    that leads with no count is passed over: it is only how Weibo shows the number."""
    for value in (
        media_info.get("online_users_number"),
        media_info.get("play_count"),
        page_info.get("play_count"),
        media_info.get("online_users"),
    ):
        if isinstance(value, str):
            shown = _SHOWN_PLAYS.match(value)
            value = shown[1] if shown else None
        if (plays := parse_count(value)) is not None:
            return plays
    return None


def _is_pinned(mblog: Mapping[str, Any]) -> bool:
    title = mblog.get("title")  # {"text": "置顶"} on a pinned post; only ever a mark
    marked = isinstance(title, Mapping) and title.get("text") == "置顶"
    return mblog.get("isTop") == 1 or mblog.get("mblogtype") == 2 or marked


def _region(region_name: object) -> str | None:
    if not isinstance(region_name, str) or not region_name.strip():
        return None
    return region_name.replace("发布于", "").strip() or None


def window_sides(
    posts: Iterable[PostItem], start: datetime | None, end: datetime | None
) -> Iterator[tuple[PostItem, int]]:
    """Each post of a page with its side of the window (-1 before, 1 after, 0 inside).
    A reposted original takes the side of the repost it came with, whatever its own date: it
    is kept when its repost is."""
    side = 0
    for post in posts:
        if not post.via_repost:
            side = window_side(post.created_at, start, end)
        yield post, side


def with_long_text(post: PostItem, full_text: str) -> PostItem:
    """The post with its full text, and the topics and mentions the full text adds."""
    post.text = full_text
    post.topics = list(dict.fromkeys([*post.topics, *topics_in(full_text)]))
    post.mentions = list(dict.fromkeys([*post.mentions, *mentions_in(full_text)]))
    return post
