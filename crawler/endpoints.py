"""The endpoints smcat reads, each stated once: where it lives (the setting naming its site, a
path and the query that tells it apart, with {placeholders} for what the URL carries), the
version of its parser, and how a payload of it becomes items. The spiders build their URLs
from this table, the store pipeline tags each kept response with its endpoint's parser version,
and `reparse` reads kept payloads by it. No Scrapy here."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawler.items import AccountItem, Item, LiveRoomItem
from crawler.parsers import (
    douyin_comments,
    douyin_live,
    douyin_user,
    weibo_cn,
    weibo_comments,
    weibo_hot,
    weibo_mobile,
    weibo_search,
    weibo_web,
)
from crawler.parsers.common import HasComments, HasPosts, PayloadError, day_window
from crawler.parsers.weibo_posts import mid_from_bid, window_sides


@dataclass(frozen=True)
class LongText:
    """The full text of a post, to be joined to the post when it is written; `key` is the
    post's id (m.weibo.cn) or its short mblogid (weibo.com)."""

    key: str
    text: str


@dataclass
class CrawlContext:
    """What the payloads of one crawl share while they are read again: the crawl's recorded
    arguments, and the post of each comment seen so far (reply pages name only their comment)."""

    args: Mapping[str, Any]
    comment_posts: dict[str, str] = field(default_factory=dict)

    def post_of(self, comment_id: str) -> str:
        """The post a comment belongs to, from the crawl's earlier pages."""
        if comment_id not in self.comment_posts:
            raise PayloadError(f"replies to comment {comment_id}, which no earlier page holds")
        return self.comment_posts[comment_id]


# a payload, when it was fetched, the values its URL carries, the crawl -> the items it holds
Reader = Callable[[Any, datetime, Mapping[str, str], CrawlContext], Iterator[Item | LongText]]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: `site` is the setting holding the base URL, `path` and `query` the route
    (a {name} stands for a value the URL carries), `read` how a payload becomes items."""

    name: str
    platform: str
    site: str
    path: str
    parser_version: str
    read: Reader
    query: Mapping[str, str] = field(default_factory=dict)
    html: bool = False

    def url(self, base: str, /, **values: object) -> str:
        """The address of this endpoint under `base`: the route's {placeholders} filled from
        `values`, the other values appended to the query in their order."""
        texts = {key: str(value) for key, value in values.items()}
        used = _fields(self.path) | {f for v in self.query.values() for f in _fields(v)}
        query = {key: template.format_map(texts) for key, template in self.query.items()}
        query.update((key, value) for key, value in texts.items() if key not in used)
        url = base.rstrip("/") + self.path.format_map(texts)
        return f"{url}?{urlencode(query)}" if query else url

    def values(self, path: str, query: Mapping[str, str]) -> dict[str, str] | None:
        """What a URL of this endpoint carries (its query and its placeholders' values), or
        None if the URL is not one of this endpoint's. The path need only end with the route's,
        as a base URL may have a path of its own."""
        found = re.search(_pattern(self.path, "[^/]+") + "$", path)
        if found is None:
            return None
        values = {**query, **found.groupdict()}
        for key, template in self.query.items():
            part = re.fullmatch(_pattern(template, ".+"), query.get(key, ""))
            if part is None:
                return None
            values.update(part.groupdict())
        return values


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _pattern(template: str, placeholder: str) -> str:
    """A route template as a regular expression, each {name} a named group."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>{placeholder})")
    return "".join(parts)


# -- readers: how each shape of parser's output becomes items ---------------------------------


def _one(parse: Callable[[Any, datetime], AccountItem]) -> Reader:
    """A payload that is one account."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        yield parse(payload, fetched)

    return read


def _listed(parse: Callable[[Any, datetime], Sequence[Item]]) -> Reader:
    """A payload that is a list of items."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        yield from parse(payload, fetched)

    return read


def _posts(parse: Callable[[Any, datetime], HasPosts]) -> Reader:
    """A page of posts, all kept."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        page = parse(payload, fetched)
        yield from page.rejects
        yield from page.posts

    return read


def _own_posts(parse: Callable[[Any, datetime], HasPosts]) -> Reader:
    """A page of an account's timeline (the URL names it as uid): the posts the crawl kept,
    the account's own inside its since/until window (or after its crawled-up-to mark)."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        page = parse(payload, fetched)
        yield from page.rejects
        start, end = day_window(crawl.args.get("since"), crawl.args.get("until"))
        if mark := (crawl.args.get("after") or {}).get(_value(values, "uid")):
            moment = datetime.fromisoformat(mark)
            start = max(start, moment) if start else moment
        yield from (post for post, side in window_sides(page.posts, start, end) if not side)

    return read


