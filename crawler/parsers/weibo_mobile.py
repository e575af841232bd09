"""Parsers for Weibo's mobile JSON API (m.weibo.cn): profile, user timeline, long text.

Pure functions: a decoded JSON payload and the time it was fetched in, items out.
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
    check_not_blocked,
    html_to_text,
    optional_count,
    read_or_reject,
)
from crawler.parsers.weibo_posts import account_from_user, posts_from_mblog

# 2: deleted originals, own media type, video plays, per-card rejects (#19)
PARSER_VERSION = "weibo_mobile/2"
END_OF_TIMELINE = "这里还没有内容"  # what ok=0 says past the last page, or for an empty account
_POST_CARD = 9


@dataclass
class TimelinePage(Paging):
    """One page of a user timeline: its posts (reposted originals included), what could not
    be parsed, and how to ask for the next page."""

    posts: list[PostItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    total: int | None = None
    next_page: int | None = None
    since_id: str | None = None
    ended: bool = False


def _data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    check_not_blocked(payload)
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
    cards = data.get("cards") or []
    if not isinstance(cards, list):
        raise PayloadError(f"timeline cards are a {type(cards).__name__}, not a list")
    info = data.get("cardlistInfo")
    info = info if isinstance(info, Mapping) else {}
    page = TimelinePage(total=optional_count(info.get("total")))
    page.next_page = page.read_cursor(info.get("page"), "page") or None
    page.since_id = page.read_token(info.get("since_id"), "since_id")
    read = partial(_card_posts, fetched_at=fetched_at)
    for card in cards:
        page.posts.extend(read_or_reject(read, card, "weibo_mblog", page.rejects) or ())
    page.ended = (not page.posts and not page.rejects) or page.cursor_problem is not None
    return page


def _card_posts(card: Any, fetched_at: datetime) -> list[PostItem]:
    """The posts of a timeline card; none for a card that is not a post's (a title, a
    follow suggestion)."""
    if not isinstance(card, Mapping):
        raise PayloadError(f"a timeline card is {card!r}")
    if card.get("card_type") != _POST_CARD or not isinstance(card.get("mblog"), Mapping):
        return []
    return posts_from_mblog(card["mblog"], fetched_at)


def parse_long_text(payload: Mapping[str, Any]) -> str:
    """The full text of a long post from statuses/extend, as plain text."""
    content = _data(payload).get("longTextContent")
    if not isinstance(content, str) or not content:
        raise PayloadError("extend response has no longTextContent")
    return html_to_text(content)
