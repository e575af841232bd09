"""`crawl reparse`: rows rebuilt from the kept payloads equal the crawled rows, offline."""

from __future__ import annotations

import gzip
import json
import sqlite3

from crawler.reparse import reparse
from smcat.store import Store
from tests.test_weibo_crawl import BRAND, crawl

# what a crawl writes, without the columns that say when or by which run a row was written
TABLES = {
    "posts": "platform, post_id, account_id, created_at, created_at_precision, text, is_repost,"
    " origin_post_id,"
    " media_type, pic_count, video_seconds, source, region, url, is_long_text, is_pinned, extra",
    "post_observations": "platform, post_id, observed_at, likes, comments, reposts",
    "post_topics": "*",
    "post_mentions": "*",
    "accounts": "platform, account_id, screen_name, description, verified, verified_type",
    "account_snapshots": "platform, account_id, observed_at, followers, following, posts",
}


def snapshot(db, tables: dict[str, str] = TABLES) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as connection:
        return {
            table: sorted(connection.execute(f"SELECT {columns} FROM {table}").fetchall())
            for table, columns in tables.items()
        }


def wipe(db, tables: dict[str, str] = TABLES) -> None:
    with sqlite3.connect(db) as connection:
        for table in tables:
            connection.execute(f"DELETE FROM {table}")


def test_reparse_rebuilds_exactly_what_the_crawl_wrote(smcat, demo_server, tmp_path):
    db = tmp_path / "brand.db"
    assert crawl(smcat, demo_server, db, BRAND, "5001000002").returncode == 0
    crawled = snapshot(db)
    assert all(crawled.values())
    wipe(db)
    with Store.open(db) as store:
        result = reparse(store)
        assert result.counts["failed"] == 0 and result.counts["parsed"] == len(demo_server.hits)
        assert store.crawl(result.crawl_id).status == "finished"
    assert snapshot(db) == crawled
    with Store.open(db) as store:
        reparse(store)  # again: nothing new, nothing lost
    assert snapshot(db) == crawled


def test_reparse_keeps_the_crawls_date_window(smcat, demo_server, tmp_path):
    db = tmp_path / "window.db"
    window = ("--since", "2025-10-01", "--until", "2025-11-10")
    assert crawl(smcat, demo_server, db, BRAND, *window).returncode == 0
    crawled = snapshot(db)
    wipe(db)
    with Store.open(db) as store:
        reparse(store)
    assert snapshot(db) == crawled


def test_error_pages_never_yield_rows_and_bad_payloads_are_counted(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    crawl(smcat, faults_server, db, "5001000003", "5001000004", "5001000007")
    crawled = snapshot(db)
    wipe(db)
    with Store.open(db) as store:
        result = reparse(store)
        record = store.crawl(result.crawl_id)
    # 418s and redirects are consumed by retries and never kept; the login page is kept and
    # skipped (no parser takes it); the truncated page fails to parse
    assert (result.counts["skipped"], result.counts["failed"]) == (1, 1)
    assert record.status == "stopped" and "did not parse" in record.reason
    assert snapshot(db) == crawled


def test_reparse_command_reports_and_fails_on_an_unknown_crawl(smcat, demo_server, tmp_path):
    db = tmp_path / "cli.db"
    assert crawl(smcat, demo_server, db, BRAND).returncode == 0
    result = smcat("crawl", "reparse", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "crawl 2 (reparse): finished" in result.stdout
    missing = smcat("crawl", "reparse", "--crawl", "99", "--db", str(db))
    assert missing.returncode == 1 and "there is no crawl 99" in missing.stderr


def test_a_payload_that_no_longer_reads_is_a_reject_and_the_rest_goes_on(
    smcat, demo_server, tmp_path
):
    db = tmp_path / "corrupt.db"
    assert crawl(smcat, demo_server, db, BRAND).returncode == 0
    crawled = snapshot(db)
    with sqlite3.connect(db) as connection:
        raw_id, url = connection.execute(
            "SELECT id, url FROM raw_responses WHERE url LIKE '%containerid=107603%page=2%'"
        ).fetchone()
        # the page as if cut short on disk: still gzip, no longer JSON
        connection.execute(
            "UPDATE raw_responses SET body = ? WHERE id = ?",
            (gzip.compress(b'{"ok": 1, "data": {"cards": ['), raw_id),
        )
    wipe(db)
    with Store.open(db) as store:
        result = reparse(store)
        record = store.crawl(result.crawl_id)
    assert result.counts["failed"] == 1 and result.counts["parsed"] == len(demo_server.hits) - 1
    assert record.status == "stopped" and "1 payload(s) did not parse" in record.reason
    with sqlite3.connect(db) as connection:
        rejects = connection.execute("SELECT crawl_id, kind, reason, payload FROM rejects")
        (crawl_id, kind, reason, payload), *others = rejects.fetchall()
    assert others == [] and crawl_id == result.crawl_id and kind == "weibo_response"
    assert reason.startswith("JSONDecodeError:")
    assert json.loads(payload) == {"url": url, "status": 200, "raw_response": raw_id}
    # every other page was read: all but that page's posts are back
    rebuilt = snapshot(db)
    assert rebuilt["accounts"] == crawled["accounts"]
    assert 0 < len(rebuilt["posts"]) < len(crawled["posts"])
    assert set(rebuilt["posts"]) < set(crawled["posts"])
