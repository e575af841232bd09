"""What spiders yield: plain dataclasses whose field names are the store API's row keys.

Parsers build these without importing Scrapy; the store pipeline hands them to `smcat.store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AccountItem:
    """An account's profile and its counts as seen at `observed_at`."""

    platform: str
    account_id: str
    observed_at: str
    screen_name: str | None = None
    description: str | None = None
    gender: str | None = None
    location: str | None = None
    verified: bool | None = None
    verified_type: int | None = None
    verified_reason: str | None = None
    url: str | None = None
    avatar_url: str | None = None
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    total_likes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PostItem:
    """A post and its engagement counts as seen at `observed_at`."""

    platform: str
    post_id: str
    created_at: str
    observed_at: str
    account_id: str | None = None
    text: str | None = None
    is_repost: bool = False
    origin_post_id: str | None = None
    media_type: str | None = None
    pic_count: int | None = None
    video_seconds: float | None = None
    source: str | None = None
    region: str | None = None
    url: str | None = None
    is_long_text: bool = False
    is_pinned: bool | None = False
    likes: int | None = None
    comments: int | None = None
    reposts: int | None = None
    shares: int | None = None
    collects: int | None = None
    plays: int | None = None
    topics: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    via_repost: bool = False
    """Seen only embedded in another post that reposts it: its own card is more complete."""
    created_at_precision: str | None = None
    """How precisely `created_at` is known: smcat.units' SECOND, MINUTE, HOUR, DAY (a date-only
    time, stored as its midnight) or DERIVED (from the post's id); None where not said."""


@dataclass
class CommentItem:
    """A comment (or a reply to one) and its counts as seen at `observed_at`."""

    platform: str
    comment_id: str
    post_id: str
    observed_at: str
    parent_id: str | None = None
    root_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    created_at: str | None = None
    text: str | None = None
    likes: int | None = None
    replies: int | None = None
    region: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class HotSearchItem:
    """One entry of a hot-search list as it stood at `observed_at`."""

    platform: str
    observed_at: str
    rank: int
    word: str
    heat: int | None = None
    category: str | None = None
    label: str | None = None
    is_ad: bool = False


@dataclass
class LiveRoomItem:
    """A live room's state and its audience counts as seen at `observed_at`."""

    platform: str
    room_id: str
    observed_at: str
    status: str
    account_id: str | None = None
    title: str | None = None
    started_at: str | None = None
    viewers_now: int | None = None
    viewers_total: int | None = None
    likes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checkpoint:
    """How far one part of a crawl got: written only once all rows before it are stored."""

    part: str
    value: int | str | dict[str, Any]


@dataclass
class RejectItem:
    """Something a parser could not turn into rows, kept with the reason and its payload (and
    the HTTP status of the response it came from, if any)."""

    kind: str
    reason: str
    payload: Any
    status: int | None = None

    @classmethod
    def of(cls, kind: str, error: Exception, payload: Any) -> RejectItem:
        """The reject of a payload whose reading raised `error`: the reason is its type and
        message."""
        return cls(kind, f"{type(error).__name__}: {error}", payload)


Item = AccountItem | PostItem | CommentItem | HotSearchItem | LiveRoomItem | Checkpoint | RejectItem
"""Whatever a spider yields to the store pipeline."""
