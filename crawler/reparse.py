"""`smcat crawl reparse`: rebuild rows from the kept raw payloads, with no network.

After a parser fix, or to audit a crawl, every kept response of status 200 is parsed again by
the parser of its endpoint and written through the same ItemWriter the crawl used, under the
crawl's own arguments (a --since/--until window still applies). Each row keeps the fetch time
of its payload, so observations that are already stored are not added twice.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crawler.items import PostItem
from crawler.parsers.common import PayloadError, day_window
from crawler.parsers.douyin_comments import parse_comment_list
from crawler.parsers.douyin_live import parse_enter
from crawler.parsers.douyin_user import parse_post_list
from crawler.parsers.douyin_user import parse_profile as parse_douyin_profile
from crawler.parsers.weibo_cn import parse_wap_comment_page
from crawler.parsers.weibo_comments import parse_comment_page
from crawler.parsers.weibo_hot import parse_hot_search
from crawler.parsers.weibo_mobile import (
    parse_long_text,
    parse_profile,
    parse_timeline,
)
from crawler.parsers.weibo_posts import mid_from_bid, window_sides, with_long_text
from crawler.parsers.weibo_search import PAGE_CAP, parse_search_page
from crawler.parsers.weibo_web import parse_mymblog, parse_profile_info, parse_web_long_text
from crawler.writer import ItemWriter
from smcat.store import Store


@dataclass
class CrawlContext:
    """What the payloads of one crawl share while they are parsed again: the crawl's arguments,
    and the post of each comment seen so far (reply pages name only their comment)."""

    args: Mapping[str, Any]
    comment_posts: dict[str, str] = field(default_factory=dict)

    def post_of(self, comment_id: str) -> str:
        """The post a comment belongs to, from the crawl's earlier pages."""
        if comment_id not in self.comment_posts:
            raise PayloadError(f"replies to comment {comment_id}, which no earlier page holds")
        return self.comment_posts[comment_id]


Handler = Callable[[Any, datetime, Mapping[str, str], CrawlContext], Iterable[Any]]


_COUNTS = ("responses", "parsed", "skipped", "failed", "stored", "rejected")


@dataclass(frozen=True)
class ReparseResult:
    """What a reparse did: its own crawl id and counts of responses and rows."""

    crawl_id: int
    counts: dict[str, int]


