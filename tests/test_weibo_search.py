"""weibo-search: the result-page parser, and the spider run for real against the replay server
(windows split where Weibo's 50-page cap would cut results off, posts found twice kept once)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.parsers.common import CHINA, PayloadError
from crawler.parsers.weibo_search import parse_search_page
from crawler.reparse import reparse
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, clean_env
from tests.search_pages import PAGE_CAP, write_search_fixture
from tests.test_reparse import snapshot, wipe
from tests.test_resume import checkpoint
from tests.test_weibo_crawl import query

SEARCH = FIXTURES / "weibo" / "search"
FETCHED = datetime(2025, 3, 5, 12, 0, tzinfo=CHINA)
COOKIE = "SUB=search-test-cookie-4f2a"  # a stand-in, sent to 127.0.0.1 only


def page(name: str):
    return parse_search_page((SEARCH / name).read_text(encoding="utf-8"), FETCHED)


def test_a_result_page_gives_each_card_as_a_post():
    first = page("lankou_p1.html")
    assert first.page_count == 2 and not first.empty and first.rejects == []
    by_id = {(p.post_id, p.via_repost): p for p in first.posts}
    giveaway = by_id[("5140100000000001", False)]
    assert (giveaway.account_id, giveaway.created_at) == ("5001000001", "2025-03-01T10:05:00+08:00")
    assert (giveaway.media_type, giveaway.pic_count, giveaway.source) == (
        "picture",
        3,
        "澜蔻护肤超话",
    )
    assert (giveaway.reposts, giveaway.comments, giveaway.likes) == (12000, 356, 2048)
    assert giveaway.text.endswith("[花]转发本条微博并 @微博抽奖平台 抽3位宝子送正装！")
    assert giveaway.topics == ["澜蔻春日焕新"] and giveaway.mentions == ["微博抽奖平台"]
    assert giveaway.url == "https://weibo.com/5001000001/PaBcD0001"


def test_a_long_post_is_read_from_its_full_text_without_the_fold_links():
    review = next(p for p in page("lankou_p1.html").posts if p.post_id == "5140100000000002")
    assert "敏感期用了也没有刺痛" in review.text and review.text.endswith("@澜蔻护肤 求返场！")
    assert "展开" not in review.text and "收起" not in review.text and "…" not in review.text
    assert review.topics == ["38节"] and review.mentions == ["澜蔻护肤"]
    assert (review.reposts, review.comments, review.likes) == (0, 12, 88)  # "转发" is none yet


def test_a_repost_card_gives_the_repost_and_its_original():
    posts = [p for p in page("lankou_p1.html").posts if p.post_id.endswith(("01", "03"))]
    repost, original = posts[1], posts[2]
    assert (repost.post_id, repost.is_repost, repost.origin_post_id) == (
        "5140100000000003", True, "5140100000000001",
    )  # fmt: skip
    assert repost.text == "冲鸭！想要正装[doge]" and repost.account_id == "6100000022"
    assert (repost.reposts, repost.comments, repost.likes) == (0, 0, 0)
    assert (original.post_id, original.via_repost, original.account_id) == (
        "5140100000000001", True, "5001000001",
    )  # fmt: skip
    assert original.created_at == "2025-03-01T10:05:00+08:00" and original.likes == 2048


def test_video_place_and_counts_with_units():
    posts = {p.post_id: p for p in page("lankou_p1.html").posts}
    video = posts["5140100000000004"]
    assert (video.media_type, video.video_seconds) == ("video", 205.0)
    assert (video.comments, video.likes) == (1024, 35000)
    assert video.text.endswith("#护肤干货#")  # the video link is the card's, not the text's
    shop = posts["5140100000000005"]
    assert shop.text == "澜蔻的快闪店开到湖滨了，排队半小时领到小样"
    assert shop.extra["place"] == "杭州·湖滨银泰in77" and shop.source is None


def test_a_card_that_cannot_be_read_goes_to_rejects_and_its_page_goes_on():
    second = page("lankou_p2.html")
    assert [r.kind for r in second.rejects] == ["weibo_search_card"]
    assert "5140100000000007" in second.rejects[0].reason
    assert "5140100000000007" in second.rejects[0].payload["html"]
    ids = [p.post_id for p in second.posts]
    assert ids == ["5140100000000005", "5140100000000006", "5140099999999990", "5140100000000008"]


def test_empty_results_and_the_visitor_page():
    empty = page("no_result.html")
    assert empty.empty and empty.posts == [] and empty.page_count == 0
    with pytest.raises(PayloadError, match="signed-in cookie"):
        page("visitor.html")


def test_relative_card_times_are_read_against_the_fetch_time():
    card = (SEARCH / "lankou_p2.html").read_text(encoding="utf-8")
    card = card.replace("2025年03月02日 23:59", "5分钟前").replace(
        "2025年03月02日 19:00", "今天 08:00"
    )
    posts = {p.post_id: p for p in parse_search_page(card, FETCHED).posts}
    assert posts["5140100000000008"].created_at == "2025-03-05T11:55:00+08:00"
    assert posts["5140100000000006"].created_at == "2025-03-05T08:00:00+08:00"


def search(smcat, server, db, *args, **settings):
    settings = {"weibo_search_url": server.url, "download_delay": 0, **settings}
    settings.setdefault("weibo_cookie", COOKIE)
    return smcat("crawl", "weibo-search", *args, "--db", str(db), **settings)


def test_the_demo_search_stores_each_post_once_and_rejects_the_broken_card(
    smcat, demo_server, tmp_path
):
    db = tmp_path / "search.db"
    result = search(
        smcat, demo_server, db, "澜蔻", "--since", "2025-03-01", "--until", "2025-03-02"
    )
    assert result.returncode == 0, result.stderr
    posts = query(db, "SELECT post_id, account_id, is_repost FROM posts ORDER BY post_id")
    assert [p[0] for p in posts] == [f"514010000000000{i}" for i in (1, 2, 3, 4, 5, 6, 8)]
    assert query(db, "SELECT kind FROM rejects") == [("weibo_search_card",)]
    status, counts = query(db, "SELECT status, counts FROM crawls")[0]
    counts = json.loads(counts)
    assert status == "finished_with_rejects"  # the broken card is missing
    # kept once by the writer: post 5 on both pages, and post 1 again inside the card that
    # reposts it
    assert (counts["pages"], counts["duplicates"], counts["outside_window"]) == (2, 2, 1)
    # the post seen on both pages has one observation; its counts are those seen first
    assert query(
        db, "SELECT comments FROM post_observations WHERE post_id = '5140100000000005'"
    ) == [(5,)]
    assert COOKIE not in result.stdout + result.stderr
    assert not query(db, "SELECT count(*) FROM raw_responses WHERE body LIKE '%search-test%'")[0][0]


def test_search_without_a_cookie_says_how_to_set_one(smcat, demo_server, tmp_path):
    db = tmp_path / "nocookie.db"
    result = search(smcat, demo_server, db, "澜蔻", "--since", "2025-03-01", "--until",
                    "2025-03-02", weibo_cookie="")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "SMCAT_WEIBO_COOKIE" in result.stderr
    assert demo_server.hits == []


def test_the_visitor_page_instead_of_results_stops_the_crawl(smcat, demo_server, tmp_path):
    db = tmp_path / "visitor.db"
    result = search(smcat, demo_server, db, "visitor", "--since", "2025-03-01", "--until",
                    "2025-03-01")  # fmt: skip
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "signed-in cookie" in reason
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]


BUSY_DAY = datetime(2025, 4, 2, tzinfo=CHINA)
QUIET_DAY = datetime(2025, 4, 1, tzinfo=CHINA)
PLAN = {
    **{QUIET_DAY + timedelta(hours=h): 12 + h for h in range(0, 24, 3)},  # 180 posts, 18 pages
    **{BUSY_DAY + timedelta(hours=h): 40 for h in range(8, 22)},  # 560 posts: over 50 pages
}


@pytest.fixture
def big_search(tmp_path):
    fixture = write_search_fixture(tmp_path, "速行跑鞋", PLAN, days=3)
    with ReplayServer(fixture.manifest) as server:
        yield fixture, server


def test_a_search_past_fifty_pages_comes_back_complete(smcat, big_search, tmp_path):
    fixture, server = big_search
    assert fixture.pages_listed["custom:2025-04-01-0:2025-04-04-0"] == PAGE_CAP
    assert fixture.pages_listed["custom:2025-04-02-0:2025-04-03-0"] == PAGE_CAP
    db = tmp_path / "big.db"
    result = search(smcat, server, db, "速行跑鞋", "--since", "2025-04-01", "--until", "2025-04-03")
    assert result.returncode == 0, result.stderr
    stored = dict(query(db, "SELECT post_id, created_at FROM posts"))
    assert set(stored) == set(fixture.posts)  # every post, none twice, none from elsewhere
    assert all(
        datetime.fromisoformat(stored[mid]) == post.at.replace(second=0)
        for mid, post in fixture.posts.items()
    )
    counts = json.loads(query(db, "SELECT counts FROM crawls")[0][0])
    assert counts["split"] == 2  # the three days, then the busy day
    assert counts["pages"] > PAGE_CAP and counts["capped_hours"] == 0
    assert counts["duplicates"] > 0  # posts on an hour's edge show in both hours
    assert query(db, "SELECT count(*) FROM post_observations") == [(len(fixture.posts),)]
    # the capped windows were never read past their first page
    assert server.hit_count("custom_2025-04-02-0_2025-04-03-0_p2.html") == 0

    crawled = snapshot(db)
    wipe(db)
    with Store.open(db) as store:
        result = reparse(store)
    assert result.counts["failed"] == 0 and result.counts["parsed"] == counts["pages"]
    assert snapshot(db) == crawled  # the split windows' first pages add nothing


def test_a_killed_search_resumes_to_exactly_the_complete_result(smcat, tmp_path):
    fixture = write_search_fixture(tmp_path, "速行跑鞋", PLAN, days=3)
    slow = "custom_2025-04-02-15_2025-04-02-16_p2.html"
    manifest = tmp_path / "slow.toml"
    manifest.write_text(
        f'include = ["{fixture.manifest}"]\n\n[[route]]\nname = "slow"\npath = "/weibo"\n'
        'query = { q = "速行跑鞋", timescope = "custom:2025-04-02-15:2025-04-02-16", page = "2" }\n'
        f'responses = [{{ body_file = "{tmp_path / slow}", delay = 60 }}, '
        f'{{ body_file = "{tmp_path / slow}" }}]\n',
        encoding="utf-8",
    )
    db = tmp_path / "killed.db"
    arguments = ["crawl", "weibo-search", "速行跑鞋", "--since", "2025-04-01", "--until",
                 "2025-04-03", "--db", str(db)]  # fmt: skip
    with ReplayServer(manifest) as server:
        env = clean_env(SMCAT_WEIBO_SEARCH_URL=server.url, SMCAT_DOWNLOAD_DELAY="0",
                        SMCAT_WEIBO_COOKIE=COOKIE)  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "smcat", *arguments],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60

        def finished() -> set[str]:  # windows with posts whose pages were all stored
            done = {part.split()[0] for part, value in checkpoint(db).items() if value == "done"}
            return done & set(fixture.pages_listed)

        while server.hit_count("slow") == 0 or not finished():
            assert time.monotonic() < deadline, "the search never reached the slow page"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        finished_before = finished()
        assert query(db, "SELECT status FROM crawls") == [("running",)]

        resumed = smcat(
            *arguments, "--resume", weibo_search_url=server.url, download_delay=0,
            weibo_cookie=COOKIE,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming crawl 1" in resumed.stdout
        assert server.hit_count("slow") == 2
        # windows finished before the kill were not searched again
        for scope in finished_before:
            assert server.hit_count(f"{scope.replace(':', '_')}_p1.html") == 1, scope
    assert set(dict(query(db, "SELECT post_id, created_at FROM posts"))) == set(fixture.posts)
    assert query(db, "SELECT crawl_id, status FROM crawls") == [(1, "finished")]


def test_search_dates_are_checked_before_anything_runs(smcat, tmp_path):
    result = smcat("crawl", "weibo-search", "澜蔻", "--since", "2025-03-05", "--until",
                   "2025-03-01", "--db", str(tmp_path / "x.db"))  # fmt: skip
    assert result.returncode == 2 and "after --until" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_scrapy_crawl_runs_the_search_spider_too(demo_server, tmp_path):
    db = tmp_path / "scrapy.db"
    env = clean_env(SMCAT_DB=str(db), SMCAT_WEIBO_SEARCH_URL=demo_server.url,
                    SMCAT_DOWNLOAD_DELAY="0", SMCAT_WEIBO_COOKIE=COOKIE)  # fmt: skip
    scrapy = Path(sys.executable).with_name("scrapy")
    command = [str(scrapy), "crawl", "weibo_search", "-a", "keywords=澜蔻",
               "-a", "since=2025-03-01", "-a", "until=2025-03-02"]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM posts") == [(7,)]
