"""Reproducible samples of posts: K per account and calendar month, as the source studies draw
them (three months of each brand's posts, a fixed number a month, coded by hand)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smcat.store import Store


@dataclass(frozen=True)
class MonthlySample:
    """A drawn sample: its id, how many posts per (account, month), and the posts."""

    sample_id: str
    per_group: dict[tuple[str, str], int]
    posts: list[tuple[str, str]]


def draw_per_group(
    groups: Mapping[tuple[str, str], Sequence[str]], k: int, seed: int
) -> dict[tuple[str, str], list[str]]:
    """K ids from each group (all of them where a group has fewer), reproducibly.

    Each group has its own generator, seeded by the seed and the group, so a group's draw does
    not change when other accounts or months are added.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    drawn = {}
    for (account, month), ids in groups.items():
        candidates = sorted(ids)
        rng = random.Random(f"{seed}:{account}:{month}")
        drawn[(account, month)] = sorted(rng.sample(candidates, min(k, len(candidates))))
    return drawn


def monthly_sample(
    store: Store,
    platform: str,
    account_ids: Sequence[str],
    *,
    k: int,
    seed: int,
    since: str | None = None,
    until: str | None = None,
) -> MonthlySample:
    """Draw K of the accounts' own posts (reposts left out) per calendar month and record the
    sample in the store under an id that names its parameters."""
    groups = store.posts_by_account_month(platform, account_ids, since=since, until=until)
    drawn = draw_per_group(groups, k, seed)
    sample_id = f"{platform}-monthly-k{k}-seed{seed}-" + "+".join(sorted(account_ids))
    posts = [(platform, post_id) for key in sorted(drawn) for post_id in drawn[key]]
    store.save_sample(
        sample_id,
        purpose=f"{k} posts per account and calendar month",
        seed=seed,
        params={
            "platform": platform,
            "accounts": sorted(account_ids),
            "k": k,
            "since": since,
            "until": until,
            "reposts": False,
        },
        posts=posts,
    )
    return MonthlySample(sample_id, {key: len(v) for key, v in sorted(drawn.items())}, posts)
