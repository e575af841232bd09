"""Rejects keep a bounded payload and the HTTP status: a binary answer, a 49 MB page, a 418 or
5xx the retries gave up on. Long payloads are stored gzipped and read back as text."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import RejectItem
from crawler.spiders.base import REJECT_BODY_MAX
from crawler.spiders.weibo_user import WeiboUserSpider
from crawler.writer import ItemWriter
from smcat.export import export_table
from smcat.store import Store
from tests.test_weibo_crawl import crawl, query

TIMELINE = "https://m.weibo.cn/api/container/getIndex?containerid=1076035001000001&page=2"
# the first bytes of a PNG (what a CDN answers for an image URL): not text in any encoding
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\xff"


def _spider() -> WeiboUserSpider:
    return WeiboUserSpider(uids="5001000001")


def _rejects(spider: WeiboUserSpider, response: Response) -> list[RejectItem]:
    """The rejects of a timeline page read from `response`."""
    parsed = spider._parsed(response, lambda payload, when: payload, "page 2")
    return [item for item in parsed if isinstance(item, RejectItem)]


def _stored(tmp_path: Path, *items: RejectItem) -> Store:
    store = Store.open(tmp_path / "rejects.db")
    writer = ItemWriter(store, crawl_id=None)
    for item in items:
        writer.add(item)
    return store


def test_a_binary_answer_is_kept_as_base64_with_its_status(tmp_path: Path) -> None:
    response = Response(
        TIMELINE,
        status=200,
        body=PNG,
        headers={"Content-Type": "image/png"},
        request=Request(TIMELINE),
    )
    (reject,) = _rejects(_spider(), response)
    assert "not text" in reject.reason and reject.status == 200
    with _stored(tmp_path, reject) as store:
        (row,) = store.rejects()
    assert row["status"] == 200
    assert json.loads(row["payload"])["body_base64"] == "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAD/"


def test_a_49_mb_page_is_kept_cut_and_gzipped_and_says_so(tmp_path: Path) -> None:
    # a page of the older s.weibo.com markup, card after card, to 49 MB
    card = (
        '<div class="card-wrap" mid="4410000000000001"><p class="txt">澜蔻新品 #护肤#</p></div>\n'
    )
    size = 49 * 1000 * 1000
    body = ("<html><body>" + card * (size // len(card.encode()))).encode()
    response = HtmlResponse(
        TIMELINE, status=200, body=body, encoding="utf-8", request=Request(TIMELINE)
    )
    (reject,) = _rejects(_spider(), response)
    with _stored(tmp_path, reject) as store:
        (stored,) = store.connection.execute("SELECT payload FROM rejects").fetchone()
        (row,) = store.rejects()
    assert isinstance(stored, bytes) and len(stored) < REJECT_BODY_MAX // 10
    assert (tmp_path / "rejects.db").stat().st_size < 2 * REJECT_BODY_MAX
    payload = json.loads(row["payload"])
    assert payload["body_bytes"] == len(body) and payload["body_kept_bytes"] == REJECT_BODY_MAX
    assert payload["body"].startswith("<html><body><div") and len(payload["body"]) > 300_000


def test_an_answer_the_retries_gave_up_on_keeps_its_status_and_body(tmp_path: Path) -> None:
    request = Request(TIMELINE)
    answer = TextResponse(
        TIMELINE, status=418, body=b"I'm a teapot", request=request, encoding="utf-8"
    )
    failure = Failure(HttpError(answer, "Ignoring non-200 response"))
    failure.request = request  # as Scrapy hangs it on
    (reject,) = _spider().request_failed(failure)
    assert "HTTP 418" in reject.reason and reject.status == 418
    with _stored(tmp_path, reject) as store:
        (row,) = store.rejects()
    assert row["status"] == 418 and json.loads(row["payload"])["body"] == "I'm a teapot"


def test_export_gives_gzipped_payloads_back_as_text(tmp_path: Path) -> None:
    long = {"url": TIMELINE, "body": "转发微博 " * 40_000}
    with _stored(tmp_path, RejectItem("weibo_response", "page 2: not JSON", long, 200)) as store:
        export_table(store, "rejects", "jsonl", tmp_path / "rejects.jsonl")
    (line,) = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    exported = json.loads(line)
    assert json.loads(exported["payload"]) == long and exported["status"] == 200


@pytest.mark.parametrize("text", ["short", "长" * 70_000])
def test_a_payload_reads_back_as_it_was_given(tmp_path: Path, text: str) -> None:
    with _stored(tmp_path, RejectItem("weibo_comment", "no id", {"text": text})) as store:
        (row,) = store.rejects()
    assert json.loads(row["payload"]) == {"text": text}
    with sqlite3.connect(tmp_path / "rejects.db") as connection:
        (stored,) = connection.execute("SELECT payload FROM rejects").fetchone()
    if isinstance(stored, bytes):  # kept gzipped, whole
        assert json.loads(gzip.decompress(stored)) == {"text": text}


def test_a_crawl_keeps_the_status_and_body_of_a_5xx_given_up_on(smcat, faults_server, tmp_path):
    db = tmp_path / "faults.db"
    crawl(smcat, faults_server, db, "5001000006")
    ((reason, status, payload),) = query(
        db, "SELECT reason, status, payload FROM rejects WHERE kind = 'weibo_request'"
    )
    assert "HTTP 500" in reason and status == 500
    assert json.loads(payload)["body"] == "Internal Server Error"
