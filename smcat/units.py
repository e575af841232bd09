"""Normalise the values platforms send: counts written as 1.2万 or "100万+", and ISO times.

Parsers and the store share these so a value is interpreted the same way wherever it enters.
"""

from __future__ import annotations

import re
from datetime import datetime

_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(万|亿|w|k)?\+?$", re.IGNORECASE)
_MULTIPLIER = {None: 1, "万": 10_000, "亿": 100_000_000, "w": 10_000, "k": 1_000}


def parse_count(value: object) -> int | None:
    """Return a count as an int: 1234, "1,234", "1.2万", "3亿", "100万+" (a floor), "5k".

    None and "" mean unknown and give None; anything else that is not a count raises ValueError.
    """
    if value is None:
        return None
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a count: {value!r}")
    if isinstance(value, float):
        if value != value or value < 0:
            raise ValueError(f"not a count: {value!r}")
        return round(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace(" ", "")
        if not text:
            return None
        match = _COUNT.match(text)
        if match:
            number, unit = match.groups()
            return round(float(number) * _MULTIPLIER[unit.lower() if unit else None])
    raise ValueError(f"not a count: {value!r}")


def iso_time(value: object) -> str | None:
    """Return an ISO 8601 time with its UTC offset; reject naive or unparseable times."""
    if type(value) is str and len(value) >= 25 and value[10] == "T":
        # the extended form with offset that the store keeps: check it, keep it as it is
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
        if moment.tzinfo is None:  # parsed strings carry fixed offsets, so this is the check
            raise ValueError(f"time has no UTC offset: {value!r}")
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