def _long_text(parse: Callable[[Any], str]) -> Reader:
    """The full text of the post the URL names as id."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        yield LongText(_value(values, "id"), parse(payload))

    return read


def _comments(
    parse: Callable[[Any, str, datetime], HasComments],
    post: Callable[[Mapping[str, str], CrawlContext], str],
) -> Reader:
    """A page of comments on the post that `post` finds from the URL and the crawl."""

    def read(
        payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
    ) -> Iterator[Item | LongText]:
        post_id = post(values, crawl)
        page = parse(payload, post_id, fetched)
        crawl.comment_posts.update((c.comment_id, post_id) for c in page.comments)
        yield from page.rejects
        yield from page.comments

    return read


def _named(key: str) -> Callable[[Mapping[str, str], CrawlContext], str]:
    """The post the URL names as `key`."""
    return lambda values, crawl: _value(values, key)


def _replied(key: str) -> Callable[[Mapping[str, str], CrawlContext], str]:
    """The post of the comment the URL names as `key` (a reply page names only its comment)."""
    return lambda values, crawl: crawl.post_of(_value(values, key))


def _value(values: Mapping[str, str], key: str) -> str:
    if key not in values:
        raise PayloadError(f"the URL names no {key}")
    return values[key]


def _search_page(
    payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Item | LongText]:
    page = weibo_search.parse_search_page(payload, fetched)
    split_at = crawl.args.get("split_at", weibo_search.PAGE_CAP)
    if page.page_count >= split_at and _hours(_value(values, "timescope")) > 1:
        return  # a window the crawl split instead of reading: its parts hold these posts
    yield from page.rejects
    start, end = day_window(crawl.args.get("since"), crawl.args.get("until"))
    yield from (post for post, side in window_sides(page.posts, start, end) if not side)


def _hours(timescope: str) -> float:
    """How many hours a search window (custom:2025-03-01-0:2025-03-02-0) spans."""
    _, start, end = timescope.split(":")
    moments = [datetime.strptime(value, "%Y-%m-%d-%H") for value in (start, end)]
    return (moments[1] - moments[0]).total_seconds() / 3600


def _live_room(
    payload: Any, fetched: datetime, values: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Item | LongText]:
    yield live_room(douyin_live.parse_enter(payload, fetched), _value(values, "web_rid"))


def live_room(room: LiveRoomItem, web_rid: str) -> LiveRoomItem:
    """A live room with its address (live.douyin.com/<web_rid>), as the crawl records it."""
    room.extra["web_rid"] = web_rid
    return room


# -- the table --------------------------------------------------------------------------------

WEIBO_PROFILE = Endpoint(
    "weibo_profile", "weibo", "WEIBO_MOBILE_URL", "/api/container/getIndex",
    weibo_mobile.PARSER_VERSION, _one(weibo_mobile.parse_profile),
    query={"containerid": "100505{uid}"},
)  # fmt: skip
WEIBO_TIMELINE = Endpoint(
    "weibo_timeline", "weibo", "WEIBO_MOBILE_URL", "/api/container/getIndex",
    weibo_mobile.PARSER_VERSION, _own_posts(weibo_mobile.parse_timeline),
    query={"containerid": "107603{uid}"},
)  # fmt: skip
WEIBO_LONG_TEXT = Endpoint(
    "weibo_long_text", "weibo", "WEIBO_MOBILE_URL", "/statuses/extend",
    weibo_mobile.PARSER_VERSION, _long_text(weibo_mobile.parse_long_text),
)  # fmt: skip
WEIBO_WEB_PROFILE = Endpoint(
    "weibo_web_profile", "weibo", "WEIBO_URL", "/ajax/profile/info",
    weibo_web.PARSER_VERSION, _one(weibo_web.parse_profile_info),
)  # fmt: skip
WEIBO_WEB_TIMELINE = Endpoint(
    "weibo_web_timeline", "weibo", "WEIBO_URL", "/ajax/statuses/mymblog",
    weibo_web.PARSER_VERSION, _own_posts(weibo_web.parse_mymblog),
)  # fmt: skip
WEIBO_WEB_LONG_TEXT = Endpoint(
    "weibo_web_long_text", "weibo", "WEIBO_URL", "/ajax/statuses/longtext",
    weibo_web.PARSER_VERSION, _long_text(weibo_web.parse_web_long_text),
)  # fmt: skip
WEIBO_HOT = Endpoint(
    "weibo_hot", "weibo", "WEIBO_URL", "/ajax/side/hotSearch",
    weibo_hot.PARSER_VERSION, _listed(weibo_hot.parse_hot_search),
)  # fmt: skip
WEIBO_COMMENTS = Endpoint(
    "weibo_comments", "weibo", "WEIBO_MOBILE_URL", "/comments/hotflow",
    weibo_comments.PARSER_VERSION, _comments(weibo_comments.parse_comment_page, _named("id")),
)  # fmt: skip
WEIBO_REPLIES = Endpoint(
    "weibo_replies", "weibo", "WEIBO_MOBILE_URL", "/comments/hotFlowChild",
    weibo_comments.PARSER_VERSION, _comments(weibo_comments.parse_comment_page, _replied("cid")),
)  # fmt: skip
# weibo.com asks for a post's comments with its mid, for a comment's replies (level 2) with the
# comment's id
WEIBO_WEB_COMMENTS = Endpoint(
    "weibo_web_comments", "weibo", "WEIBO_URL", "/ajax/statuses/buildComments",
    weibo_comments.PARSER_VERSION, _comments(weibo_comments.parse_comment_page, _named("id")),
)  # fmt: skip
WEIBO_WEB_REPLIES = Endpoint(
    "weibo_web_replies", "weibo", "WEIBO_URL", "/ajax/statuses/buildComments",
    weibo_comments.PARSER_VERSION, _comments(weibo_comments.parse_comment_page, _replied("id")),
    query={"fetch_level": "1"},
)  # fmt: skip
WEIBO_WAP_COMMENTS = Endpoint(
    "weibo_wap_comments", "weibo", "WEIBO_CN_URL", "/comment/{bid}",
    weibo_cn.PARSER_VERSION,
    _comments(weibo_cn.parse_wap_comment_page, lambda values, _: mid_from_bid(values["bid"])),
    html=True,
)  # fmt: skip
WEIBO_SEARCH = Endpoint(
    "weibo_search", "weibo", "WEIBO_SEARCH_URL", "/weibo",
    weibo_search.PARSER_VERSION, _search_page, html=True,
)  # fmt: skip
DOUYIN_PROFILE = Endpoint(
    "douyin_profile", "douyin", "DOUYIN_URL", "/aweme/v1/web/user/profile/other/",
    douyin_user.PARSER_VERSION, _one(douyin_user.parse_profile),
)  # fmt: skip
DOUYIN_POSTS = Endpoint(
    "douyin_posts", "douyin", "DOUYIN_URL", "/aweme/v1/web/aweme/post/",
    douyin_user.PARSER_VERSION, _posts(douyin_user.parse_post_list),
)  # fmt: skip
DOUYIN_COMMENTS = Endpoint(
    "douyin_comments", "douyin", "DOUYIN_URL", "/aweme/v1/web/comment/list/",
    douyin_comments.PARSER_VERSION,
    _comments(douyin_comments.parse_comment_list, _named("aweme_id")),
)  # fmt: skip
# a comment's replies are asked for with the post as item_id
DOUYIN_REPLIES = Endpoint(
    "douyin_replies", "douyin", "DOUYIN_URL", "/aweme/v1/web/comment/list/reply/",
    douyin_comments.PARSER_VERSION,
    _comments(douyin_comments.parse_comment_list, _named("item_id")),
)  # fmt: skip
DOUYIN_LIVE = Endpoint(
    "douyin_live", "douyin", "DOUYIN_LIVE_URL", "/webcast/room/web/enter/",
    douyin_live.PARSER_VERSION, _live_room,
)  # fmt: skip

ENDPOINTS = (
    WEIBO_PROFILE, WEIBO_TIMELINE, WEIBO_LONG_TEXT,
    WEIBO_WEB_PROFILE, WEIBO_WEB_TIMELINE, WEIBO_WEB_LONG_TEXT, WEIBO_HOT,
    WEIBO_COMMENTS, WEIBO_REPLIES, WEIBO_WEB_COMMENTS, WEIBO_WEB_REPLIES, WEIBO_WAP_COMMENTS,
    WEIBO_SEARCH,
    DOUYIN_PROFILE, DOUYIN_POSTS, DOUYIN_COMMENTS, DOUYIN_REPLIES, DOUYIN_LIVE,
)  # fmt: skip


def match(url: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint a URL is one of, and the values the URL carries; None if no endpoint's.
    Where two share a path, the one whose route asks more of the query wins."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    found = [
        (endpoint, values)
        for endpoint in ENDPOINTS
        if (values := endpoint.values(parts.path, query)) is not None
    ]
    return max(found, key=lambda pair: len(pair[0].query), default=None)
