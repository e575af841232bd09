"""`--browser` for real: headless Chromium (scrapy-playwright) opens our stand-in creator and
room pages on the loopback replay server, their scripts call the fixture API, and the rows
stored must be those of the crawl that asks the API itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from smcat.demo.replay import ReplayServer
from tests.conftest import FIXTURES, require_chromium
from tests.test_douyin_crawl import FIX, LANKOU, OFF_AIR, ON_AIR, XIAOYU, crawl, crawl_record, query

# what differs from one crawl to the next: when, and by which crawl
_WHEN = {"observed_at", "first_seen_at", "updated_at", "crawl_id"}
_TABLES = ("accounts", "account_snapshots", "posts", "post_observations", "post_topics",
           "live_rooms", "live_observations")  # fmt: skip


@pytest.fixture(autouse=True)
def chromium() -> None:
    require_chromium()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    manifests = ("user.toml", "live.toml", "faults.toml", "browser.toml")
    with ReplayServer(*(FIXTURES / "douyin" / m for m in manifests)) as replay:
        yield replay


def stored_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of the tables a Douyin crawl fills, without the columns of when and by whom."""
    rows = {}
    with sqlite3.connect(db) as connection:
        for table in _TABLES:
            names = [c[1] for c in connection.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(n for n in names if n not in _WHEN)
            rows[table] = sorted(connection.execute(f"SELECT {kept} FROM {table}").fetchall())
    return rows


def test_a_creator_crawl_in_the_browser_stores_the_rows_of_the_api_crawl(smcat, server, tmp_path):
    api_db, browser_db = tmp_path / "api.db", tmp_path / "browser.db"
    assert crawl(smcat, server, api_db, "douyin-user", LANKOU, XIAOYU).returncode == 0
    server.reset_hits()
    result = crawl(smcat, server, browser_db, "douyin-user", LANKOU, XIAOYU, "--browser")
    assert result.returncode == 0, result.stderr
    assert stored_rows(browser_db) == stored_rows(api_db)
    assert query(browser_db, "SELECT count(*) FROM posts") == [(10,)]
    # the page asked for each page of posts once, the later ones as it was scrolled
    assert all(server.hit_count(f"douyin-posts-lankou-p{n}") == 1 for n in (1, 2, 3))
    assert server.hit_count("page-creator-lankou") == 1
    status, reason, counts = crawl_record(browser_db)
    assert (status, reason) == ("finished", "finished")
    assert (counts["posts_listed"], counts["posts_fetched"], counts["shortfall"]) == (47, 10, 37)
    # the API answers are kept (not the pages), without the tokens the page signed them with
    api_calls = [h for h in server.hits if h.path.startswith("/aweme/")]
    assert all(h.query["msToken"] == "fixture-token" for h in api_calls)
    assert query(browser_db, "SELECT count(*) FROM raw_responses") == [(len(api_calls),)]
    dump = "\n".join(sqlite3.connect(browser_db).iterdump())
    assert "fixture-token" not in dump and "fixture-signature" not in dump


def test_a_live_session_in_the_browser_stores_the_rows_of_the_api_crawl(smcat, server, tmp_path):
    api_db, browser_db = tmp_path / "api.db", tmp_path / "browser.db"
    every = ("--every", "0.2s", "--for", "1h")
    assert crawl(smcat, server, api_db, "douyin-live", ON_AIR, *every).returncode == 0
    server.reset_hits()
    result = crawl(smcat, server, browser_db, "douyin-live", ON_AIR, *every, "--browser")
    assert result.returncode == 0, result.stderr
    assert stored_rows(browser_db) == stored_rows(api_db)
    # one page a look, and none after the room went off the air
    assert server.hit_count("page-room-session") == server.hit_count("douyin-live-session") == 3
    status, _, counts = crawl_record(browser_db)
    assert status == "finished" and counts["observations"] == 3 and counts["off_air"] == 1


def test_a_room_off_air_is_looked_at_once(smcat, server, tmp_path):
    db = tmp_path / "live.db"
    result = crawl(smcat, server, db, "douyin-live", OFF_AIR, "--every", "0.2s", "--browser")
    assert result.returncode == 0, result.stderr
    assert server.hit_count("page-room-offline") == 1
    assert query(db, "SELECT status FROM live_observations") == [("ended",)]


@pytest.mark.parametrize(
    ("sec_uid", "why"),
    [
        ("MS4wLjABAAAAfault_login_2483", "status_code 2483"),
        ("MS4wLjABAAAAfault_verify_tkt", "verify_ticket"),
        ("MS4wLjABAAAAfault_empty_body", "empty body"),
        ("MS4wLjABAAAAfault_too_fast_1", "HTTP 429"),
    ],
)
def test_a_refusal_the_page_receives_stops_the_crawl_naming_the_fix(
    smcat, server, tmp_path, sec_uid, why
):
    db = tmp_path / "refused.db"
    result = crawl(smcat, server, db, "douyin-user", sec_uid, "--browser")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error:")
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and why in reason and FIX in reason
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]


def test_the_cookie_goes_to_the_page_and_is_never_stored(smcat, server, tmp_path):
    db = tmp_path / "cookie.db"
    result = crawl(smcat, server, db, "douyin-user", XIAOYU, "--browser",
                   douyin_cookie="ttwid=stand-in-cookie")  # fmt: skip
    assert result.returncode == 0, result.stderr
    api_calls = [h for h in server.hits if h.path.startswith("/aweme/")]
    assert len(api_calls) == 2 and all(h.cookie == "ttwid=stand-in-cookie" for h in api_calls)
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "stand-in" not in dump and "stand-in" not in result.stdout + result.stderr


def test_a_page_that_calls_no_api_stops_the_crawl_naming_the_fix(smcat, server, tmp_path):
    db = tmp_path / "silent.db"
    result = crawl(smcat, server, db, "douyin-user", "MS4wLjABAAAAfault_no_calls0", "--browser",
                   browser_wait=2)  # fmt: skip
    assert result.returncode == 1 and result.stderr.startswith("error:")
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and "fetched nothing" in reason and "browser_wait" in reason


def test_resume_is_refused_in_the_browser(smcat, tmp_path):
    result = smcat("crawl", "douyin-user", LANKOU, "--browser", "--resume")
    assert result.returncode == 2 and "--resume" in result.stderr
