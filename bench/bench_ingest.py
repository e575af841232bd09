"""Store ingest benchmark: upsert N posts with one observation each, then again (all updates).

Prints posts per second for smcat's `Store.upsert_posts` and, in the same run, for two
yardsticks on the same schema: sqlite-utils `upsert_all` and plain `executemany` of pre-built
tuples (no checks). Run: `python bench/bench_ingest.py [--posts 200000]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from machine import machine_line

from smcat.store import Store

POST_COLUMNS = (
    "platform",
    "post_id",
    "account_id",
    "created_at",
    "text",
    "is_repost",
    "media_type",
    "pic_count",
    "source",
    "region",
    "url",
    "first_seen_at",
    "updated_at",
)
OBSERVATION_COLUMNS = ("platform", "post_id", "observed_at", "likes", "comments", "reposts")


def make_posts(n: int, observed_at: str, seed: int = 7) -> list[dict]:
    """N post rows as a parser would hand them to the store, each with one observation."""
    rng = random.Random(seed)
    start = datetime(2025, 9, 1, tzinfo=UTC)
    return [
        {
            "platform": "weibo",
            "post_id": str(5_200_000_000_000_000 + i),
            "account_id": str(5_001_000_000 + i % 50),
            "created_at": (start + timedelta(minutes=i)).isoformat(),
            "text": f"澜蔻小蓝瓶新品上市 #秋冬护肤# 转发抽奖 {i}",
            "is_repost": i % 10 == 0,
            "media_type": "picture",
            "pic_count": i % 9,
            "source": "微博 weibo.com",
            "region": "发布于 上海",
            "url": f"https://m.weibo.cn/status/{i}",
            "observed_at": observed_at,
            "likes": rng.randrange(10_000),
            "comments": rng.randrange(1_000),
            "reposts": rng.randrange(500),
        }
        for i in range(n)
    ]


def as_tuples(posts: list[dict], now: str) -> tuple[list[tuple], list[tuple]]:
    """The same rows as pre-built tuples, for the plain executemany yardstick."""
    post_rows = [
        tuple(now if c in ("first_seen_at", "updated_at") else p[c] for c in POST_COLUMNS)
        for p in posts
    ]
    observation_rows = [tuple(p[c] for c in OBSERVATION_COLUMNS) for p in posts]
    return post_rows, observation_rows


def run_smcat(store: Store, posts: list[dict]) -> None:
    """The code path crawls use."""
    store.upsert_posts(posts)


def run_sqlite_utils(store: Store, posts: list[dict]) -> None:
    """sqlite-utils' upsert_all on the same tables."""
    now = datetime.now(UTC).isoformat()
    with store.transaction():
        store.db["posts"].upsert_all(
            (
                {c: now if c.endswith("_at") and c != "created_at" else p[c] for c in POST_COLUMNS}
                for p in posts
            ),
            pk=("platform", "post_id"),
        )
        store.db["post_observations"].upsert_all(
            ({c: p[c] for c in OBSERVATION_COLUMNS} for p in posts),
            pk=("platform", "post_id", "observed_at"),
        )


def run_executemany(store: Store, posts: list[dict]) -> None:
    """Plain executemany of pre-built tuples: the fastest the schema allows, with no checks."""
    post_rows, observation_rows = as_tuples(posts, datetime.now(UTC).isoformat())
    names = ", ".join(POST_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in POST_COLUMNS[2:] if c != "first_seen_at")
    with store.transaction():
        store.connection.executemany(
            f"INSERT INTO posts ({names}) VALUES ({', '.join('?' * len(POST_COLUMNS))})"
            f" ON CONFLICT (platform, post_id) DO UPDATE SET {updates}",
            post_rows,
        )
        store.connection.executemany(
            f"INSERT INTO post_observations ({', '.join(OBSERVATION_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(OBSERVATION_COLUMNS))}) ON CONFLICT DO NOTHING",
            observation_rows,
        )


def timed(run: Callable[[Store, list[dict]], None], store: Store, posts: list[dict]) -> float:
    """Posts per second for one pass; tuple building counts for executemany too."""
    started = time.perf_counter()
    run(store, posts)
    return len(posts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per method; medians shown")
    args = parser.parse_args()
    first = make_posts(args.posts, "2025-12-01T00:00:00+08:00")
    second = make_posts(args.posts, "2025-12-02T00:00:00+08:00", seed=8)
    print(machine_line())
    print(
        f"{args.posts:,} posts, one observation each; insert pass then update pass; "
        f"median of {args.repeat} runs, each on a new database (runs interleaved)"
    )
    methods = {
        "smcat Store.upsert_posts": run_smcat,
        "sqlite-utils upsert_all": run_sqlite_utils,
        "plain executemany": run_executemany,
    }
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):
            for name, run in methods.items():
                with Store.open(Path(folder) / f"{attempt}-{name.split()[0]}.db") as store:
                    _ = store.db  # sqlite-utils' Database is made on first use: not timed
                    insert = timed(run, store, first)
                    update = timed(run, store, second)
                    assert store.count("posts") == args.posts
                    assert store.count("post_observations") == 2 * args.posts
                rates[name].append((insert, update))
    medians = {}
    for name, runs in rates.items():
        insert = statistics.median(r[0] for r in runs)
        update = statistics.median(r[1] for r in runs)
        medians[name] = (insert, update)
        low = min(min(r) for r in runs)
        print(
            f"{name:28s} insert {insert:>10,.0f} posts/s   update {update:>10,.0f} posts/s"
            f"   (slowest run {low:,.0f})"
        )
    smcat, plain = medians["smcat Store.upsert_posts"], medians["plain executemany"]
    print(
        f"smcat / plain executemany: insert {smcat[0] / plain[0]:.0%}, "
        f"update {smcat[1] / plain[1]:.0%}"
    )


if __name__ == "__main__":
    main()
