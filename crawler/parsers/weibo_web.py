"""Parsers for weibo.com's JSON API (/ajax, used with a signed-in cookie): profile/info,
statuses/mymblog (a user's posts) and statuses/longtext. Pure functions."""

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
    check_not_blocked,
    count_of,
    read_or_reject,
)
from crawler.parsers.weibo_posts import account_from_user, posts_from_mblog

# 2: deleted originals, own media type, video plays, per-card rejects (#19)
PARSER_VERSION = "weibo_web/2"


@dataclass
class PostList(Paging):
    """One page of statuses/mymblog: its posts (reposted originals included), what could not be
    parsed, and the since_id cursor Weibo gives for the next page ("" or absent at the end)."""

    posts: list[PostItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    since_id: str | None = None
    ended: bool = False


def _data(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    check_not_blocked(payload)
    if payload.get("ok") != 1:
        # weibo.com says ok=0 (or -100, with a login URL) when the cookie no longer works
        message = payload.get("msg") or payload.get("message") or "no message"
        raise PayloadError(
            f"ok={payload.get('ok')!r}: {message}: the Weibo cookie may have expired; "
            "refresh SMCAT_WEIBO_COOKIE (or the cookie file)"
        )
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise PayloadError("no data object in the response")
    return data


def parse_profile_info(payload: Any, fetched_at: datetime) -> AccountItem:
    """An account from ajax/profile/info (`data.user`)."""
    user = _data(payload).get("user")
    if not isinstance(user, Mapping) or "id" not in user:
        raise PayloadError("profile/info response has no user")
    account = account_from_user(user, fetched_at)
    if account.following is None:
        account.following = count_of(user.get("friends_count"), "friends_count")
    account.location = user.get("location") or None
    return account


def parse_mymblog(payload: Any, fetched_at: datetime) -> PostList:
    """A page of ajax/statuses/mymblog: `data.list` of posts and `data.since_id`."""
    data = _data(payload)
    items = data.get("list")
    if not isinstance(items, list):
        raise PayloadError("mymblog response has no list")
    page = PostList()
    page.since_id = page.read_token(data.get("since_id"), "since_id")
    read = partial(posts_from_mblog, fetched_at=fetched_at)
    for mblog in items:
        page.posts.extend(read_or_reject(read, mblog, "weibo_mblog", page.rejects) or ())
    page.ended = not items or page.cursor_problem is not None
    return page


def parse_web_long_text(payload: Any) -> str:
    """The full text of a long post from ajax/statuses/longtext (plain text)."""
    content = _data(payload).get("longTextContent")
    if not isinstance(content, str) or not content:
        raise PayloadError("longtext response has no longTextContent")
    return content.replace("\u200b", "").strip()
