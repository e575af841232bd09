"""Machine-coding benchmark: `auto_code` over N posts read from SQLite, codes written back.

Fills a new database with N generated brand posts (texts drawn from fixtures/coding's corpus,
with varied numbers, topics and pictures) and a month of hot-search snapshots, then times the
whole `smcat code auto` job: reading posts in batches, tokenizing (rjieba, HMM off), tagging
with the bundled codebook, writing codes and coded marks; once for each `--workers` value, each
on its own copy of the filled database. The yardstick is the same tagger on stock jieba with
HMM on, timed on a slice of the posts (it is too slow for all of them), against rjieba on the
same slice: tagging alone, in one process, as `auto_code` tags (`Tagger.tag_json`); and, for
comparison, the two taggers' segmenting alone (`Tagger.tokenizer.cut`) on the same texts.
The runs alternate, `--rounds` times, and their medians are printed.
Run: `python bench/bench_tag.py [--posts 1000000] [--yardstick 50000] [--workers 0 2]`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

from machine import machine_line

from coding.autocode import auto_code, default_workers
from coding.codebook import default_codebook_path, load_codebook
from coding.tagger import Tagger
from coding.tokenize import read_word_list
from smcat.hot_words import HotWordIndex
from smcat.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHINA = timezone(timedelta(hours=8))
START = datetime(2025, 3, 1, tzinfo=CHINA)
HOT = ["澜蔻新品", "春日焕新", "打工人", "跑步", "面膜", "双11", "国货", "秋天的第一杯奶茶"]


def fill(db: Path, posts: int, seed: int = 7) -> None:
    """N posts over 90 days and a hot-search snapshot a day."""
    texts = read_word_list(ROOT / "fixtures" / "coding" / "brand_texts.txt")
    rng = random.Random(seed)
    with Store.open(db) as store:
        store.add_hot_search(
            {"platform": "weibo", "observed_at": (START + timedelta(days=d)).isoformat(),
             "rank": rank, "word": word}
            for d in range(90) for rank, word in enumerate(rng.sample(HOT, 5), start=1)
        )  # fmt: skip
        batch = []
        for i in range(posts):
            when = START + timedelta(seconds=rng.randrange(90 * 86400))
            topics = rng.sample(HOT, rng.randrange(3))
            text = rng.choice(texts) + "".join(f" #{t}#" for t in topics) + f" {i % 997}"
            batch.append({
                "platform": "weibo", "post_id": str(10**15 + i), "account_id": str(i % 50),
                "created_at": when.isoformat(), "observed_at": when.isoformat(), "text": text,
                "pic_count": rng.choice((0, 0, 1, 3, 9)), "media_type": "picture",
                "topics": topics,
            })  # fmt: skip
            if len(batch) == 50_000:
                store.upsert_posts(batch)
                batch = []
        store.upsert_posts(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--yardstick", type=int, default=50_000, help="posts for stock jieba")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the tagging-alone runs")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, default_workers()],
        help="tagging workers of each timed run (default: none, then auto_code's default)",
    )  # fmt: skip
    args = parser.parse_args()
    codebook = load_codebook(default_codebook_path())
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        filled = Path(folder) / "filled.db"
        began = time.perf_counter()
        fill(filled, args.posts)
        print(f"filled {args.posts:,} posts in {time.perf_counter() - began:.0f} s")
        for workers in dict.fromkeys(args.workers):
            db = Path(folder) / f"coded-{workers}.db"
            shutil.copy(filled, db)  # a checkpointed database: fill() closed it
            with Store.open(db) as store:
                began = time.perf_counter()
                result = auto_code(store, codebook, workers=workers)
                seconds = time.perf_counter() - began
            db.unlink()
            print(f"smcat code auto --workers {workers} (rjieba, HMM off): {result.posts:,} "
                  f"posts, {result.codes:,} codes in {seconds:.1f} s = "
                  f"{result.posts / seconds:,.0f} posts/s")  # fmt: skip
        with Store.open(filled, readonly=True) as store:
            posts = next(store.posts_to_code(codebook.name, "nobody", batch=args.yardstick))
            hot = HotWordIndex(store.hot_words())
    hmm = {"rjieba": False, "jieba": True}
    taggers = {
        backend: Tagger(codebook, hot, tokenizer_backend=backend, hmm=on)
        for backend, on in hmm.items()
    }
    texts = [post.text for post in posts]
    jobs: dict[tuple[str, str], Callable[[], object]] = {}
    for backend, tagger in taggers.items():
        assert tagger.tokenizer is not None, "the bundled codebook has a hot-word rule"
        jobs["tagging alone", backend] = partial(_each, tagger.tag_json, posts)
        jobs["segmenting alone", backend] = partial(_each, tagger.tokenizer.cut, texts)
    rates: dict[tuple[str, str], list[float]] = {job: [] for job in jobs}
    for _ in range(args.rounds):  # interleaved: a slow stretch of the machine hits all
        for job, run in jobs.items():
            began = time.perf_counter()
            run()
            rates[job].append(len(posts) / (time.perf_counter() - began))
    for what in ("tagging alone", "segmenting alone"):
        for backend in taggers:
            runs = rates[what, backend]
            print(f"{what}, {backend} HMM {'on' if hmm[backend] else 'off'}: {len(posts):,} "
                  f"posts, median {statistics.median(runs):,.0f} posts/s "
                  f"(runs: {', '.join(f'{rate:,.0f}' for rate in runs)})")  # fmt: skip
        fast, slow = rates[what, "rjieba"], rates[what, "jieba"]
        ratios = [f / s for f, s in zip(fast, slow, strict=True)]
        rounds = ", ".join(f"{r:.1f}" for r in ratios)
        print(f"  {what}, rjieba is {statistics.median(ratios):.1f} times as fast as stock jieba "
              f"(median of the rounds' ratios: {rounds})")  # fmt: skip


def _each(call: Callable[[Any], object], items: list[Any]) -> None:
    for item in items:
        call(item)


if __name__ == "__main__":
    main()
