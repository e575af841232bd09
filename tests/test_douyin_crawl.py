"""The Douyin spiders for real: Scrapy engine, HTTP to the loopback replay server, the store
pipeline and SQLite, run as `smcat crawl douyin-user` / `douyin-live` in a child process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.reparse import reparse
from crawler.runner import scrapy_settings
from crawler.spiders.douyin_user import DouyinUserSpider
from smcat.config import Settings
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, ROOT, clean_env

LANKOU = "MS4wLjABAAAAfictional_LANKOU_beauty_0001"  # 7 posts over 3 pages, profile counts 7
XIAOYU = "MS4wLjABAAAAfictional_XIAOYU_fashion_002"  # 3 posts, profile counts 40
ON_AIR, OFF_AIR, EMPTY_ROOM = "802400000001", "802400000002", "802400000009"
SLOW_ROOM = "802400000003"  # ON_AIR's session, its first answer slower than the polls
FIX = "configure a signer (SMCAT_DOUYIN_SIGNER) or refresh the cookie (SMCAT_DOUYIN_COOKIE)"


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    manifests = ("user.toml", "live.toml", "faults.toml", "comments.toml")
    with ReplayServer(*(FIXTURES / "douyin" / m for m in manifests)) as replay:
        yield replay


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def crawl(smcat, server: ReplayServer, db: Path, *args: str, **settings: object):
    settings = {"download_delay": 0, "retry_times": 2, "retry_backoff": 0.01, **settings}
    return smcat(
        "crawl", *args, "--db", str(db), douyin_url=server.url, douyin_live_url=server.url,
        **settings,
    )  # fmt: skip


def crawl_record(db: Path) -> tuple[str, str, dict]:
    status, reason, counts = query(db, "SELECT status, reason, counts FROM crawls")[-1]
    return status, reason, json.loads(counts)


def test_creator_crawl_stores_profiles_posts_and_the_shortfall(smcat, server, tmp_path):
    db = tmp_path / "douyin.db"
    result = crawl(smcat, server, db, "douyin-user", LANKOU, XIAOYU)
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM posts WHERE account_id = ?", LANKOU) == [(7,)]
    assert query(db, "SELECT count(*) FROM posts WHERE account_id = ?", XIAOYU) == [(3,)]
    assert query(db, "SELECT count(*) FROM post_observations") == [(10,)]
    # paged by the max_cursor each page returned, up to the page without has_more
    assert all(server.hit_count(f"douyin-posts-lankou-p{n}") == 1 for n in (1, 2, 3))
    assert query(db, "SELECT post_id FROM posts WHERE is_pinned = 1") == [("7430000000000000101",)]
    assert query(db, "SELECT count(*) FROM posts WHERE media_type = 'image'") == [(3,)]
    assert query(
        db, "SELECT likes, plays FROM post_observations WHERE post_id = '7430000000000000104'"
    ) == [(12000, 385000)]
    assert query(db, "SELECT count(*) FROM post_observations WHERE plays IS NOT NULL") == [(1,)]
    topics = {t for (t,) in query(db, "SELECT value FROM post_topics")}
    assert {"澜蔻小蓝瓶", "双十一", "秋冬穿搭"} <= topics
    assert query(db, "SELECT followers, posts FROM account_snapshots ORDER BY followers") == [
        (214171, 40),
        (1283406, 7),
    ]
    status, reason, counts = crawl_record(db)
    assert (status, reason) == ("finished", "finished")
    assert (counts["posts_listed"], counts["posts_fetched"], counts["shortfall"]) == (47, 10, 37)
    assert "shortfall 37" in result.stdout and XIAOYU in result.stderr
    assert query(db, "SELECT count(*) FROM raw_responses") == [(len(server.hits),)]


def test_rerun_adds_observations_and_never_duplicates(smcat, server, tmp_path):
    db = tmp_path / "douyin.db"
    for _ in range(2):
        assert crawl(smcat, server, db, "douyin-user", LANKOU).returncode == 0
    assert query(db, "SELECT count(*) FROM posts") == [(7,)]
    assert query(db, "SELECT count(*) FROM post_observations") == [(14,)]
    assert query(db, "SELECT count(*) FROM account_snapshots") == [(2,)]


def test_live_polling_is_a_time_series_that_ends_when_the_room_goes_off_air(
    smcat, server, tmp_path
):
    db = tmp_path / "live.db"
    result = crawl(smcat, server, db, "douyin-live", ON_AIR, "--every", "0.2s", "--for", "1h")
    assert result.returncode == 0, result.stderr
    assert server.hit_count("douyin-live-session") == 3  # on air, on air, ended: no fourth
    rows = query(
        db, "SELECT status, viewers_now, viewers_total, likes FROM live_observations"
        " ORDER BY observed_at"
    )  # fmt: skip
    assert rows == [
        ("live", 12000, 351000, 86000),
        ("live", 9876, 410000, 102000),
        ("ended", 0, 460000, 113000),
    ]
    room = query(db, "SELECT room_id, account_id, status, title, extra FROM live_rooms")
    assert len(room) == 1 and room[0][:3] == ("7431000000000000555", LANKOU, "ended")
    assert json.loads(room[0][4])["web_rid"] == ON_AIR
    status, _, counts = crawl_record(db)
    assert status == "finished" and counts["observations"] == 3 and counts["off_air"] == 1


def test_a_slow_answer_is_waited_for_before_the_next_poll(smcat, server, tmp_path):
    db = tmp_path / "live.db"
    result = crawl(smcat, server, db, "douyin-live", SLOW_ROOM, "--every", "0.1s")
    assert result.returncode == 0, result.stderr
    assert server.hit_count("douyin-live-slow") == 3
    statuses = query(db, "SELECT status FROM live_observations ORDER BY observed_at")
    assert statuses == [("live",), ("live",), ("ended",)]
    viewers = query(db, "SELECT viewers_now FROM live_observations ORDER BY observed_at")
    assert viewers == [(12000,), (9876,), (0,)]


def test_a_room_off_air_is_observed_once(smcat, server, tmp_path):
    db = tmp_path / "live.db"
    result = crawl(smcat, server, db, "douyin-live", OFF_AIR, "--every", "0.2s")
    assert result.returncode == 0, result.stderr
    assert server.hit_count("douyin-live-offline") == 1
    assert query(db, "SELECT status FROM live_observations") == [("ended",)]


@pytest.mark.parametrize(
    ("sec_uid", "route", "hits", "why"),
    [
        ("MS4wLjABAAAAfault_empty_body", "profile-empty", 3, "empty body"),
        ("MS4wLjABAAAAfault_login_2483", "profile-login", 1, "status_code 2483"),
        ("MS4wLjABAAAAfault_verify_tkt", "posts-verify", 1, "verify_ticket"),
        ("MS4wLjABAAAAfault_captcha_pg", "profile-captcha", 1, "captcha"),
    ],
)
def test_a_refusal_stops_the_crawl_naming_the_fix(
    smcat, server, tmp_path, sec_uid, route, hits, why
):
    db = tmp_path / "refused.db"
    result = crawl(smcat, server, db, "douyin-user", sec_uid)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error:")
    assert server.hit_count(route) == hits  # an empty body is retried (retry_times 2), no other
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and why in reason and FIX in reason
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]
    kind, payload = query(db, "SELECT kind, payload FROM rejects")[0]
    assert kind == "douyin_response" and sec_uid in json.loads(payload)["url"]


def test_an_empty_body_once_is_retried_and_the_crawl_goes_on(smcat, server, tmp_path):
    db = tmp_path / "retried.db"
    result = crawl(smcat, server, db, "douyin-user", "MS4wLjABAAAAfault_empty_once")
    assert result.returncode == 0, result.stderr
    assert server.hit_count("profile-empty-once") == 2
    assert query(db, "SELECT count(*) FROM accounts") == [(1,)]
    assert query(db, "SELECT count(*) FROM posts") == [(3,)]


def test_403_is_retried_with_backoff_and_the_crawl_goes_on(smcat, server, tmp_path):
    db = tmp_path / "firewall.db"
    result = crawl(smcat, server, db, "douyin-user", "MS4wLjABAAAAfault_firewall_1",
                   retry_backoff=0.3)  # fmt: skip
    assert result.returncode == 0, result.stderr
    times = [h.time for h in server.hits if h.route == "profile-firewall"]
    assert len(times) == 3 and times[1] - times[0] >= 0.3 and times[2] - times[1] >= 0.6
    assert crawl_record(db)[0] == "finished"


@pytest.mark.parametrize(
    ("args", "route", "why"),
    [
        (["douyin-user", "MS4wLjABAAAAfault_too_fast_1"], "profile-too-fast", "HTTP 429"),
        (["douyin-live", EMPTY_ROOM, "--every", "0.2s"], "live-empty", "empty body"),
    ],
)
def test_a_refusal_that_outlasts_the_retries_stops_the_crawl(
    smcat, server, tmp_path, args, route, why
):
    db = tmp_path / "refused.db"
    assert crawl(smcat, server, db, *args).returncode == 1
    assert server.hit_count(route) == 3  # the first try and retry_times (2) retries
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and why in reason and FIX in reason


def test_a_bad_aweme_is_rejected_and_its_page_kept(smcat, server, tmp_path):
    db = tmp_path / "bad.db"
    crawl(smcat, server, db, "douyin-user", "MS4wLjABAAAAfault_bad_aweme1")
    assert query(db, "SELECT count(*) FROM posts") == [(2,)]
    assert query(db, "SELECT kind FROM rejects") == [("douyin_aweme",)]


def test_posts_without_create_time_are_stored_with_a_derived_time_reparse_keeps(
    smcat, server, tmp_path
):
    db = tmp_path / "old_page.db"
    result = crawl(smcat, server, db, "douyin-user", "MS4wLjABAAAAfictional_XIAOYU_2020_list03")
    assert result.returncode == 0, result.stderr
    stored = query(
        db, "SELECT p.post_id, created_at, created_at_precision, reposts, shares FROM posts p"
        " JOIN post_observations USING (platform, post_id) ORDER BY created_at DESC"
    )  # fmt: skip
    assert [row[1:] for row in stored] == [
        ("2020-06-18T20:05:33+08:00", "derived", 3, 27),
        ("2020-06-17T12:40:02+08:00", "derived", 0, 40),
        ("2020-06-14T09:58:47+08:00", "derived", 1, 2),
    ]
    assert query(db, "SELECT count(*) FROM rejects") == [(0,)]
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM posts")
    with Store.open(db) as store:
        assert reparse(store).counts["failed"] == 0
    assert query(db, "SELECT created_at_precision, count(*) FROM posts GROUP BY 1") == [
        ("derived", 3)
    ]


def run_signed(server: ReplayServer, db: Path, signer: str) -> subprocess.CompletedProcess[str]:
    """`smcat crawl douyin-user` with a signer and a cookie; the tests package is importable
    so that the signer may be named as an entry point."""
    env = clean_env(
        SMCAT_DOUYIN_URL=server.url, SMCAT_DOWNLOAD_DELAY="0", SMCAT_DOUYIN_SIGNER=signer,
        SMCAT_DOUYIN_COOKIE="ttwid=stand-in-cookie", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    command = [sys.executable, "-m", "smcat", "crawl", "douyin-user", LANKOU, "--db", str(db)]
    return subprocess.run(
        command, cwd=db.parent, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.parametrize(
    "signer",
    [f"{sys.executable} {ROOT / 'tests' / 'douyin_signer.py'}", "tests.douyin_signer:sign"],
)
def test_a_signer_signs_every_request_and_its_token_is_never_stored(server, tmp_path, signer):
    db = tmp_path / "signed.db"
    result = run_signed(server, db, signer)
    assert result.returncode == 0, result.stderr
    assert len(server.hits) == 4
    assert all(h.query.get("a_bogus") == "stand-in-signature" for h in server.hits)
    assert all(h.cookie == "ttwid=stand-in-cookie" for h in server.hits)
    # the raw store keeps each URL as it was before signing: no token, no cookie
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "stand-in" not in dump and "sec_user_id" in dump
    assert "stand-in" not in result.stdout + result.stderr


def test_a_failing_signer_stops_the_crawl_naming_the_fix(server, tmp_path):
    db = tmp_path / "unsigned.db"
    result = run_signed(server, db, f"{sys.executable} -c 'import sys; sys.exit(3)'")
    assert result.returncode == 1
    assert not server.hits  # nothing goes out unsigned
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and "exit 3" in reason and "run it by hand" in reason


def test_a_signer_that_cannot_load_fails_before_any_request(server, tmp_path):
    result = run_signed(server, tmp_path / "none.db", "no_such_module:sign")
    assert result.returncode == 1 and not server.hits
    assert result.stderr.startswith("error:") and "module:function" in result.stderr


def test_douyin_crawls_are_polite_by_default():
    settings = scrapy_settings(Settings())
    settings.setdict(DouyinUserSpider.custom_settings, priority="spider")
    assert settings.getfloat("DOWNLOAD_DELAY") >= 1.0  # at most one request a second
    assert settings.getfloat("DOWNLOAD_DELAY_JITTER") > 0
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert {403, 429} <= set(settings.getlist("RETRY_HTTP_CODES"))
    assert 0 < settings.getint("RETRY_TIMES") <= 5


def test_scrapy_crawl_runs_the_douyin_spiders(server, tmp_path):
    db = tmp_path / "scrapy.db"
    env = clean_env(SMCAT_DB=str(db), SMCAT_DOUYIN_URL=server.url,
                    SMCAT_DOUYIN_LIVE_URL=server.url, SMCAT_DOWNLOAD_DELAY="0")  # fmt: skip
    scrapy = str(Path(sys.executable).with_name("scrapy"))
    for arguments in (["douyin_user", "-a", f"sec_uids={XIAOYU}"],
                      ["douyin_live", "-a", f"web_rid={ON_AIR}", "-a", "every=0.2"],
                      ["douyin_comments", "-a", "aweme_ids=7430000000000000103"]):  # fmt: skip
        result = subprocess.run([scrapy, "crawl", *arguments], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM posts") == [(3,)]
    assert query(db, "SELECT count(*) FROM live_observations") == [(3,)]
    assert query(db, "SELECT count(*) FROM comments") == [(3,)]