def _weibo_get_index(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    containerid = query.get("containerid", "")
    if containerid.startswith("100505"):
        yield parse_profile(payload, fetched)
        return
    if not containerid.startswith("107603"):
        raise PayloadError(f"no parser for containerid {containerid!r}")
    page = parse_timeline(payload, fetched)
    yield from page.rejects
    yield from _in_window(page.posts, containerid[len("107603") :], crawl.args)


def _weibo_profile_info(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield parse_profile_info(payload, fetched)


def _weibo_mymblog(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    page = parse_mymblog(payload, fetched)
    yield from page.rejects
    yield from _in_window(page.posts, query.get("uid", ""), crawl.args)


def _weibo_web_long_text(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield LongText(query.get("id", ""), parse_web_long_text(payload))


def _in_window(posts: list[PostItem], uid: str, args: Mapping[str, Any]) -> Iterator[PostItem]:
    """The posts the crawl kept: the account's own inside its --since/--until window (or
    after its crawled-up-to mark, under --new)."""
    start, end = day_window(args.get("since"), args.get("until"))
    if mark := (args.get("after") or {}).get(uid):
        start = max(start, datetime.fromisoformat(mark)) if start else datetime.fromisoformat(mark)
    for post, side in window_sides(posts, start, end):
        if not side:
            yield post


def _weibo_hot(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield from parse_hot_search(payload, fetched)


def _weibo_comments(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield from _comments(payload, fetched, query.get("id", ""), crawl)


def _weibo_replies(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield from _comments(payload, fetched, crawl.post_of(query.get("cid", "")), crawl)


def _weibo_build_comments(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    # level 1 is asked with the post's mid, level 2 (fetch_level=1) with the comment's id
    post_id = query.get("id", "")
    if query.get("fetch_level") == "1":
        post_id = crawl.post_of(post_id)
    yield from _comments(payload, fetched, post_id, crawl)


def _weibo_cn_comments(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    post_id = mid_from_bid(query["path"].rsplit("/", 1)[-1])
    page = parse_wap_comment_page(payload, post_id, fetched)
    yield from page.rejects
    yield from page.comments


def _comments(payload: Any, fetched: datetime, post_id: str, crawl: CrawlContext) -> Iterator[Any]:
    page = parse_comment_page(payload, post_id, fetched)
    crawl.comment_posts.update((c.comment_id, post_id) for c in page.comments)
    yield from page.rejects
    yield from page.comments


def _weibo_search(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    page = parse_search_page(payload, fetched)
    if page.page_count >= crawl.args.get("split_at", PAGE_CAP) and _hours(query) > 1:
        return  # a window the crawl split instead of reading: its parts hold these posts
    yield from page.rejects
    start, end = day_window(crawl.args.get("since"), crawl.args.get("until"))
    yield from (post for post, side in window_sides(page.posts, start, end) if not side)


def _hours(query: Mapping[str, str]) -> float:
    """How many hours a search window (timescope=custom:2025-03-01-0:2025-03-02-0) spans."""
    _, start, end = query.get("timescope", "custom::").split(":")
    moments = [datetime.strptime(value, "%Y-%m-%d-%H") for value in (start, end)]
    return (moments[1] - moments[0]).total_seconds() / 3600


def _weibo_extend(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield LongText(query.get("id", ""), parse_long_text(payload))


def _douyin_profile(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    yield parse_douyin_profile(payload, fetched)


def _douyin_posts(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    page = parse_post_list(payload, fetched)
    yield from page.rejects
    yield from page.posts


def _douyin_comments(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    # a post's comments are asked for by aweme_id, a comment's replies by item_id (the post)
    page = parse_comment_list(payload, query.get("aweme_id") or query.get("item_id", ""), fetched)
    yield from page.rejects
    yield from page.comments


def _douyin_live(
    payload: Any, fetched: datetime, query: Mapping[str, str], crawl: CrawlContext
) -> Iterator[Any]:
    room = parse_enter(payload, fetched)
    room.extra["web_rid"] = query.get("web_rid")  # as the spider records the room's address
    yield room


@dataclass(frozen=True)
class LongText:
    """The full text of a post, to be joined to the post when it is written; `key` is the
    post's id (m.weibo.cn) or its short mblogid (weibo.com)."""

    key: str
    text: str


# endpoint path ending (a regular expression) -> parser adapter; other payloads are skipped
HANDLERS: dict[str, Handler] = {
    "/api/container/getIndex": _weibo_get_index,
    "/statuses/extend": _weibo_extend,
    "/ajax/profile/info": _weibo_profile_info,
    "/ajax/statuses/mymblog": _weibo_mymblog,
    "/ajax/statuses/longtext": _weibo_web_long_text,
    "/ajax/side/hotSearch": _weibo_hot,
    "/comments/hotflow": _weibo_comments,
    "/comments/hotFlowChild": _weibo_replies,
    "/ajax/statuses/buildComments": _weibo_build_comments,
    "/weibo": _weibo_search,  # s.weibo.com's result pages (HTML) of the keyword search
    r"/comment/\w+": _weibo_cn_comments,  # weibo.cn's comment pages (HTML)
    "/aweme/v1/web/user/profile/other/": _douyin_profile,
    "/aweme/v1/web/aweme/post/": _douyin_posts,
    "/aweme/v1/web/comment/list/": _douyin_comments,
    "/aweme/v1/web/comment/list/reply/": _douyin_comments,
    "/webcast/room/web/enter/": _douyin_live,
}


def _handler(url: str) -> tuple[Handler | None, dict[str, str]]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for suffix, handler in HANDLERS.items():
        if re.search(f"{suffix}$", parts.path):
            return handler, {**query, "path": parts.path}
    return None, query


def reparse(store: Store, *, crawl_id: int | None = None) -> ReparseResult:
    """Parse the kept payloads (of one crawl, or all) again and write their rows."""
    run_id = store.start_crawl("reparse", {"crawl_id": crawl_id})
    counts: Counter[str] = Counter(dict.fromkeys(_COUNTS, 0))
    writer: ItemWriter | None = None
    source: int | None = None
    crawl = CrawlContext({})
    long_posts: dict[str, PostItem] = {}
    full_texts: dict[str, str] = {}
    for raw in store.raw_responses(crawl_id):
        counts["responses"] += 1
        if raw["crawl_id"] != source or writer is None:
            # one writer per original crawl: a post is observed once per crawl, as it was
            _finish(writer, long_posts, full_texts, counts)
            source = raw["crawl_id"]
            writer = ItemWriter(store, run_id)
            record = store.crawl(source) if source is not None else None
            crawl = CrawlContext(record.args if record else {})
        handler, query = _handler(raw["url"])
        if raw["status"] != 200 or handler is None:
            counts["skipped"] += 1  # error pages never yield rows
            continue
        try:
            html = "html" in (raw["content_type"] or "")
            payload = raw["body"].decode("utf-8") if html else json.loads(raw["body"])
            items = list(handler(payload, datetime.fromisoformat(raw["fetched_at"]), query, crawl))
        except (PayloadError, ValueError, KeyError, TypeError):
            counts["failed"] += 1
            continue
        counts["parsed"] += 1
        for item in items:
            if isinstance(item, LongText):
                full_texts[item.key] = item.text
            elif isinstance(item, PostItem) and item.is_long_text:
                long_posts[item.post_id] = item
            else:
                writer.add(item)
    _finish(writer, long_posts, full_texts, counts)
    status = "finished" if not counts["failed"] else "stopped"
    reason = "finished" if not counts["failed"] else f"{counts['failed']} payload(s) did not parse"
    store.finish_crawl(run_id, status, reason, dict(counts))
    return ReparseResult(run_id, dict(counts))


def _finish(
    writer: ItemWriter | None,
    long_posts: dict[str, PostItem],
    full_texts: dict[str, str],
    counts: Counter[str],
) -> None:
    """Write a crawl's long posts (with their full text where it was fetched) and flush."""
    if writer is None:
        return
    for post_id, post in long_posts.items():
        full = full_texts.get(post_id) or full_texts.get(post.extra.get("bid") or "")
        writer.add(with_long_text(post, full) if full else post)
    long_posts.clear()
    full_texts.clear()
    writer.flush()
    counts["stored"] += writer.written.stored
    counts["rejected"] += writer.written.rejected
