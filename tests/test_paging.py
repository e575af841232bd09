"""Paging that survives bad pages, and resume that is exact (issue #19): a page whose rows are
all rejected is followed by its cursor, counted, never checkpointed, and fails the command; a
cursor that comes round is recorded; a stopped crawl resumes after the pages it stored, its
counts adding up; reparse stores no reject twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.pipelines import added_up
from crawler.reparse import reparse
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, ROOT, clean_env
from tests.long_timeline import write_long_timeline
from tests.search_pages import write_search_fixture
from tests.test_douyin_crawl import LANKOU, XIAOYU, crawl_record, query
from tests.test_douyin_crawl import crawl as douyin_crawl
from tests.test_douyin_resume import kill_when, slow_manifest
from tests.test_resume import checkpoint
from tests.test_weibo_crawl import crawl as weibo_crawl
from tests.test_weibo_search import COOKIE as SEARCH_COOKIE
from tests.test_weibo_search import PLAN as SEARCH_PLAN
from tests.test_weibo_search import search
from tests.test_weibo_web import crawl as weibo_web_crawl

DOUYIN_PAGING = FIXTURES / "douyin/paging.toml"
WEIBO_PAGING = FIXTURES / "weibo/paging.toml"
JIUSHI = "MS4wLjABAAAAfictional_JIUSHI_2020_old_003"  # page 1 unreadable, page 2 readable
HUILUN = "MS4wLjABAAAAfictional_HUILUN_cursor_0004"  # page 2 gives back its own max_cursor
UNREADABLE_PAGE = "5001000077"  # timeline page 2 unreadable, page 3 readable
CURSOR_ROUND = "5001000078"  # timeline page 2 names page 2 as the next
SINCE_ID_ROUND = "5001000079"  # weibo.com's page 2 gives back page 1's since_id
UNREADABLE_COMMENTS = "7430000000000000993"  # comment page 1 unreadable, page 2 readable
MARKUP = "the site's markup or answer shape has likely changed"


def test_a_douyin_page_of_unreadable_posts_is_paged_past_and_asked_again_on_resume(smcat, tmp_path):
    db = tmp_path / "old.db"
    with ReplayServer(DOUYIN_PAGING) as server:
        result = douyin_crawl(smcat, server, db, "douyin-user", JIUSHI)
        # page 1 stored nothing, but its cursor said there was more
        assert server.hit_count("douyin-posts-jiushi-p2") == 1
        assert result.returncode == 1
        last = result.stderr.splitlines()[-1]
        assert "crawl 1: 1 page(s) stored nothing it could read (every row rejected)" in last
        assert MARKUP in last and "`smcat db export rejects`" in last
        status, reason, counts = crawl_record(db)
        assert (status, reason) == ("finished_with_rejects", "finished")
        assert (counts["pages"], counts["pages_all_rejected"], counts["rejected"]) == (2, 1, 3)
        assert query(db, "SELECT count(*) FROM rejects WHERE kind = 'douyin_aweme'") == [(3,)]
        assert query(db, "SELECT count(*) FROM posts") == [(1,)]
        # page 1 is not checkpointed, nor the pages after it, nor the account as done: only
        # the stored profile is, so that --resume asks for page 1 again but not for it
        assert checkpoint(db) == {
            JIUSHI: {"page": 0, "cursor": 0, "fetched": 0, "done": False, "listed": 7}
        }

        resumed = douyin_crawl(smcat, server, db, "douyin-user", JIUSHI, "--resume")
        assert "resuming crawl 1 (finished_with_rejects)" in resumed.stdout
        assert server.hit_count("douyin-posts-jiushi-p1") == 2
        assert server.hit_count("douyin-profile-jiushi") == 1
        assert resumed.returncode == 1
    status, _, counts = crawl_record(db)
    assert status == "finished_with_rejects"
    # the counts of a resumed crawl add up its runs; how many accounts it has does not
    assert (counts["pages"], counts["pages_all_rejected"], counts["accounts"]) == (4, 2, 1)
    assert counts["requests"] == 5 and counts["posts_fetched"] == 1


def test_a_weibo_timeline_page_of_unreadable_cards_is_paged_past_and_moves_no_mark(smcat, tmp_path):
    db = tmp_path / "timeline.db"
    with ReplayServer(WEIBO_PAGING) as server:
        result = weibo_crawl(smcat, server, db, UNREADABLE_PAGE)
        assert server.hit_count(f"weibo-timeline-{UNREADABLE_PAGE}-p3") == 1
        assert server.hit_count(f"weibo-timeline-{UNREADABLE_PAGE}-p4") == 1
    assert result.returncode == 1
    assert MARKUP in result.stderr.splitlines()[-1]
    status, _, counts = crawl_record(db)
    assert (status, counts["pages_all_rejected"], counts["rejected"]) == (
        "finished_with_rejects", 1, 10,
    )  # fmt: skip
    # page 1 is stored; page 2 is not, so neither page 3 nor "done" is vouched for
    assert checkpoint(db) == {UNREADABLE_PAGE: 1}
    with Store.open(db) as store:
        assert store.crawled_up_to("weibo", [UNREADABLE_PAGE]) == {}  # --new fetches it all
        assert store.unfinished_crawl("weibo_user", store.crawl(1).args).crawl_id == 1
    info = smcat("db", "info", "--db", str(db))
    assert "finished_with_rejects" in info.stdout


def test_a_search_page_in_the_2018_markup_is_paged_past_and_its_window_not_done(smcat, tmp_path):
    db = tmp_path / "search.db"
    with ReplayServer(WEIBO_PAGING) as server:
        result = search(
            smcat, server, db, "澜蔻旧版", "--since", "2025-03-01", "--until", "2025-03-02"
        )
        assert server.hit_count("weibo-search-2018-p2") == 1
    assert result.returncode == 1
    assert MARKUP in result.stderr.splitlines()[-1]
    status, _, counts = crawl_record(db)
    assert (status, counts["pages_all_rejected"]) == ("finished_with_rejects", 1)
    # page 1's five cards, and the demo's broken card on page 2
    assert query(db, "SELECT count(*) FROM rejects WHERE kind = 'weibo_search_card'") == [(6,)]
    assert query(db, "SELECT count(*) FROM posts")[0][0] > 0  # page 2's
    # the window is not done: page 1 is not stored, so --resume asks for it again
    assert checkpoint(db) == {
        "custom:2025-03-01-0:2025-03-03-0 澜蔻旧版": {"pages": 2, "stored": [2]}
    }


def test_a_timeline_whose_next_page_comes_round_is_recorded_and_resumable(smcat, tmp_path):
    db = tmp_path / "round.db"
    with ReplayServer(WEIBO_PAGING) as server:
        result = weibo_crawl(smcat, server, db, CURSOR_ROUND)
        assert server.hit_count(f"weibo-timeline-{CURSOR_ROUND}-p2") == 1
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert "the cursor came round again (page 2)" in last and "again with --resume" in last
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and "came round" in reason
    assert query(db, "SELECT kind FROM rejects") == [("weibo_response",)]
    assert checkpoint(db) == {CURSOR_ROUND: 2}  # both pages stored; the list never "done"


def test_a_douyin_list_whose_cursor_comes_round_is_recorded(smcat, tmp_path):
    db = tmp_path / "round.db"
    with ReplayServer(DOUYIN_PAGING) as server:
        result = douyin_crawl(smcat, server, db, "douyin-user", HUILUN)
        assert server.hit_count("douyin-posts-huilun-p2") == 1
    assert result.returncode == 1
    assert "max_cursor 1761811200000" in result.stderr.splitlines()[-1]
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and "the cursor came round again" in reason
    assert not checkpoint(db)[HUILUN]["done"]
    assert query(db, "SELECT count(*) FROM posts") == [(6,)]


def test_a_stopped_crawl_resumes_after_the_pages_it_stored_with_their_long_texts(tmp_path):
    """Stopped after 60 responses of a 20-page timeline with 6 long posts a page: each page is
    checkpointed once its long texts are in, so resume asks again at most the page in hand.
    (Without the long texts' priority the next pages ran ahead: 14 pages fetched, none
    checkpointed, all 14 fetched again.)"""
    uid = "5001000099"
    manifest = write_long_timeline(tmp_path / "fixture", uid, pages=20, long_per_page=6)
    db = tmp_path / "long.db"
    with ReplayServer(manifest) as server:
        env = clean_env(SMCAT_DB=str(db), SMCAT_WEIBO_MOBILE_URL=server.url,
                        SMCAT_DOWNLOAD_DELAY="0.05")  # fmt: skip
        scrapy = Path(sys.executable).with_name("scrapy")
        command = [str(scrapy), "crawl", "weibo_user", "-a", f"uids={uid}",
                   "-s", "CLOSESPIDER_PAGECOUNT=60"]  # fmt: skip
        stopped = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=120)  # fmt: skip
        assert stopped.returncode == 0, stopped.stderr[-2000:]
        _, _, first = crawl_record(db)
        fetched = [n for n in range(1, 21) if server.hit_count(f"timeline-p{n}")]
        assert query(db, "SELECT status FROM crawls") == [("stopped",)]
        assert checkpoint(db)[uid] >= len(fetched) - 1

        resumed = subprocess.run(
            [sys.executable, "-m", "smcat", "crawl", "weibo-user", uid, "--resume",
             "--db", str(db)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        again = [n for n in range(1, 21) if server.hit_count(f"timeline-p{n}") > 1]
        assert len(again) <= 1, again
        total = len(server.hits)
    status, _, counts = crawl_record(db)
    assert status == "finished" and checkpoint(db) == {uid: "done"}
    assert counts["responses"] == total and counts["requests"] > first["requests"]
    assert counts["accounts"] == 1
    assert query(db, "SELECT count(*) FROM posts") == [(200,)]


def test_resumed_counts_add_the_runs_and_keep_the_totals():
    before = {"requests": 5, "pages": 2, "accounts": 1, "old": 3, "raw_kept": 1}
    now = {"requests": 4, "pages": 1, "accounts": 1, "raw_kept": 1}
    assert added_up(before, now, frozenset({"accounts", "raw_kept"})) == {
        "requests": 9, "pages": 3, "accounts": 1, "raw_kept": 1, "old": 3,
    }  # fmt: skip


def test_reparse_does_not_store_the_crawls_rejects_again(smcat, tmp_path):
    db = tmp_path / "old.db"
    with ReplayServer(DOUYIN_PAGING) as server:
        douyin_crawl(smcat, server, db, "douyin-user", JIUSHI)
    assert query(db, "SELECT count(*) FROM rejects") == [(3,)]
    with Store.open(db) as store:
        first = reparse(store, crawl_id=1)
        again = reparse(store)  # every crawl, the earlier reparse included
        assert store.crawl(first.crawl_id).status == "finished_with_rejects"
    assert (first.counts["rejected"], first.counts["rejects_known"]) == (0, 3)
    assert (again.counts["rejected"], again.counts["rejects_known"]) == (0, 3)
    assert query(db, "SELECT count(*) FROM rejects") == [(3,)]
    assert query(db, "SELECT count(*) FROM posts") == [(1,)]


def test_a_reject_the_crawl_did_not_store_is_stored_by_reparse(smcat, tmp_path):
    db = tmp_path / "old.db"
    with ReplayServer(DOUYIN_PAGING) as server:
        douyin_crawl(smcat, server, db, "douyin-user", JIUSHI)
    query(db, "DELETE FROM rejects WHERE id = (SELECT min(id) FROM rejects)")
    with Store.open(db) as store:
        result = reparse(store, crawl_id=1)
    assert (result.counts["rejected"], result.counts["rejects_known"]) == (1, 2)
    kinds = query(db, "SELECT crawl_id, kind FROM rejects ORDER BY id")
    assert kinds == [(1, "douyin_aweme"), (1, "douyin_aweme"), (2, "douyin_aweme")]
    assert json.loads(query(db, "SELECT args FROM crawls WHERE crawl_id = 2")[0][0]) == {
        "crawl_id": 1
    }


def test_a_hot_search_answer_of_unreadable_entries_fails_the_command(smcat, tmp_path):
    db = tmp_path / "hot.db"
    with ReplayServer(FIXTURES / "weibo/hot_renamed.toml") as server:
        result = smcat("crawl", "weibo-hot", "--db", str(db), weibo_url=server.url,
                       download_delay=0)  # fmt: skip
    assert result.returncode == 1
    assert MARKUP in result.stderr.splitlines()[-1]
    status, _, counts = crawl_record(db)
    assert (status, counts["pages_all_rejected"]) == ("finished_with_rejects", 1)
    assert query(db, "SELECT count(*) FROM hot_search") == [(0,)]
    assert query(db, "SELECT count(*) FROM rejects WHERE kind = 'weibo_hot'")[0][0] > 0


def test_a_douyin_comment_page_of_unreadable_comments_is_paged_past_and_not_checkpointed(
    smcat, tmp_path
):
    db = tmp_path / "comments.db"
    with ReplayServer(DOUYIN_PAGING) as server:
        result = douyin_crawl(smcat, server, db, "douyin-comments", UNREADABLE_COMMENTS)
        assert server.hit_count("douyin-comments-993-p2") == 1
    assert result.returncode == 1
    assert MARKUP in result.stderr.splitlines()[-1]
    status, _, counts = crawl_record(db)
    assert (status, counts["pages_all_rejected"], counts["rejected"]) == (
        "finished_with_rejects", 1, 3,
    )  # fmt: skip
    assert query(db, "SELECT count(*) FROM comments") == [(3,)]
    assert checkpoint(db) == {}  # page 1 is missing: neither page 2 nor "done" is vouched for


def test_a_weibo_com_timeline_whose_since_id_comes_round_is_recorded(smcat, tmp_path):
    db = tmp_path / "web.db"
    with ReplayServer(WEIBO_PAGING) as server:
        result = weibo_web_crawl(smcat, server, db, SINCE_ID_ROUND)
        assert server.hit_count(f"weibo-web-mymblog-{SINCE_ID_ROUND}-p2") == 1
    assert result.returncode == 1
    assert "since_id 5210007840800270kp2" in result.stderr.splitlines()[-1]
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and "the cursor came round again" in reason
    assert checkpoint(db) == {SINCE_ID_ROUND: 2}


def test_the_counts_of_a_killed_run_are_added_to_those_of_the_run_that_resumes_it(smcat, tmp_path):
    arguments = ["crawl", "douyin-user", LANKOU, XIAOYU]
    manifest = slow_manifest(
        tmp_path, "slow-p3", "/aweme/v1/web/aweme/post/",
        {"sec_user_id": LANKOU, "max_cursor": "1759305600000"}, "user/posts_lankou_p3.json",
    )  # fmt: skip
    db = tmp_path / "killed.db"
    with ReplayServer(manifest) as server:
        kill_when(
            db, server, arguments, "slow-p3", lambda marks: marks.get(LANKOU, {}).get("page") == 2
        )
        # the killed run's counts went with its last checkpoint
        _, _, killed = crawl_record(db)
        assert killed["pages"] >= 2
        before = len(server.hits)
        resumed = douyin_crawl(smcat, server, db, *arguments[1:], "--resume")
        assert resumed.returncode == 0, resumed.stderr
        lists_asked = [h for h in server.hits[before:] if h.path == "/aweme/v1/web/aweme/post/"]
    status, _, counts = crawl_record(db)
    assert status == "finished"
    assert counts["pages"] == killed["pages"] + len(lists_asked)
    assert (counts["accounts"], counts["posts_fetched"], counts["shortfall"]) == (2, 10, 37)


def test_a_killed_search_asks_again_only_the_pages_it_had_not_stored(smcat, tmp_path):
    fixture = write_search_fixture(tmp_path, "速行跑鞋", SEARCH_PLAN, days=3)
    scope = "custom:2025-04-01-0:2025-04-02-0"  # the quiet day: 18 pages
    assert fixture.pages_listed[scope] == 18
    route = scope.replace(":", "_")
    slow = f"{route}_p5.html"
    manifest = tmp_path / "slow.toml"
    manifest.write_text(
        f'include = ["{fixture.manifest}"]\n\n[[route]]\nname = "slow"\npath = "/weibo"\n'
        f'query = {{ q = "速行跑鞋", timescope = "{scope}", page = "5" }}\n'
        f'responses = [{{ body_file = "{tmp_path / slow}", delay = 60 }}, '
        f'{{ body_file = "{tmp_path / slow}" }}]\n',
        encoding="utf-8",
    )
    db = tmp_path / "killed.db"
    arguments = ["crawl", "weibo-search", "速行跑鞋", "--since", "2025-04-01", "--until",
                 "2025-04-03", "--db", str(db)]  # fmt: skip
    with ReplayServer(manifest) as server:
        env = clean_env(SMCAT_WEIBO_SEARCH_URL=server.url, SMCAT_DOWNLOAD_DELAY="0",
                        SMCAT_WEIBO_COOKIE=SEARCH_COOKIE)  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "smcat", *arguments], cwd=tmp_path, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        all_but_the_slow_page = {"pages": 18, "stored": [n for n in range(1, 19) if n != 5]}
        deadline = time.monotonic() + 60
        while checkpoint(db).get(f"{scope} 速行跑鞋") != all_but_the_slow_page:
            assert time.monotonic() < deadline, "the day's other pages were never stored"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        resumed = search(smcat, server, db, *arguments[2:-2], "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming crawl 1" in resumed.stdout
        assert server.hit_count("slow") == 2
        # of the day in hand, only the page not stored was asked again
        assert all(server.hit_count(f"{route}_p{n}.html") == 1 for n in range(1, 19) if n != 5)
    assert set(dict(query(db, "SELECT post_id, created_at FROM posts"))) == set(fixture.posts)
    assert query(db, "SELECT crawl_id, status FROM crawls") == [(1, "finished")]
