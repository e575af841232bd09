"""dataabc/weiboSpider (weibo.cn): one CSV, TXT or JSON file per account
(weibo/<nickname>/<uid>.csv|txt|json).

The CSV has Chinese headers (微博id, 微博正文, 原始图片url, 被转发微博原始图片url,
是否为原创微博, 微博视频url, 发布位置, 发布时间, 发布工具, 点赞数, 转发数, 评论数) in UTF-8 with a
BOM; a header row is written again on every run. The JSON holds {"user": {id, nickname,
weibo_num, following, followers, ...}, "weibo": [posts by the English names of the fields]}.
Post ids are weibo.cn's short ids (the bid, "J5cVGuUNq"), stored as the numeric mid as
crawled posts are;
times are "2020-06-05 11:12" (minutes), already made absolute by the tool. The TXT output
names no post ids and cannot be matched to crawled posts, so it is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crawler.items import Item
from crawler.parsers.common import numeric_id
from crawler.parsers.weibo_posts import mid_from_bid
from smcat.imports.formats.base import (
    POSTS,
    WEIBO,
    Context,
    Format,
    Reader,
    account,
    post,
    weibo_topics,
    weibo_url,
)
from smcat.imports.sources import (
    ImportFileError,
    Record,
    csv_records,
    id_text,
    json_document,
    list_records,
    listed,
    post_time,
    require_columns,
)
from smcat.units import parse_count

NAME = "weibospider"
HEADERS = {
    "微博id": "id", "微博正文": "content", "头条文章url": "article_url",
    "原始图片url": "original_pictures", "被转发微博原始图片url": "retweet_pictures",
    "是否为原创微博": "original", "微博视频url": "video_url", "发布位置": "publish_place",
    "发布时间": "publish_time", "发布工具": "publish_tool", "点赞数": "up_num",
    "转发数": "retweet_num", "评论数": "comment_num",
}  # fmt: skip
_REQUIRED = ("微博id", "微博正文", "发布时间", "点赞数", "转发数", "评论数")
_NONE = ("", "无")  # what the tool writes for a missing place, tool or picture list


def open_file(path: Path, kind: str, encoding: str | None, mapping: Path | None) -> Reader:
    """A weiboSpider CSV or JSON file of posts."""
    if kind != POSTS:
        raise ImportFileError(
            f"weiboSpider writes comments to no file smcat reads: import {path.name}'s posts"
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows = csv_records(path, encoding)
        require_columns(path, header, _REQUIRED, "a weiboSpider CSV")
        uid = path.stem if path.stem.isdigit() else None
        return Reader(
            ((n, {HEADERS[h]: v for h, v in row.items() if h in HEADERS}) for n, row in rows),
            lambda record, context: _items(record, uid, {}, context),
        )
    if suffix == ".json":
        document = json_document(path, encoding)
        user = document.get("user") if isinstance(document, Mapping) else None
        user = user if isinstance(user, Mapping) else {}
        records = list_records(path, document, "weibo")
        if records and "content" not in records[0][1]:
            raise ImportFileError(f"{path}: its posts have no 'content': check --format")
        uid = str(user.get("id") or "") or None
        return Reader(iter(records), lambda record, context: _items(record, uid, user, context))
    if suffix == ".txt":
        raise ImportFileError(
            f"{path}: weiboSpider's .txt output names no post ids, so its posts cannot be "
            "matched to crawled ones: import the .csv or .json it writes (write_mode)"
        )
    raise ImportFileError(f"{path}: weiboSpider writes .csv and .json: name the file so")


def _items(
    record: Record, uid: str | None, user: Mapping[str, Any], context: Context
) -> list[Item]:
    at = context.crawl_time()
    owner = numeric_id(uid, "the account's id") if uid else None
    items = account(
        WEIBO, owner, user.get("nickname"), at,
        followers=parse_count(user.get("followers")),
        following=parse_count(user.get("following")),
        posts=parse_count(user.get("weibo_num")),
        url=f"https://weibo.com/u/{owner}" if owner else None,
    )  # fmt: skip
    bid = id_text(record.get("id"), "the post's id", context.path)
    post_id = bid if bid.isdigit() else mid_from_bid(bid)
    text = str(record.get("content") or "").strip()
    pictures = [p for p in listed(record.get("original_pictures")) if p not in _NONE]
    original = str(record.get("original", "True")) not in ("False", "0", "false")
    extra: dict[str, Any] = {"bid": bid}
    if pictures:
        extra["pictures"] = pictures
    if (place := record.get("publish_place")) not in (None, *_NONE):
        extra["location"] = place
    tool = record.get("publish_tool")
    posted = post(
        WEIBO, post_id, post_time(record.get("publish_time"), at), at, text,
        {
            "likes": record.get("up_num"), "comments": record.get("comment_num"),
            "reposts": record.get("retweet_num"), "account_id": owner,
            "is_repost": not original,
            "media_type": "video" if record.get("video_url") not in (None, *_NONE)
            else "picture" if pictures else "text",
            "pic_count": len(pictures), "source": None if tool in (None, *_NONE) else tool,
            "url": weibo_url(owner, bid, post_id), "extra": extra,
        },
        weibo_topics(text),
    )  # fmt: skip
    return [*items, posted]


FORMAT = Format(NAME, WEIBO, (POSTS,), open_file)
