"""Parsers for Weibo comments: m.weibo.cn's comments/hotflow (a post's comments) and
comments/hotFlowChild (the replies under one comment), and weibo.com's statuses/buildComments
(both levels). The entries are alike; the envelopes differ. Pure functions."""

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
    check_not_blocked,
    html_to_text,
    inner,
    numeric_id,
    parse_weibo_time,
    read_or_reject,
)
from smcat.units import parse_count

# 3: a comment's picture, per-comment rejects (#19)
PARSER_VERSION = "weibo_comments/3"
NO_COMMENTS = 0  # ok=0 with no message: the post has no (more) comments
_PICTURE_SIZES = ("woriginal", "original", "large", "bmiddle", "thumbnail")  # largest first


@dataclass
class CommentPage(Paging):
    """One page of comments (inline replies included) and the cursor to the next page:
    max_id 0 means there is none."""

    comments: list[CommentItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    max_id: int = 0
    max_id_type: int = 0
    ended: bool = False
    more_replies: list[str] = field(default_factory=list)  # comments with replies not inline


def parse_comment_page(payload: Any, post_id: str, fetched_at: datetime) -> CommentPage:
    """A hotflow page (`data.data` is the list) or a hotFlowChild or buildComments page (`data`
    is the list)."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    check_not_blocked(payload)
    if payload.get("ok") != 1:
        if payload.get("ok") == NO_COMMENTS and not payload.get("msg"):
            return CommentPage(ended=True)
        message = payload.get("msg") or "no message"
        raise PayloadError(f"ok={payload.get('ok')!r}: {message}")
    data = payload.get("data")
    envelope = data if isinstance(data, Mapping) else payload
    entries = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise PayloadError("comments response has no list of comments")
    page = CommentPage()
    page.max_id = page.read_cursor(envelope.get("max_id"), "max_id")
    page.max_id_type = page.read_cursor(envelope.get("max_id_type"), "max_id_type")
    read = partial(_comment, post_id=post_id, fetched_at=fetched_at)
    for entry in entries:
        top = read_or_reject(read, entry, "weibo_comment", page.rejects)
        if top is None:
            continue
        page.comments.append(top)
        inline = entry.get("comments")
        inline = inline if isinstance(inline, list) else []
        # one bad reply is rejected alone: its comment and the other replies are still good
        for one in inline:
            if (reply := read_or_reject(read, one, "weibo_comment", page.rejects)) is not None:
                page.comments.append(reply)
        if (top.replies or 0) > len(inline):
            page.more_replies.append(top.comment_id)
    page.ended = not entries or page.max_id == 0 or page.cursor_problem is not None
    return page


def _comment(entry: Any, post_id: str, fetched_at: datetime) -> CommentItem:
    if not isinstance(entry, Mapping):
        raise PayloadError(f"a comment is {entry!r}")
    comment_id = numeric_id(entry.get("id"), "the comment's id")
    root = str(entry.get("rootid") or comment_id)
    user = inner(entry, "user")
    source = entry.get("source")
    source = source if isinstance(source, str) else ""  # "来自上海": only the region is read
    return CommentItem(
        platform="weibo",
        comment_id=comment_id,
        post_id=post_id,
        observed_at=fetched_at.isoformat(),
        parent_id=root if root != comment_id else None,
        root_id=root,
        author_id=numeric_id(user["id"], "the author's id") if user.get("id") is not None else None,
        author_name=user.get("screen_name"),
        created_at=parse_weibo_time(str(entry["created_at"]), fetched_at),
        text=entry.get("text_raw") or html_to_text(entry.get("text")),
        likes=parse_count(entry.get("like_count", entry.get("like_counts"))),
        replies=parse_count(entry.get("total_number")),
        region=source.removeprefix("来自").strip() or None,
        extra=_extra(entry),
    )


def _extra(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The floor and short id, and the picture a comment carries: an image-only comment has
    empty text, and the picture is what it says (has_image stays where a pseudonymised crawl
    leaves the URL out)."""
    extra: dict[str, Any] = {"floor": entry.get("floor_number"), "bid": entry.get("bid")}
    if image := _image(entry):
        extra.update(has_image=True, image=image)
    return extra


def _image(entry: Mapping[str, Any]) -> str | None:
    """The URL of a comment's picture, in its largest size: m.weibo.cn's `pic` ({url of a
    thumbnail, large: {url}}), or weibo.com's `pic_infos` (sizes by picture id), on the comment
    or in its `url_struct` entry (查看图片)."""
    pic = entry.get("pic")
    if isinstance(pic, Mapping):
        return _url(pic.get("large")) or _url(pic)
    structs = entry.get("url_struct")
    for holder in [entry, *(structs if isinstance(structs, list) else ())]:
        infos = holder.get("pic_infos") if isinstance(holder, Mapping) else None
        for sizes in infos.values() if isinstance(infos, Mapping) else ():
            if isinstance(sizes, Mapping) and (url := _first_url(sizes)):
                return url
    return None


def _first_url(sizes: Mapping[str, Any]) -> str | None:
    return next(filter(None, (_url(sizes.get(size)) for size in _PICTURE_SIZES)), None)


def _url(picture: Any) -> str | None:
    url = picture.get("url") if isinstance(picture, Mapping) else None
    return url if isinstance(url, str) and url else None
