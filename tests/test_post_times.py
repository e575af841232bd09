"""How precisely a post's time is known: read from the text of Weibo's times, carried on the
items, stored in posts.created_at_precision, and read back where the time is used."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.parsers.common import PostTime, parse_weibo_time, weibo_time
from crawler.parsers.weibo_posts import posts_from_mblog
from smcat.store import MIGRATIONS, Store
from smcat.units import DAY, DERIVED, HOUR, MINUTE, SECOND, TIME_PRECISIONS, hour_known
from tests.conftest import FIXTURES

CST = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 12, 1, 12, 30, 45, tzinfo=CST)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue Sep 14 21:18:12 +0800 2021", PostTime("2021-09-14T21:18:12+08:00", SECOND)),
        ("刚刚", PostTime("2025-12-01T12:30:45+08:00", SECOND)),
        ("30秒前", PostTime("2025-12-01T12:30:15+08:00", SECOND)),
        ("5分钟前", PostTime("2025-12-01T12:25:00+08:00", MINUTE)),
        ("3小时前", PostTime("2025-12-01T09:00:00+08:00", HOUR)),
        ("今天 08:05", PostTime("2025-12-01T08:05:00+08:00", MINUTE)),
        ("昨天 23:59", PostTime("2025-11-30T23:59:00+08:00", MINUTE)),
        ("06-14", PostTime("2025-06-14T00:00:00+08:00", DAY)),
        ("06-14 00:00", PostTime("2025-06-14T00:00:00+08:00", MINUTE)),  # midnight, said so
        ("2019-06-14", PostTime("2019-06-14T00:00:00+08:00", DAY)),
        ("2019-06-14 18:20", PostTime("2019-06-14T18:20:00+08:00", MINUTE)),
        ("11月28日", PostTime("2025-11-28T00:00:00+08:00", DAY)),
        ("11月28日 09:15", PostTime("2025-11-28T09:15:00+08:00", MINUTE)),
        ("2023年06月01日 18:20", PostTime("2023-06-01T18:20:00+08:00", MINUTE)),
    ],
)
def test_a_weibo_time_says_how_precise_its_text_is(text: str, expected: PostTime) -> None:
    assert weibo_time(text, FETCHED) == expected
    assert parse_weibo_time(text, FETCHED) == expected.at  # the callers' form, unchanged


def test_a_date_only_post_is_stored_as_its_midnight_and_marked_a_day() -> None:
    # m.weibo.cn's older cards: "2019-06-14" for past years, "06-14" for this one
    page = json.loads((FIXTURES / "weibo/mobile/timeline_5001000001_p3.json").read_text("utf-8"))
    card = next(c for c in page["data"]["cards"] if c.get("card_type") == 9)
    for text, day in (("2019-06-14", "2019-06-14"), ("06-14", "2025-06-14")):
        mblog = copy.deepcopy(card["mblog"])
        mblog["created_at"] = text
        post = posts_from_mblog(mblog, FETCHED)[0]
        assert (post.created_at, post.created_at_precision) == (f"{day}T00:00:00+08:00", DAY)
    exact = posts_from_mblog(card["mblog"], FETCHED)[0]
    assert exact.created_at_precision == SECOND


def test_only_a_day_hides_the_hour() -> None:
    assert [p for p in TIME_PRECISIONS if not hour_known(p)] == [DAY]
    assert hour_known(None)  # a post stored before precisions were: read as it says


def _post(post_id: str, created: str, precision: str | None) -> dict[str, object]:
    return {"platform": "weibo", "post_id": post_id, "account_id": "a1", "created_at": created,
            "created_at_precision": precision, "observed_at": "2025-07-01T10:00:00+08:00",
            "likes": 1, "comments": 0, "text": "好"}  # fmt: skip


def precisions(store: Store) -> dict[str, str | None]:
    read = store.posts_for_model()
    at = read.columns.index("created_at_precision")
    return {row[1]: row[at] for row in read.rows}


def test_the_store_keeps_the_precision_and_a_later_row_without_it_keeps_it_too(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "times.db") as store:
        store.upsert_posts([_post("p1", "2019-06-14T00:00:00+08:00", DAY),
                            _post("p2", "2025-06-14T10:00:00+08:00", DERIVED)])  # fmt: skip
        store.upsert_posts([_post("p1", "2019-06-14T00:00:00+08:00", None)])
        assert precisions(store) == {"p1": DAY, "p2": DERIVED}


def test_a_database_of_the_schema_before_is_migrated_and_still_read_read_only(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old.db"
    # the schema just before the migration that added the column, whatever came after it
    before = next(n for n, script in enumerate(MIGRATIONS) if "created_at_precision" in script)
    with sqlite3.connect(old) as connection:
        for script in MIGRATIONS[:before]:
            connection.executescript(script)
        connection.execute(f"PRAGMA user_version = {before}")
        connection.execute(
            "INSERT INTO posts (platform, post_id, account_id, created_at)"
            " VALUES ('weibo', 'p0', 'a1', '2019-06-14T00:00:00+08:00')"
        )
    with Store.open(old, readonly=True) as store:
        assert precisions(store) == {"p0": None}
        assert [post.created_at_precision for batch in store.posts_to_code("b", "c")
                for post in batch] == [None]  # fmt: skip
    with Store.open(old) as store:
        store.upsert_posts([_post("p0", "2019-06-14T00:00:00+08:00", DAY)])
        assert precisions(store) == {"p0": DAY}
