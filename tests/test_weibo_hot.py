"""The hot-search list: parser on our fixtures, and the spider for real, once and on a schedule."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from crawler.items import HotSearchItem, RejectItem
from crawler.parsers.common import PayloadError
from crawler.parsers.weibo_hot import PINNED, is_ad, parse_hot_search
from crawler.reparse import reparse
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES
from tests.test_weibo_crawl import query

HOT = FIXTURES / "weibo" / "hot"
FETCHED = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def load(name: str) -> dict:
    return json.loads((HOT / name).read_text(encoding="utf-8"))


def test_entries_ranked_as_shown_with_ads_flagged_and_the_pinned_entry_first() -> None:
    payload = load("hot_1.json")
    items = parse_hot_search(payload, FETCHED)
    realtime = payload["data"]["realtime"]
    assert all(isinstance(i, HotSearchItem) for i in items)
    pinned, *entries = items
    assert (pinned.rank, pinned.label) == (0, PINNED)
    assert [e.rank for e in entries] == list(range(1, len(realtime) + 1))
    assert [e.word for e in entries] == [r["word"] for r in realtime]
    ads = {r["word"] for r in realtime if r.get("is_ad")}
    assert len(ads) == 2 and {e.word for e in entries if e.is_ad} == ads
    for entry, raw in zip(entries, realtime, strict=True):
        if not raw.get("is_ad"):
            assert entry.heat == raw["num"] and isinstance(entry.heat, int)
            assert entry.label == (raw["label_name"] or None)
    assert {e.observed_at for e in items} == {FETCHED.isoformat()}


def test_ordinary_words_with_an_empty_ad_info_are_not_ads() -> None:
    # the 2021-2023 shape: every ordinary entry carries "ad_info": ""; ads say so by is_ad
    # (1 or "1") and a 商 or 荐 label or icon
    payload = load("hot_2022.json")
    realtime = payload["data"]["realtime"]
    assert sum("ad_info" in r for r in realtime) == len(realtime)
    _, *entries = parse_hot_search(payload, FETCHED)
    assert [e.word for e in entries if e.is_ad] == ["速行夏日新品", "澜蔻夏季礼盒"]
    assert sum(not e.is_ad for e in entries) == len(realtime) - 2


@pytest.mark.parametrize(
    ("fields", "ad"),
    [
        ({"ad_info": ""}, False),
        ({"ad_info": {}}, False),
        ({"is_ad": 0}, False),
        ({"is_ad": "0"}, False),
        ({"is_ad": None, "ad_info": None}, False),
        ({"label_name": "热", "icon_desc": "热"}, False),
        ({"is_ad": 1}, True),
        ({"is_ad": "1"}, True),
        ({"is_ad": True}, True),
        ({"ad_info": {"ad_id": "7001"}}, True),
        ({"ad_info": "adid=7001"}, True),
        ({"promotion": {"id": 3}}, True),
        ({"label_name": "商"}, True),
        ({"icon_desc": "荐"}, True),
        ({"flag_desc": "商业投放"}, True),
        ({"label_name": {"text": "商"}}, False),  # not a label at all: no crash, no ad
    ],
)
def test_an_entry_is_an_ad_only_when_a_field_says_so(fields: dict, ad: bool) -> None:
    assert is_ad({"word": "某词", **fields}) is ad


def test_bad_entries_and_bad_answers() -> None:
    payload = load("hot_2.json")
    payload["data"]["realtime"][4] = {"num": 5}  # no word
    items = parse_hot_search(payload, FETCHED)
    assert sum(isinstance(i, RejectItem) for i in items) == 1
    with pytest.raises(PayloadError, match="请求过于频繁"):
        parse_hot_search({"ok": 0, "msg": "请求过于频繁"}, FETCHED)
    with pytest.raises(PayloadError):
        parse_hot_search({"ok": 1, "data": {}}, FETCHED)


def hot(smcat, url, db, *args):
    return smcat("crawl", "weibo-hot", *args, "--db", str(db), weibo_url=url, download_delay=0,
                 retry_backoff=0.01)  # fmt: skip


@pytest.fixture
def hot_server():
    with ReplayServer(FIXTURES / "weibo" / "hot.toml", FIXTURES / "weibo" / "hot_faults.toml") as s:
        yield s


def test_one_snapshot_then_a_scheduled_series(smcat, hot_server, tmp_path):
    db = tmp_path / "hot.db"
    once = hot(smcat, hot_server.url, db)
    assert once.returncode == 0, once.stderr
    first = len(load("hot_1.json")["data"]["realtime"]) + 1
    assert query(db, "SELECT count(*), count(DISTINCT observed_at) FROM hot_search") == [(first, 1)]

    series = hot(smcat, hot_server.url, db, "--every", "1s", "--for", "3s")
    assert series.returncode == 0, series.stderr
    snapshots = query(db, "SELECT observed_at FROM hot_search GROUP BY 1 ORDER BY 1")
    assert len(snapshots) >= 3  # the first run's, and at least two from the series
    last = snapshots[-1][0]
    words = [w for (w,) in query(db, "SELECT word FROM hot_search WHERE observed_at = ?"
                                     " AND rank > 0 ORDER BY rank", last)]  # fmt: skip
    assert words == [r["word"] for r in load("hot_2.json")["data"]["realtime"]]
    times = [h.time for h in hot_server.hits if h.route == "weibo-hot"][1:]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize(("fault", "why"), [("ok0", "请求过于频繁"), ("truncated", "not JSON")])
def test_a_bad_answer_stops_the_crawl_and_stores_no_entry(smcat, hot_server, tmp_path, fault, why):
    db = tmp_path / "fault.db"
    result = hot(smcat, f"{hot_server.url}/{fault}", db)
    assert result.returncode == 1
    status, reason = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "stopped" and why in reason
    assert query(db, "SELECT count(*) FROM hot_search") == [(0,)]
    assert query(db, "SELECT count(*) FROM rejects") == [(1,)]


def test_418_is_retried_and_reparse_rebuilds_the_list(smcat, hot_server, tmp_path):
    db = tmp_path / "retry.db"
    assert hot(smcat, f"{hot_server.url}/418", db).returncode == 0
    assert hot_server.hit_count("weibo-hot-418") == 2
    rows = "SELECT observed_at, rank, word, heat, is_ad FROM hot_search ORDER BY 1, 2"
    crawled = query(db, rows)
    assert len(crawled) == len(load("hot_2.json")["data"]["realtime"]) + 1
    with Store.open(db) as store:
        store.connection.execute("DELETE FROM hot_search")
        reparse(store)
    assert query(db, rows) == crawled
