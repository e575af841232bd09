"""Comments of posts: parser on our fixtures, the spider for real, pseudonyms, faults."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from crawler.items import RejectItem
from crawler.parsers.common import PayloadError
from crawler.parsers.weibo_comments import parse_comment_page
from crawler.pseudonyms import Pseudonymizer
from crawler.reparse import reparse
from crawler.writer import ItemWriter
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES
from tests.test_weibo_crawl import query

COMMENTS = FIXTURES / "weibo" / "comments"
GIVEAWAY, LAUNCH = "5210008539200130", "5210009743400165"
THREAD = "5210008600000222"  # the giveaway comment whose replies go on behind hotFlowChild
FETCHED = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
SALT = "a-secret-salt-for-the-tests-only"


def load(name: str) -> dict:
    return json.loads((COMMENTS / name).read_text(encoding="utf-8"))


def fixture_comments(*names: str) -> list[dict]:
    """Every comment in the files, inline replies included, by id (a reply may repeat)."""
    found = {}
    for name in names:
        data = load(name)["data"]
        for entry in data["data"] if isinstance(data, dict) else data:
            found[entry["id"]] = entry
            for reply in entry.get("comments") or []:
                found[reply["id"]] = reply
    return list(found.values())


@pytest.fixture
def server():
    with ReplayServer(FIXTURES / "weibo" / "comments.toml") as replay:
        yield replay


def crawl(smcat, server, db, *args, **settings):
    return smcat("crawl", "weibo-comments", *args, "--db", str(db), weibo_mobile_url=server.url,
                 download_delay=0, retry_backoff=0.01, **settings)  # fmt: skip


def test_a_page_with_inline_replies() -> None:
    page = parse_comment_page(load(f"hotflow_{GIVEAWAY}_p1.json"), GIVEAWAY, FETCHED)
    raw = load(f"hotflow_{GIVEAWAY}_p1.json")["data"]
    assert page.max_id == raw["max_id"] and not page.ended and not page.rejects
    assert len(page.comments) == len(fixture_comments(f"hotflow_{GIVEAWAY}_p1.json"))
    by_id = {c.comment_id: c for c in page.comments}
    for entry in raw["data"]:
        top = by_id[str(entry["id"])]
        assert top.parent_id is None and top.root_id == top.comment_id
        assert top.likes == entry["like_count"] and top.region == entry["source"][2:]
        assert top.author_id == str(entry["user"]["id"]) and "<" not in top.text
        for reply in entry.get("comments") or []:
            assert by_id[str(reply["id"])].parent_id == top.comment_id
        if entry["total_number"] > len(entry.get("comments") or []):
            assert top.comment_id in page.more_replies


def test_the_end_and_errors() -> None:
    assert parse_comment_page({"ok": 0}, GIVEAWAY, FETCHED).ended
    assert parse_comment_page(load(f"hotflow_{GIVEAWAY}_p3.json"), GIVEAWAY, FETCHED).ended
    with pytest.raises(PayloadError, match="请先登录"):
        parse_comment_page({"ok": 0, "msg": "请先登录"}, GIVEAWAY, FETCHED)


def test_every_page_and_reply_once(smcat, server, tmp_path):
    db = tmp_path / "comments.db"
    pages = [f"hotflow_{GIVEAWAY}_p{n}.json" for n in (1, 2, 3)]
    expected = fixture_comments(*pages, "child_p1.json", "child_p2.json")
    for _ in range(2):  # again: upserts, no duplicates
        result = crawl(smcat, server, db, GIVEAWAY, LAUNCH, "--replies")
        assert result.returncode == 0, result.stderr
    counts = dict(query(db, "SELECT post_id, count(*) FROM comments GROUP BY 1"))
    assert counts == {
        GIVEAWAY: len(expected),
        LAUNCH: len(fixture_comments(f"hotflow_{LAUNCH}_p1.json")),
    }
    assert all(server.hit_count(f"weibo-comments-{GIVEAWAY}-p{n}") == 2 for n in (1, 2, 3))


def test_without_replies_the_threads_are_not_fetched(smcat, server, tmp_path):
    db = tmp_path / "no-replies.db"
    assert crawl(smcat, server, db, GIVEAWAY).returncode == 0
    assert server.hit_count("weibo-replies-p1") == 0
    pages = [f"hotflow_{GIVEAWAY}_p{n}.json" for n in (1, 2, 3)]
    assert query(db, "SELECT count(*) FROM comments")[0][0] == len(fixture_comments(*pages))


def test_pseudonyms_are_stable_and_no_real_id_is_kept(smcat, server, tmp_path):
    db = tmp_path / "pseudo.db"
    result = crawl(smcat, server, db, GIVEAWAY, LAUNCH, "--pseudonymize", pseudonym_salt=SALT)
    assert result.returncode == 0, result.stderr
    authors = query(db, "SELECT DISTINCT author_id, author_name FROM comments")
    assert authors and all(re.fullmatch(r"p:[0-9a-f]{20}", a) and n is None for a, n in authors)
    shared = query(db, "SELECT author_id FROM comments GROUP BY author_id"
                       " HAVING count(DISTINCT post_id) = 2")  # fmt: skip
    assert shared  # one fan commented on both posts and kept one pseudonym
    assert query(db, "SELECT count(*) FROM raw_responses") == [(0,)]
    read = [f"hotflow_{GIVEAWAY}_p{n}.json" for n in (1, 2, 3)] + [f"hotflow_{LAUNCH}_p1.json"]
    real_ids = {str(c["user"]["id"]) for c in fixture_comments(*read)}
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("pseudo.db*"))
    assert real_ids and not any(uid.encode() in stored for uid in real_ids)
    # the people a comment @mentions are pseudonymised too (by name), in every comment
    texts = " ".join(text for (text,) in query(db, "SELECT text FROM comments"))
    assert "@夏天的风" not in texts and "@不吃香菜" not in texts
    assert re.search(r"@p:[0-9a-f]{20} @p:[0-9a-f]{20} 冲", texts)


def test_a_pseudonymised_crawl_logs_no_real_id_even_when_debugging(smcat, server, tmp_path):
    db = tmp_path / "debug.db"
    result = crawl(smcat, server, db, LAUNCH, "--pseudonymize", pseudonym_salt=SALT,
                   log_level="DEBUG")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Scraped from" in result.stderr  # the items really were logged
    raw = fixture_comments(f"hotflow_{LAUNCH}_p1.json")
    for comment in raw:
        assert str(comment["user"]["id"]) not in result.stderr
        assert comment["user"]["screen_name"] not in result.stderr


def test_a_database_keeps_its_commenters_one_way_only(smcat, server, tmp_path):
    # a plain crawl, then a pseudonymised one of the same post into the same file, would leave
    # each commenter's real name beside the pseudonym: refused before any request, both ways
    plain, pseudo = tmp_path / "plain.db", tmp_path / "pseudo.db"
    assert crawl(smcat, server, plain, LAUNCH).returncode == 0
    hits = len(server.hits)
    mixed = crawl(smcat, server, plain, LAUNCH, "--pseudonymize", pseudonym_salt=SALT)
    assert mixed.returncode == 1 and mixed.stderr.count("\n") == 1
    assert "under their authors' real ids" in mixed.stderr and "(--db)" in mixed.stderr
    assert len(server.hits) == hits  # refused before any request
    first = crawl(smcat, server, pseudo, LAUNCH, "--pseudonymize", pseudonym_salt=SALT)
    assert first.returncode == 0, first.stderr
    hits = len(server.hits)
    again = crawl(smcat, server, pseudo, LAUNCH)
    assert again.returncode == 1 and "under pseudonyms" in again.stderr
    assert "(--pseudonymize, --db)" in again.stderr
    assert len(server.hits) == hits  # nothing was asked
    names = query(pseudo, "SELECT count(*) FROM comments WHERE author_name IS NOT NULL")
    assert names == [(0,)]


def test_pseudonymize_without_a_salt_fails_before_any_request(smcat, server, tmp_path):
    result = crawl(smcat, server, tmp_path / "x.db", GIVEAWAY, "--pseudonymize")
    assert result.returncode == 1 and "SMCAT_PSEUDONYM_SALT" in result.stderr
    assert result.stderr.count("\n") == 1 and server.hits == []


@pytest.mark.parametrize(
    ("post_id", "why"),
    [
        ("5210000000000777", "came round again"),
        ("5210000000000778", "请先登录"),
        ("5210000000000779", "not JSON"),
    ],
)
def test_faults_stop_the_crawl_with_the_reason(smcat, server, tmp_path, post_id, why):
    db = tmp_path / "fault.db"
    result = crawl(smcat, server, db, post_id)
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and why in reason
    assert any(why in r for (r,) in query(db, "SELECT reason FROM rejects"))
    assert len(server.hits) <= 2  # a stuck cursor is not followed round and round


def test_a_reply_page_names_its_thread_and_reads_times_and_counts() -> None:
    raw = load("child_p1.json")  # hotFlowChild: `data` is the list, the cursor beside it
    page = parse_comment_page(raw, GIVEAWAY, FETCHED)
    assert page.max_id == raw["max_id"] and not page.ended
    assert len(page.comments) == len(raw["data"]) and not page.rejects
    first = page.comments[0]
    assert {(c.parent_id, c.root_id) for c in page.comments} == {(THREAD, THREAD)}
    assert first.created_at == "2025-11-08T01:11:00+08:00" and first.region == "四川"
    assert first.extra == {"floor": raw["data"][0]["floor_number"], "bid": raw["data"][0]["bid"]}
    entry = {**raw["data"][0], "like_counts": "1.2万", "total_number": "3"}  # weibo.com's names
    del entry["like_count"]
    one = parse_comment_page({"ok": 1, "data": [entry]}, GIVEAWAY, FETCHED).comments[0]
    assert (one.likes, one.replies) == (12_000, 3)


def test_a_bad_reply_is_rejected_alone_and_a_bad_cursor_ends_the_paging_only() -> None:
    raw = load(f"hotflow_{GIVEAWAY}_p1.json")
    entry = next(e for e in raw["data"]["data"] if len(e.get("comments") or []) >= 2)
    entry["comments"][0]["created_at"] = "不是时间"
    page = parse_comment_page({"ok": 1, "data": {"data": [entry]}}, GIVEAWAY, FETCHED)
    assert [c.comment_id for c in page.comments] == [
        str(entry["id"]),
        str(entry["comments"][1]["id"]),
    ]
    assert [r.payload["id"] for r in page.rejects] == [entry["comments"][0]["id"]]
    # the cursor is a problem of the paging: the page keeps its comments, its thread ends
    odd = parse_comment_page(
        {"ok": 1, "data": {"data": [entry], "max_id": "下一页"}}, GIVEAWAY, FETCHED
    )
    assert [c.comment_id for c in odd.comments] == [c.comment_id for c in page.comments]
    assert odd.ended and odd.max_id == 0
    assert odd.cursor_problem is not None and "max_id" in odd.cursor_problem


def test_a_pseudonymised_crawl_keeps_no_real_id_in_its_rejects(tmp_path) -> None:
    broken = {**load(f"hotflow_{GIVEAWAY}_p1.json")["data"]["data"][0], "created_at": "?"}
    body = {"url": "http://127.0.0.1/comments/hotflow?id=1", "status": 200, "body": "{broken"}
    with Store.open(tmp_path / "r.db") as store:
        writer = ItemWriter(store, None, Pseudonymizer(SALT))
        writer.add(RejectItem("weibo_comment", "bad time", broken))
        writer.add(RejectItem("weibo_response", "not JSON", body))
        payloads = [json.loads(p) for (p,) in store.connection.execute(
            "SELECT payload FROM rejects ORDER BY id")]  # fmt: skip
    assert [p.get("id") for p in payloads] == [broken["id"], None]
    assert payloads[1]["url"] == body["url"] and "body" not in payloads[1]
    assert str(broken["user"]["id"]) not in json.dumps(payloads, ensure_ascii=False)
    assert broken["user"]["screen_name"] not in json.dumps(payloads, ensure_ascii=False)


def test_max_pages_stops_each_post_and_ids_must_be_numeric(smcat, server, tmp_path):
    db = tmp_path / "two-pages.db"
    assert crawl(smcat, server, db, GIVEAWAY, "--max-pages", "2").returncode == 0
    assert server.hit_count(f"weibo-comments-{GIVEAWAY}-p2") == 1
    assert server.hit_count(f"weibo-comments-{GIVEAWAY}-p3") == 0
    pages = [f"hotflow_{GIVEAWAY}_p{n}.json" for n in (1, 2)]
    assert query(db, "SELECT count(*) FROM comments")[0][0] == len(fixture_comments(*pages))
    hits = len(server.hits)
    result = crawl(smcat, server, db, GIVEAWAY, "Q887abc")
    assert result.returncode == 2 and "numeric" in result.stderr and len(server.hits) == hits


COMMENT_ROWS = (
    "SELECT comment_id, post_id, parent_id, root_id, author_id, author_name, created_at, text,"
    " likes, replies, region FROM comments ORDER BY comment_id"
)
COOKIE = "SUB=_2A25smcat-comments-stand-in"


@pytest.fixture
def both_apis():
    with ReplayServer(FIXTURES / "weibo" / "comments.toml", FIXTURES / "weibo" / "web.toml") as s:
        yield s


def test_with_a_cookie_build_comments_gives_what_hotflow_gives(smcat, both_apis, tmp_path):
    web, mobile = tmp_path / "web.db", tmp_path / "mobile.db"
    args = (GIVEAWAY, LAUNCH, "--replies")
    result = crawl(smcat, both_apis, web, *args, weibo_url=both_apis.url, weibo_cookie=COOKIE)
    assert result.returncode == 0, result.stderr
    used = {hit.route for hit in both_apis.hits}
    assert used and all(route.startswith("weibo-web-") for route in used)
    assert both_apis.hit_count("weibo-web-replies-p2") == 1  # level 2 paged to its end
    assert {hit.cookie for hit in both_apis.hits} == {COOKIE}
    both_apis.reset_hits()
    assert crawl(smcat, both_apis, mobile, *args).returncode == 0
    assert not any(hit.route.startswith("weibo-web-") for hit in both_apis.hits)
    assert query(web, COMMENT_ROWS) == query(mobile, COMMENT_ROWS)
    assert len(query(web, COMMENT_ROWS)) == len(
        fixture_comments(*(p.name for p in COMMENTS.glob("*.json") if p.name != "stuck.json"))
    )


def test_an_expired_cookie_on_build_comments_says_refresh_it(smcat, both_apis, tmp_path):
    db = tmp_path / "expired.db"
    result = crawl(smcat, both_apis, db, "5210000000000778", weibo_url=both_apis.url,
                   weibo_cookie=COOKIE)  # fmt: skip
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "refresh SMCAT_WEIBO_COOKIE" in reason
    assert query(db, "SELECT count(*) FROM comments") == [(0,)]


@pytest.mark.parametrize("cookie", ["", COOKIE])
def test_reparse_rebuilds_the_comments_and_their_reply_pages(smcat, both_apis, tmp_path, cookie):
    db = tmp_path / "reparse.db"
    result = crawl(smcat, both_apis, db, GIVEAWAY, "--replies", weibo_url=both_apis.url,
                   weibo_cookie=cookie)  # fmt: skip
    assert result.returncode == 0, result.stderr
    crawled = query(db, COMMENT_ROWS)
    with Store.open(db) as store:
        store.connection.execute("DELETE FROM comments")
        outcome = reparse(store)
    assert outcome.counts["failed"] == 0 and outcome.counts["skipped"] == 0
    assert query(db, COMMENT_ROWS) == crawled
    replies = query(db, "SELECT count(*) FROM comments WHERE root_id = ? AND parent_id IS NOT NULL",
                    THREAD)  # fmt: skip
    assert replies[0][0] > 2  # beyond the two inline ones: the reply pages were reparsed too


@pytest.fixture
def wap():
    with ReplayServer(FIXTURES / "weibo" / "wap.toml") as server:
        yield server


def wap_blocks() -> dict[str, str]:
    """Each C_ block of the fixture pages once, by comment id (expected values come from here)."""
    blocks = {}
    for page in sorted((FIXTURES / "weibo" / "wap").glob("comment_*.html")):
        html = page.read_text(encoding="utf-8")
        blocks.update(re.findall(r'<div class="c" id="C_(\d+)">(.*?)</div>', html))
    return blocks


def test_weibo_cn_pages_give_each_comment_once(smcat, wap, tmp_path):
    db = tmp_path / "wap.db"
    result = crawl(smcat, wap, db, GIVEAWAY, "--api", "wap", weibo_cn_url=wap.url,
                   weibo_cookie=COOKIE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = query(db, "SELECT comment_id, post_id, author_id, likes FROM comments ORDER BY 1")
    blocks = wap_blocks()
    assert [r[0] for r in rows] == sorted(blocks) and {r[1] for r in rows} == {GIVEAWAY}
    for comment_id, _, author, likes in rows:
        assert author == re.search(r"fuid=(\d+)", blocks[comment_id])[1]
        assert likes == int(re.search(r"赞\[(\d+)\]", blocks[comment_id])[1])
    assert (wap.hit_count("wap-comments-p1"), wap.hit_count("wap-comments-p2")) == (1, 1)
    assert query(db, "SELECT created_at FROM comments WHERE comment_id = '5210008600900002'") == [
        ("2025-11-07T22:40:00+08:00",)
    ]

    crawled = query(db, COMMENT_ROWS)
    with Store.open(db) as store:
        store.connection.execute("DELETE FROM comments")
        assert reparse(store).counts["failed"] == 0
    assert query(db, COMMENT_ROWS) == crawled


def test_weibo_cn_without_a_signed_in_cookie_says_so(smcat, wap, tmp_path):
    db = tmp_path / "wap-login.db"
    result = crawl(smcat, wap, db, "5210000000000778", "--api", "wap", weibo_cn_url=wap.url,
                   weibo_cookie=COOKIE)  # fmt: skip
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "refresh SMCAT_WEIBO_COOKIE" in reason
    missing = crawl(smcat, wap, tmp_path / "none.db", GIVEAWAY, "--api", "wap",
                    weibo_cn_url=wap.url)  # fmt: skip
    assert missing.returncode == 1 and "needs a Weibo cookie" in missing.stderr
    assert wap.hit_count("wap-comments-p1") == 0  # refused before any request


def test_weibo_cn_is_read_to_its_fifty_page_cap_and_says_what_is_left(smcat, tmp_path):
    template = (FIXTURES / "weibo/wap/comment_Q4cmNCBnc_p2.html").read_text(encoding="utf-8")
    template = template.replace(
        'name="mp" type="hidden" value="2"', 'name="mp" type="hidden" value="120"'
    )
    routes = []
    for number in range(1, 52):
        page = tmp_path / f"p{number}.html"
        page.write_text(template.replace("5210008600900000", f"52100086{number:08d}"), "utf-8")
        routes.append(f'[[route]]\nname = "p{number}"\npath = "/comment/Q4cmNCBnc"\n'
                      f'query = {{ page = "{number}" }}\nbody_file = "{page}"\n')  # fmt: skip
    (tmp_path / "cap.toml").write_text("\n".join(routes), encoding="utf-8")
    db = tmp_path / "cap.db"
    with ReplayServer(tmp_path / "cap.toml") as server:
        result = crawl(smcat, server, db, GIVEAWAY, "--api", "wap", weibo_cn_url=server.url,
                       weibo_cookie=COOKIE)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert [server.hit_count(f"p{n}") for n in (1, 50, 51)] == [1, 1, 0]
    assert query(db, "SELECT count(*) FROM comments") == [(50,)]
    counts = json.loads(query(db, "SELECT counts FROM crawls")[0][0])
    assert counts["wap_pages_out_of_reach"] == 70
