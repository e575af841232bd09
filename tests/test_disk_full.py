"""A full disk mid-crawl stops the crawl at once, with one line naming the fix, the crawl
marked stopped with the reason, and `--resume` taking it up once there is room.

The full disk is SQLite's own: `PRAGMA max_page_count` caps the database a few pages above
its size at each open, and a write past it fails with SQLITE_FULL, as on a full disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smcat.demo.replay import ReplayServer
from tests.conftest import clean_env
from tests.test_weibo_crawl import query

ACCOUNTS = ("5001000001", "5001000002")
# `smcat` with every database it opens for writing capped at ROOM pages more than it holds
_CAPPED_SMCAT = """
import sys
from smcat.cli import main
from smcat.store import Store

opened = Store.open.__func__

def capped(cls, path, *, readonly=False):
    store = opened(cls, path, readonly=readonly)
    if not readonly:
        (pages,) = store.connection.execute("PRAGMA page_count").fetchone()
        store.connection.execute(f"PRAGMA max_page_count = {pages + ROOM}")
    return store

Store.open = classmethod(capped)
sys.argv[0] = "smcat"
main()
"""


def _crawl(server: ReplayServer, db: Path, *args: str, room: int | None = None):
    command = (
        ["-c", _CAPPED_SMCAT.replace("ROOM", str(room))] if room is not None else ["-m", "smcat"]
    )
    return subprocess.run(
        [sys.executable, *command, "crawl", "weibo-user", *ACCOUNTS, *args, "--db", str(db)],
        env=clean_env(SMCAT_WEIBO_MOBILE_URL=server.url, SMCAT_DOWNLOAD_DELAY="0"),
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_full_disk_stops_the_crawl_at_once_and_resume_completes_it(demo_server, tmp_path):
    whole = tmp_path / "whole.db"
    assert _crawl(demo_server, whole).returncode == 0
    requests_of_a_whole_crawl = len(demo_server.hits)

    db = tmp_path / "full.db"
    before = len(demo_server.hits)
    result = _crawl(demo_server, db, room=0)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error:") and "free space" in line and "--resume" in line
    assert len(demo_server.hits) - before < requests_of_a_whole_crawl / 2
    ((status, reason),) = query(db, "SELECT status, reason FROM crawls")
    assert status == "stopped" and "disk" in reason and "full" in reason

    resumed = _crawl(demo_server, db, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming crawl 1" in resumed.stdout
    posts = "SELECT platform, post_id, account_id, created_at, text FROM posts ORDER BY post_id"
    assert query(db, posts) == query(whole, posts)
