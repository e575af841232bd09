"""Accounts' crawled-up-to marks: set only by a crawl that finished cleanly, used by --new."""

from __future__ import annotations

from datetime import UTC, datetime

from smcat.store import Store
from tests.test_weibo_crawl import BRAND, crawl, query

OTHER = "5001000002"
OCT_15_END = "2025-10-15T15:59:59.999999+00:00"  # 2025-10-15 23:59:59.999999 China time


def marks(db) -> dict[str, tuple[str, int]]:
    rows = query(db, "SELECT account_id, crawled_up_to, crawled_up_to_crawl FROM accounts")
    return {account: (mark, crawl_id) for account, mark, crawl_id in rows if mark}


def test_marks_only_move_forward_are_kept_in_utc_and_need_the_account(tmp_path):
    with Store.open(tmp_path / "m.db") as store:
        store.upsert_accounts(
            [{"platform": "weibo", "account_id": a, "observed_at": "2025-01-01T00:00:00+00:00"}
             for a in ("1", "2")]
        )  # fmt: skip
        store.advance_crawled_up_to(
            "weibo", {"1": "2025-10-02T08:00:00+08:00", "9": "2025-10-03T00:00:00+00:00"}, 1
        )
        assert store.crawled_up_to("weibo", ["1", "2", "9"]) == {"1": "2025-10-02T00:00:00+00:00"}
        # earlier in absolute time, though later as text in its own offset
        store.advance_crawled_up_to("weibo", {"1": "2025-10-02T07:00:00+08:00"}, 2)
        assert store.crawled_up_to("weibo", ["1"]) == {"1": "2025-10-02T00:00:00+00:00"}
        store.advance_crawled_up_to("weibo", {"1": "2025-10-02T09:00:00+08:00"}, 3)
        assert store.crawled_up_to("weibo", ["1"]) == {"1": "2025-10-02T01:00:00+00:00"}


def test_a_clean_crawl_marks_its_accounts_up_to_when_it_started(smcat, demo_server, tmp_path):
    db = tmp_path / "clean.db"
    before = datetime.now(UTC)
    assert crawl(smcat, demo_server, db, BRAND, OTHER).returncode == 0
    found = marks(db)
    assert set(found) == {BRAND, OTHER} and {c for _, c in found.values()} == {1}
    started = datetime.fromisoformat(query(db, "SELECT started_at FROM crawls")[0][0])
    assert all(datetime.fromisoformat(m) == started for m, _ in found.values())
    assert before <= started


def test_until_caps_the_mark_and_new_fetches_only_what_came_after(smcat, demo_server, tmp_path):
    db = tmp_path / "new.db"
    assert crawl(smcat, demo_server, db, BRAND, "--until", "2025-10-15").returncode == 0
    assert marks(db) == {BRAND: (OCT_15_END, 1)}
    old_posts = query(db, "SELECT post_id FROM posts WHERE account_id = ? ORDER BY 1", BRAND)

    result = crawl(smcat, demo_server, db, BRAND, "--new")
    assert result.returncode == 0, result.stderr
    assert f"{BRAND}: after {OCT_15_END}" in result.stdout
    newer = query(
        db, "SELECT post_id, created_at FROM posts WHERE account_id = ? AND crawl_id = 2", BRAND
    )
    assert newer and all(datetime.fromisoformat(t) > datetime.fromisoformat(OCT_15_END)
                         for _, t in newer)  # fmt: skip
    # the posts the first crawl stored were not observed again
    observed_twice = query(
        db, "SELECT post_id FROM post_observations GROUP BY post_id HAVING count(*) > 1"
    )
    assert (
        observed_twice == []
        and len(old_posts) + len(newer)
        == query(db, "SELECT count(*) FROM posts WHERE account_id = ?", BRAND)[0][0]
    )
    assert marks(db)[BRAND][1] == 2  # and the mark moved on


def test_a_window_after_a_gap_does_not_move_the_mark(smcat, demo_server, tmp_path):
    db = tmp_path / "gap.db"
    assert crawl(smcat, demo_server, db, BRAND, "--until", "2025-09-20").returncode == 0
    first = marks(db)[BRAND]
    # October alone: the days between Sep 20 and Oct 1 are not stored, so no claim past them
    assert crawl(smcat, demo_server, db, BRAND, "--since", "2025-10-01").returncode == 0
    assert marks(db)[BRAND] == first


def test_a_crawl_that_did_not_finish_cleanly_leaves_the_marks(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    result = crawl(smcat, faults_server, db, "5001000004")  # a truncated page: stopped
    assert result.returncode == 1
    assert query(db, "SELECT count(*) FROM accounts") != [(0,)]
    assert marks(db) == {}
