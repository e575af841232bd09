"""The hot-word index behind B5: a word is hot for a post within N days either side."""

from __future__ import annotations

from datetime import date

from coding.hot_words import HotWordIndex, china_day

SNAPSHOTS = [
    ("澜蔻新品", "2025-03-01T09:00:00+08:00"),
    ("澜蔻新品", "2025-03-02T23:30:00+08:00"),
    ("春日焕新", "2025-02-28T16:30:00+00:00"),  # 00:30 on Mar 1 in China
    ("打工人", "2025-06-10T12:00:00+08:00"),
]


def test_a_word_is_hot_within_the_window_either_side():
    index = HotWordIndex(SNAPSHOTS)
    tokens = ["今天", "澜蔻新品", "打工人", "澜蔻新品"]
    assert index.hot_near(tokens, "2025-03-09T20:00:00+08:00", 7) == ["澜蔻新品"]
    assert index.hot_near(tokens, "2025-03-10T20:00:00+08:00", 7) == []  # 8 days after
    assert index.hot_near(tokens, "2025-02-22T08:00:00+08:00", 7) == ["澜蔻新品"]  # before
    assert index.hot_near(tokens, "2025-02-21T08:00:00+08:00", 7) == []
    assert index.hot_near(["打工人"], "2025-06-03T00:00:00+08:00", 7) == ["打工人"]


def test_days_are_china_days():
    assert china_day("2025-02-28T16:30:00+00:00") == date(2025, 3, 1).toordinal()
    index = HotWordIndex(SNAPSHOTS)
    assert index.first_seen("春日焕新") == date(2025, 3, 1)
    assert index.hot_near(["春日焕新"], "2025-03-08T23:59:00+08:00", 7) == ["春日焕新"]
    assert index.hot_near(["春日焕新"], "2025-03-09T00:00:00+08:00", 7) == []
    assert index.words == ["打工人", "春日焕新", "澜蔻新品"] and index.first_seen("无") is None
