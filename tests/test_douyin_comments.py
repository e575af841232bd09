"""Douyin comments: the parser on our fictional fixtures, and `smcat crawl douyin-comments` for
real against the replay server (cursor paging, replies, pseudonyms, faults)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crawler.parsers.douyin_comments import parse_comment_list
from crawler.parsers.douyin_common import DouyinBlocked
from crawler.pseudonyms import Pseudonymizer
from smcat.demo.replay import ReplayServer
from tests.conftest import FIXTURES
from tests.test_douyin_crawl import FIX, crawl, crawl_record, query

COMMENTS = FIXTURES / "douyin" / "comments"
VIDEO, NOTE = "7430000000000000102", "7430000000000000103"  # 7 comments + 4 replies; 3
THREAD = "7432000000000100001"  # the comment whose 3 replies take two reply pages
FETCHED = datetime(2025, 11, 5, 8, 0, tzinfo=UTC)
SALT = "a-secret-salt-for-the-tests-only"


def load(name: str) -> dict:
    return json.loads((COMMENTS / name).read_text(encoding="utf-8"))


def fixture_comments(*names: str) -> dict[str, dict]:
    """Every comment in the files, replies shown under comments included, by cid."""
    found = {}
    for name in names:
        for entry in load(name)["comments"]:
            found[entry["cid"]] = entry
            for reply in entry.get("reply_comment") or []:
                found[reply["cid"]] = reply
    return found


EVERY_FILE = (
    f"list_{VIDEO}_p1.json", f"list_{VIDEO}_p2.json", f"list_{NOTE}_p1.json",
    f"reply_{THREAD}_p1.json", f"reply_{THREAD}_p2.json", "reply_7432000000000100005_p1.json",
)  # fmt: skip


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(FIXTURES / "douyin" / "comments.toml") as replay:
        yield replay


def test_a_page_with_a_reply_shown_and_more_behind_it() -> None:
    page = parse_comment_list(load(f"list_{VIDEO}_p1.json"), VIDEO, FETCHED)
    assert (page.has_more, page.cursor, page.total) == (True, 4, 7) and not page.rejects
    assert len(page.comments) == 5  # 4 comments and the reply shown under the first
    first, *_ = page.comments
    assert first.comment_id == THREAD and first.parent_id is None and first.root_id == THREAD
    assert (first.likes, first.replies, first.region) == (356, 3, "浙江")
    assert first.created_at == "2025-10-31T16:00:00+08:00"
    assert first.author_id == "MS4wLjABAAAAfan_chenxi_000011" and first.author_name == "晨曦不晚"
    assert page.more_replies == [THREAD]  # 3 replies, 1 shown


def test_a_reply_to_a_reply_names_both_its_parent_and_its_root() -> None:
    page = parse_comment_list(load(f"reply_{THREAD}_p2.json"), VIDEO, FETCHED)
    (reply,) = page.comments
    assert reply.parent_id == "7432000000000100102" and reply.root_id == THREAD
    assert not page.has_more and not page.more_replies


def test_refusals_and_bad_entries() -> None:
    with pytest.raises(DouyinBlocked, match="2483"):
        parse_comment_list({"status_code": 2483}, VIDEO, FETCHED)
    page = parse_comment_list(load("list_bad_entry.json"), VIDEO, FETCHED)
    assert len(page.comments) == 1 and page.rejects[0].kind == "douyin_comment"
    # a cursor that is no number ends the paging, and the page keeps its comments
    odd = parse_comment_list({**load("list_bad_entry.json"), "cursor": "x"}, VIDEO, FETCHED)
    assert [c.comment_id for c in odd.comments] == [c.comment_id for c in page.comments]
    assert not odd.has_more and odd.cursor_problem == "the paging cursor cursor is 'x'"
    empty = parse_comment_list({"status_code": 0, "comments": None, "has_more": 0}, VIDEO, FETCHED)
    assert not empty.comments and not empty.has_more


def test_every_page_and_every_reply_once(smcat, server, tmp_path):
    db = tmp_path / "comments.db"
    for _ in range(2):  # again: upserts, never duplicates
        result = crawl(smcat, server, db, "douyin-comments", VIDEO, NOTE, "--replies")
        assert result.returncode == 0, result.stderr
    expected = fixture_comments(*EVERY_FILE)
    stored = dict(query(db, "SELECT comment_id, post_id FROM comments"))
    assert set(stored) == set(expected) and len(stored) == 14
    assert {p: list(stored.values()).count(p) for p in (VIDEO, NOTE)} == {VIDEO: 11, NOTE: 3}
    # paged by the cursor each page returned; each reply thread paged the same way
    assert server.hit_count("douyin-comments-102-p2") == 2
    assert server.hit_count("douyin-replies-100001-p2") == 2
    parents = dict(
        query(db, "SELECT comment_id, parent_id FROM comments WHERE parent_id IS NOT NULL")
    )
    assert parents["7432000000000100103"] == "7432000000000100102"
    status, _, counts = crawl_record(db)
    assert status == "finished" and counts["pages"] == 6 and counts["raw_kept"] == 1


def test_without_replies_the_threads_are_not_fetched(smcat, server, tmp_path):
    db = tmp_path / "no-replies.db"
    assert crawl(smcat, server, db, "douyin-comments", VIDEO).returncode == 0
    assert not any(hit.route.startswith("douyin-replies") for hit in server.hits)
    # the comments and the one reply shown under the first
    assert query(db, "SELECT count(*) FROM comments") == [(8,)]


def test_pseudonyms_are_weibos_keyed_hash_and_no_real_id_is_kept(smcat, server, tmp_path):
    db = tmp_path / "pseudo.db"
    result = crawl(smcat, server, db, "douyin-comments", VIDEO, NOTE, "--replies",
                   "--pseudonymize", pseudonym_salt=SALT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    authors = query(db, "SELECT DISTINCT author_id, author_name FROM comments")
    assert authors and all(re.fullmatch(r"p:[0-9a-f]{20}", a) and n is None for a, n in authors)
    fan = "MS4wLjABAAAAfan_mumu_0000012"  # commented on both posts
    pseudonym = Pseudonymizer(SALT).pseudonym(fan)
    assert query(db, "SELECT count(DISTINCT post_id) FROM comments WHERE author_id = ?",
                 pseudonym) == [(2,)]  # fmt: skip
    assert query(db, "SELECT count(*) FROM raw_responses") == [(0,)]
    real = {
        e["user"][k] for e in fixture_comments(*EVERY_FILE).values() for k in ("uid", "sec_uid")
    }
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("pseudo.db*"))
    assert not any(uid.encode() in stored for uid in real)


def test_pseudonymize_without_a_salt_fails_before_any_request(smcat, server, tmp_path):
    result = crawl(smcat, server, tmp_path / "x.db", "douyin-comments", VIDEO, "--pseudonymize")
    assert result.returncode == 1 and "SMCAT_PSEUDONYM_SALT" in result.stderr
    assert result.stderr.count("\n") == 1 and server.hits == []


@pytest.mark.parametrize(
    ("aweme_id", "why"),
    [("7430000000000000990", "came round again"), ("7430000000000000991", FIX)],
)
def test_faults_stop_the_crawl_with_the_reason(smcat, server, tmp_path, aweme_id, why):
    db = tmp_path / "fault.db"
    result = crawl(smcat, server, db, "douyin-comments", aweme_id)
    assert result.returncode == 1 and result.stderr.startswith("error:")
    status, reason, _ = crawl_record(db)
    assert status == "stopped" and why in reason


def test_a_bad_comment_is_rejected_and_its_page_kept(smcat, server, tmp_path):
    db = tmp_path / "bad.db"
    crawl(smcat, server, db, "douyin-comments", "7430000000000000992")
    assert query(db, "SELECT count(*) FROM comments") == [(1,)]
    assert query(db, "SELECT kind FROM rejects") == [("douyin_comment",)]


def test_a_non_numeric_aweme_id_is_bad_usage(smcat, tmp_path):
    result = smcat("crawl", "douyin-comments", "abc", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "not a numeric aweme id" in result.stderr
