"""What every import format shares: how a format reads a file (`Reader`), the context a record
is read in (`Context`), and posts and accounts built as the crawler's parsers build them."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.items import AccountItem, Item, PostItem
from crawler.parsers.common import PostTime, count_of, mentions_in, topics_in
from crawler.parsers.douyin_common import PLATFORM as DOUYIN
from crawler.parsers.weibo_posts import PLATFORM as WEIBO
from smcat.errors import SettingError
from smcat.imports.sources import Record, observed_time

POSTS, COMMENTS = "posts", "comments"
# Douyin's hashtags as its text writes them ("#春季新品 #护肤"): the crawler reads them from
# text_extra, which the tools' exports do not keep; these are the same names
_DOUYIN_HASHTAG = re.compile(r"#([^\s#@]{1,64})")


@dataclass(frozen=True)
class Context:
    """What a record is read with: its file, and the crawl time given for records that do not
    carry their own."""

    path: Path
    observed_at: datetime | None = None

    def crawl_time(self, own: object = None) -> datetime:
        """The record's own crawl time if it has one, else the one given; ValueError if
        neither."""
        if own not in (None, ""):
            try:
                return observed_time(own)
            except ValueError:
                raise ValueError(f"crawl time {own!r} is no time") from None
        if self.observed_at is None:
            raise ValueError("the record has no crawl time: give the time the file was crawled")
        return self.observed_at


PostRow = dict[str, Any]
"""A post as the store takes it: a PostItem's fields by name, but `via_repost`."""


Convert = Callable[[Record, Context], Sequence[Item | PostRow]]


@dataclass
class Reader:
    """A file opened for import: its records (numbered as the file counts them), how one is
    read into items (ValueError for a record that cannot be), and whether records carry their
    own crawl time."""

    records: Iterator[tuple[int, Record]]
    convert: Convert
    own_time: bool = False
    notes: list[str] = field(default_factory=list)


Open = Callable[[Path, str, str | None, Path | None], Reader]
"""path, kind (POSTS or COMMENTS), encoding, mapping file -> Reader; ImportFileError for a
file that cannot be imported."""


@dataclass(frozen=True)
class Format:
    """An outside tool's output: its name on the command line, the platform it holds ("" for
    either), whether it holds posts or comments or both, and how to open a file of it."""

    name: str
    platform: str
    kinds: tuple[str, ...]
    open: Open


def require_time(reader: Reader, context: Context) -> None:
    """SettingError before anything is written, if neither the records nor the caller give
    the crawl time."""
    if not reader.own_time and context.observed_at is None:
        raise SettingError(
            f"{context.path}: the file does not record when it was crawled: give that time "
            "(e.g. 2025-11-20T18:00+08:00), from the crawler's log or the file's date",
            observed_at=None,
        )


@functools.lru_cache(maxsize=256)
def iso(moment: datetime) -> str:
    """A crawl time as the items carry it: the rows of a file share a few, spelled once each."""
    return moment.isoformat()


_EMPTY = (None, "")


def _count(value: object, name: str) -> int | None:
    """count_of, with the cells most files are made of read at once: plain digits (a third
    of bench/bench_import_posts.py's time went to the general reading). Callers pass over
    the empty ones themselves: most files leave half the counts out."""
    if type(value) is str and len(value) < 19 and value.isascii() and value.isdigit():
        return int(value)
    return count_of(value, name)


def weibo_topics(text: str, listed: Iterable[str] = ()) -> list[str]:
    """A Weibo post's topics as the crawler gathers them: those the tool listed, then the
    #topics# of the text."""
    found = topics_in(text)
    return list(dict.fromkeys([*listed, *found])) if listed else found


def douyin_topics(text: str) -> list[str]:
    """A Douyin post's hashtags, from its text."""
    return list(dict.fromkeys(_DOUYIN_HASHTAG.findall(text)))


def weibo_url(account_id: str | None, bid: str | None, post_id: str) -> str | None:
    """A Weibo post's address, as the crawler writes it."""
    return f"https://weibo.com/{account_id}/{bid or post_id}" if account_id else None


def post_row(
    platform: str,
    post_id: str,
    created: PostTime,
    observed_at: datetime,
    text: str,
    values: Mapping[str, Any],
    topics: list[str],
) -> PostRow:
    """A post, its counts and topics; its mentions from the text, as the crawler reads them.
    `values` holds the counts (likes, comments, reposts, shares, collects, plays) and the
    other PostItem fields by name. `extra` is None where the record has nothing to say there:
    the store writes {} over what a crawl kept (a post's pictures) and keeps it for None.
    (Each field named, not merged dicts, and no item: this runs once a row,
    bench/bench_import_posts.py.)"""
    get = values.get
    return {
        "platform": platform,
        "post_id": post_id,
        "created_at": created.at,
        "created_at_precision": created.precision,
        "observed_at": iso(observed_at),
        "account_id": get("account_id"),
        "text": text,
        "is_repost": get("is_repost", False),
        "origin_post_id": get("origin_post_id"),
        "media_type": get("media_type") or None,
        "pic_count": get("pic_count"),
        "video_seconds": None,
        "source": get("source") or None,
        "region": get("region") or None,
        "url": get("url") or None,
        "is_long_text": False,
        "is_pinned": None,  # no tool's export says
        "likes": None if (n := get("likes")) in _EMPTY else _count(n, "likes"),
        "comments": None if (n := get("comments")) in _EMPTY else _count(n, "comments"),
        "reposts": None if (n := get("reposts")) in _EMPTY else _count(n, "reposts"),
        "shares": None if (n := get("shares")) in _EMPTY else _count(n, "shares"),
        "collects": None if (n := get("collects")) in _EMPTY else _count(n, "collects"),
        "plays": None if (n := get("plays")) in _EMPTY else _count(n, "plays"),
        "topics": topics,
        "mentions": mentions_in(text),
        "extra": get("extra") or None,
    }


def post(
    platform: str,
    post_id: str,
    created: PostTime,
    observed_at: datetime,
    text: str,
    values: Mapping[str, Any],
    topics: list[str],
) -> PostItem:
    """`post_row` as an item, for formats that mark it further (a repost's original)."""
    row = post_row(platform, post_id, created, observed_at, text, values, topics)
    row["extra"] = row["extra"] or {}
    return PostItem(**row)


def account(
    platform: str, account_id: str | None, name: str | None, observed_at: datetime, **fields: Any
) -> list[Item]:
    """The account a record names, if it names one."""
    if not account_id:
        return []
    item = AccountItem(
        platform=platform,
        account_id=account_id,
        observed_at=iso(observed_at),
        screen_name=name or None,
        **fields,
    )
    return [item]


__all__ = ["DOUYIN", "WEIBO"]
