"""Weibo's visitor-cookie handshake, for crawls without a signed-in cookie."""

from __future__ import annotations

import gzip

import pytest

from crawler.parsers.common import PayloadError
from crawler.parsers.weibo_visitor import is_visitor_page, parse_visitor_cookie
from smcat.demo.replay import ReplayServer
from tests.conftest import FIXTURES
from tests.test_weibo_crawl import query

VISITOR_SUB = "_2AkMsmcatFICTIONALvisitorSUBvalue0001"  # in fixtures/weibo/visitor/


@pytest.fixture
def visitor_server():
    with ReplayServer(FIXTURES / "weibo" / "visitor.toml") as server:
        yield server


def test_the_visitor_cookie_is_read_from_the_callback():
    text = (FIXTURES / "weibo/visitor/genvisitor2.txt").read_text(encoding="utf-8")
    assert (
        parse_visitor_cookie(text) == f"SUB={VISITOR_SUB}; SUBP=0033WrSXqPxfM72wsmcatFICTIONALsubp"
    )
    refused = 'window.visitor_gray_callback && visitor_gray_callback({"retcode":50111,"msg":"x"});'
    with pytest.raises(PayloadError, match="retcode 50111"):
        parse_visitor_cookie(refused)
    with pytest.raises(PayloadError, match="without its callback"):
        parse_visitor_cookie("<html>busy</html>")
    assert is_visitor_page("https://passport.weibo.com/visitor/visitor?entry=miniblog&a=enter")
    assert not is_visitor_page("https://weibo.com/ajax/side/hotSearch")


def hot(smcat, server, db, prefix, **settings):
    return smcat("crawl", "weibo-hot", "--db", str(db), weibo_url=f"{server.url}/{prefix}",
                 download_delay=0, retry_backoff=0, **settings)  # fmt: skip


def test_a_redirect_to_the_visitor_system_is_answered_with_a_visitor_cookie(
    smcat, visitor_server, tmp_path
):
    db = tmp_path / "visitor.db"
    result = hot(smcat, visitor_server, db, "visitor-hot")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(DISTINCT observed_at), count(*) > 0 FROM hot_search") == [(1, 1)]
    assert visitor_server.hit_count("genvisitor2") == 1
    asked = [h for h in visitor_server.hits if h.route == "hot-via-visitor"]
    assert [h.cookie for h in asked] == [
        None,
        f"SUB={VISITOR_SUB}; SUBP=0033WrSXqPxfM72wsmcatFICTIONALsubp",
    ]
    # the visitor cookie stays in memory: not in the output, the logs or the database
    assert VISITOR_SUB not in result.stdout + result.stderr
    with open(db, "rb") as database:
        assert VISITOR_SUB.encode() not in database.read()
    # nor in a kept response: the bodies are gzipped, so read them (genvisitor2's answer holds
    # the cookie, and is not kept)
    kept = query(db, "SELECT url, body FROM raw_responses")
    assert kept and not any("genvisitor" in url for url, _ in kept)
    assert not any(VISITOR_SUB.encode() in gzip.decompress(body) for _, body in kept if body)


def test_a_site_that_still_redirects_stops_the_crawl_asking_for_a_cookie(
    smcat, visitor_server, tmp_path
):
    db = tmp_path / "never.db"
    result = hot(smcat, visitor_server, db, "visitor-never")
    assert result.returncode == 1
    assert visitor_server.hit_count("genvisitor2") == 1  # one handshake, no loop
    assert visitor_server.hit_count("hot-never") == 2
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and "signed-in cookie" in reason
    assert query(db, "SELECT count(*) FROM hot_search") == [(0,)]


def test_with_a_signed_in_cookie_or_visitor_off_there_is_no_handshake(
    smcat, visitor_server, tmp_path
):
    signed_in = hot(smcat, visitor_server, tmp_path / "a.db", "visitor-never",
                    weibo_cookie="SUB=signed-in-stand-in")  # fmt: skip
    off = hot(smcat, visitor_server, tmp_path / "b.db", "visitor-never", weibo_visitor="false")
    assert signed_in.returncode == off.returncode == 1
    assert visitor_server.hit_count("genvisitor2") == 0
