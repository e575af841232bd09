"""`smcat import posts --format table` benchmark: a plain CSV of N posts (smcat's own column
names, counts and times as a spreadsheet holds them), imported end to end into a new database:
the file read and checked, each row read into a post as a crawl reads one, written through the
crawl's writer in one transaction; a big file is read in a second process while the first
writes (`--one-process`: all in one, as a small file is). Prints posts per second, by the clock
and by CPU time (the writing process's, the reading process's).
Run: `python bench/bench_import_posts.py [--posts 1000000] [--one-process]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from machine import machine_line

import smcat.imports.posts as posts_module
from smcat.imports.posts import import_posts
from smcat.store import Store

HEADER = ("platform", "post_id", "account_id", "created_at", "text", "likes", "comments",
          "reposts", "observed_at", "topics")  # fmt: skip


def write_table(path: Path, posts: int) -> None:
    """N posts of 50 accounts over a year, one crawl time, some counts as 1.2万."""
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(posts):
            created = (start + timedelta(seconds=31 * i)).strftime("%Y-%m-%d %H:%M:%S")
            likes = f"{i % 97}.{i % 10}万" if i % 5 == 0 else str(i % 9973)
            writer.writerow((
                "weibo", 5_200_000_000_000_000 + i, 5_001_000_000 + i % 50, created,
                f"澜蔻小蓝瓶新品上市 #秋冬护肤# @澜蔻护肤小助手 转发抽奖 {i}", likes, i % 701,
                i % 53, "2025-12-31 20:00:00", "秋冬护肤",
            ))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--one-process", action="store_true", help="read and write in one")
    args = parser.parse_args()
    if args.one_process:
        posts_module.READ_APART_BYTES = 1 << 62
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "posts.csv"
        write_table(table, args.posts)
        db = Path(folder) / "smcat.db"
        started, cpu = time.perf_counter(), time.process_time()
        with Store.open(db) as store:
            [result] = import_posts(store, [table], "table")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        reader = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reading process, joined
        reader_cpu = reader.ru_utime + reader.ru_stime
        with sqlite3.connect(db) as connection:
            stored = connection.execute("SELECT count(*) FROM posts").fetchone()[0]
        connection.close()
        size = table.stat().st_size / 1e6
    print(machine_line())
    print(f"table: {args.posts:,} posts, {size:.0f} MB; stored {stored:,}, "
          f"rejected {len(result.rejected)}")  # fmt: skip
    how = "one process" if args.one_process else "read in a second process"
    print(f"import posts --format table ({how}): {seconds:.1f} s, "
          f"{args.posts / seconds:,.0f} posts/s")  # fmt: skip
    # the machine may be shared: the writing process's own CPU time says what it would do
    # with a free core for itself (and one for the reader)
    print(f"  CPU time of the import: {cpu:.1f} s, {args.posts / cpu:,.0f} posts/s; "
          f"of the reading process: {reader_cpu:.1f} s")  # fmt: skip
    print(f"  load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
