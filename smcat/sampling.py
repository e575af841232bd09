"""Reproducible samples of posts: K per account and calendar month, as the source studies draw
them (three months of each brand's posts, a fixed number a month, coded by hand), and the
coders' samples, with a share common to every coder for reliability."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smcat.errors import SmcatError
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


@dataclass(frozen=True)
class CodingSample:
    """Posts drawn for one coder: the overlap shared with every coder, then the coder's own."""

    sample_id: str
    shared: list[tuple[str, str]]
    own: list[tuple[str, str]]

    @property
    def posts(self) -> list[tuple[str, str]]:
        """Every post of the sample, shared ones first, in the drawn order."""
        return self.shared + self.own


def coding_sample_prefix(codebook: str, seed: int) -> str:
    """The sample id prefix of every coder's sample of one codebook and seed."""
    return f"coding-{codebook}-seed{seed}-"


def coding_sample(
    store: Store,
    *,
    codebook: str,
    coder: str,
    n: int,
    seed: int,
    overlap: float,
    within: str | None = None,
) -> CodingSample:
    """Draw N posts for a coder and record them as a sample.

    The posts (all stored posts, or those of the sample `within`) are shuffled by the seed.
    The first round(overlap * N) go to every coder who draws with this seed, so that their
    reliability can be measured; the rest are the next posts of the shuffled order that no
    other coder of this seed has as their own. Drawing again for the same coder gives the
    same posts; drawing with another size, overlap or `within` is refused, since it would
    replace the coder's recorded sample (and the posts they coded) without a word.
    """
    if n < 1:
        raise SmcatError(f"a coding sample has at least 1 post, not {n}")
    if not 0 <= overlap <= 1:
        raise SmcatError(f"the overlap is a share of the sample, from 0 to 1, not {overlap}")
    prefix = coding_sample_prefix(codebook, seed)
    sample_id = prefix + coder
    drawn = store.samples_like(prefix)
    recorded = drawn.get(sample_id)
    if recorded is not None and (recorded.get("n"), recorded.get("overlap"),
                                 recorded.get("within")) != (n, overlap, within):  # fmt: skip
        raise SmcatError(
            f"{coder} already has a sample of {recorded.get('n')} posts with seed {seed} "
            f"(overlap {recorded.get('overlap')}, within {recorded.get('within')}): draw it "
            "with the same settings, or use another seed"
        )
    order = store.post_keys(within)
    if not order:
        where = f"sample {within!r} has" if within else "the database has"
        raise SmcatError(f"{where} no posts to draw from: crawl posts first")
    random.Random(f"coding:{seed}").shuffle(order)
    rank = {key: at for at, key in enumerate(order)}
    taken: set[tuple[str, str]] = set()
    for other, params in drawn.items():
        if other != sample_id:
            shared = int(params.get("shared", 0))
            taken.update(k for k in store.sample_posts(other) if rank.get(k, 0) >= shared)
    pool = order[: round(overlap * n)]
    own = [key for key in order[len(pool) :] if key not in taken][: n - len(pool)]
    if len(pool) + len(own) < n:
        raise SmcatError(
            f"only {len(pool) + len(own)} posts are left that no other coder of seed {seed} "
            f"has: ask for {len(pool) + len(own)} posts or fewer, or use another seed"
        )
    store.save_sample(
        sample_id,
        purpose=f"coding sample of {coder} ({codebook})",
        seed=seed,
        params={
            "kind": "coding",
            "codebook": codebook,
            "coder": coder,
            "n": n,
            "overlap": overlap,
            "shared": len(pool),
            "within": within,
        },
        posts=pool + own,
    )
    return CodingSample(sample_id, pool, own)
