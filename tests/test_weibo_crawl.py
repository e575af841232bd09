"""The Weibo timeline spider for real: Scrapy engine, HTTP to the loopback replay server,
the store pipeline and SQLite, run as `smcat crawl weibo-user` in a child process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from crawler.parsers.common import html_to_text
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, ROOT, clean_env

BRAND = "5001000001"  # 澜蔻护肤: 24 posts over 3 pages, 2 reposts, 2 long posts, 1 pinned


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def fixture_days(uid: str, since: str, until: str) -> list[str]:
    """Days of the account's own posts in the fixture pages that fall in [since, until]."""
    days = []
    for page in sorted((FIXTURES / "weibo/mobile").glob(f"timeline_{uid}_p*.json")):
        for card in json.loads(page.read_text())["data"]["cards"]:
            mblog = card.get("mblog")
            if mblog:
                day = datetime.strptime(mblog["created_at"], "%a %b %d %H:%M:%S %z %Y").date()
                days.append(day.isoformat())
    return [d for d in days if since <= d <= until]


def crawl(smcat, server: ReplayServer, db: Path, *args: str):
    return smcat(
        "crawl", "weibo-user", *args, "--db", str(db),
        weibo_mobile_url=server.url, download_delay=0, retry_times=3, retry_backoff=0.01,
    )  # fmt: skip


def test_timeline_crawl_stores_posts_observations_topics_and_account(smcat, demo_server, tmp_path):
    db = tmp_path / "brand.db"
    result = crawl(smcat, demo_server, db, BRAND)
    assert result.returncode == 0, result.stderr
    assert "finished" in result.stdout
    own = query(db, "SELECT count(*) FROM posts WHERE account_id = ?", BRAND)[0][0]
    assert own == 24
    assert query(db, "SELECT count(*) FROM posts WHERE is_repost = 1")[0][0] == 2
    # each repost's original is stored as its own post, by its own author
    origins = query(
        db,
        "SELECT o.account_id FROM posts r JOIN posts o ON o.post_id = r.origin_post_id"
        " WHERE r.is_repost = 1",
    )
    assert len(origins) == 2 and all(a != BRAND for (a,) in origins)
    assert query(db, "SELECT count(*) FROM post_observations")[0][0] == 26
    # the pinned post is kept and flagged, and the page after the last was asked for
    assert query(db, "SELECT is_pinned FROM posts WHERE post_id = '5210001540807011'") == [(1,)]
    assert demo_server.hit_count(f"weibo-timeline-{BRAND}-end") == 1
    # long posts carry the full text from statuses/extend, not the 全文 stub
    long_texts = dict(query(db, "SELECT post_id, text FROM posts WHERE is_long_text = 1"))
    assert set(long_texts) == {"5210003412818032", "5210006724800095"}
    for post_id, text in long_texts.items():
        extend = json.loads((FIXTURES / f"weibo/mobile/extend_{post_id}.json").read_text())
        assert text == html_to_text(extend["data"]["longTextContent"])
        assert "全文" not in text
    assert demo_server.hit_count("weibo-extend-5210003412818032") == 1
    # the "1.2万"-style strings became integers; topics and mentions came out of the text
    assert query(
        db, "SELECT reposts FROM post_observations WHERE post_id = '5210001540807011'"
    ) == [(1_000_000,)]
    topics = {t for (t,) in query(db, "SELECT value FROM post_topics")}
    assert {"澜蔻小蓝瓶", "双十一"} <= topics
    assert ("微博抽奖平台",) in query(db, "SELECT DISTINCT value FROM post_mentions")
    assert query(db, "SELECT screen_name FROM accounts WHERE account_id = ?", BRAND) == [
        ("澜蔻护肤",)
    ]
    assert query(db, "SELECT followers FROM account_snapshots") == [(1283406,)]
    crawls = query(db, "SELECT spider, status, reason, counts FROM crawls")
    assert crawls[0][:3] == ("weibo_user", "finished", "finished")
    assert json.loads(crawls[0][3])["rejected"] == 0
    # every response is kept, gzipped, for reparsing
    raw = query(db, "SELECT count(*), min(substr(body, 1, 2)) FROM raw_responses")[0]
    assert raw == (demo_server.hits.__len__(), b"\x1f\x8b")


def test_rerun_adds_observations_and_never_duplicates(smcat, demo_server, tmp_path):
    db = tmp_path / "brand.db"
    for _ in range(2):
        assert crawl(smcat, demo_server, db, BRAND, "5001000002").returncode == 0
    assert query(db, "SELECT count(*) FROM posts")[0][0] == 50
    assert query(db, "SELECT count(*) FROM post_observations")[0][0] == 100
    assert query(db, "SELECT count(*) FROM accounts")[0][0] == 2
    assert query(db, "SELECT count(*) FROM account_snapshots")[0][0] == 4
    assert query(db, "SELECT count(DISTINCT observed_at) FROM post_observations")[0][0] >= 2


