"""Douyin crawls killed halfway (SIGKILL) and resumed give exactly the rows of an uninterrupted
crawl; `crawl reparse` rebuilds Douyin's rows from the kept payloads."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.reparse import reparse
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, clean_env
from tests.test_douyin_comments import NOTE, VIDEO
from tests.test_douyin_crawl import LANKOU, ON_AIR, XIAOYU, crawl, crawl_record, query
from tests.test_reparse import snapshot, wipe
from tests.test_resume import checkpoint

DOUYIN = FIXTURES / "douyin"
ROWS = {
    "posts": "post_id, account_id, created_at, text, media_type, is_pinned",
    "post_observations": "post_id, likes, comments, shares, collects, plays",
    "account_snapshots": "account_id, followers, posts, total_likes",
    "comments": "comment_id, post_id, parent_id, root_id, author_id, text, likes, replies",
}


def slow_manifest(tmp_path: Path, route: str, path: str, query: dict, body: str) -> Path:
    """Douyin's fixtures, but one page hangs the first time it is asked for."""
    manifest = tmp_path / "slow.toml"
    wanted = ", ".join(f'{k} = "{v}"' for k, v in query.items())
    includes = ", ".join(f'"{DOUYIN / m}"' for m in ("user.toml", "comments.toml"))
    manifest.write_text(
        f'include = [{includes}]\n\n[[route]]\nname = "{route}"\npath = "{path}"\n'
        f"query = {{ {wanted} }}\n"
        f'responses = [{{ body_file = "{DOUYIN / body}", delay = 60 }}, '
        f'{{ body_file = "{DOUYIN / body}" }}]\n',
        encoding="utf-8",
    )
    return manifest


def kill_when(db: Path, server: ReplayServer, arguments: list[str], slow: str, mark) -> None:
    """Run a crawl, and SIGKILL it once its checkpoints say `mark` and it waits on `slow`."""
    env = clean_env(SMCAT_DOUYIN_URL=server.url, SMCAT_DOWNLOAD_DELAY="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "smcat", *arguments, "--db", str(db)],
        cwd=db.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not mark(checkpoint(db)) or server.hit_count(slow) == 0:
        assert time.monotonic() < deadline, "the crawl never reached the slow page"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert query(db, "SELECT status FROM crawls") == [("running",)]


def test_a_killed_creator_crawl_resumes_to_exactly_the_uninterrupted_rows(smcat, tmp_path):
    arguments = ["crawl", "douyin-user", LANKOU, XIAOYU]
    with ReplayServer(DOUYIN / "user.toml") as server:
        whole = tmp_path / "whole.db"
        assert crawl(smcat, server, whole, *arguments[1:]).returncode == 0
    manifest = slow_manifest(
        tmp_path, "slow-p3", "/aweme/v1/web/aweme/post/",
        {"sec_user_id": LANKOU, "max_cursor": "1759305600000"}, "user/posts_lankou_p3.json",
    )  # fmt: skip
    db = tmp_path / "killed.db"
    with ReplayServer(manifest) as server:
        kill_when(
            db, server, arguments, "slow-p3", lambda marks: marks.get(LANKOU, {}).get("page") == 2
        )
        assert 0 < query(db, "SELECT count(*) FROM posts")[0][0] < 10
        resumed = crawl(smcat, server, db, *arguments[1:], "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming crawl 1" in resumed.stdout
        # neither the pages nor the profiles stored before the kill were asked for again
        assert server.hit_count("douyin-posts-lankou-p1") == 1
        assert server.hit_count("douyin-posts-lankou-p2") == 1
        assert server.hit_count("douyin-profile-lankou") == 1
        assert server.hit_count("slow-p3") == 2
    assert snapshot(db, ROWS) == snapshot(whole, ROWS)
    assert query(db, "SELECT crawl_id, status FROM crawls") == [(1, "finished")]
    _, _, counts = crawl_record(db)
    assert (counts["posts_fetched"], counts["shortfall"]) == (10, 37)
    assert all(mark["done"] for mark in checkpoint(db).values())


def test_a_killed_comment_crawl_resumes_after_the_pages_stored_with_their_replies(smcat, tmp_path):
    arguments = ["crawl", "douyin-comments", VIDEO, NOTE, "--replies"]
    with ReplayServer(DOUYIN / "comments.toml") as server:
        whole = tmp_path / "whole.db"
        assert crawl(smcat, server, whole, *arguments[1:]).returncode == 0
    # page 2's reply thread hangs: page 1 is stored with its replies, page 2 is not wholly
    manifest = slow_manifest(
        tmp_path, "slow-replies", "/aweme/v1/web/comment/list/reply/",
        {"item_id": VIDEO, "comment_id": "7432000000000100005", "cursor": "0"},
        "comments/reply_7432000000000100005_p1.json",
    )  # fmt: skip
    db = tmp_path / "killed.db"
    with ReplayServer(manifest) as server:
        page_1_stored = {"page": 1, "cursor": 4}
        kill_when(db, server, arguments, "slow-replies",
                  lambda marks: marks.get(VIDEO) == page_1_stored and NOTE in marks)  # fmt: skip
        resumed = crawl(smcat, server, db, *arguments[1:], "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming crawl 1" in resumed.stdout
        assert server.hit_count("douyin-comments-102-p1") == 1
        assert server.hit_count("douyin-replies-100001-p1") == 1
        assert server.hit_count("douyin-comments-103-p1") == 1
        assert server.hit_count("douyin-comments-102-p2") == 2
        assert server.hit_count("slow-replies") == 2
    assert snapshot(db, ROWS) == snapshot(whole, ROWS)
    assert query(db, "SELECT crawl_id, status FROM crawls") == [(1, "finished")]
    assert checkpoint(db) == {VIDEO: {"done": True}, NOTE: {"done": True}}


def test_resume_with_nothing_unfinished_starts_a_new_crawl(smcat, tmp_path):
    with ReplayServer(DOUYIN / "comments.toml") as server:
        db = tmp_path / "fresh.db"
        result = crawl(smcat, server, db, "douyin-comments", NOTE, "--resume")
        assert result.returncode == 0, result.stderr
        assert "nothing to resume" in result.stdout


def test_reparse_rebuilds_exactly_what_the_douyin_crawls_wrote(smcat, tmp_path):
    tables = {
        **ROWS,
        "post_topics": "*",
        "accounts": "account_id, screen_name, description, verified, extra",
        "live_rooms": "room_id, account_id, title, status, started_at, extra",
        "live_observations": "room_id, observed_at, status, viewers_now, viewers_total, likes",
    }
    db = tmp_path / "douyin.db"
    manifests = [DOUYIN / m for m in ("user.toml", "comments.toml", "live.toml")]
    with ReplayServer(*manifests) as server:
        for arguments in (
            ["douyin-user", LANKOU, XIAOYU],
            ["douyin-comments", VIDEO, NOTE, "--replies"],
            ["douyin-live", ON_AIR, "--every", "0.1s"],
        ):
            assert crawl(smcat, server, db, *arguments).returncode == 0
        served = len(server.hits)
    crawled = snapshot(db, tables)
    assert all(crawled.values())
    wipe(db, tables)
    with Store.open(db) as store:
        result = reparse(store)
        assert result.counts["parsed"] == served and result.counts["failed"] == 0
    assert snapshot(db, tables) == crawled
    assert json.loads(query(db, "SELECT extra FROM live_rooms")[0][0])["web_rid"] == ON_AIR
