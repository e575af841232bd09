"""The hot-word index behind B5: a word is hot for a post within N days either side."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from smcat.hot_words import HotWordIndex, china_day

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


def test_a_date_only_time_is_matched_as_its_whole_china_day():
    """A date-only post time (precision day) is stored as its midnight in China time, so the
    day the matching reads is the post's day: a word on the list late on the last day of the
    window counts, as for a post of that evening."""
    index = HotWordIndex([("澜蔻新品", "2025-03-21T23:50:00+08:00")])
    for moment in ("2025-03-14T00:00:00+08:00", "2025-03-14T23:59:00+08:00"):
        assert index.hot_near(["澜蔻新品"], moment, 7) == ["澜蔻新品"]
    assert index.hot_near(["澜蔻新品"], "2025-03-13T00:00:00+08:00", 7) == []


def _china_date(moment: str) -> date:
    return datetime.fromisoformat(moment).astimezone(timezone(timedelta(hours=8))).date()


def _hot_by_definition(snapshots, tokens, moment, window_days) -> list[str]:
    """The ±N-day rule spelt out: a token seen on the list on a China day at most N days from
    the post's China day, either side."""
    day = _china_date(moment)
    seen = {(w, _china_date(at)) for w, at in snapshots}
    return [
        token
        for token in dict.fromkeys(tokens)
        if any(w == token and abs((d - day).days) <= window_days for w, d in seen)
    ]


def test_the_day_index_matches_the_definition_at_china_day_boundaries():
    # snapshots just before and after China midnight (16:00 UTC), in three offsets
    snapshots = [
        ("早", "2025-03-01T23:59:59+08:00"),
        ("晚", "2025-03-02T00:00:00+08:00"),
        ("界", "2025-03-01T15:59:59+00:00"),  # 23:59:59 on Mar 1 in China
        ("界", "2025-03-10T16:00:00+00:00"),  # 00:00 on Mar 11 in China
        ("西", "2025-03-05T11:00:00-05:00"),  # 00:00 on Mar 6 in China
        ("跨", "2024-12-31T16:30:00+00:00"),  # Jan 1 in China, Dec 31 in UTC
    ]
    index = HotWordIndex(snapshots)
    tokens = ["早", "晚", "界", "西", "跨", "无"]
    start = datetime(2024, 12, 20, tzinfo=UTC)
    moments = []
    for day in range(90):
        midnight_china = start + timedelta(days=day, hours=16)  # 00:00 China
        for delta in (timedelta(seconds=-1), timedelta(0), timedelta(hours=12)):
            moment = midnight_china + delta
            for offset in (8, 0, -5):
                moments.append(moment.astimezone(timezone(timedelta(hours=offset))).isoformat())
    for moment in moments:
        for window in (0, 1, 7):
            expected = _hot_by_definition(snapshots, tokens, moment, window)
            assert index.hot_near(tokens, moment, window) == expected, (moment, window)
    # the edges themselves: 7 days after 23:59:59 on Mar 1 ends at 23:59:59 on Mar 8
    assert index.hot_near(["早"], "2025-03-08T23:59:59+08:00", 7) == ["早"]
    assert index.hot_near(["早"], "2025-03-08T16:00:00+00:00", 7) == []
    assert index.hot_near(["晚"], "2025-02-23T00:00:00+08:00", 7) == ["晚"]
    assert index.hot_near(["晚"], "2025-02-22T15:59:59+00:00", 7) == []


def test_hot_around_is_the_set_of_words_within_the_window():
    index = HotWordIndex(SNAPSHOTS)
    day = date(2025, 3, 8).toordinal()
    assert index.hot_around(day, 7) == {"澜蔻新品", "春日焕新"}
    assert index.hot_around(day + 1, 7) == {"澜蔻新品"}
    assert index.hot_around(day + 2, 7) == index.hot_around(day, 0) == frozenset()
