"""Study designs: the two-stage sample (months per account, then posts per month) and the
constructed week, reproducible and recorded with their design."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from smcat.errors import SmcatError
from smcat.sampling import (
    coding_sample,
    constructed_week_sample,
    constructed_weeks,
    two_stage_sample,
)
from smcat.store import Store

START = date(2025, 1, 1)


def post(post_id: str, account: str, day: date, **fields: object) -> dict:
    return {
        "platform": "weibo",
        "post_id": post_id,
        "account_id": account,
        "created_at": f"{day.isoformat()}T20:15:00+08:00",
        "text": "新品上市",
        **fields,
    }


@pytest.fixture
def store(tmp_path) -> Store:
    """Three accounts posting every day or every other day through 2025, one repost a week."""
    with Store.open(tmp_path / "project.db") as opened:
        rows = []
        for n, account in enumerate(("1001", "1002", "1003")):
            for i in range(0, 365, n + 1):
                day = START + timedelta(days=i)
                rows.append(post(f"{account}{i:03d}", account, day, is_repost=i % 7 == 3))
        opened.upsert_posts(rows)
        yield opened


def recorded(store: Store, sample_id: str) -> dict:
    (params,) = store.connection.execute(
        "SELECT params FROM samples WHERE sample_id = ?", (sample_id,)
    ).fetchone()
    return json.loads(params)


def test_a_seeded_two_stage_sample_is_reproducible_and_another_seed_differs(
    store: Store,
) -> None:
    first = two_stage_sample(store, "weibo", months=3, per_month=4, seed=11)
    again = two_stage_sample(store, "weibo", months=3, per_month=4, seed=11)
    assert again.posts == first.posts and again.sample_id == first.sample_id
    assert store.count("sample_posts") == len(first.posts)  # redrawn in place
    other = two_stage_sample(store, "weibo", months=3, per_month=4, seed=12)
    assert other.posts != first.posts
    # 3 accounts x 3 months x 4 posts
    assert len(first.posts) == 36
    drawn = first.design["drawn"]
    assert all(len(months) == 3 for months in drawn.values())
    assert all(n == 4 for months in drawn.values() for n in months.values())
    # the months differ between accounts: each account has its own draw
    assert len({tuple(months) for months in drawn.values()}) > 1


def test_the_two_stage_sample_respects_the_window_and_leaves_reposts_out(store: Store) -> None:
    sample = two_stage_sample(
        store, "weibo", ["1001", "1002"], months=2, per_month=50, seed=3,
        since="2025-03-10", until="2025-05-20",
    )  # fmt: skip
    days = dict(
        store.connection.execute("SELECT post_id, substr(created_at, 1, 10) FROM posts").fetchall()
    )
    reposts = {r for (r,) in store.connection.execute("SELECT post_id FROM posts WHERE is_repost")}
    ids = [post_id for _, post_id in sample.posts]
    assert all("2025-03-10" <= days[i] <= "2025-05-20" for i in ids)
    assert not set(ids) & reposts
    assert {i[:4] for i in ids} == {"1001", "1002"}
    assert set(sample.design["frame"]["1001"]) == {"2025-03", "2025-04", "2025-05"}
    # fewer posts in a month than asked for: all of them (March from the 10th: 22 days, 3
    # reposts out)
    march = sample.design["frame"]["1001"]["2025-03"]
    assert march == 22 - 3
    if "2025-03" in sample.design["drawn"]["1001"]:
        assert sample.design["drawn"]["1001"]["2025-03"] == march
    with_reposts = two_stage_sample(
        store, "weibo", ["1001"], months=1, per_month=400, seed=3, reposts=True,
        since="2025-03-10", until="2025-03-31",
    )  # fmt: skip
    assert len(with_reposts.posts) == 22


def test_the_two_stage_sample_stores_its_design(store: Store) -> None:
    sample = two_stage_sample(store, "weibo", ["1003"], months=3, per_month=5, seed=9)
    design = recorded(store, sample.sample_id)
    assert design == json.loads(json.dumps(sample.design))
    assert design["kind"] == "two-stage" and design["seed"] == 9
    assert design["months"] == 3 and design["per_month"] == 5 and len(design["stages"]) == 2
    # the frame: every month of the account with its count of own posts
    months = store.posts_by_account_month("weibo", ["1003"])
    assert design["frame"] == {"1003": {month: len(ids) for (_, month), ids in months.items()}}
    assert len(design["frame"]["1003"]) == 12
    assert store.sample_posts(sample.sample_id) == sorted(sample.posts)
    # a coder's sample can be drawn within it, as `code export --within` does
    coder = coding_sample(
        store, codebook="brand_posts", coder="ann", n=10, seed=1, overlap=0.2,
        within=sample.sample_id,
    )  # fmt: skip
    assert set(coder.posts) <= set(sample.posts)


def test_a_constructed_week_has_one_day_of_each_weekday_from_different_weeks() -> None:
    first, last = date(2025, 1, 1), date(2025, 6, 30)
    drawn = constructed_weeks(first, last, 3, seed=5)
    assert drawn == constructed_weeks(first, last, 3, seed=5)
    assert drawn != constructed_weeks(first, last, 3, seed=6)
    assert len(drawn) == 3
    for week in drawn:
        assert [day.weekday() for day in week] == list(range(7))
        assert len({day - timedelta(days=day.weekday()) for day in week}) == 7
        assert all(first <= day <= last for day in week)
    assert len({day for week in drawn for day in week}) == 21  # no day twice


def test_too_short_a_window_for_a_constructed_week_is_refused() -> None:
    with pytest.raises(SmcatError, match="widen the window"):
        constructed_weeks(date(2025, 1, 1), date(2025, 1, 31), 1, seed=1)


def test_the_constructed_week_sample_takes_every_post_of_the_days_drawn(store: Store) -> None:
    sample = constructed_week_sample(
        store, "weibo", weeks=2, seed=4, since="2025-02-01", until="2025-07-31"
    )
    design = recorded(store, sample.sample_id)
    days = {day for week in design["days"] for day in week}
    assert len(days) == 14
    assert all("2025-02-01" <= day <= "2025-07-31" for day in days)
    weekdays = Counter(date.fromisoformat(day).weekday() for day in days)
    assert weekdays == dict.fromkeys(range(7), 2)
    expected = {
        post_id
        for (account, day), ids in store.posts_by_account_day("weibo", None).items()
        for post_id in ids
        if day in days
    }
    assert {post_id for _, post_id in sample.posts} == expected
    assert design["kind"] == "constructed-week" and design["seed"] == 4
    assert set(design["frame"]) == {"1001", "1002", "1003"}
    assert sum(n for by_day in design["drawn"].values() for n in by_day.values()) == len(
        sample.posts
    )


def test_no_posts_in_the_window_is_one_line_naming_the_fix(store: Store) -> None:
    with pytest.raises(SmcatError, match="widen the window"):
        two_stage_sample(store, "weibo", months=3, per_month=4, seed=1, since="2030-01-01")
