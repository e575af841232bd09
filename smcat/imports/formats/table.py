"""A plain table of posts or comments (CSV, XLSX or JSON Lines), a colleague's spreadsheet or
another tool's export: its columns named by smcat's own field names, or mapped to them by a
mapping file (TOML, as for `import streamers`):

    platform = "weibo"          # unless the table has a platform column
    [columns]
    "微博ID" = "post_id"
    "发布时间" = "created_at"

Weibo post ids may be the numeric mid or the short bid (stored as the mid, as crawled posts
are); times are read as the crawler reads them (a date alone is its midnight, and says so);
counts as it reads them (1.2万, "10万+").
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from crawler.items import CommentItem, Item
from crawler.parsers.common import numeric_id
from crawler.parsers.weibo_posts import mid_from_bid
from smcat.errors import SettingError
from smcat.imports.formats.base import (
    COMMENTS,
    DOUYIN,
    POSTS,
    WEIBO,
    Context,
    Format,
    PostRow,
    Reader,
    account,
    douyin_topics,
    post_row,
    weibo_topics,
)
from smcat.imports.sources import (
    ImportFileError,
    Record,
    chained,
    csv_records,
    id_text,
    jsonl_records,
    listed,
    post_time,
    xlsx_records,
)
from smcat.imports.streamers import Layout, load_mapping
from smcat.units import parse_count

NAME = "table"
POST_FIELDS = (
    "platform", "post_id", "account_id", "screen_name", "text", "created_at", "observed_at",
    "likes", "comments", "reposts", "shares", "collects", "plays", "topics", "region", "url",
    "media_type", "source",
)  # fmt: skip
COMMENT_FIELDS = (
    "platform", "comment_id", "post_id", "parent_id", "author_id", "author_name", "created_at",
    "observed_at", "text", "likes", "replies", "region",
)  # fmt: skip
_FIELDS = {POSTS: POST_FIELDS, COMMENTS: COMMENT_FIELDS}
_REQUIRED = {POSTS: ("post_id", "created_at"), COMMENTS: ("comment_id", "post_id")}
PLATFORMS = (WEIBO, DOUYIN)


def open_file(path: Path, kind: str, encoding: str | None, mapping: Path | None) -> Reader:
    """A table of posts or comments, its columns as the mapping names them (else as smcat
    names its fields)."""
    fields = _FIELDS[kind]
    layout = load_mapping(mapping, fields) if mapping else Layout(NAME, {f: f for f in fields})
    header, rows = _rows(path, encoding)
    fields_of = [layout.columns.get(h, "") for h in header]
    headers = {field: h for h, field in zip(header, fields_of, strict=True) if field}
    if missing := [field for field in _REQUIRED[kind] if field not in headers]:
        raise ImportFileError(
            f"{path}: no column holds {missing[0]!r} (the file's columns: {', '.join(header)}): "
            "name the columns by smcat's fields, or map them with a mapping file"
        )
    if "platform" not in headers and layout.platform not in PLATFORMS:
        raise SettingError(
            f"{path}: say which platform the rows are from: a platform column, or platform = "
            f"{' or '.join(map(repr, PLATFORMS))} in a mapping file",
            mapping=None,
        )
    if any(field != h for field, h in headers.items()):
        rows = ((n, {f: row.get(h, "") for f, h in headers.items()}) for n, row in rows)
    if kind == COMMENTS:
        return Reader(
            rows,
            lambda record, context: _comment(record, layout.platform, context),
            own_time="observed_at" in headers,
        )
    named: set[str] = set()  # the accounts the file has named so far
    return Reader(
        rows,
        lambda record, context: _post(record, layout.platform, context, named),
        own_time="observed_at" in headers,
    )


def _rows(path: Path, encoding: str | None) -> tuple[list[str], Iterator[tuple[int, Record]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return csv_records(path, encoding)
    if suffix == ".xlsx":
        return xlsx_records(path)
    if suffix == ".jsonl":
        records = jsonl_records(path, encoding)
        first = next(records, None)
        if first is None:
            return [], iter(())
        return list(first[1]), chained(first, records)
    raise ImportFileError(f"{path}: a table is .csv, .xlsx or .jsonl: name the file so")


def _post(record: Record, platform: str, context: Context, named: set[str]) -> list[Item | PostRow]:
    at = context.crawl_time(record.get("observed_at"))
    platform = _platform(record, platform)
    post_id = _post_id(record.get("post_id"), platform, context)
    text = str(record.get("text") or "")
    listed_topics = listed(record.get("topics"))
    topics = (
        weibo_topics(text, listed_topics)
        if platform == WEIBO
        else list(dict.fromkeys([*listed_topics, *douyin_topics(text)]))
    )
    owner = str(record.get("account_id") or "") or None
    record["account_id"] = owner  # the record is this call's own
    posted = post_row(platform, post_id, post_time(record.get("created_at"), at), at, text, record,
                  topics)  # fmt: skip
    if owner is None or owner in named:
        return [posted]
    named.add(owner)
    return [*account(platform, owner, record.get("screen_name"), at), posted]


def _comment(record: Record, platform: str, context: Context) -> list[Item]:
    at = context.crawl_time(record.get("observed_at"))
    platform = _platform(record, platform)
    comment_id = id_text(record.get("comment_id"), "comment_id", context.path)
    parent = str(record.get("parent_id") or "") or None
    created = record.get("created_at")
    return [
        CommentItem(
            platform=platform,
            comment_id=comment_id,
            post_id=_post_id(record.get("post_id"), platform, context),
            observed_at=at.isoformat(),
            parent_id=parent,
            root_id=parent or comment_id,
            author_id=str(record.get("author_id") or "") or None,
            author_name=str(record.get("author_name") or "") or None,
            created_at=post_time(created, at).at if created else None,
            text=str(record.get("text") or ""),
            likes=parse_count(record.get("likes")),
            replies=parse_count(record.get("replies")),
            region=str(record.get("region") or "") or None,
        )
    ]


def _platform(record: Record, default: str) -> str:
    return _platform_named(str(record.get("platform") or default))


@functools.lru_cache(maxsize=64)
def _platform_named(name: str) -> str:
    """A platform as a table names it ("Weibo "), checked; a file names a few, read once."""
    platform = name.strip().lower()
    if platform not in PLATFORMS:
        raise ValueError(f"platform {platform!r} is none of {', '.join(PLATFORMS)}")
    return platform


def _post_id(value: object, platform: str, context: Context) -> str:
    """A post's id as the crawler keys it: a Weibo bid becomes its numeric mid."""
    if type(value) is str and value.isascii() and value.isdigit():
        return value  # the common case: an id as the crawler keys it already
    text = id_text(value, "post_id", context.path)
    if platform == WEIBO and not text.isdigit():
        return mid_from_bid(text)
    return numeric_id(text, "post_id")


FORMAT = Format(NAME, "", (POSTS, COMMENTS), open_file)
