"""Reproducible K-per-account-and-month samples, drawn from the store."""

from __future__ import annotations

import pytest

from smcat.sampling import draw_per_group, monthly_sample
from smcat.store import Store


def groups(n: int = 12) -> dict[tuple[str, str], list[str]]:
    return {
        ("a1", "2025-09"): [f"s{i:02d}" for i in range(n)],
        ("a1", "2025-10"): [f"o{i:02d}" for i in range(n)],
        ("a2", "2025-10"): ["x1", "x2"],
    }


def test_the_same_seed_draws_the_same_posts_and_another_seed_others() -> None:
    first, again = draw_per_group(groups(), 3, seed=7), draw_per_group(groups(), 3, seed=7)
    assert first == again
    assert draw_per_group(groups(), 3, seed=8) != first
    assert all(len(ids) == 3 for key, ids in first.items() if key[0] == "a1")
    assert first[("a2", "2025-10")] == ["x1", "x2"]  # fewer than k: all of them


def test_a_groups_draw_does_not_depend_on_the_other_groups_or_their_order() -> None:
    alone = draw_per_group({("a1", "2025-09"): groups()[("a1", "2025-09")]}, 3, seed=7)
    shuffled = {k: list(reversed(v)) for k, v in reversed(list(groups().items()))}
    assert draw_per_group(shuffled, 3, seed=7)[("a1", "2025-09")] == alone[("a1", "2025-09")]


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        draw_per_group(groups(), 0, seed=1)


def post(post_id: str, account: str, day: str, **fields: object) -> dict:
    return {
        "platform": "weibo",
        "post_id": post_id,
        "account_id": account,
        "created_at": f"{day}T12:00:00+08:00",
        **fields,
    }


@pytest.fixture
def store(tmp_path) -> Store:
    with Store.open(tmp_path / "project.db") as opened:
        rows = [post(f"9{i:02d}", "a1", f"2025-09-{i + 1:02d}") for i in range(10)]
        rows += [post(f"10{i:02d}", "a1", f"2025-10-{i + 1:02d}") for i in range(2)]
        rows += [post("r1", "a1", "2025-09-15", is_repost=True)]
        rows += [post("b1", "b9", "2025-09-15")]  # another account
        opened.upsert_posts(rows)
        yield opened


def test_monthly_sample_is_recorded_and_leaves_out_reposts_and_others(store: Store) -> None:
    sample = monthly_sample(store, "weibo", ["a1"], k=4, seed=3)
    assert sample.per_group == {("a1", "2025-09"): 4, ("a1", "2025-10"): 2}
    ids = {post_id for _, post_id in sample.posts}
    assert "r1" not in ids and "b1" not in ids
    assert store.sample_posts(sample.sample_id) == sorted(sample.posts)
    again = monthly_sample(store, "weibo", ["a1"], k=4, seed=3)
    assert again.sample_id == sample.sample_id and again.posts == sample.posts
    assert store.count("sample_posts") == 6  # redrawn in place, not appended


def test_since_and_until_bound_the_months(store: Store) -> None:
    sample = monthly_sample(store, "weibo", ["a1"], k=4, seed=3, since="2025-10-01")
    assert set(sample.per_group) == {("a1", "2025-10")}
    sample = monthly_sample(store, "weibo", ["a1"], k=50, seed=3, until="2025-09-05")
    assert sample.per_group == {("a1", "2025-09"): 5}


def test_sampling_needs_a_seed_on_the_command_line(smcat) -> None:
    result = smcat("crawl", "weibo-user", "5001000001", "--sample-per-month", "3")
    assert result.returncode == 2 and "--seed" in result.stderr
