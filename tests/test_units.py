"""Tests for smcat.units: counts as platforms write them, and ISO 8601 times with offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smcat.units import iso_time, parse_count

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1234, 1234),
        ("1234", 1234),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("1.2万", 12_000),
        ("145.5万", 1_455_000),
        ("1.15万", 11_500),
        ("3亿", 300_000_000),
        ("1.5亿", 150_000_000),
        ("100万+", 1_000_000),
        ("999+", 999),
        ("5k", 5_000),
        ("5K", 5_000),
        ("2.5w", 25_000),
        ("3W", 30_000),
        (" 12 ", 12),
        ("1 234", 1234),
        (12.0, 12),
        (0.0, 0),
    ],
)
def test_parse_count_reads_platform_counts(value, expected):
    result = parse_count(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [None, "", "   ", "-", " -- ", "—"])
def test_parse_count_empty_means_unknown(value):
    assert parse_count(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "lots",
        "1.2.3",
        "-5",
        "万",
        "1.2千",
        "1e5",
        "+5",
        True,
        False,
        -1.0,
        12.6,
        float("nan"),
        [],
        [1],
        {"count": 1},
        b"12",
    ],
)
def test_parse_count_rejects_what_is_not_a_count(value):
    with pytest.raises(ValueError, match="not a count"):
        parse_count(value)


@pytest.mark.parametrize("value", [float("inf"), "9" * 400])
def test_parse_count_rejects_infinite_values_with_value_error(value):
    with pytest.raises(ValueError):
        parse_count(value)


def test_parse_count_is_exact_for_long_digit_strings():
    assert parse_count("12345678901234567") == 12345678901234567


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 1, 1, 10, 0, tzinfo=CST), "2025-01-01T10:00:00+08:00"),
        (datetime(2025, 1, 1, 2, 0, tzinfo=UTC), "2025-01-01T02:00:00+00:00"),
        (
            datetime(2025, 1, 1, 10, 0, 0, 123456, tzinfo=CST),
            "2025-01-01T10:00:00.123456+08:00",
        ),
        ("2025-01-01T10:00:00+08:00", "2025-01-01T10:00:00+08:00"),
        ("2025-01-01T10:00:00.123456+08:00", "2025-01-01T10:00:00.123456+08:00"),
        ("2025-01-01 10:00:00+08:00", "2025-01-01T10:00:00+08:00"),
        ("2025-01-01T02:00:00Z", "2025-01-01T02:00:00+00:00"),
        ("2025-01-01T10:00:00+0800", "2025-01-01T10:00:00+08:00"),
        ("2025-01-01T02:00:00.123Z", "2025-01-01T02:00:00.123000+00:00"),
    ],
)
def test_iso_time_gives_extended_form_with_offset(value, expected):
    assert iso_time(value) == expected


def test_iso_time_keeps_canonical_string_as_is():
    canonical = "2025-06-18T20:15:30+08:00"
    assert iso_time(canonical) is canonical


@pytest.mark.parametrize("value", [None, ""])
def test_iso_time_empty_means_unknown(value):
    assert iso_time(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-01T10:00:00",
        "2025-01-01 10:00:00",
        "2025-01-01T10:00:00.123456",  # long enough for the fast path, still naive
        "2025-01-01",
        datetime(2025, 1, 1, 10, 0),
    ],
)
def test_iso_time_rejects_naive_times(value):
    with pytest.raises(ValueError, match="no UTC offset"):
        iso_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "yesterday-ish",
        "刚刚",
        "2025-13-01T10:00:00+08:00",
        "2025-01-01T10:00:00+08:00 extra",
        "2025-01-01T25:00:00+08:00",
    ],
)
def test_iso_time_rejects_garbage(value):
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        iso_time(value)


@pytest.mark.parametrize("value", [1735696800, 1735696800.0, b"2025-01-01T10:00:00+08:00", True])
def test_iso_time_rejects_other_types(value):
    with pytest.raises(ValueError, match="not a time"):
        iso_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-01T02:00:00.000000Z",
        "2025-01-01T10:00:00.5+08:00",
        "2025-01-01T10:00:00.123+0800",
        "2025-01-01T10:00:00+08:00:00",
        "2025-W01-3T10:00:00+08:00",
    ],
)
def test_iso_time_normalises_every_string(value):
    assert iso_time(value) == datetime.fromisoformat(value).isoformat()
