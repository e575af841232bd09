"""Replay-crawl benchmark: `smcat crawl weibo-user` over generated timelines on the loopback
replay server, end to end (Scrapy engine, HTTP, parsing, pipeline, SQLite).

Prints posts per second (wall clock of the whole command) and requests per post. Pages hold 20
posts, as Weibo's do; 1 post in 100 is long and needs its full text fetched.
Run: `python bench/bench_crawl.py [--accounts 10 --pages 100]`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from machine import machine_line

from smcat.demo.replay import ReplayServer

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PAGE = ROOT / "fixtures/weibo/mobile/timeline_5001000001_p1.json"
CST = timezone(timedelta(hours=8))
POSTS_PER_PAGE = 20
LONG_EVERY = 100


def template_mblog() -> dict:
    """A picture post of the demo fixtures, the shape every generated post takes."""
    cards = json.loads(TEMPLATE_PAGE.read_text(encoding="utf-8"))["data"]["cards"]
    return next(
        c["mblog"]
        for c in cards
        if c.get("mblog") and c["mblog"].get("pic_num") and "retweeted_status" not in c["mblog"]
    )


def write_timelines(folder: Path, accounts: int, pages: int) -> tuple[list[str], int]:
    """Pages, long texts and a manifest for `accounts` accounts of `pages` pages each."""
    template = template_mblog()
    routes, uids, number = [], [], 0
    start = datetime(2025, 11, 30, 20, 0, tzinfo=CST)
    for a in range(accounts):
        uid = str(6_000_000_000 + a)
        uids.append(uid)
        for page in range(1, pages + 1):
            cards = []
            for _ in range(POSTS_PER_PAGE):
                number += 1
                mblog = copy.deepcopy(template)
                post_id = str(5_300_000_000_000_000 + number)
                created = start - timedelta(minutes=37 * number)
                mblog.update(
                    id=post_id,
                    mid=post_id,
                    created_at=created.strftime("%a %b %d %H:%M:%S %z %Y"),
                    attitudes_count=number % 5000,
                    comments_count=number % 300,
                    reposts_count=number % 70,
                    isLongText=number % LONG_EVERY == 0,
                )
                mblog["user"] = {**mblog["user"], "id": int(uid)}
                cards.append({"card_type": 9, "mblog": mblog})
                if mblog["isLongText"]:
                    body = {"ok": 1, "data": {"ok": 1, "longTextContent": mblog["text"] * 3}}
                    name = f"extend_{post_id}.json"
                    (folder / name).write_text(json.dumps(body, ensure_ascii=False), "utf-8")
                    routes.append(("/statuses/extend", {"id": post_id}, name))
            info = {"containerid": f"107603{uid}", "total": pages * POSTS_PER_PAGE}
            if page < pages:
                info["page"] = page + 1
            name = f"timeline_{uid}_{page}.json"
            payload = {"ok": 1, "data": {"cardlistInfo": info, "cards": cards}}
            (folder / name).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
            routes.append(
                (
                    "/api/container/getIndex",
                    {"containerid": f"107603{uid}", "page": str(page)},
                    name,
                )
            )
        routes.append(
            (
                "/api/container/getIndex",
                {"containerid": f"107603{uid}", "page": str(pages + 1)},
                str(ROOT / "fixtures/weibo/mobile/timeline_end.json"),
            )
        )
        routes.append(
            (
                "/api/container/getIndex",
                {"containerid": f"100505{uid}"},
                str(ROOT / "fixtures/weibo/mobile/profile_5001000001.json"),
            )
        )
    manifest = []
    for path, query, body in routes:
        pairs = ", ".join(f'{k} = "{v}"' for k, v in query.items())
        manifest.append(
            f'[[route]]\npath = "{path}"\nquery = {{ {pairs} }}\nbody_file = "{body}"\n'
        )
    (folder / "bench.toml").write_text("\n".join(manifest), "utf-8")
    return uids, number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        uids, posts = write_timelines(folder, args.accounts, args.pages)
        db = folder / "bench.db"
        with ReplayServer(folder / "bench.toml") as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SMCAT_")}
            env.update(SMCAT_WEIBO_MOBILE_URL=server.url, SMCAT_DOWNLOAD_DELAY="0")
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "smcat", "crawl", "weibo-user", *uids, "--db", str(db)],
                env=env,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            hits = server.hits
        if result.returncode != 0:
            sys.exit(f"crawl failed: {result.stderr.strip()}")
        with sqlite3.connect(db) as connection:
            stored = connection.execute("SELECT count(*) FROM posts").fetchone()[0]
        timeline = [h for h in hits if h.path == "/api/container/getIndex"]
        pages = [h for h in timeline if h.query.get("containerid", "").startswith("107603")]
        extends = len(hits) - len(timeline)
    assert stored == posts, (stored, posts)
    print(f"{args.accounts} accounts x {args.pages} pages x {POSTS_PER_PAGE} posts = {posts:,}")
    print(f"end to end: {elapsed:.1f} s, {posts / elapsed:,.0f} posts/s (stored {stored:,})")
    print(
        f"requests: {len(hits):,} ({len(pages):,} timeline pages, {extends:,} long texts, "
        f"{args.accounts} profiles) = {len(hits) / posts:.3f} per post; "
        f"timeline pages alone {len(pages) / posts:.3f} per post"
    )


if __name__ == "__main__":
    main()
