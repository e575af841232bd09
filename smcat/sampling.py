"""Reproducible samples of posts: K per account and calendar month, as the source studies draw
them (three months of each brand's posts, a fixed number a month, coded by hand), the two-stage
and constructed-week designs of content analyses, and the coders' samples, with a share common
to every coder for reliability.

Every sample is recorded in `samples` / `sample_posts` with its design in `params`, so that a
methods section can be written from `smcat db export samples`."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

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
class DesignedSample:
    """A sample drawn by a study design: its id, its design as recorded (stages, seed, frame
    counts, what was drawn) and its posts."""

    sample_id: str
    design: dict[str, Any]
    posts: list[tuple[str, str]]


def draw_months(months: Sequence[str], m: int, seed: int, account: str) -> list[str]:
    """M of an account's months (all where fewer), sorted; the account's own generator, so that
    its draw does not change when other accounts are added."""
    if m < 1:
        raise SmcatError(f"draw at least 1 month per account, not {m}")
    rng = random.Random(f"{seed}:months:{account}")
    return sorted(rng.sample(sorted(months), min(m, len(months))))


def two_stage_sample(
    store: Store,
    platform: str,
    account_ids: Sequence[str] | None = None,
    *,
    months: int,
    per_month: int,
    seed: int,
    since: str | None = None,
    until: str | None = None,
    reposts: bool = False,
    sample_id: str | None = None,
) -> DesignedSample:
    """Draw, for each account (None: every account of the platform), `months` calendar months at
    random among its months with posts in the window (all where fewer), then `per_month` posts
    of each drawn month (all where fewer), and record the sample with its design.

    Each account's months and each month's posts have their own seeded generator, so a draw is
    reproducible and does not change when other accounts are added. Reposts are left out unless
    `reposts`. The recorded design holds the stages, the seed, the window, the frame (posts per
    account and month) and the months drawn with their posts drawn."""
    if per_month < 1:
        raise SmcatError(f"draw at least 1 post per month, not {per_month}")
    groups = store.posts_by_account_month(
        platform, account_ids, since=since, until=until, include_reposts=reposts
    )
    if not groups:
        raise SmcatError(_no_posts(platform, account_ids, since, until))
    frame = _nested({key: len(ids) for key, ids in groups.items()})
    chosen = {
        (account, month): groups[(account, month)]
        for account, by_month in frame.items()
        for month in draw_months(list(by_month), months, seed, account)
    }
    drawn = draw_per_group(chosen, per_month, seed)
    posts = [(platform, post_id) for key in sorted(drawn) for post_id in drawn[key]]
    design = {
        "kind": "two-stage",
        "platform": platform,
        "accounts": sorted(frame) if account_ids is None else sorted(account_ids),
        "since": since,
        "until": until,
        "reposts": reposts,
        "seed": seed,
        "stages": [
            f"{months} calendar months per account, at random among its months with posts in"
            " the window (all where fewer)",
            f"{per_month} posts per drawn month, at random (all where fewer)",
        ],
        "months": months,
        "per_month": per_month,
        "frame": frame,
        "drawn": _nested({key: len(ids) for key, ids in drawn.items()}),
    }
    sample_id = sample_id or _sample_id(
        platform, f"m{months}-k{per_month}", seed, account_ids, since, until
    )
    store.save_sample(
        sample_id,
        purpose=f"{months} months per account, {per_month} posts per month",
        seed=seed,
        params=design,
        posts=posts,
    )
    return DesignedSample(sample_id, design, posts)


def constructed_weeks(first: date, last: date, weeks: int, seed: int) -> list[list[date]]:
    """N constructed weeks of the days from `first` to `last`: each a Monday, a Tuesday, ...,
    a Sunday drawn at random, the seven from seven different calendar weeks (Monday to Sunday),
    and no day drawn twice (Riffe, Aust & Lacy 1993). Each week is listed Monday first."""
    if weeks < 1:
        raise SmcatError(f"draw at least 1 constructed week, not {weeks}")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_weekday = {d: [day for day in days if day.weekday() == d] for d in range(7)}
    calendar_weeks = {day - timedelta(days=day.weekday()) for day in days}
    if any(len(by_weekday[d]) < weeks for d in range(7)) or len(calendar_weeks) < 7:
        raise SmcatError(
            f"{first} to {last} touches {len(calendar_weeks)} calendar week(s), too few for"
            f" {weeks} constructed week(s) of days from 7 different weeks: widen the window"
            " or draw fewer weeks"
        )
    rng = random.Random(f"{seed}:constructed-week")
    taken: set[date] = set()
    constructed = []
    for _ in range(weeks):
        for _attempt in range(10_000):
            week = [rng.choice([d for d in by_weekday[w] if d not in taken]) for w in range(7)]
            if len({day - timedelta(days=day.weekday()) for day in week}) == 7:
                break
        else:
            raise SmcatError(
                f"could not draw {weeks} constructed weeks from 7 different weeks each between"
                f" {first} and {last}: widen the window or draw fewer weeks"
            )
        taken.update(week)
        constructed.append(week)
    return constructed


def constructed_week_sample(
    store: Store,
    platform: str,
    account_ids: Sequence[str] | None = None,
    *,
    weeks: int,
    seed: int,
    since: str | None = None,
    until: str | None = None,
    reposts: bool = False,
    sample_id: str | None = None,
) -> DesignedSample:
    """Draw `weeks` constructed weeks of the window (`constructed_weeks`; without `since` and
    `until`, the days from the accounts' first to their last post) and take every post of the
    accounts (None: every account of the platform) on the days drawn. The same days serve every
    account, so that accounts are compared on the same days; the recorded design holds the days
    drawn, the seed, the frame (posts per account and month) and the posts drawn per account
    and day."""
    groups = store.posts_by_account_day(
        platform, account_ids, since=since, until=until, include_reposts=reposts
    )
    if not groups:
        raise SmcatError(_no_posts(platform, account_ids, since, until))
    seen = sorted(day for _, day in groups)
    first = date.fromisoformat(since) if since else date.fromisoformat(seen[0])
    last = date.fromisoformat(until) if until else date.fromisoformat(seen[-1])
    drawn_weeks = constructed_weeks(first, last, weeks, seed)
    days = {day.isoformat() for week in drawn_weeks for day in week}
    chosen = {key: ids for key, ids in sorted(groups.items()) if key[1] in days}
    posts = [(platform, post_id) for key in sorted(chosen) for post_id in chosen[key]]
    months: Counter[tuple[str, str]] = Counter()
    for (account, day), ids in groups.items():
        months[(account, day[:7])] += len(ids)
    design = {
        "kind": "constructed-week",
        "platform": platform,
        "accounts": sorted({a for a, _ in groups}) if account_ids is None else sorted(account_ids),
        "since": first.isoformat(),
        "until": last.isoformat(),
        "reposts": reposts,
        "seed": seed,
        "stages": [
            f"{weeks} constructed week(s): a Monday, a Tuesday, ..., a Sunday at random, each"
            " from a different calendar week of the window, the same days for every account",
            "every post of the accounts on the days drawn",
        ],
        "weeks": weeks,
        "days": [[day.isoformat() for day in week] for week in drawn_weeks],
        "frame": _nested(dict(months)),
        "drawn": _nested({key: len(ids) for key, ids in chosen.items()}),
    }
    sample_id = sample_id or _sample_id(platform, f"cw{weeks}", seed, account_ids, since, until)
    store.save_sample(
        sample_id,
        purpose=f"{weeks} constructed week(s), every post of the days drawn",
        seed=seed,
        params=design,
        posts=posts,
    )
    return DesignedSample(sample_id, design, posts)


def _nested(counts: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """{(account, period): n} as {account: {period: n}}, sorted, for the recorded design."""
    nested: dict[str, dict[str, int]] = {}
    for (account, period), n in sorted(counts.items()):
        nested.setdefault(account, {})[period] = n
    return nested


def _sample_id(
    platform: str,
    design: str,
    seed: int,
    account_ids: Sequence[str] | None,
    since: str | None,
    until: str | None,
) -> str:
    """The default id of a designed sample: its platform, design, seed, window and accounts."""
    window = f"-{since or ''}..{until or ''}" if since or until else ""
    accounts = "+".join(sorted(account_ids)) if account_ids is not None else "all"
    return f"{platform}-{design}-seed{seed}{window}-{accounts}"


def _no_posts(
    platform: str, account_ids: Sequence[str] | None, since: str | None, until: str | None
) -> str:
    whose = f"of {', '.join(account_ids)} " if account_ids else ""
    window = f"between {since or 'the start'} and {until or 'the end'} " if since or until else ""
    return (
        f"no {platform} posts {whose}{window}to draw from: crawl or import them first, or"
        " widen the window"
    )


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
