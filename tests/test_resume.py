"""`crawl weibo-user --resume` after the crawl was killed (SIGKILL) halfway."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

from smcat.demo.replay import ReplayServer
from tests.conftest import DEMO_MANIFEST, clean_env
from tests.test_weibo_crawl import BRAND, crawl, query

OTHER = "5001000002"


def slow_page_manifest(tmp_path) -> str:
    """The demo, but the brand's page 3 hangs the first time it is asked for."""
    manifest = tmp_path / "slow.toml"
    page = DEMO_MANIFEST.parent / f"weibo/mobile/timeline_{BRAND}_p3.json"
    manifest.write_text(
        f'include = ["{DEMO_MANIFEST}"]\n\n[[route]]\nname = "slow-p3"\n'
        'path = "/api/container/getIndex"\n'
        f'query = {{ containerid = "107603{BRAND}", page = "3" }}\n'
        f'responses = [{{ body_file = "{page}", delay = 60 }}, {{ body_file = "{page}" }}]\n',
        encoding="utf-8",
    )
    return str(manifest)


def checkpoint(db) -> dict:
    try:
        rows = query(db, "SELECT checkpoint FROM crawls")
    except sqlite3.OperationalError:  # not created yet
        return {}
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def test_a_killed_crawl_resumes_to_exactly_the_uninterrupted_result(smcat, tmp_path):
    with ReplayServer(DEMO_MANIFEST) as server:
        whole = tmp_path / "whole.db"
        assert crawl(smcat, server, whole, BRAND, OTHER).returncode == 0
    expected = query(whole, "SELECT post_id, text FROM posts ORDER BY post_id")

    db = tmp_path / "killed.db"
    with ReplayServer(slow_page_manifest(tmp_path)) as server:
        env = clean_env(SMCAT_WEIBO_MOBILE_URL=server.url, SMCAT_DOWNLOAD_DELAY="0")
        arguments = ["crawl", "weibo-user", BRAND, OTHER, "--db", str(db)]
        process = subprocess.Popen(
            [sys.executable, "-m", "smcat", *arguments],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while checkpoint(db).get(BRAND) != 2 or server.hit_count("slow-p3") == 0:
            assert time.monotonic() < deadline, "the crawl never reached the slow page"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert query(db, "SELECT status FROM crawls") == [("running",)]
        stored_before = query(db, "SELECT count(*) FROM posts")[0][0]
        assert 0 < stored_before < len(expected)

        resumed = smcat(*arguments, "--resume", weibo_mobile_url=server.url, download_delay=0)
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming crawl 1" in resumed.stdout
        # the pages stored before the kill were not asked for again
        assert server.hit_count(f"weibo-timeline-{BRAND}-p1") == 1
        assert server.hit_count(f"weibo-timeline-{BRAND}-p2") == 1
        assert server.hit_count("slow-p3") == 2

    assert query(db, "SELECT post_id, text FROM posts ORDER BY post_id") == expected
    assert query(db, "SELECT crawl_id, status FROM crawls") == [(1, "finished")]
    assert checkpoint(db) == {BRAND: "done", OTHER: "done"}


def test_resume_with_nothing_unfinished_starts_a_new_crawl(smcat, demo_server, tmp_path):
    db = tmp_path / "fresh.db"
    result = crawl(smcat, demo_server, db, BRAND, "--resume")
    assert result.returncode == 0, result.stderr
    assert "nothing to resume" in result.stdout
    again = crawl(smcat, demo_server, db, BRAND, "--resume")
    assert "nothing to resume" in again.stdout  # the first one finished
    assert query(db, "SELECT count(*) FROM crawls")[0][0] == 2
