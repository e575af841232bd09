"""The posts of a plain table go to the writer as store rows, not items
(`smcat.imports.formats.base.post_row`, bench/bench_import_posts.py): what is stored must be
exactly what the items' path (`post`, `ItemWriter.add`) stores, every table, field by field."""

from __future__ import annotations

import csv
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pytest

import smcat.imports.formats.table as table_format
from crawler.items import PostItem
from crawler.parsers.common import CHINA, PostTime
from smcat.imports.formats.base import post, post_row
from smcat.imports.posts import import_posts
from smcat.store import Store
from smcat.units import SECOND

HEADER = ("platform", "post_id", "account_id", "screen_name", "created_at", "text", "likes",
          "comments", "reposts", "plays", "topics", "observed_at")  # fmt: skip
CRAWLED = "2025-11-25 09:00:00"
ROWS = [
    # 万 counts, "10万+", listed topics and a #topic# and an @mention in the text
    ("weibo", "5210003412800001", "5001000001", "澜蔻官方", "2025-10-08 20:15:00",
     "#秋冬护肤# 新品上市 @澜蔻护肤小助手 @小红", "1.2万", "10万+", "3", "", "秋冬护肤,新品",
     CRAWLED),
    # a bid for the id, a date-only time, counts left empty
    ("weibo", "Q1aBcDeFg", "5001000001", "澜蔻官方", "2025-10-08", "只有日期的一条", "", "",
     "", "", "", CRAWLED),
    # the same post again, other text: the first is kept, observed once
    ("weibo", "5210003412800001", "5001000001", "澜蔻官方", "2025-10-08 20:15:00", "改过的",
     "9", "9", "9", "", "", CRAWLED),
    # a relative time, read against the row's own crawl time
    ("Weibo ", "5210003412800002", "5001000002", "", "3小时前", "转发 @澜蔻官方", "5k", "0",
     "1", "", "", "2025-11-26 10:00:00"),
    # Douyin: an epoch time, hashtags from the text, plays
    ("douyin", "7300000000000000001", "MS4wLjABAAAA", "澜蔻抖音", "1732000000",
     "#春季新品 #护肤 好用", "2w", "30", "", "1.5亿", "", CRAWLED),
    # rejected: no time, a count that is none, a platform that is none, no id
    ("weibo", "5210003412800003", "5001000001", "", "", "没有时间", "1", "1", "1", "", "",
     CRAWLED),
    ("weibo", "5210003412800004", "5001000001", "", "2025-10-09 08:00:00", "坏的计数", "很多",
     "1", "1", "", "", CRAWLED),
    ("twitter", "5210003412800005", "5001000001", "", "2025-10-09 08:00:00", "别的平台", "1",
     "1", "1", "", "", CRAWLED),
    ("weibo", "", "5001000001", "", "2025-10-09 08:00:00", "没有id", "1", "1", "1", "", "",
     CRAWLED),
    # an impossible date and a count too large for SQLite
    ("weibo", "5210003412800006", "5001000003", "", "2025-02-30 08:00:00", "二月三十日", "1",
     "1", "1", "", "", CRAWLED),
    ("weibo", "5210003412800007", "5001000003", "", "2025-10-09 08:00:00", "太大",
     "99999999999999999999", "1", "1", "", "", CRAWLED),
    # no account
    ("weibo", "5210003412800008", "", "", "2025-10-10 09:30:00", "#话题#没有账号", "0", "0",
     "0", "", "", CRAWLED),
]  # fmt: skip
# what differs between two imports of one file whatever the path: the clock
CLOCK = {"first_seen_at", "updated_at", "rejected_at", "started_at", "ended_at"}
TABLES = ("crawls", "rejects", "accounts", "account_snapshots", "posts", "post_observations",
          "post_topics", "post_mentions")  # fmt: skip


def stored(store: Store) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes, without the clock's columns."""
    tables = {}
    for name in TABLES:
        columns = [
            row[1]
            for row in store.connection.execute(f"PRAGMA table_info({name})")
            if row[1] not in CLOCK
        ]
        tables[name] = store.connection.execute(
            f"SELECT {', '.join(columns)} FROM {name} ORDER BY {', '.join(columns[:3])}"
        ).fetchall()
    return tables


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(ROWS)
    return path


def test_rows_store_exactly_what_items_store(
    mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(tmp_path / "rows.db") as store:
        [fast] = import_posts(store, [mixed], "table")
        by_rows = stored(store)
        precisions = dict(
            store.connection.execute("SELECT post_id, created_at_precision FROM posts")
        )
    # the items' path: the same conversion, made a PostItem and given to ItemWriter.add
    monkeypatch.setattr(table_format, "post_row", post)
    with Store.open(tmp_path / "items.db") as store:
        [general] = import_posts(store, [mixed], "table")
        by_items = stored(store)
    assert by_rows == by_items
    assert (fast.stored, fast.accounts, fast.rejected, fast.refused) == (
        general.stored,
        general.accounts,
        general.rejected,
        general.refused,
    )
    # and the fixture holds what it is meant to: each kind of value, each kind of reject
    assert len(by_rows["posts"]) == 5
    assert len(fast.rejected) + len(fast.refused) == 6
    assert {row[2] for row in by_rows["post_topics"]} == {"秋冬护肤", "新品", "话题", "春季新品",
                                                           "护肤"}  # fmt: skip
    assert {row[2] for row in by_rows["post_mentions"]} == {"澜蔻护肤小助手", "小红", "澜蔻官方"}
    observed = {row[1]: row[3:9] for row in by_rows["post_observations"]}
    assert observed["5210003412800001"][:3] == (12_000, 100_000, 3)
    assert observed["7300000000000000001"][5] == 150_000_000
    assert precisions[table_format.mid_from_bid("Q1aBcDeFg")] == "day"


def test_a_post_row_holds_each_field_of_a_post_item_as_the_item_would() -> None:
    at = datetime(2025, 11, 25, 9, tzinfo=CHINA)
    row = post_row("weibo", "1", PostTime("2025-10-08T20:15:00+08:00", SECOND), at, "正文", {}, [])
    item = PostItem(platform="weibo", post_id="1", created_at="2025-10-08T20:15:00+08:00",
                    observed_at=at.isoformat())  # fmt: skip
    assert set(row) == {f.name for f in fields(PostItem)} - {"via_repost"}
    # what no export says is what an item holds unsaid; but is_pinned (unknown, not "no")
    # and extra (nothing to say: the store keeps what a crawl kept)
    unsaid = {name: value for name, value in vars(item).items() if name in row}
    assert {k: v for k, v in row.items() if k not in unsaid or unsaid[k] != v} == {
        "created_at_precision": SECOND, "text": "正文", "is_pinned": None, "extra": None,
    }  # fmt: skip
