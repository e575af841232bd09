"""dataabc/weibo-crawler: one CSV and one JSON file per account (weibo/<name>/<uid>.csv|json).

The CSV has Chinese headers (id, bid, 正文, 原始图片url, 视频url, 位置, 日期, 工具, 点赞数, 评论数,
转发数, 话题, @用户, 完整日期, 编辑次数; a repost's original in 是否原创, 源用户id, 源用户昵称 and
源微博<header>), UTF-8 with a BOM, each id followed by a tab so that Excel keeps it as text. The
JSON holds {"user": the account, "weibo": [posts by their English keys, a repost's original
under "retweet"]}. 日期 is "2024-05-01T18:20:00" in versions since 2023-08 and "2024-05-01"
before (a date alone); 完整日期 (full_created_at) has the seconds. Neither file records when it
was crawled, and the CSV names its account only in its file name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.items import Item, PostItem
from crawler.parsers.common import html_to_text, numeric_id
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

NAME = "weibo-crawler"
# the CSV's headers, by the keys of the JSON (and of the tool's code)
HEADERS = {
    "id": "id", "bid": "bid", "正文": "text", "头条文章url": "article_url",
    "原始图片url": "pics", "视频url": "video_url", "Live Photo视频url": "live_photo_url",
    "位置": "location", "日期": "created_at", "工具": "source", "点赞数": "attitudes_count",
    "评论数": "comments_count", "转发数": "reposts_count", "话题": "topics", "@用户": "at_users",
    "完整日期": "full_created_at", "是否编辑过": "edited", "编辑次数": "edit_count",
}  # fmt: skip
ORIGIN = "源微博"  # the prefix of a repost's original's columns
_REQUIRED = ("id", "正文", "日期", "点赞数", "评论数", "转发数")


def open_file(path: Path, kind: str, encoding: str | None, mapping: Path | None) -> Reader:
    """A weibo-crawler CSV or JSON file of posts."""
    if kind != POSTS:
        raise ImportFileError(
            f"weibo-crawler writes comments only to its SQLite database, not to {path.name}: "
            "import its posts, or the comments of a tool that exports them"
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows = csv_records(path, encoding)
        require_columns(path, header, _REQUIRED, "a weibo-crawler CSV")
        uid = path.stem if path.stem.isdigit() else None
        return Reader(
            ((n, _from_csv(row)) for n, row in rows),
            lambda record, context: _items(record, uid, None, context),
            notes=[]
            if uid
            else [f"{path.name} names no account (weibo-crawler calls it <uid>.csv)"],
        )
    if suffix == ".json":
        document = json_document(path, encoding)
        user = document.get("user") if isinstance(document, Mapping) else None
        user = user if isinstance(user, Mapping) else {}
        records = list_records(path, document, "weibo")
        if records and "text" not in records[0][1]:
            raise ImportFileError(f"{path}: its posts have no 'text': check --format")
        return Reader(iter(records), lambda record, context: _items(record, None, user, context))
    raise ImportFileError(f"{path}: weibo-crawler writes .csv and .json: name the file so")


def _from_csv(row: Record) -> Record:
    """A CSV row by the JSON's keys, a repost's original under "retweet"."""
    record = {HEADERS[h]: v for h, v in row.items() if h in HEADERS}
    origin = {HEADERS[h[len(ORIGIN):]]: v for h, v in row.items()
              if h.startswith(ORIGIN) and h[len(ORIGIN):] in HEADERS}  # fmt: skip
    if row.get("是否原创") == "False" and origin.get("id"):
        origin.update(user_id=row.get("源用户id"), screen_name=row.get("源用户昵称"))
        record["retweet"] = origin
    return record


def _items(
    record: Record, uid: str | None, user: Mapping[str, Any] | None, context: Context
) -> list[Item]:
    at = context.crawl_time()
    owner: str | None
    if user:  # the JSON's account, with its counts at the crawl
        owner = numeric_id(user.get("id"), "the user's id")
        items = account(
            WEIBO, owner, user.get("screen_name"), at,
            followers=_count(user.get("followers_count")),
            following=_count(user.get("follow_count")),
            posts=_count(user.get("statuses_count")),
            description=user.get("description") or None,
            url=f"https://weibo.com/u/{owner}",
        )  # fmt: skip
    else:
        owner = _id(record.get("user_id"), "the user id", context.path) or uid
        items = account(WEIBO, owner, record.get("screen_name"), at, url=_account_url(owner))
    posted = _post(record, owner, at, context.path)
    origin = record.get("retweet")
    if isinstance(origin, Mapping) and origin.get("id"):
        original = _post(origin, _id(origin.get("user_id"), "源用户id", context.path), at,
                         context.path)  # fmt: skip
        original.via_repost = True
        posted.is_repost, posted.origin_post_id = True, original.post_id
        items += account(WEIBO, original.account_id, origin.get("screen_name"), at,
                         url=_account_url(original.account_id))  # fmt: skip
        return [*items, posted, original]
    return [*items, posted]


def _post(record: Mapping[str, Any], owner: str | None, at: datetime, path: Path) -> PostItem:
    post_id = numeric_id(id_text(record.get("id"), "the post's id", path), "the post's id")
    text = html_to_text(record.get("text"))
    pics = listed(record.get("pics"))
    bid = record.get("bid") or None
    extra: dict[str, Any] = (
        {"bid": bid, "edit_count": _count(record.get("edit_count"))} if bid else {}
    )
    if pics:
        extra["pictures"] = pics
    if record.get("location"):
        extra["location"] = record["location"]
    return post(
        WEIBO, post_id, post_time(record.get("full_created_at") or record.get("created_at"), at),
        at, text,
        {
            "likes": record.get("attitudes_count"), "comments": record.get("comments_count"),
            "reposts": record.get("reposts_count"), "account_id": owner,
            "media_type": _media(record, pics), "pic_count": len(pics),
            "source": record.get("source") or None, "url": weibo_url(owner, bid, post_id),
            "extra": extra,
        },
        weibo_topics(text, listed(record.get("topics"))),
    )  # fmt: skip


def _media(record: Mapping[str, Any], pics: list[str]) -> str:
    if record.get("video_url"):
        return "video"
    if record.get("article_url"):
        return "article"
    return "picture" if pics else "text"


def _id(value: object, what: str, path: Path) -> str | None:
    return None if value in (None, "") else numeric_id(id_text(value, what, path), what)


def _count(value: object) -> int | None:
    return parse_count(value)


def _account_url(uid: str | None) -> str | None:
    return f"https://weibo.com/u/{uid}" if uid else None


FORMAT = Format(NAME, WEIBO, (POSTS,), open_file)
