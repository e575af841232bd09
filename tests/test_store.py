"""Tests for smcat.store: schema and migrations, refusing bad files, upserts, rejects, reads."""

from __future__ import annotations

import gc
import gzip
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest

import smcat
from smcat.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    Store,
    StoreError,
    WriteResult,
)

CST = timezone(timedelta(hours=8))
CREATED = "2025-01-01T10:00:00+08:00"
SEEN_1 = "2025-01-02T10:00:00+08:00"
SEEN_2 = "2025-01-03T10:00:00+08:00"
LATER = "2030-01-01T00:00:00+08:00"


def post(post_id: object = "p1", **fields: object) -> dict:
    """A Weibo post as a parser yields it; fields override or add."""
    row = {"platform": "weibo", "post_id": post_id, "account_id": "a1", "created_at": CREATED}
    row.update(fields)
    return row


def select(store: Store, sql: str, *params: object) -> list[tuple]:
    return store.connection.execute(sql, params).fetchall()


def one(store: Store, sql: str, *params: object) -> tuple:
    found = select(store, sql, *params)
    assert len(found) == 1, found
    return found[0]


def rejects(store: Store) -> list[tuple]:
    return select(store, "SELECT kind, reason, payload, crawl_id FROM rejects ORDER BY id")


def file_state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def assert_one_line_error(error: pytest.ExceptionInfo[StoreError], *words: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "project.db"


@pytest.fixture
def store(db_path: Path):
    with Store.open(db_path) as opened:
        yield opened


# -- opening -------------------------------------------------------------------------------


def test_open_creates_schema_in_wal_mode(store: Store, db_path: Path):
    assert db_path.exists()
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert one(store, "PRAGMA user_version") == (SCHEMA_VERSION,)
    assert one(store, "PRAGMA journal_mode") == ("wal",)
    assert one(store, "PRAGMA page_size") == (16384,)
    names = {name for (name,) in select(store, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(TABLES) <= names


def test_open_creates_missing_parent_folders(tmp_path: Path):
    path = tmp_path / "a" / "b" / "project.db"
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert path.is_file()


def test_reopen_keeps_data_and_does_not_migrate_again(db_path: Path, monkeypatch):
    with Store.open(db_path) as store:
        store.upsert_posts([post(text="kept")])
        schema = select(store, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    # if migration 1 ran again, this script would fail and open would raise StoreError
    monkeypatch.setattr("smcat.store.schema.MIGRATIONS", ("THIS IS NOT SQL;",))
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert select(store, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
        assert select(store, "SELECT post_id, text FROM posts") == [("p1", "kept")]


def test_reopen_runs_only_the_new_migrations(db_path: Path, monkeypatch):
    with Store.open(db_path) as store:
        store.upsert_posts([post()])
    monkeypatch.setattr(
        "smcat.store.schema.MIGRATIONS", (*MIGRATIONS, "CREATE TABLE added_later (x INTEGER);")
    )
    monkeypatch.setattr("smcat.store.schema.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION + 1
        assert one(store, "SELECT count(*) FROM added_later") == (0,)
        assert store.count("posts") == 1


def empty_sqlite_file(path: Path) -> None:
    """An SQLite file with a header but no tables (what `sqlite3 file ''` leaves behind)."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE scratch (x)")
    connection.execute("DROP TABLE scratch")
    connection.close()


def test_open_migrates_an_empty_sqlite_file(db_path: Path):
    empty_sqlite_file(db_path)
    assert db_path.stat().st_size > 0
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.count("posts") == 0
        assert one(store, "PRAGMA page_size") == (4096,)  # an existing file keeps its pages


@pytest.mark.parametrize("readonly", [False, True])
def test_open_refuses_a_file_that_is_not_sqlite(tmp_path: Path, readonly: bool):
    path = tmp_path / "posts.csv"
    path.write_text("platform,post_id\nweibo,1\n", encoding="utf-8")
    before = file_state(path)
    with pytest.raises(StoreError) as error:
        Store.open(path, readonly=readonly)
    assert_one_line_error(error, "not an SQLite database", "a new file name")
    assert error.value.settings == {"db": None}  # the fix: another database
    assert file_state(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.csv"]


@pytest.mark.parametrize("readonly", [False, True])
def test_open_refuses_a_newer_schema(db_path: Path, readonly: bool):
    connection = sqlite3.connect(db_path)
    connection.execute("CREATE TABLE posts (post_id TEXT)")
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()
    before = file_state(db_path)
    with pytest.raises(StoreError) as error:
        Store.open(db_path, readonly=readonly)
    assert_one_line_error(error, f"schema version {SCHEMA_VERSION + 1}", "upgrade smcat")
    assert file_state(db_path) == before
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
    connection.close()


def test_open_readonly_refuses_a_missing_file(db_path: Path):
    with pytest.raises(StoreError) as error:
        Store.open(db_path, readonly=True)
    assert_one_line_error(error, "no database at", "name another file")
    assert error.value.settings == {"db": None}  # the fix: another database
    assert not db_path.exists()


def test_open_readonly_reads_without_writing(db_path: Path):
    with Store.open(db_path) as store:
        store.upsert_posts([post(text="hello", observed_at=SEEN_1, likes=3)])
    before = file_state(db_path)
    with Store.open(db_path, readonly=True) as store:
        info = store.info()
        assert info.row_counts["posts"] == 1
        assert info.row_counts["post_observations"] == 1
        assert [row[4] for row in store.iter_rows("posts")] == ["hello"]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.upsert_posts([post("p2")])
    assert file_state(db_path) == before


def test_open_readonly_does_not_migrate(db_path: Path):
    empty_sqlite_file(db_path)
    before = file_state(db_path)
    with Store.open(db_path, readonly=True) as store:
        assert store.schema_version == 0
        assert select(store, "SELECT name FROM sqlite_master") == []
        info = store.info()
    assert info.row_counts == dict.fromkeys(TABLES, 0) and info.crawls == []
    assert file_state(db_path) == before


def test_an_sqlite_database_of_another_tool_is_refused_and_left_alone(db_path: Path):
    sqlite3.connect(db_path).execute("CREATE TABLE scratch (x)").connection.close()
    before = db_path.read_bytes()
    for readonly in (True, False):
        with pytest.raises(StoreError, match="not an smcat one") as error:
            Store.open(db_path, readonly=readonly)
        assert "\n" not in str(error.value)
    assert db_path.read_bytes() == before


# -- posts ---------------------------------------------------------------------------------


def test_upsert_posts_updates_on_the_natural_key(store: Store):
    first = store.upsert_posts([post(text="v1", region="北京", pic_count=2, is_pinned=True)])
    assert (first.stored, first.rejected) == (1, 0)
    (first_seen, updated) = one(store, "SELECT first_seen_at, updated_at FROM posts")
    assert first_seen is not None and updated is not None

    second = store.upsert_posts(
        [post(text="v2", pic_count=None, first_seen_at=LATER, updated_at=LATER)]
    )
    assert (second.stored, second.rejected) == (1, 0)
    assert store.count("posts") == 1
    row = one(
        store,
        "SELECT text, region, pic_count, is_pinned, first_seen_at, updated_at FROM posts",
    )
    # text is updated; fields the later row lacks keep their values; first_seen_at is kept
    assert row == ("v2", "北京", 2, 1, first_seen, LATER)


def test_upsert_posts_keys_on_platform_too(store: Store):
    store.upsert_posts([post("1", text="weibo"), post("1", platform="douyin", text="douyin")])
    assert select(store, "SELECT platform, text FROM posts ORDER BY platform") == [
        ("douyin", "douyin"),
        ("weibo", "weibo"),
    ]


def test_observations_are_a_time_series(store: Store):
    store.upsert_posts([post(observed_at=SEEN_1, likes=10, comments=1)])
    store.upsert_posts([post(observed_at=SEEN_2, likes=20, comments=2)])
    # the same observed_at again: the first observation stays
    store.upsert_posts([post(observed_at=SEEN_1, likes=999, comments=999)])
    assert store.count("posts") == 1
    assert select(
        store, "SELECT observed_at, likes, comments FROM post_observations ORDER BY observed_at"
    ) == [(SEEN_1, 10, 1), (SEEN_2, 20, 2)]


def test_post_without_observed_at_adds_no_observation(store: Store):
    result = store.upsert_posts([post(text="no counts")])
    assert result.stored == 1
    assert store.count("posts") == 1
    assert store.count("post_observations") == 0


def test_counts_written_as_platforms_write_them(store: Store):
    store.upsert_posts(
        [
            post(
                observed_at=SEEN_1,
                likes="1.2万",
                comments="100万+",
                reposts="5k",
                shares="1,234",
                collects=7,
                plays=" 3亿 ",
            )
        ]
    )
    row = one(
        store,
        "SELECT likes, comments, reposts, shares, collects, plays, typeof(likes)"
        " FROM post_observations",
    )
    assert row == (12_000, 1_000_000, 5_000, 1_234, 7, 300_000_000, "integer")


def test_topics_and_mentions_are_stored_once(store: Store):
    store.upsert_posts(
        [post(topics=["护肤", "新品", "护肤"], mentions=["品牌官微", "品牌官微"]), post("p2")]
    )
    store.upsert_posts([post(topics=["护肤", "彩妆"], mentions=["达人"])])
    assert select(store, "SELECT post_id, value FROM post_topics ORDER BY value") == [
        ("p1", "彩妆"),
        ("p1", "护肤"),
        ("p1", "新品"),
    ]
    assert select(store, "SELECT post_id, value FROM post_mentions ORDER BY value") == [
        ("p1", "品牌官微"),
        ("p1", "达人"),
    ]


def test_crawl_id_is_recorded_on_posts_observations_and_rejects(store: Store):
    crawl_id = store.start_crawl("weibo_user", {"uid": "1"})
    result = store.upsert_posts(
        [post(observed_at=SEEN_1, likes=1, crawl_id=12345), post("bad", created_at="soon")],
        crawl_id=crawl_id,
    )
    assert (result.stored, result.rejected) == (1, 1)
    assert one(store, "SELECT crawl_id FROM posts") == (crawl_id,)
    assert one(store, "SELECT crawl_id FROM post_observations") == (crawl_id,)
    assert [r[3] for r in rejects(store)] == [crawl_id]


def test_posts_outside_a_crawl_keep_their_own_crawl_id(store: Store):
    store.upsert_posts([post(observed_at=SEEN_1, crawl_id=7)])
    assert one(store, "SELECT crawl_id FROM posts") == (7,)
    assert one(store, "SELECT crawl_id FROM post_observations") == (7,)
    # a later row without a crawl keeps the crawl that first saw the post
    store.upsert_posts([post(text="again")])
    assert one(store, "SELECT crawl_id, text FROM posts") == (7, "again")


BAD_POSTS = [
    pytest.param(
        {"post_id": None, "text": "无编号的帖子"}, "post_id", "无编号的帖子", id="no-post-id"
    ),
    pytest.param({"post_id": "", "text": "空编号"}, "post_id", "空编号", id="empty-post-id"),
    pytest.param({"platform": None}, "platform", "bad", id="no-platform"),
    pytest.param({"created_at": None}, "created_at", "bad", id="no-created-at"),
    pytest.param({"created_at": "yesterday-ish"}, "created_at", "bad", id="unparseable-time"),
    pytest.param({"created_at": "2025-01-01T10:00:00"}, "created_at", "bad", id="naive-time"),
    pytest.param(
        {"created_at": datetime(2025, 1, 1, 10, 0)}, "created_at", "bad", id="naive-datetime"
    ),
    pytest.param({"observed_at": SEEN_1, "likes": "lots"}, "likes", "bad", id="count-lots"),
    pytest.param({"observed_at": SEEN_1, "shares": True}, "shares", "bad", id="count-bool"),
    pytest.param({"pic_count": False}, "pic_count", "bad", id="pic-count-bool"),
    pytest.param({"likes": 5, "comments": 2}, "observed_at", "bad", id="counts-no-observed-at"),
    pytest.param({"observed_at": "noon", "likes": 5}, "observed_at", "bad", id="bad-observed-at"),
    pytest.param({"is_repost": "yes"}, "is_repost", "bad", id="flag-yes"),
    pytest.param({"video_seconds": "long"}, "video_seconds", "bad", id="real-long"),
]


@pytest.mark.parametrize(("fields", "column", "in_payload"), BAD_POSTS)
def test_bad_post_is_rejected_and_the_rest_stored(store: Store, fields, column, in_payload):
    rows = [
        post("good1", observed_at=SEEN_1, likes=1, topics=["ok"]),
        {**post("bad", topics=["from-bad-row"]), **fields},
        post("good2", observed_at=SEEN_1, likes=2),
    ]
    result = store.upsert_posts(rows)
    assert isinstance(result, WriteResult)
    assert (result.stored, result.rejected) == (2, 1)
    assert len(result.reasons) == 1 and column in result.reasons[0]
    assert [r[0] for r in select(store, "SELECT post_id FROM posts ORDER BY post_id")] == [
        "good1",
        "good2",
    ]
    assert store.count("post_observations") == 2
    assert select(store, "SELECT value FROM post_topics") == [("ok",)]
    [(kind, reason, payload, crawl_id)] = rejects(store)
    assert kind == "posts"
    assert reason == result.reasons[0]
    assert crawl_id is None
    assert in_payload in json.loads(payload).values()
    assert one(store, "SELECT rejected_at IS NOT NULL FROM rejects") == (1,)


def test_every_bad_row_of_a_batch_is_rejected(store: Store):
    rows = [{**post(f"bad{i}"), **case.values[0]} for i, case in enumerate(BAD_POSTS)]
    result = store.upsert_posts([*rows, post("good")])
    assert (result.stored, result.rejected) == (1, len(BAD_POSTS))
    assert store.count("rejects") == len(BAD_POSTS)
    assert store.count("posts") == 1


def test_slow_path_values_are_stored_like_fast_path_values(store: Store):
    common = {"first_seen_at": CREATED, "updated_at": CREATED, "observed_at": SEEN_1}
    fast = post(
        "fast",
        text="同一条",
        is_repost=False,
        is_long_text=True,
        pic_count=3,
        video_seconds=12.5,
        extra='{"k": 1}',
        likes=12000,
        comments=None,
        **common,
    )
    slow = post(
        "slow",
        text="同一条",
        is_repost=0,
        is_long_text=1,
        pic_count="3",
        video_seconds="12.5",
        extra={"k": 1},
        likes="1.2万",
        comments="",
        **{**common, "created_at": datetime(2025, 1, 1, 10, 0, tzinfo=CST)},
    )
    assert store.upsert_posts([fast, slow]).stored == 2
    posts = select(store, "SELECT * FROM posts ORDER BY post_id")
    observations = select(store, "SELECT * FROM post_observations ORDER BY post_id")
    assert [r[1] for r in posts] == ["fast", "slow"]
    assert posts[0][2:] == posts[1][2:]
    assert observations[0][2:] == observations[1][2:]
    types = select(
        store,
        "SELECT DISTINCT typeof(is_repost), typeof(pic_count), typeof(video_seconds) FROM posts",
    )
    assert types == [("integer", "integer", "real")]


def test_slow_path_converts_ids_to_text(store: Store):
    store.upsert_posts([post(5012345678901234, account_id=1001, observed_at=SEEN_1, likes=1)])
    assert one(store, "SELECT post_id, account_id, typeof(post_id) FROM posts") == (
        "5012345678901234",
        "1001",
        "text",
    )
    # the same post with a string id is the same row
    store.upsert_posts([post("5012345678901234", text="now with text")])
    assert store.count("posts") == 1


# -- large batches -------------------------------------------------------------------------


def many_posts(n: int, *, text: str = "t", observed_at: str = SEEN_1):
    for i in range(n):
        yield post(
            f"p{i:05d}",
            text=f"{text}{i}",
            observed_at=observed_at,
            likes=i,
            comments=str(i),
            topics=[f"topic{i}"],
        )


@pytest.mark.parametrize("n", [2_500, 2_537])
def test_large_batch_stores_every_row_once(store: Store, n: int):
    result = store.upsert_posts(many_posts(n))
    assert (result.stored, result.rejected) == (n, 0)
    for table in ("posts", "post_observations", "post_topics"):
        assert store.count(table) == n
    assert one(store, "SELECT count(DISTINCT post_id) FROM post_observations") == (n,)
    for i in {0, 98, 99, 100, 101, 199, 200, 2_499, n - 1}:
        pid = f"p{i:05d}"
        assert one(store, "SELECT text FROM posts WHERE post_id = ?", pid) == (f"t{i}",)
        assert one(
            store, "SELECT likes, comments FROM post_observations WHERE post_id = ?", pid
        ) == (i, i)
        assert one(store, "SELECT value FROM post_topics WHERE post_id = ?", pid) == (f"topic{i}",)

    # the same batch again, rewritten: updated in place, observations at the same time ignored
    again = store.upsert_posts(many_posts(n, text="u"))
    assert again.stored == n
    assert store.count("posts") == n
    assert store.count("post_observations") == n
    for i in (0, 99, 100, 2_499, n - 1):
        assert one(store, "SELECT text FROM posts WHERE post_id = ?", f"p{i:05d}") == (f"u{i}",)

    # a later observation adds a second row per post
    store.upsert_posts(many_posts(n, observed_at=SEEN_2))
    assert store.count("post_observations") == 2 * n


def test_duplicates_within_one_batch_upsert_across_statements(store: Store):
    rows = [post(f"p{i}", text=f"old{i}", region="广东") for i in range(150)]
    rows += [post(f"p{i}", text=f"new{i}") for i in range(150)]
    result = store.upsert_posts(rows)
    assert result.stored == 300
    assert store.count("posts") == 150
    assert one(store, "SELECT count(*) FROM posts WHERE text = 'new' || substr(post_id, 2)") == (
        150,
    )
    assert one(store, "SELECT count(*) FROM posts WHERE region = '广东'") == (150,)


def test_batches_store_what_row_by_row_writes_store_whatever_columns_they_leave_empty(
    tmp_path: Path,
):
    # a column empty in a whole batch is left out of its statement; the tables must end up
    # as writing the rows one by one leaves them, on inserts and on updates
    first = [
        post(
            f"p{i:03d}",
            text=f"t{i}",
            region="广东" if i % 2 else None,
            pic_count=i % 9,
            is_repost=i % 3 == 0,
            media_type="picture",  # one value in every row: bound once per statement
            source="微博 weibo.com" if i < 249 else "iPhone客户端",  # all but the last row
            observed_at=SEEN_1,
            likes=i,
        )
        for i in range(250)
    ]
    second = [
        post(f"p{i:03d}", is_long_text=True, observed_at=SEEN_2, shares=i if i % 4 else None)
        for i in range(0, 250, 2)
    ]
    # every column but first_seen_at and updated_at, which hold the time of the write
    posts_sql = (
        "SELECT platform, post_id, account_id, created_at, text, is_repost, origin_post_id,"
        " media_type, pic_count, video_seconds, source, region, url, is_long_text, is_pinned,"
        " extra, crawl_id FROM posts ORDER BY post_id"
    )
    observations_sql = "SELECT * FROM post_observations ORDER BY post_id, observed_at"
    tables = {}
    for mode in ("batch", "row"):
        with Store.open(tmp_path / f"{mode}.db") as store:
            for rows in (first, second):
                for batch in [rows] if mode == "batch" else [[row] for row in rows]:
                    assert store.upsert_posts(batch).rejected == 0
            tables[mode] = (select(store, posts_sql), select(store, observations_sql))
            # the stored values, not only the same in both ways
            assert select(
                store,
                "SELECT text, region, pic_count, is_repost, is_long_text FROM posts"
                " WHERE post_id IN ('p003', 'p004') ORDER BY post_id",
            ) == [("t3", "广东", 3, 1, None), ("t4", None, 4, 0, 1)]
            assert select(
                store,
                "SELECT observed_at, likes, shares FROM post_observations WHERE post_id = 'p004'"
                " ORDER BY observed_at",
            ) == [(SEEN_1, 4, None), (SEEN_2, None, None)]
    assert tables["batch"] == tables["row"]
    assert [len(rows) for rows in tables["batch"]] == [250, 375]
    posts = tables["batch"][0]
    assert {row[7] for row in posts} == {"picture"}  # media_type
    assert [row[10] for row in posts[-2:]] == ["微博 weibo.com", "iPhone客户端"]  # source


def test_bad_rows_in_a_large_batch(store: Store):
    rows = list(many_posts(250))
    for i in (0, 99, 100, 249):
        rows[i] = {**rows[i], "likes": "lots"}
    result = store.upsert_posts(rows)
    assert (result.stored, result.rejected) == (246, 4)
    assert store.count("posts") == 246
    ids = sorted(json.loads(payload)["post_id"] for _, _, payload, _ in rejects(store))
    assert ids == ["p00000", "p00099", "p00100", "p00249"]


class CollectorWatch(dict):
    """A row that notes whether the cyclic garbage collector was on when it was read."""

    seen: ClassVar[list[bool]] = []

    def get(self, key: str, default: object = None) -> object:
        CollectorWatch.seen.append(gc.isenabled())
        return super().get(key, default)


def broken_source(row: dict) -> Iterator[dict]:
    """Rows from a source that fails after the first one."""
    yield row
    raise RuntimeError("the source broke")


@pytest.mark.parametrize("enabled", [True, False])
def test_batch_writes_pause_the_garbage_collector_and_restore_it(store: Store, enabled: bool):
    CollectorWatch.seen = []
    (gc.enable if enabled else gc.disable)()
    try:
        store.upsert_posts([CollectorWatch(post("p1", likes=1, observed_at=SEEN_1))])
        store.upsert_comments([CollectorWatch(platform="weibo", comment_id="c1", post_id="p1")])
        with pytest.raises(RuntimeError):
            store.upsert_posts(broken_source(CollectorWatch(post("p2"))))
        after = gc.isenabled()
    finally:
        gc.enable()
    assert CollectorWatch.seen and not any(CollectorWatch.seen)
    assert after is enabled
    assert store.count("posts") == 1


# -- the other captured tables -------------------------------------------------------------


def test_upsert_accounts(store: Store):
    good = {
        "platform": "weibo",
        "account_id": "1001",
        "screen_name": "品牌官微",
        "verified": True,
        "verified_type": 2,
        "created_at": "2012-05-01 09:00:00+08:00",
        "extra": {"vip": 3},
    }
    result = store.upsert_accounts([good, {**good, "account_id": "1002", "verified": "maybe"}])
    assert (result.stored, result.rejected) == (1, 1)
    assert "verified" in result.reasons[0]
    assert rejects(store)[0][0] == "accounts"
    assert json.loads(rejects(store)[0][2])["account_id"] == "1002"
    store.upsert_accounts([{"platform": "weibo", "account_id": "1001", "description": "新简介"}])
    assert one(
        store,
        "SELECT screen_name, description, verified, verified_type, created_at, extra,"
        " first_seen_at IS NOT NULL, updated_at IS NOT NULL FROM accounts",
    ) == ("品牌官微", "新简介", 1, 2, "2012-05-01T09:00:00+08:00", '{"vip": 3}', 1, 1)


def test_accounts_verified_given_as_int_is_stored_like_bool(store: Store):
    base = {"platform": "weibo", "verified_type": 0, "first_seen_at": CREATED}
    store.upsert_accounts(
        [
            {**base, "account_id": "b", "verified": True, "updated_at": CREATED},
            {**base, "account_id": "i", "verified": 1, "updated_at": CREATED},
            {**base, "account_id": "s", "verified": 0, "verified_type": "0"},
        ]
    )
    assert select(store, "SELECT account_id, verified, verified_type FROM accounts ORDER BY 1") == [
        ("b", 1, 0),
        ("i", 1, 0),
        ("s", 0, 0),
    ]
    rows = select(store, "SELECT * FROM accounts WHERE account_id IN ('b', 'i') ORDER BY 2")
    assert rows[0][2:] == rows[1][2:]


def test_empty_integer_field_keeps_the_known_value(store: Store):
    store.upsert_accounts([{"platform": "weibo", "account_id": "1", "verified_type": 2}])
    result = store.upsert_accounts([{"platform": "weibo", "account_id": "1", "verified_type": ""}])
    assert result.rejected == 0
    assert one(store, "SELECT verified_type FROM accounts") == (2,)


def test_add_account_snapshots(store: Store):
    row = {
        "platform": "weibo",
        "account_id": "1001",
        "observed_at": SEEN_1,
        "followers": "145.5万",
        "following": "1,024",
        "posts": 3500,
        "total_likes": "2亿",
    }
    result = store.add_account_snapshots(
        [row, {**row, "observed_at": SEEN_2, "followers": "many"}, {**row, "followers": 1}]
    )
    assert (result.stored, result.rejected) == (2, 1)  # the third repeats observed_at
    assert "followers" in result.reasons[0]
    assert one(
        store, "SELECT observed_at, followers, following, posts, total_likes FROM account_snapshots"
    ) == (SEEN_1, 1_455_000, 1_024, 3_500, 200_000_000)
    assert rejects(store)[0][0] == "account_snapshots"


def test_a_rejected_snapshot_is_in_the_accounts_result_beside_its_reason(store: Store):
    seen = {"platform": "weibo", "observed_at": SEEN_1}
    good = {**seen, "account_id": "1001", "followers": "1.2万"}
    bad = {**seen, "account_id": "1002", "followers": "many"}
    result = store.upsert_accounts([good, bad])
    assert (result.stored, result.rejected) == (2, 1)  # both accounts, one snapshot refused
    assert "followers" in result.reasons[0]
    assert result.rejected_rows == [bad]
    assert select(store, "SELECT account_id FROM account_snapshots") == [("1001",)]


def test_upsert_comments(store: Store):
    good = {
        "platform": "weibo",
        "comment_id": "c1",
        "post_id": "p1",
        "author_id": "u9",
        "created_at": SEEN_1,
        "text": "好用！",
        "likes": "2万",
        "replies": 3,
    }
    result = store.upsert_comments([good, {**good, "comment_id": "c2", "post_id": None}])
    assert (result.stored, result.rejected) == (1, 1)
    assert result.reasons == ["post_id is missing"]
    assert json.loads(rejects(store)[0][2])["comment_id"] == "c2"
    store.upsert_comments([{"platform": "weibo", "comment_id": "c1", "post_id": "p1", "likes": 5}])
    assert one(store, "SELECT post_id, text, likes, replies FROM comments") == (
        "p1",
        "好用！",
        5,
        3,
    )


def test_add_hot_search(store: Store):
    rows = [
        {
            "platform": "weibo",
            "observed_at": SEEN_1,
            "rank": 1,
            "word": "新品发布",
            "heat": "123万",
        },
        {"platform": "weibo", "observed_at": SEEN_1, "rank": "2", "word": "直播", "is_ad": True},
        {"platform": "weibo", "observed_at": SEEN_1, "rank": 3, "word": None},
        {"platform": "weibo", "observed_at": SEEN_1, "rank": "first", "word": "x"},
    ]
    result = store.add_hot_search(rows)
    assert (result.stored, result.rejected) == (2, 2)
    assert "word" in result.reasons[0] and "rank" in result.reasons[1]
    assert select(store, "SELECT rank, word, heat, is_ad FROM hot_search ORDER BY rank") == [
        (1, "新品发布", 1_230_000, None),
        (2, "直播", None, 1),
    ]


def test_live_rooms_and_observations(store: Store):
    room = {"platform": "douyin", "room_id": "r1", "title": "开播", "started_at": SEEN_1}
    result = store.upsert_live_rooms([room, {**room, "room_id": "r2", "started_at": "soon"}])
    assert (result.stored, result.rejected) == (1, 1)
    assert "started_at" in result.reasons[0]
    store.upsert_live_rooms([{"platform": "douyin", "room_id": "r1", "status": "ended"}])
    assert one(store, "SELECT room_id, title, status, started_at FROM live_rooms") == (
        "r1",
        "开播",
        "ended",
        SEEN_1,
    )

    seen = {"platform": "douyin", "room_id": "r1", "observed_at": SEEN_1}
    result = store.add_live_observations(
        [
            {**seen, "viewers_now": "1.1万", "viewers_total": "30万+", "likes": 10},
            {**seen, "observed_at": SEEN_2, "viewers_total": "lots"},
        ]
    )
    assert (result.stored, result.rejected) == (1, 1)
    assert "viewers_total" in result.reasons[0]
    assert one(store, "SELECT viewers_now, viewers_total, likes FROM live_observations") == (
        11_000,
        300_000,
        10,
    )
    assert [r[0] for r in rejects(store)] == ["live_rooms", "live_observations"]


def test_a_live_room_seen_at_a_time_adds_its_observation(store: Store):
    seen = {"platform": "douyin", "room_id": "r1", "title": "开播", "observed_at": SEEN_1}
    store.upsert_live_rooms([{**seen, "status": "live", "viewers_now": "1.2万", "likes": 5}])
    store.upsert_live_rooms([{**seen, "observed_at": SEEN_2, "status": "ended", "likes": 9}])
    assert one(store, "SELECT title, status FROM live_rooms") == ("开播", "ended")
    assert select(
        store, "SELECT status, viewers_now, likes FROM live_observations ORDER BY observed_at"
    ) == [("live", 12_000, 5), ("ended", None, 9)]


def test_a_rejected_live_observation_is_in_the_rooms_result_beside_its_reason(store: Store):
    seen = {"platform": "douyin", "observed_at": SEEN_1, "status": "live"}
    good = {**seen, "room_id": "r1", "viewers_now": "1.2万"}
    bad = {**seen, "room_id": "r2", "viewers_now": "lots"}
    result = store.upsert_live_rooms([good, bad])
    assert (result.stored, result.rejected) == (2, 1)  # both rooms, one observation refused
    assert "viewers_now" in result.reasons[0]
    assert result.rejected_rows == [bad]
    assert select(store, "SELECT room_id FROM live_observations") == [("r1",)]


def test_upsert_streamer_stats(store: Store):
    good = {
        "source": "chanmama",
        "account": "达人A",
        "period": "2025-01",
        "sales_volume": "3.2万",
        "sales_amount": "1234.5",
        "live_sales_amount": 1000,
    }
    result = store.upsert_streamer_stats(
        [good, {**good, "period": None}, {**good, "account": "达人B", "sales_amount": "a lot"}]
    )
    assert (result.stored, result.rejected) == (1, 2)
    assert "period" in result.reasons[0] and "sales_amount" in result.reasons[1]
    row = one(
        store,
        "SELECT sales_volume, sales_amount, live_sales_amount, imported_at FROM streamer_stats",
    )
    assert row[:3] == (32_000, 1234.5, 1000.0)
    assert datetime.fromisoformat(row[3]).utcoffset() is not None


# -- crawls, raw responses, rejects ---------------------------------------------------------


def test_crawls_round_trip_newest_first(store: Store):
    first = store.start_crawl("weibo_user", {"uid": "1001", "pages": 3})
    second = store.start_crawl("weibo_search", {"q": "口红"})
    third = store.start_crawl("douyin_user", {})
    store.finish_crawl(first, "finished", None, {"posts": 30, "rejects": 1})
    store.finish_crawl(second, "stopped", "CLOSESPIDER_ITEMCOUNT", {"posts": 100})

    records = store.crawls()
    assert [r.crawl_id for r in records] == [third, second, first]
    assert first < second < third
    running, stopped, finished = records
    assert (running.status, running.ended_at, running.counts, running.args) == (
        "running",
        None,
        {},
        {},
    )
    assert (stopped.spider, stopped.status, stopped.reason) == (
        "weibo_search",
        "stopped",
        "CLOSESPIDER_ITEMCOUNT",
    )
    assert stopped.args == {"q": "口红"} and stopped.counts == {"posts": 100}
    assert finished.args == {"uid": "1001", "pages": 3}
    assert (finished.status, finished.reason) == ("finished", None)
    assert finished.counts == {"posts": 30, "rejects": 1}
    assert finished.version == smcat.__version__
    assert finished.ended_at is not None and finished.ended_at >= finished.started_at
    assert datetime.fromisoformat(finished.started_at).utcoffset() is not None
    assert [r.crawl_id for r in store.crawls(limit=1)] == [third]


def test_raw_responses_round_trip_gzipped_bodies(store: Store):
    crawl_id = store.start_crawl("weibo_user", {})
    bodies = [
        '{"ok": 1, "data": "微博"}'.encode(),
        bytes(range(256)) * 4,
        b"",
    ]
    ids = [
        store.add_raw_response(
            url=f"https://m.weibo.cn/api/{i}",
            status=200,
            fetched_at="2025-01-02 10:00:00+08:00",
            body=body,
            content_type="application/json",
            parser_version="1",
            crawl_id=crawl_id if i < 2 else None,
        )
        for i, body in enumerate(bodies)
    ]
    stored = [blob for (blob,) in select(store, "SELECT body FROM raw_responses ORDER BY id")]
    assert all(blob.startswith(b"\x1f\x8b") for blob in stored)
    assert [gzip.decompress(blob) for blob in stored] == bodies

    got = list(store.raw_responses())
    assert [r["id"] for r in got] == ids
    assert [r["body"] for r in got] == bodies
    assert got[0]["url"] == "https://m.weibo.cn/api/0"
    assert got[0]["fetched_at"] == "2025-01-02T10:00:00+08:00"
    assert (got[0]["status"], got[0]["content_type"], got[0]["parser_version"]) == (
        200,
        "application/json",
        "1",
    )
    assert [r["id"] for r in store.raw_responses(crawl_id)] == ids[:2]


def test_reject_keeps_payload(store: Store):
    store.reject("posts", "parser: no card", {"raw": "网页", "when": datetime(2025, 1, 1)})
    [(kind, reason, payload, crawl_id)] = rejects(store)
    assert (kind, reason, crawl_id) == ("posts", "parser: no card", None)
    assert json.loads(payload) == {"raw": "网页", "when": "2025-01-01 00:00:00"}


# -- reading -------------------------------------------------------------------------------


def test_info_counts_every_table(store: Store, db_path: Path):
    crawl_id = store.start_crawl("weibo_user", {})
    store.upsert_posts(
        [post("p1", observed_at=SEEN_1, likes=1, topics=["a", "b"]), post("p2"), post("x", likes=1)]
    )
    info = store.info()
    assert info.path == db_path
    assert info.schema_version == SCHEMA_VERSION
    assert list(info.row_counts) == list(TABLES)
    expected = dict.fromkeys(TABLES, 0)
    expected.update(crawls=1, posts=2, post_observations=1, post_topics=2, rejects=1)
    assert info.row_counts == expected
    assert [c.crawl_id for c in info.crawls] == [crawl_id]


def test_count_and_columns(store: Store):
    store.upsert_posts([post("p1"), post("p2")])
    assert store.count("posts") == 2
    assert store.count("comments") == 0
    columns = store.columns("posts")
    assert columns[:4] == ["platform", "post_id", "account_id", "created_at"]
    assert [name for (_, name, *_) in select(store, "PRAGMA table_info(posts)")] == columns
    assert len(next(store.iter_rows("posts"))) == len(columns)


@pytest.mark.parametrize("table", ["nope", "sqlite_master", "posts; DROP TABLE posts", "Posts"])
def test_unknown_table_names_are_refused(store: Store, table: str):
    for read in (store.count, store.columns, lambda t: list(store.iter_rows(t))):
        with pytest.raises(StoreError) as error:
            read(table)
        assert_one_line_error(error, "unknown table", "posts")
    assert "posts" in store.db.table_names()


class _RecordingCursor:
    def __init__(self, cursor: sqlite3.Cursor, sizes: list[tuple[int, int]]) -> None:
        self.cursor, self.sizes = cursor, sizes

    def fetchmany(self, size: int) -> list:
        rows = self.cursor.fetchmany(size)
        self.sizes.append((size, len(rows)))
        return rows


class _RecordingConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection, self.sizes = connection, []

    def execute(self, *args):
        return _RecordingCursor(self.connection.execute(*args), self.sizes)


def test_iter_rows_yields_every_row_in_batches(store: Store):
    n = 25_000
    rows = (post(f"p{i:05d}", text=str(i)) for i in range(n))
    assert store.upsert_posts(rows).stored == n
    store.connection = recorder = _RecordingConnection(store.connection)
    try:
        rows = store.iter_rows("posts", batch=10_000)
        first = next(rows)
        assert recorder.sizes == [(10_000, 10_000)]  # one batch read, not the table
        seen = [first, *rows]
    finally:
        store.connection = recorder.connection
    assert recorder.sizes == [(10_000, 10_000), (10_000, 10_000), (10_000, 5_000), (10_000, 0)]
    assert len(seen) == n
    position = store.columns("posts").index("post_id")
    assert sorted(r[position] for r in seen) == [f"p{i:05d}" for i in range(n)]


def latest_observation_of_every_read(store: Store, *observations: tuple[str, int]) -> set:
    """Store account a1's snapshots and post p1's observations at these times with these
    counts, and return what each read that takes the latest one found: (observed_at, count)
    where the read says when, else the count."""
    store.upsert_accounts([{"platform": "weibo", "account_id": "a1"}])
    store.add_account_snapshots(
        [
            {"platform": "weibo", "account_id": "a1", "observed_at": at, "followers": count}
            for at, count in observations
        ]
    )
    store.upsert_posts([post(observed_at=at, likes=count) for at, count in observations])
    (profile,) = store.account_profiles("weibo").rows
    (posted,) = store.account_posts("weibo", CREATED, LATER).rows
    (engagement,) = store.post_engagement().rows
    coder = store.posts_for_coders([("weibo", "p1")])[("weibo", "p1")]
    return {profile[4], posted[4], (engagement[2], engagement[4]), coder.likes}


def test_the_latest_observation_is_the_latest_in_time_not_in_text(store: Store):
    earlier, later = "2025-01-02T10:00:00+08:00", "2025-01-02T05:00:00+00:00"  # 02:00, 05:00 UTC
    assert earlier > later  # as text
    assert latest_observation_of_every_read(store, (later, 2), (earlier, 1)) == {2, (later, 2)}


def test_of_one_instant_in_two_offsets_every_read_takes_the_first_in_text(store: Store):
    cst, utc = "2025-01-02T10:00:00+08:00", "2025-01-02T02:00:00+00:00"
    assert latest_observation_of_every_read(store, (cst, 1), (utc, 2)) == {2, (utc, 2)}


# -- transactions --------------------------------------------------------------------------


def test_transaction_rolls_back_on_error(store: Store):
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        store.upsert_posts([post(observed_at=SEEN_1, likes=1), post("bad", created_at="x")])
        assert store.count("posts") == 1
        raise RuntimeError("boom")
    assert not store.connection.in_transaction
    assert store.count("posts") == 0
    assert store.count("post_observations") == 0
    assert store.count("rejects") == 0
    # the store is usable afterwards
    assert store.upsert_posts([post()]).stored == 1
    assert store.count("posts") == 1


def test_nested_transaction_joins_the_outer_one(store: Store, db_path: Path):
    other = sqlite3.connect(db_path)
    try:
        with store.transaction():
            with store.transaction():
                store.upsert_posts([post("p1")])
            assert store.connection.in_transaction  # the inner block did not commit
            assert other.execute("SELECT count(*) FROM posts").fetchone() == (0,)
            store.upsert_posts([post("p2")])
        assert not store.connection.in_transaction
        assert other.execute("SELECT count(*) FROM posts").fetchone() == (2,)

        with pytest.raises(ValueError, match="inner"), store.transaction():
            store.upsert_posts([post("p3")])
            with store.transaction():
                store.upsert_posts([post("p4")])
                raise ValueError("inner")
        assert other.execute("SELECT count(*) FROM posts").fetchone() == (2,)
        assert store.count("posts") == 2
    finally:
        other.close()


# -- bugs found while writing these tests ----------------------------------------------------


@pytest.mark.parametrize("likes", [float("inf"), 10**19, "99999999999亿"])
def test_count_out_of_range_is_rejected_not_fatal(store: Store, likes):
    result = store.upsert_posts(
        [post("good", observed_at=SEEN_1, likes=1), post("huge", observed_at=SEEN_1, likes=likes)]
    )
    assert (result.stored, result.rejected) == (1, 1)
    assert store.count("posts") == 1


def test_one_instant_is_one_observation_however_it_is_spelled(store: Store):
    spellings = [
        datetime(2025, 1, 2, 10, 0, 0, 500_000, tzinfo=CST),
        "2025-01-02T10:00:00.500000+08:00",
        "2025-01-02T10:00:00.5+08:00",
        "2025-01-02T10:00:00.500+0800",
    ]
    for i, observed_at in enumerate(spellings):
        store.upsert_posts([post(observed_at=observed_at, likes=i)])
    assert store.count("post_observations") == 1


@pytest.mark.parametrize("in_callers_transaction", [False, True])
def test_a_row_sqlite_refuses_is_rejected_whole_and_the_batch_kept(
    store: Store, in_callers_transaction: bool
):
    """A negative int count passes the converters' fast path; the CHECK constraint refuses it.
    The refused post leaves no observation or topic behind, and the other rows are stored."""
    rows = [post(f"ok{i}", observed_at=SEEN_1, likes=i, topics=["双十一"]) for i in range(250)] + [
        post("negative", observed_at=SEEN_1, likes=-3, topics=["坏"], pic_count=2)
    ]
    if in_callers_transaction:
        with store.transaction():
            store.upsert_accounts([{"platform": "weibo", "account_id": "a1"}])
            result = store.upsert_posts(rows)
        assert store.count("accounts") == 1  # the caller's own write survived the fallback
    else:
        result = store.upsert_posts(rows)
    assert (result.stored, result.rejected) == (250, 1)
    assert "refused by SQLite" in result.reasons[0] and "CHECK" in result.reasons[0]
    assert store.count("posts") == 250
    assert store.count("post_observations") == 250
    assert select(store, "SELECT count(*) FROM post_topics WHERE value = '坏'") == [(0,)]
    (payload,) = select(store, "SELECT payload FROM rejects")[0]
    assert json.loads(payload)["post_id"] == "negative"


def test_checkpoints_merge_per_part_and_find_the_unfinished_crawl(store: Store):
    args = {"uids": ["1", "2"], "since": None}
    first = store.start_crawl("weibo_user", args)
    store.save_checkpoint(first, "1", 2)
    store.save_checkpoint(first, "2", "done")
    store.save_checkpoint(first, "1", 3)
    assert store.checkpoint(first) == {"1": 3, "2": "done"}
    assert store.unfinished_crawl("weibo_user", args).crawl_id == first
    assert store.unfinished_crawl("weibo_user", {**args, "since": "2025-01-01"}) is None
    assert store.unfinished_crawl("weibo_hot", args) is None
    store.finish_crawl(first, "stopped", "418", {})
    assert store.unfinished_crawl("weibo_user", args).status == "stopped"
    store.reopen_crawl(first)
    record = store.crawl(first)
    assert (record.status, record.ended_at, record.reason) == ("running", None, None)
    store.finish_crawl(first, "finished", "finished", {})
    assert store.unfinished_crawl("weibo_user", args) is None  # the latest one finished


def test_json_and_mistyped_text_columns_are_converted(store: Store):
    result = store.upsert_posts(
        [post("n1", text=12345, source=1.5), post("n2", extra={"bid": "Q1", "edit_count": None})]
    )
    assert (result.stored, result.rejected) == (2, 0)
    rows = select(store, "SELECT post_id, text, source, extra FROM posts ORDER BY post_id")
    assert rows == [
        ("n1", "12345", "1.5", None),
        ("n2", None, None, '{"bid": "Q1", "edit_count": null}'),
    ]


def test_a_codebook_version_is_kept_once_and_never_silently_changed(store: Store):
    store.save_codebook("brand_posts", "1", "codebook: brand_posts\nversion: '1'\n")
    store.save_codebook("brand_posts", "1", "codebook: brand_posts\nversion: '1'\n")
    assert store.codebook_text("brand_posts", "1") == "codebook: brand_posts\nversion: '1'\n"
    with pytest.raises(StoreError, match="new version"):
        store.save_codebook("brand_posts", "1", "codebook: brand_posts\nversion: '1'\n# edited\n")
    assert store.count("codebooks") == 1 and store.codebook_text("brand_posts", "2") is None


def test_codes_are_replaced_per_coder_and_bad_ones_rejected(store: Store):
    code = {"platform": "weibo", "post_id": "1", "codebook": "brand_posts", "subcategory": "B3",
            "coder": "ann", "codebook_version": "1", "value": 1,
            "evidence": {"rule": "B3.cue", "terms": ["抽奖"], "offsets": [[4, 6]]},
            "coded_at": "2025-12-01T10:00:00+08:00"}  # fmt: skip
    assert store.upsert_codes([code, {**code, "coder": "auto:brand_posts@1"}]).stored == 2
    assert store.upsert_codes([{**code, "value": 0}, {**code, "value": "yes"}]).rejected == 1
    assert sorted(store.code_rows("brand_posts")) == [
        ("weibo", "1", "B3", "ann", 0), ("weibo", "1", "B3", "auto:brand_posts@1", 1),
    ]  # fmt: skip
    assert store.coders("brand_posts") == {"ann": 1, "auto:brand_posts@1": 1}
    assert list(store.code_rows("brand_posts", ["ann"])) == [("weibo", "1", "B3", "ann", 0)]


def test_posts_to_code_skip_what_the_coder_coded_and_come_in_batches(store: Store):
    store.upsert_posts(
        [post(f"p{i}", text=f"第{i}条", topics=["新品", "双11"] if i == 1 else [],
              mentions=["澜蔻护肤"] if i == 2 else [], pic_count=i, media_type="picture")
         for i in range(1, 6)]
    )  # fmt: skip
    batches = list(store.posts_to_code("brand_posts", "auto:brand_posts@1", batch=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    first = batches[0][0]
    assert (first.post_id, first.text, first.pic_count, first.mention_count) == (
        "p1",
        "第1条",
        1,
        0,
    )
    assert sorted(first.topics) == ["双11", "新品"] and batches[0][1].mention_count == 1
    coded = {"platform": "weibo", "codebook": "brand_posts", "coder": "auto:brand_posts@1",
             "codebook_version": "1", "coded_at": "2025-12-01T10:00:00+08:00"}  # fmt: skip
    code = {**coded, "post_id": "p2", "subcategory": "B1", "value": 1, "evidence": {"rule": "x"}}
    result = store.add_coded([code], [{**coded, "post_id": p} for p in ("p1", "p2")])
    assert (result.stored, result.rejected) == (3, 0)
    left = [p.post_id for b in store.posts_to_code("brand_posts", "auto:brand_posts@1") for p in b]
    assert left == ["p3", "p4", "p5"]
    assert [p.post_id for b in store.posts_to_code("brand_posts", "ann") for p in b][:2] == [
        "p1", "p2",
    ]  # fmt: skip


def test_a_coded_batch_is_stored_as_add_coded_stores_it(tmp_path: Path):
    shared = {"codebook": "brand_posts", "coder": "auto:brand_posts@1",
              "codebook_version": "1", "coded_at": "2025-12-01T10:00:00+08:00"}  # fmt: skip
    evidence = '[{"rule": "B3.cue", "terms": ["抽奖"], "offsets": [[4, 6]]}]'
    codes = [
        ("weibo", "p1", "B3", evidence),
        ("weibo", "p1", "C4", "[]"),
        ("weibo", "p3", "B3", "[]"),
    ]
    posts = [("weibo", p) for p in ("p1", "p2", "p3")]
    tables = {}
    for way in ("rows", "batch"):
        with Store.open(tmp_path / f"{way}.db") as store:
            if way == "rows":
                result = store.add_coded(
                    [{"platform": pl, "post_id": p, "subcategory": sub, "value": 1,
                      "evidence": ev, **shared} for pl, p, sub, ev in codes],
                    [{"platform": pl, "post_id": p, **shared} for pl, p in posts],
                )  # fmt: skip
            else:
                result = store.add_coded_batch(codes, posts, **shared)
            assert (result.stored, result.rejected) == (6, 0)
            tables[way] = [
                select(store, f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")
                for table in ("codes", "coded_posts")
            ]
    assert tables["batch"] == tables["rows"]
    assert tables["batch"][0][0][7] == evidence  # the JSON text, as it was given


def test_a_coded_batch_checks_what_its_rows_share_and_rejects_refused_rows(store: Store):
    shared = {"codebook": "brand_posts", "coder": "auto:brand_posts@1",
              "codebook_version": "1", "coded_at": "2025-12-01T10:00:00+08:00"}  # fmt: skip
    with pytest.raises(ValueError, match="coded_at"):
        store.add_coded_batch([], [("weibo", "p1")], **{**shared, "coded_at": "yesterday"})
    with pytest.raises(ValueError, match="codebook_version"):
        store.add_coded_batch([], [("weibo", "p1")], **{**shared, "codebook_version": ""})
    assert store.count("coded_posts") == 0
    # a post without an id is refused by SQLite: it alone goes to rejects
    result = store.add_coded_batch(
        [("weibo", "p1", "B3", "[]"), ("weibo", None, "B3", "[]")], [("weibo", "p1")], **shared
    )
    assert (result.stored, result.rejected) == (2, 1)
    assert store.count("codes") == store.count("coded_posts") == 1
    assert "post_id is missing" in rejects(store)[0][1]


def test_hot_words_leave_ads_out(store: Store):
    seen = "2025-12-01T10:00:00+08:00"
    store.add_hot_search(
        [{"platform": "weibo", "observed_at": seen, "rank": 1, "word": "澜蔻新品"},
         {"platform": "weibo", "observed_at": seen, "rank": 2, "word": "广告", "is_ad": True}]
    )  # fmt: skip
    assert store.hot_words() == [("澜蔻新品", seen)]


# -- half an emoji (a lone surrogate: Weibo cuts texts mid-character) ------------------------

HALF_EMOJI = "新品上市\ud83d"  # what json.loads gives for "新品上市\ud83d" cut before "\ude00"


def test_a_text_with_half_an_emoji_is_stored_mended_and_the_batch_goes_on(store: Store):
    batch = [
        post("p1", text="第一条", observed_at=SEEN_1, likes=1),
        post("p2", text=HALF_EMOJI, observed_at=SEEN_1, likes=2, topics=["话题\udc00"]),
        post("p3", text="第三条", observed_at=SEEN_1, likes=3),
    ]
    result = store.upsert_posts(batch)
    assert (result.stored, result.rejected) == (3, 0)
    texts = select(store, "SELECT post_id, text FROM posts ORDER BY post_id")
    assert texts == [("p1", "第一条"), ("p2", "新品上市\ufffd"), ("p3", "第三条")]
    assert select(store, "SELECT value FROM post_topics") == [("话题\ufffd",)]
    assert len(select(store, "SELECT * FROM post_observations")) == 3
    assert rejects(store) == []


def test_a_comment_with_half_an_emoji_is_stored_mended(store: Store):
    comment = {"platform": "weibo", "comment_id": "c1", "post_id": "p1",
               "created_at": CREATED, "text": HALF_EMOJI}  # fmt: skip
    assert (
        store.upsert_comments([comment, {**comment, "comment_id": "c2", "text": "好"}]).stored == 2
    )
    assert select(store, "SELECT text FROM comments ORDER BY comment_id") == [
        ("新品上市\ufffd",),
        ("好",),
    ]


def test_a_reject_whose_payload_holds_half_an_emoji_keeps_it_escaped(store: Store):
    store.reject("weibo_post", "bad card \ud83d", {"text": HALF_EMOJI})
    ((kind, reason, payload, _),) = rejects(store)
    assert (kind, reason) == ("weibo_post", "bad card \\ud83d")
    assert json.loads(payload) == {"text": HALF_EMOJI}  # the escape reads back as it was


# -- two processes creating one database at the same moment ---------------------------------

OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from smcat.store import Store

path, start = Path(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # every process opens at the same moment
with Store.open(path) as store:
    print(store.schema_version)
"""


def test_processes_opening_one_new_database_at_once_all_get_the_schema(tmp_path: Path):
    path = tmp_path / "shared.db"
    start = time.time() + 1.5  # after the interpreters have started
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(path), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    answers = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0] * 6, [err for _, err in answers]
    assert {out.strip() for out, _ in answers} == {str(SCHEMA_VERSION)}
    with Store.open(path, readonly=True) as store:
        assert store.count("crawls") == 0 and store.schema_version == SCHEMA_VERSION
