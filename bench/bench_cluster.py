"""Cluster benchmark: 1, 2 and 4 `smcat worker`s and one `smcat cluster ingest` over generated
timelines on the loopback replay server, with a Redis server of its own; politeness off.

Prints, per number of workers: posts per second (from the workers' start to the writer's
last commit, Python and Scrapy start-up included), the most messages queued for the writer at
once, and the writer's lag (from the last response the replay server sent to the crawl's
close in SQLite); then the posts per second the writer stores from a full queue.
Run: `python bench/bench_cluster.py [--accounts 16 --pages 25]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_crawl import write_timelines  # the same generated timelines
from machine import machine_line

from crawler.cluster.ingest import Ingester
from crawler.cluster.keys import ITEMS, Registered, item_message, register
from crawler.items import PostItem
from smcat.config import Settings
from smcat.demo.replay import ReplayServer
from smcat.store import Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    """A Redis server of the bench's own on loopback, persistence off; its URL and process."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--save", "", "--appendonly", "no",
         "--port", str(port), "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    while True:
        try:
            client.ping()
            return url, server
        except redis.ConnectionError:
            time.sleep(0.05)


def smcat(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "smcat", *args], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def run(folder: Path, uids: list[str], workers: int) -> tuple[float, int, float, int, float]:
    """One cluster crawl; (seconds, most queued, writer lag in seconds, posts stored, cores
    busy: the CPU seconds of every process, this one's replay server included, per second)."""
    url, server = start_redis()
    client = redis.Redis.from_url(url)
    db = folder / f"cluster{workers}.db"
    try:
        with ReplayServer(folder / "bench.toml") as replay:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SMCAT_")}
            env.update(SMCAT_WEIBO_MOBILE_URL=replay.url, SMCAT_DOWNLOAD_DELAY="0",
                       SMCAT_CLUSTER_REDIS=url, SMCAT_CONCURRENT_REQUESTS="4")  # fmt: skip
            submitted = smcat(env, "crawl", "weibo-user", *uids, "--db", str(db))
            if submitted.wait() != 0:
                sys.exit(f"submit failed: {submitted.communicate()[1]}")
            started = time.perf_counter()
            cpu_before = _cpu()
            crew = [smcat(env, "worker", "--until-done") for _ in range(workers)]
            writer = smcat(env, "cluster", "ingest", "--db", str(db), "--until-done")
            most = 0
            while writer.poll() is None:
                most = max(most, int(client.llen("smcat:items")))
                time.sleep(0.05)
            ended = time.perf_counter()
            closed_at = time.time()
            for process in (*crew, writer):
                _, err = process.communicate()
                if process.returncode != 0:
                    sys.exit(f"a cluster process failed: {err.strip()[-500:]}")
            last_fetch = max(hit.time for hit in replay.hits)
            busy = (_cpu() - cpu_before) / (ended - started)
    finally:
        server.terminate()
        server.wait()
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT count(*) FROM posts").fetchone()[0]
    return ended - started, most, closed_at - last_fetch, stored, busy


def writer_alone(folder: Path, posts: int) -> float:
    """Posts per second that the writer stores from a full queue (no workers running)."""
    url, server = start_redis()
    try:
        client = redis.Redis.from_url(url)
        settings = Settings(db=folder / "writer.db")
        with Store.open(settings.db) as store:
            crawl_id = store.start_crawl("weibo_user", {"uids": ["6000000000"]})
        register(client, Registered(crawl_id, "weibo_user", {"uids": ["6000000000"]}, {}))
        for start in range(0, posts, 1000):
            client.lpush(
                ITEMS, *(item_message(crawl_id, _post(n)) for n in range(start, start + 1000))
            )
        with Store.open(settings.db) as store:
            ingester = Ingester(client, store, settings)
            started = time.perf_counter()
            while ingester.step():
                pass
            elapsed = time.perf_counter() - started
            assert store.count("posts") == posts
    finally:
        server.terminate()
        server.wait()
    return posts / elapsed


def _post(number: int) -> PostItem:
    return PostItem(
        platform="weibo", post_id=str(5_300_000_000_000_000 + number),
        created_at="2025-11-30T20:00:00+08:00", observed_at="2025-12-01T08:00:00+08:00",
        account_id="6000000000", text="澜蔻新品上市 #护肤# 限时抢购" * 4, likes=number % 5000,
        comments=number % 300, reposts=number % 70, topics=["护肤"],
    )  # fmt: skip


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (Redis is still running:
    its share is not counted)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=16)
    parser.add_argument("--pages", type=int, default=25)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--writer-posts", type=int, default=50_000)
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        uids, posts = write_timelines(folder, args.accounts, args.pages)
        print(f"{args.accounts} accounts x {args.pages} pages x 20 posts = {posts:,} posts")
        for workers in args.workers:
            seconds, most, lag, stored, busy = run(folder, uids, workers)
            assert stored == posts, (stored, posts)
            print(
                f"{workers} worker(s): {seconds:.1f} s, {posts / seconds:,.0f} posts/s; "
                f"at most {most:,} messages queued; writer lag {lag:.2f} s; "
                f"{busy:.2f} cores busy"
            )
        rate = writer_alone(folder, args.writer_posts)
        print(f"the writer alone, {args.writer_posts:,} queued posts: {rate:,.0f} posts/s")


if __name__ == "__main__":
    main()
