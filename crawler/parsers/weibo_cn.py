"""Parser for weibo.cn, Weibo's legacy WAP site: a post's comment page (/comment/{bid}?page=N).

Each comment is a `div.c` whose id is C_{comment id}: the commenter's link, the text in
`span.ctt`, 赞[n] in `span.cc`, and the time with the client or region in `span.ct`. The
commenter's uid is in the 举报 (report) link (fuid=). Page 1 first repeats the hot comments
([热门]), which come again in their place among the rest. The page count is in input[name=mp].
Pure functions; BeautifulSoup (on lxml) reads the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag

from crawler.items import CommentItem, RejectItem
from crawler.parsers.common import (
    PayloadError,
    attribute,
    html_to_text,
    parse_weibo_time,
    parseable_markup,
    read_or_reject,
)
from crawler.parsers.weibo_posts import PLATFORM
from smcat.units import parse_count

# 2: per-comment rejects, an unreadable cursor ends paging (#19)
PARSER_VERSION = "weibo_cn/2"
_LIKES = re.compile(r"赞\[(\d+)\]")
_SECONDS = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}):\d{2}$")
_HOT = "[热门]"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")  # weibo.cn sends XHTML; read it as HTML


@dataclass
class WapCommentPage:
    """The comments on one page, the entries that could not be read, and the number of pages."""

    comments: list[CommentItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    page_count: int = 1


def parse_wap_comment_page(html: str, post_id: str, fetched_at: datetime) -> WapCommentPage:
    """The comments of a weibo.cn comment page. PayloadError for a page that is not one (the
    login page weibo.cn serves without a signed-in weibo.cn cookie)."""
    soup = BeautifulSoup(_XML_DECLARATION.sub("", parseable_markup(html)), "lxml")
    entries = soup.select("div.c[id^=C_]")
    if not entries and soup.select_one("div#M_") is None:
        title = soup.title.get_text(strip=True) if soup.title else "no title"
        raise PayloadError(
            f"not a weibo.cn comment page ({title!r}): weibo.cn wants a signed-in cookie; "
            "refresh SMCAT_WEIBO_COOKIE"
        )
    page = WapCommentPage(page_count=_page_count(soup))
    seen: set[str] = set()
    read = partial(_comment, post_id=post_id, fetched_at=fetched_at)
    for entry in entries:
        comment = read_or_reject(read, entry, "weibo_cn_comment", page.rejects, _as_html)
        if comment is not None and comment.comment_id not in seen:  # a hot one comes twice
            seen.add(comment.comment_id)
            page.comments.append(comment)
    return page


def _as_html(entry: Tag) -> dict[str, str]:
    return {"html": str(entry)}


def _page_count(soup: BeautifulSoup) -> int:
    pages = soup.select_one("input[name=mp]")
    value = attribute(pages, "value") if pages is not None else ""
    return int(value) if value.isdigit() else 1


def _comment(entry: Tag, post_id: str, fetched_at: datetime) -> CommentItem:
    comment_id = str(entry["id"])[len("C_") :]
    if not comment_id.isdigit():
        raise ValueError(f"comment id {comment_id!r} is not numeric")
    author = entry.find("a", recursive=False)
    text_node = entry.select_one("span.ctt")
    stamp = entry.select_one("span.ct")
    if author is None or text_node is None or stamp is None:
        raise PayloadError(f"comment {comment_id} lacks its author, text or time")
    when, _, place = " ".join(stamp.get_text().split()).partition(" ")
    if (rest := place.partition(" "))[0][:1].isdigit():  # "2020-06-05 11:12:14 网页"
        when, place = f"{when} {rest[0]}", rest[2]
    likes = _LIKES.search(" ".join(cc.get_text() for cc in entry.select("span.cc")))
    kind = entry.select_one("span.kt")
    return CommentItem(
        platform=PLATFORM,
        comment_id=comment_id,
        post_id=post_id,
        observed_at=fetched_at.isoformat(),
        root_id=comment_id,
        author_id=_author_id(entry, author),
        author_name=author.get_text(strip=True) or None,
        created_at=parse_weibo_time(_minutes(when), fetched_at),
        text=html_to_text(text_node.decode_contents()),
        likes=parse_count(likes[1]) if likes else None,
        region=place.rsplit("来自", 1)[1].strip() or None if "来自" in place else None,
        extra={"hot": True} if kind is not None and kind.get_text(strip=True) == _HOT else {},
    )


def _author_id(entry: Tag, author: Tag) -> str | None:
    """The commenter's uid: fuid= of the report link, else a /u/{uid} profile link."""
    for link in entry.find_all("a", href=True):
        href = attribute(link, "href")
        query = parse_qs(urlsplit(href).query)
        if href.startswith("/spam/") and query.get("fuid"):
            return query["fuid"][0]
    path = urlsplit(attribute(author, "href")).path
    return path.rsplit("/", 1)[-1] if path.startswith("/u/") else None


def _minutes(when: str) -> str:
    """weibo.cn writes seconds (2020-06-05 11:12:14); the shared time parser reads minutes."""
    match = _SECONDS.match(when)
    return match[1] if match else when
