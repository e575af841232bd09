"""What the cluster tests share: a real Redis server of their own (Debian's redis-server on a
free loopback port, persistence off), `smcat` processes of a cluster, and a comparison of two
databases table by table."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from smcat.store import TABLES
from tests.conftest import clean_env

REDIS_SERVER = shutil.which("redis-server")

# columns that differ between two runs of the same crawl, whatever runs it: the moments
# (fetched, observed, stored, started), the ids SQLite hands out, and the checkpoints (a
# cluster crawl goes on from its frontier and keeps none)
RUN_SPECIFIC = frozenset({
    "id", "crawl_id", "fetched_at", "observed_at", "first_seen_at", "updated_at", "started_at",
    "ended_at", "rejected_at", "crawled_up_to", "crawled_up_to_crawl", "checkpoint",
})  # fmt: skip
COMPARED = tuple(table for table in TABLES if table != "cluster_batches")
# the crawl's count of items takes in its checkpoints (Scrapy counts them as items), and each
# worker checkpoints only the pages it read, as it read them: the rest of the counts must agree
ITEMS_COUNT = "items"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(password: str | None = None) -> Iterator[str]:
    """A Redis server of our own on 127.0.0.1 (with `password` required, if given), persistence
    off; its URL. Skipped where Debian's redis-server is not installed, except in CI (.ci/run
    installs it)."""
    if REDIS_SERVER is None:
        if os.environ.get("SMCAT_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed: apt-get install redis-server")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    auth = ["--requirepass", password] if password else []
    server = subprocess.Popen(
        [REDIS_SERVER, "--save", "", "--appendonly", "no", "--port", str(port),
         "--bind", "127.0.0.1", "--protected-mode", "yes", *auth],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis server of the test's own; its URL."""
    with redis_server() as url:
        yield url


def smcat_env(**settings: object) -> dict[str, str]:
    return clean_env(**{f"SMCAT_{k.upper()}": str(v) for k, v in settings.items()})


def start(cwd: Path, *args: str, **settings: object) -> subprocess.Popen[str]:
    """`python -m smcat ARGS` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "smcat", *args], cwd=cwd, env=smcat_env(**settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for a process; its stdout, or AssertionError with its stderr if it failed."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def rows(db: Path, table: str, ignored: set[str] | None = None) -> Counter[tuple[object, ...]]:
    """A table's rows without their run-specific columns, bodies unzipped, as a multiset."""
    with sqlite3.connect(db) as connection:
        cursor = connection.execute(f"SELECT * FROM {table}")  # a table of TABLES
        names = [column[0] for column in cursor.description]
        dropped = RUN_SPECIFIC | (ignored or set())
        kept = [i for i, name in enumerate(names) if name not in dropped]
        found: Counter[tuple[object, ...]] = Counter()
        for row in cursor:
            found[tuple(_plain(row[i]) for i in kept)] += 1
    return found


def _plain(value: object) -> object:
    """Bodies unzipped; JSON objects (counts, extra) with their keys in order, a crawl's
    counts without ITEMS_COUNT."""
    if isinstance(value, bytes) and value[:2] == b"\x1f\x8b":
        return gzip.decompress(value)
    if isinstance(value, str) and value.startswith("{"):
        decoded = json.loads(value)
        if isinstance(decoded.get("stored"), int):  # a crawl's counts
            decoded.pop(ITEMS_COUNT, None)
        return json.dumps(decoded, sort_keys=True)
    return value


def assert_same_tables(local: Path, cluster: Path, *, except_counts: bool = False) -> None:
    """Every table holds the same rows in both databases (RUN_SPECIFIC columns aside; and
    the crawl's counts with `except_counts`: a page fetched again after a kill counts twice)."""
    for table in COMPARED:
        ignored = {"counts"} if except_counts and table == "crawls" else set()
        theirs, ours = rows(cluster, table, ignored), rows(local, table, ignored)
        assert theirs == ours, (
            f"{table}: only in the cluster's {theirs - ours}, only in the local {ours - theirs}"
        )
