"""NanmiCoder/MediaCrawler: Weibo notes and Douyin awemes, and their comments, as it saves them
(SAVE_DATA_OPTION): data/<platform>/{json,jsonl,csv}/<type>_{contents,comments}_<date>.<ext>,
or the tables weibo_note, weibo_note_comment, douyin_aweme and douyin_aweme_comment of its
SQLite database (.db, .sqlite).

Every form holds the same fields (store/weibo and store/douyin's update_* functions): counts
as text ("1万+" where the platform shows it so), ids as numbers, create_time in epoch seconds
and, for Weibo, create_date_time in China time, and last_modify_ts, the crawl time in epoch
milliseconds. A Weibo note's create_time is read from create_date_time: MediaCrawler works it
out as if the time were UTC (rfc2822_to_timestamp), 8 hours late. Accounts are Weibo uids and
Douyin sec_uids, as the crawler keys them (the uid and handles of a Douyin account are kept in
its extra). Versions from 2026-07 name authors only by a hash (creator_hash): their posts are
stored without an account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crawler.items import CommentItem, Item
from crawler.parsers.common import html_to_text, numeric_id
from crawler.parsers.douyin_common import epoch_time
from crawler.parsers.douyin_user import IMAGE_POST
from smcat.imports.formats.base import (
    COMMENTS,
    DOUYIN,
    POSTS,
    WEIBO,
    Context,
    Format,
    Reader,
    account,
    douyin_topics,
    post,
    weibo_topics,
    weibo_url,
)
from smcat.imports.sources import (
    ImportFileError,
    Record,
    chained,
    csv_records,
    id_text,
    json_document,
    jsonl_records,
    list_records,
    listed,
    post_time,
    require_columns,
    sqlite_records,
)
from smcat.units import parse_count

_TOP_LEVEL = ("", "0", None)  # a Douyin comment's parent_comment_id when it answers the post
# (table of the SQLite database, fields every record needs) by platform and kind
_TABLES = {
    (WEIBO, POSTS): ("weibo_note", ("note_id", "content", "create_date_time")),
    (WEIBO, COMMENTS): ("weibo_note_comment", ("comment_id", "note_id", "content")),
    (DOUYIN, POSTS): ("douyin_aweme", ("aweme_id", "desc", "create_time")),
    (DOUYIN, COMMENTS): ("douyin_aweme_comment", ("comment_id", "aweme_id", "content")),
}


def _records(
    path: Path, platform: str, kind: str, encoding: str | None
) -> Iterator[tuple[int, Record]]:
    """The file's records, its fields checked on the first."""
    table, needed = _TABLES[platform, kind]
    suffix = path.suffix.lower()
    what = f"a MediaCrawler {platform} {kind} file"
    if suffix == ".csv":
        header, rows = csv_records(path, encoding)
        require_columns(path, header, needed, what)
        return rows
    if suffix == ".json":
        records: Iterator[tuple[int, Record]] = iter(
            list_records(path, json_document(path, encoding))
        )
    elif suffix == ".jsonl":
        records = jsonl_records(path, encoding)
    elif suffix in (".db", ".sqlite", ".sqlite3"):
        records = sqlite_records(path, table)
    else:
        raise ImportFileError(
            f"{path}: MediaCrawler writes .json, .jsonl, .csv and .db: name the file so"
        )
    first = next(records, None)
    if first is None:
        return iter(())
    require_columns(path, list(first[1]), needed, what)
    return chained(first, records)


def _opener(platform: str) -> Callable[[Path, str, str | None, Path | None], Reader]:
    def open_file(path: Path, kind: str, encoding: str | None, mapping: Path | None) -> Reader:
        records = _records(path, platform, kind, encoding)
        convert = _CONVERT[platform, kind]
        return Reader(records, lambda record, context: convert(record, context), own_time=True)

    return open_file


def _weibo_note(record: Record, context: Context) -> list[Item]:
    at = context.crawl_time(record.get("last_modify_ts"))
    owner = _uid(record.get("user_id"), context)
    post_id = numeric_id(id_text(record.get("note_id"), "note_id", context.path), "note_id")
    text = html_to_text(record.get("content"))
    posted = post(
        WEIBO, post_id, post_time(record.get("create_date_time"), at), at, text,
        {
            "likes": _count(record, "liked_count"), "comments": _count(record, "comments_count"),
            "reposts": _count(record, "shared_count"), "account_id": owner,
            "region": record.get("ip_location") or None, "url": weibo_url(owner, None, post_id),
        },
        weibo_topics(text),
    )  # fmt: skip
    return [*account(WEIBO, owner, record.get("nickname"), at), posted]


