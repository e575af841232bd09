"""Parser for Douyin's comments on the web API: a post's comment list
(/aweme/v1/web/comment/list/) and the replies under one comment
(/aweme/v1/web/comment/list/reply/). Both are paged by `cursor` while `has_more`, and their
entries are alike. Pure functions.

Commenters are named by sec_uid, as creators are; the crawl may replace them by pseudonyms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from crawler.items import CommentItem, RejectItem
from crawler.parsers.common import (
    Paging,
    PayloadError,
    inner,
    optional_count,
    read_or_reject,
)
from crawler.parsers.douyin_common import PLATFORM, checked, epoch_time
from smcat.units import parse_count

# 2: per-comment rejects, an unreadable cursor ends paging (#19)
PARSER_VERSION = "douyin_comments/2"
_TOP_LEVEL = ("", "0", 0, None)  # reply_id of a comment on the post itself
_COMMENT_EXTRA = ("is_hot", "is_author_digged", "label_text", "stick_position")


@dataclass
class DouyinCommentPage(Paging):
    """One page of comments (with the replies shown under them), the cursor of the next page
    (asked for only while `has_more`), and the comments whose replies are not all shown."""

    comments: list[CommentItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    has_more: bool = False
    cursor: int = 0
    total: int | None = None
    more_replies: list[str] = field(default_factory=list)


def parse_comment_list(payload: Any, aweme_id: str, fetched_at: datetime) -> DouyinCommentPage:
    """A page of a post's comments, or of one comment's replies: an entry that cannot be read
    becomes a reject, and the rest of the page is kept."""
    data = checked(payload, "comments")
    entries = data.get("comments") or []  # null on a post without comments
    if not isinstance(entries, list):
        raise PayloadError("comments answer has no list of comments")
    page = DouyinCommentPage(total=optional_count(data.get("total")))
    page.cursor = page.read_cursor(data.get("cursor"), "cursor")
    page.has_more = bool(data.get("has_more")) and page.cursor_problem is None
    read = partial(comment_from_entry, aweme_id=aweme_id, fetched_at=fetched_at)
    for entry in entries:
        comment = read_or_reject(read, entry, "douyin_comment", page.rejects)
        if comment is None:
            continue
        page.comments.append(comment)
        shown = entry.get("reply_comment")
        shown = shown if isinstance(shown, list) else []
        for one in shown:
            if (reply := read_or_reject(read, one, "douyin_comment", page.rejects)) is not None:
                page.comments.append(reply)
        if comment.parent_id is None and (comment.replies or 0) > len(shown):
            page.more_replies.append(comment.comment_id)
    return page


def comment_from_entry(entry: Any, aweme_id: str, fetched_at: datetime) -> CommentItem:
    """A comment or reply from one entry of a comment list. A reply's root is the comment it
    is listed under (reply_id); its parent is the reply it answers, if any."""
    if not isinstance(entry, Mapping):
        raise PayloadError(f"a comment is {entry!r}")
    comment_id = str(entry["cid"])
    root = entry.get("reply_id")
    root = None if root in _TOP_LEVEL else str(root)
    answers = entry.get("reply_to_reply_id")
    parent = root if answers in _TOP_LEVEL else str(answers)
    user = inner(entry, "user")
    extra = {k: entry[k] for k in _COMMENT_EXTRA if entry.get(k) not in (None, "", 0, False)}
    return CommentItem(
        platform=PLATFORM,
        comment_id=comment_id,
        post_id=str(entry.get("aweme_id") or aweme_id),
        observed_at=fetched_at.isoformat(),
        parent_id=parent,
        root_id=root or comment_id,
        author_id=user.get("sec_uid") or _text(user.get("uid")),
        author_name=user.get("nickname"),
        created_at=epoch_time(entry.get("create_time")),
        text=entry.get("text") or "",
        likes=parse_count(entry.get("digg_count")),
        replies=parse_count(entry.get("reply_comment_total")),
        region=entry.get("ip_label") or None,
        extra=extra,
    )


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
