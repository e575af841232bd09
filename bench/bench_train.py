"""Trained-coder benchmark: `code train` on N gold posts, then `code auto --model` end to end.

Stores `--gold` generated gold posts (tests/gold_posts.py: brand posts coded B1-B10 by
construction, of real post lengths) and times `train_and_store`: rule codes, features, 5-fold
cross-validation of each content subcategory with the rules' figures, the learning curve at
25/50/75/100%, the final fit and storing. Then fills a new database with `--posts` other
generated posts and times `auto_code` with the stored model (reading in batches, tagging, the
model's features and scores, evidence, writing codes back), once per `--workers` value, each
on its own copy of the filled database; and the rules alone on the same posts, for comparison.
Run: `python bench/bench_train.py [--gold 5000] [--posts 1000000] [--workers 0 2]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_line

from coding.autocode import auto_code, default_workers
from coding.codebook import default_codebook_path, load_codebook
from coding.train import load_model, macro_f1, train_and_store
from smcat.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find tests/
from tests.gold_posts import generate, store_gold  # the generator of the tests' gold set


def fill(db: Path, posts: int, seed: int) -> None:
    """`posts` generated posts, without codes, stored 50,000 at a time."""
    with Store.open(db) as store:
        for start in range(0, posts, 50_000):
            batch = generate(min(50_000, posts - start), seed=seed + start)
            store.upsert_posts(
                {"platform": "weibo", "post_id": str(10**15 + start + i),
                 "created_at": post["created_at"], "text": post["text"],
                 "media_type": "picture", "pic_count": 1}
                for i, post in enumerate(batch)
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=int, default=5_000, help="gold posts to train on")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts to code")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, default_workers()],
        help="coding workers of each timed run (default: none, then auto_code's default)",
    )  # fmt: skip
    args = parser.parse_args()
    codebook = load_codebook(default_codebook_path())
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        gold_db = Path(folder) / "gold.db"
        with Store.open(gold_db) as store:
            store_gold(store, generate(args.gold, seed=20))
            began = time.perf_counter()
            result = train_and_store(store, codebook)
            seconds = time.perf_counter() - began
            model = load_model(store, result.model.coder)
        model_f1, rules_f1 = macro_f1(result.validity)
        print(f"smcat code train: {args.gold:,} gold posts in {seconds:.1f} s (cross-validated "
              f"macro F1 of B1-B10: model {model_f1:.3f}, rules {rules_f1:.3f})")  # fmt: skip
        filled = Path(folder) / "filled.db"
        began = time.perf_counter()
        fill(filled, args.posts, seed=1_000)
        print(f"filled {args.posts:,} posts in {time.perf_counter() - began:.0f} s")
        runs = [(workers, model) for workers in dict.fromkeys(args.workers)]
        runs.append((default_workers(), None))
        for workers, trained in runs:
            db = Path(folder) / f"coded-{workers}.db"
            shutil.copy(filled, db)
            with Store.open(db) as store:
                began = time.perf_counter()
                coded = auto_code(store, codebook, workers=workers, model=trained)
                seconds = time.perf_counter() - began
            db.unlink()
            what = "--model latest" if trained else "(rules only)"
            print(f"smcat code auto {what} --workers {workers}: {coded.posts:,} posts, "
                  f"{coded.codes:,} codes in {seconds:.1f} s = "
                  f"{coded.posts / seconds:,.0f} posts/s")  # fmt: skip


if __name__ == "__main__":
    main()