def _weibo_comment(record: Record, context: Context) -> list[Item]:
    at = context.crawl_time(record.get("last_modify_ts"))
    comment_id = numeric_id(
        id_text(record.get("comment_id"), "comment_id", context.path), "comment_id"
    )
    root = str(record.get("parent_comment_id") or comment_id)
    return [
        CommentItem(
            platform=WEIBO,
            comment_id=comment_id,
            post_id=numeric_id(id_text(record.get("note_id"), "note_id", context.path), "note_id"),
            observed_at=at.isoformat(),
            parent_id=root if root != comment_id else None,
            root_id=root,
            author_id=_uid(record.get("user_id"), context),
            author_name=record.get("nickname") or None,
            created_at=post_time(record.get("create_date_time"), at).at,
            text=html_to_text(record.get("content")),
            likes=parse_count(_count(record, "comment_like_count")),
            replies=parse_count(_count(record, "sub_comment_count")),
            region=record.get("ip_location") or None,
        )
    ]


def _douyin_aweme(record: Record, context: Context) -> list[Item]:
    at = context.crawl_time(record.get("last_modify_ts"))
    aweme_id = id_text(record.get("aweme_id"), "aweme_id", context.path)
    numeric_id(aweme_id, "aweme_id")
    created = epoch_time(record.get("create_time"))
    if created is None:
        raise ValueError(f"create_time {record.get('create_time')!r} is no time")
    images = listed(record.get("note_download_url"))
    is_image = str(record.get("aweme_type")) == str(IMAGE_POST) or bool(images)
    text = str(record.get("desc") or record.get("title") or "")
    owner = record.get("sec_uid") or None
    handles = {"uid": record.get("user_id"), "unique_id": record.get("user_unique_id"),
               "short_id": record.get("short_user_id")}  # fmt: skip
    extra: dict[str, Any] = (
        {"aweme_type": record.get("aweme_type")} if record.get("aweme_type") else {}
    )
    if is_image and images:
        extra["pictures"] = images
    posted = post(
        DOUYIN, aweme_id, post_time(record.get("create_time"), at), at, text,
        {
            "likes": _count(record, "liked_count"), "comments": _count(record, "comment_count"),
            "shares": _count(record, "share_count"), "collects": _count(record, "collected_count"),
            "account_id": owner, "media_type": "image" if is_image else "video",
            "pic_count": len(images) if is_image else None,
            "region": record.get("ip_location") or None,
            "url": f"https://www.douyin.com/{'note' if is_image else 'video'}/{aweme_id}",
            "extra": extra,
        },
        douyin_topics(text),
    )  # fmt: skip
    named = {k: str(v) for k, v in handles.items() if v not in (None, "", "0", "None")}
    return [*account(DOUYIN, owner, record.get("nickname"), at, extra=named), posted]


def _douyin_comment(record: Record, context: Context) -> list[Item]:
    at = context.crawl_time(record.get("last_modify_ts"))
    comment_id = id_text(record.get("comment_id"), "comment_id", context.path)
    parent = record.get("parent_comment_id")
    root = None if parent in _TOP_LEVEL else str(parent)
    return [
        CommentItem(
            platform=DOUYIN,
            comment_id=comment_id,
            post_id=id_text(record.get("aweme_id"), "aweme_id", context.path),
            observed_at=at.isoformat(),
            parent_id=root,
            root_id=root or comment_id,
            author_id=record.get("sec_uid") or _text(record.get("user_id")),
            author_name=record.get("nickname") or None,
            created_at=epoch_time(record.get("create_time")),
            text=str(record.get("content") or ""),
            likes=parse_count(_count(record, "like_count")),
            replies=parse_count(_count(record, "sub_comment_count")),
            region=record.get("ip_location") or None,
        )
    ]


def _count(record: Record, key: str) -> object:
    """A count as MediaCrawler wrote it; "None" where the platform gave none (it writes
    str(statistics.get(...)))."""
    value = record.get(key)
    return None if value == "None" else value


def _uid(value: object, context: Context) -> str | None:
    if value in (None, "", "None"):
        return None
    return numeric_id(id_text(value, "user_id", context.path), "user_id")


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


_CONVERT = {
    (WEIBO, POSTS): _weibo_note,
    (WEIBO, COMMENTS): _weibo_comment,
    (DOUYIN, POSTS): _douyin_aweme,
    (DOUYIN, COMMENTS): _douyin_comment,
}
WEIBO_FORMAT = Format("mediacrawler-weibo", WEIBO, (POSTS, COMMENTS), _opener(WEIBO))
DOUYIN_FORMAT = Format("mediacrawler-douyin", DOUYIN, (POSTS, COMMENTS), _opener(DOUYIN))