def test_since_and_until_keep_the_window_and_stop_paging_early(smcat, demo_server, tmp_path):
    db = tmp_path / "window.db"
    result = crawl(smcat, demo_server, db, BRAND, "--since", "2025-10-01", "--until", "2025-11-10")
    assert result.returncode == 0, result.stderr
    days = [d for (d,) in query(db, "SELECT created_at FROM posts WHERE account_id = ?", BRAND)]
    assert days and all("2025-10-01" <= d[:10] <= "2025-11-10" for d in days)
    assert len(days) == len(fixture_days(BRAND, "2025-10-01", "2025-11-10"))
    # the old pinned post on page 1 did not end the crawl; page 2 held 2025-09 posts, so page 3
    # (all older than --since) was never asked for
    assert demo_server.hit_count(f"weibo-timeline-{BRAND}-p2") == 1
    assert demo_server.hit_count(f"weibo-timeline-{BRAND}-p3") == 0


def test_418_is_retried_and_the_crawl_goes_on(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    result = crawl(smcat, faults_server, db, "5001000003")
    assert result.returncode == 0, result.stderr
    assert faults_server.hit_count("timeline-5001000003-p1") == 3
    assert query(db, "SELECT count(*) FROM posts")[0][0] == 2
    assert query(db, "SELECT status FROM crawls") == [("finished",)]


def test_truncated_json_is_rejected_with_its_body_and_the_crawl_says_why(
    smcat, faults_server, tmp_path
):
    db = tmp_path / "faults.db"
    result = crawl(smcat, faults_server, db, "5001000004")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "not JSON" in reason and "5001000004" in reason
    kind, why, payload = query(db, "SELECT kind, reason, payload FROM rejects")[0]
    assert kind == "weibo_response" and "page 1" in why
    served = (FIXTURES / "weibo/mobile/timeline_5001000001_p3.json").read_bytes()[:5000]
    assert json.loads(payload)["body"] == served.decode("utf-8", errors="replace")
    assert query(db, "SELECT count(*) FROM accounts")[0][0] == 1  # what did arrive is kept


def test_error_envelope_and_login_redirect_are_recorded(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    result = crawl(smcat, faults_server, db, "5001000005", "5001000007")
    assert result.returncode == 1
    reasons = [r for (r,) in query(db, "SELECT reason FROM rejects")]
    assert any("用户不存在" in r for r in reasons)
    assert any("login page" in r for r in reasons)
    assert faults_server.hit_count("login-page") == 1


def test_failed_long_text_keeps_the_post_with_its_short_text(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    crawl(smcat, faults_server, db, "5001000006")
    text = query(db, "SELECT text FROM posts WHERE post_id = '5210003412818032'")
    assert len(text) == 1 and "全文" in text[0][0]
    assert query(db, "SELECT count(*) FROM rejects WHERE kind = 'weibo_request'")[0][0] == 1
    # retried like any 5xx before it was given up
    assert faults_server.hit_count("extend-5210003412818032-broken") == 4


def test_a_text_cut_mid_emoji_costs_nothing_and_the_crawl_finishes(smcat, faults_server, tmp_path):
    # a real-shape page (non-ASCII as \\u escapes) whose third post ends in half an emoji
    db = tmp_path / "faults.db"
    result = crawl(smcat, faults_server, db, "5001000009")
    assert result.returncode == 0, result.stderr
    page = json.loads((FIXTURES / "weibo/mobile/timeline_half_emoji.json").read_text())
    ids = {card["mblog"]["id"] for card in page["data"]["cards"] if "mblog" in card}
    stored = dict(query(db, "SELECT post_id, text FROM posts WHERE account_id = '5001000002'"))
    assert ids <= set(stored)  # every post of the page
    assert stored["5210002829600186"].endswith("跑操不迟到！\ufffd")
    assert query(db, "SELECT status FROM crawls") == [("finished",)]
    assert query(db, "SELECT count(*) FROM rejects") == [(0,)]
    # the raw response keeps what Weibo sent, the lone surrogate as its escape
    assert query(db, "SELECT count(*) FROM raw_responses")[0][0] >= 2


def test_crawl_then_sample_k_posts_per_month(smcat, demo_server, tmp_path):
    db = tmp_path / "sample.db"
    result = crawl(smcat, demo_server, db, BRAND, "--sample-per-month", "2", "--seed", "5")
    assert result.returncode == 0, result.stderr
    months: dict[str, int] = {}
    for page in sorted((FIXTURES / "weibo/mobile").glob(f"timeline_{BRAND}_p*.json")):
        for card in json.loads(page.read_text())["data"]["cards"]:
            mblog = card.get("mblog")
            if mblog and "retweeted_status" not in mblog:
                moment = datetime.strptime(mblog["created_at"], "%a %b %d %H:%M:%S %z %Y")
                months[moment.strftime("%Y-%m")] = months.get(moment.strftime("%Y-%m"), 0) + 1
    expected = sum(min(2, n) for n in months.values())
    assert query(db, "SELECT count(*) FROM sample_posts")[0][0] == expected
    (seed, params) = query(db, "SELECT seed, params FROM samples")[0]
    assert seed == 5 and json.loads(params)["k"] == 2
    sampled = query(
        db,
        "SELECT count(*) FROM sample_posts s JOIN posts p USING (platform, post_id)"
        " WHERE p.account_id = ? AND p.is_repost = 0",
        BRAND,
    )
    assert sampled[0][0] == expected


def test_observations_carry_the_fetch_time_of_their_kept_payload(smcat, demo_server, tmp_path):
    db = tmp_path / "provenance.db"
    assert crawl(smcat, demo_server, db, BRAND).returncode == 0
    observed = {t for (t,) in query(db, "SELECT DISTINCT observed_at FROM post_observations")}
    fetched = {t for (t,) in query(db, "SELECT fetched_at FROM raw_responses")}
    assert observed and observed <= fetched
    snapshots = {t for (t,) in query(db, "SELECT observed_at FROM account_snapshots")}
    assert snapshots <= fetched


def test_retries_back_off_exponentially(smcat, faults_server, tmp_path):
    result = smcat(
        "crawl", "weibo-user", "5001000003", "--db", str(tmp_path / "backoff.db"),
        weibo_mobile_url=faults_server.url, download_delay=0, retry_backoff=0.4,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    times = [h.time for h in faults_server.hits if h.route == "timeline-5001000003-p1"]
    assert len(times) == 3  # 418, 418, then 200
    first_wait, second_wait = times[1] - times[0], times[2] - times[1]
    assert first_wait >= 0.4 and second_wait >= 0.8


def test_a_captcha_stops_the_crawl_saying_what_to_do(smcat, faults_server, tmp_path):
    db = tmp_path / "captcha.db"
    result = crawl(smcat, faults_server, db, "5001000008")
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "captcha" in reason and "--resume" in reason
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]


def test_scrapy_crawl_takes_smcat_settings_from_the_environment(demo_server, tmp_path):
    db = tmp_path / "scrapy.db"
    env = clean_env(SMCAT_DB=str(db), SMCAT_WEIBO_MOBILE_URL=demo_server.url,
                    SMCAT_DOWNLOAD_DELAY="0")  # fmt: skip
    scrapy = Path(sys.executable).with_name("scrapy")
    command = [str(scrapy), "crawl", "weibo_user", "-a", "uids=5001000002"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM posts WHERE account_id = '5001000002'") == [(22,)]


def test_a_bad_cookie_file_troubles_only_the_crawls_that_need_it(smcat, tmp_path):
    db = tmp_path / "quiet.db"
    Store.open(db).close()
    result = smcat("db", "info", "--db", str(db), weibo_cookie_file=tmp_path / "missing.txt")
    assert result.returncode == 0, result.stderr


def test_one_cut_emoji_and_one_malformed_card_cost_one_row_and_the_crawl_says_so(
    smcat, faults_server, tmp_path
):
    # issue #19's done-when: a replayed page set whose first page holds a post cut mid-emoji and
    # a card whose user is a bare id text; every other post of both pages is stored, the cut
    # text mended, the malformed card alone rejected, and the crawl ends saying so
    db = tmp_path / "one_bad.db"
    result = crawl(smcat, faults_server, db, "5001000010")
    pages = [
        json.loads((FIXTURES / f"weibo/mobile/{name}.json").read_text())
        for name in ("timeline_surrogate_and_bad_card", "timeline_5001000002_p2")
    ]
    cards = [card["mblog"] for page in pages for card in page["data"]["cards"] if "mblog" in card]
    malformed = [m["id"] for m in cards if not isinstance(m["user"], dict)]
    good = {m["id"] for m in cards} - set(malformed)
    assert len(malformed) == 1 and len(good) == 12
    stored = dict(query(db, "SELECT post_id, text FROM posts"))
    assert good <= set(stored) and malformed[0] not in stored
    assert stored["5210002829600186"].endswith("\ufffd")  # the half emoji, mended
    rejects = query(db, "SELECT kind, reason, payload FROM rejects")
    assert len(rejects) == 1
    kind, reason, payload = rejects[0]
    assert kind == "weibo_mblog" and json.loads(payload)["mblog"]["id"] == malformed[0]
    assert "user" in reason
    assert query(db, "SELECT status FROM crawls") == [("finished_with_rejects",)]
    assert result.returncode == 0, result.stderr  # every page stored something it could read
    assert "finished_with_rejects" in result.stdout and "rejected" in result.stdout
