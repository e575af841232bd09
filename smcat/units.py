"""Normalise the values platforms send: counts written as 1.2万 or "100万+", and ISO times.

Parsers and the store share these so a value is interpreted the same way wherever it enters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime

MAX_COUNT = 2**63 - 1  # SQLite's INTEGER
_COUNT = re.compile(r"^([0-9]+)(?:\.([0-9]+))?(万|亿|w|k)?\+?$", re.IGNORECASE)
# what a platform shows for a count it does not tell (a hidden follower count: "-")
_NO_COUNT = frozenset({"-", "--", "—", "——"})
_MULTIPLIER = {"万": 10_000, "亿": 100_000_000, "w": 10_000, "k": 1_000}
_CURRENCY = str.maketrans("", "", "¥￥元, ")
# a range as third-party exports write one: "10w-25w", "1万~5万", "100至250"
_RANGE = re.compile(r"^([^-~～至]+?)\s*(?:-|~|～|至)\s*([^-~～至]+)$")
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?[+-]\d\d:\d\d")
# How precisely a post's time is known (posts.created_at_precision): the unit the platform gave
# it in, or DERIVED, worked out from the post's id (a Douyin aweme id holds its upload second).
SECOND, MINUTE, HOUR, DAY, DERIVED = "second", "minute", "hour", "day", "derived"
TIME_PRECISIONS = (SECOND, MINUTE, HOUR, DAY, DERIVED)
# Checked time strings: a crawl's rows share their observed_at, so most checks are repeats.
_CHECKED_TIMES: dict[str, str] = {}
_CHECKED_TIMES_MAX = 4096


def parse_count(value: object) -> int | None:
    """Return a count as an int: 1234, "1,234", "1.2万", "3亿", "100万+" (a floor), "5k".

    None, "" and a dash ("-": the platform hides it) mean unknown and give None; anything
    else that is not a count (negative, fractional without a unit, too large for SQLite)
    raises ValueError.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a count: {value!r}")
    if isinstance(value, int):
        return _in_range(value, value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(f"not a count: {value!r}")
        return _in_range(int(value), value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace(" ", "")
        if not text or text in _NO_COUNT:
            return None
        match = _COUNT.match(text)
        if match:
            whole, fraction, unit = match.groups()
            if unit is None:
                if fraction is not None:
                    raise ValueError(f"not a count: {value!r}")
                return _in_range(int(whole), value)
            # exact arithmetic: "1.2万" is 12000, never 11999.999...
            scale = 10 ** len(fraction or "")
            number = int(whole) * scale + int(fraction or 0)
            return _in_range(number * _MULTIPLIER[unit.lower()] // scale, value)
    raise ValueError(f"not a count: {value!r}")


def parse_amount(value: object) -> float | None:
    """Return an amount of money in yuan: 1234.5, "¥1,234.50", "3.5万", "1亿", "1.2w元".

    None and "" give None; anything else that is not an amount (negative, text) raises
    ValueError.
    """
    if isinstance(value, str):
        value = value.translate(_CURRENCY)
    try:
        count = parse_count(value)
    except ValueError:
        # a plain decimal: parse_count takes fractions only with a unit (1.2万)
        try:
            amount = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"not an amount: {value!r}") from None
        if not math.isfinite(amount) or amount < 0 or isinstance(value, bool):
            raise ValueError(f"not an amount: {value!r}") from None
        return amount
    return None if count is None else float(count)


def parse_range(
    value: str, parse: Callable[[object], float | int | None]
) -> tuple[float | int | None, float | int | None]:
    """The low and high ends of a figure that may be given as a range ("10w-25w"), each read
    by `parse` (parse_count, parse_amount); a single figure is both ends. ValueError if an end
    cannot be read or the low end is above the high one."""
    match = _RANGE.match(value.strip())
    if match is None:
        single = parse(value)
        return single, single
    low, high = parse(match[1]), parse(match[2])
    if low is None or high is None or low > high:
        raise ValueError(f"not a range from low to high: {value!r}")
    return low, high


def _in_range(count: int, original: object) -> int:
    if not 0 <= count <= MAX_COUNT:
        raise ValueError(f"not a count (negative or too large): {original!r}")
    return count


def iso_time(value: object) -> str | None:
    """Return an ISO 8601 time with its UTC offset, in one canonical spelling per instant and
    offset (YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM); reject naive or unparseable times."""
    if type(value) is str:
        if (checked := _CHECKED_TIMES.get(value)) is not None:
            return checked
        if _CANONICAL_TIME.fullmatch(value):
            try:
                datetime.fromisoformat(value)  # the shape is right; is the date real?
            except ValueError:
                raise ValueError(f"not an ISO 8601 time: {value!r}") from None
            if len(_CHECKED_TIMES) >= _CHECKED_TIMES_MAX:
                _CHECKED_TIMES.clear()
            _CHECKED_TIMES[value] = value
            return value
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    else:
        raise ValueError(f"not a time: {value!r}")
    if moment.utcoffset() is None:
        raise ValueError(f"time has no UTC offset: {value!r}")
    return moment.isoformat()


def hour_known(precision: str | None) -> bool:
    """Whether a time of this precision tells the hour of day: every one but a date-only (DAY)
    time, stored as its midnight. None (a post stored before precisions were) is read as the
    time it says, as it always was."""
    return precision != DAY
