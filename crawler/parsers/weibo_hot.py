"""Parser for weibo.com's hot-search list (ajax/side/hotSearch). Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from crawler.items import HotSearchItem, RejectItem
from crawler.parsers.common import PayloadError, read_or_reject
from smcat.units import parse_count

# 2: an ad only when a field says so; 3: per-entry rejects (#19)
PARSER_VERSION = "weibo_hot/3"
PINNED = "置顶"  # the label of the pinned government entry, stored as rank 0
AD_MARKS = frozenset({"商", "荐"})  # the labels and icons of paid and recommended entries
AD_FLAGS = frozenset({"商业投放"})


def parse_hot_search(payload: Any, fetched_at: datetime) -> list[HotSearchItem | RejectItem]:
    """The list as it stood at `fetched_at`: entries ranked 1..n in the order shown (ads
    included, flagged, so analysts choose to leave them out), and the pinned entry as rank 0.
    """
    if not isinstance(payload, Mapping) or payload.get("ok") != 1:
        message = payload.get("msg") if isinstance(payload, Mapping) else None
        raise PayloadError(f"hot search answered ok={_ok(payload)}: {message or 'no message'}")
    data = payload.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("realtime"), list):
        raise PayloadError("hot search response has no data.realtime list")
    entries = data["realtime"]
    observed = fetched_at.isoformat()
    items: list[HotSearchItem | RejectItem] = []
    pinned = data.get("hotgov")
    if isinstance(pinned, Mapping) and (pinned.get("word") or pinned.get("name")):
        word = str(pinned.get("word") or pinned.get("name")).strip("#")
        items.append(HotSearchItem("weibo", observed, 0, word, label=PINNED))
    rejects: list[RejectItem] = []
    for position, entry in enumerate(entries, start=1):
        read = partial(_entry, position=position, observed=observed)
        if (item := read_or_reject(read, entry, "weibo_hot", rejects)) is not None:
            items.append(item)
    return [*items, *rejects]


def _entry(entry: Any, position: int, observed: str) -> HotSearchItem:
    if not isinstance(entry, Mapping):
        raise PayloadError(f"a hot-search entry is {entry!r}")
    word = entry.get("word") or entry.get("note")
    if not word:
        raise ValueError("entry has no word")
    # realpos is the 1-based place shown; rank is 0-based; the list order is the fallback
    rank = entry.get("realpos") or (entry["rank"] + 1 if "rank" in entry else position)
    return HotSearchItem(
        platform="weibo",
        observed_at=observed,
        rank=int(rank),
        word=str(word),
        heat=parse_count(entry.get("num") or entry.get("raw_hot")),
        category=entry.get("category") or entry.get("flag_desc") or None,
        label=entry.get("label_name") or None,
        is_ad=is_ad(entry),
    )


def is_ad(entry: Mapping[str, Any]) -> bool:
    """Whether an entry is paid for: only when a field says so (is_ad, non-empty ad info, a
    promotion, a 商 or 荐 label or icon, the 商业投放 flag). Every ordinary entry of 2021-2023
    carries `"ad_info": ""`, so the key alone says nothing."""
    if _says_yes(entry.get("is_ad")) or _says_yes(entry.get("promotion")):
        return True
    if _says_yes(entry.get("ad_info")):
        return True
    marks = [entry.get(key) for key in ("label_name", "icon_desc", "small_icon_desc", "flag_desc")]
    return any(isinstance(m, str) and (m in AD_MARKS or m in AD_FLAGS) for m in marks)


def _says_yes(value: object) -> bool:
    """A flag or field that holds something: 1, "1", True, a non-empty text or mapping; not 0,
    "0", "", {}, [] or null."""
    if isinstance(value, str):
        return value.strip() not in ("", "0", "false")
    return bool(value)


def _ok(payload: Any) -> object:
    return payload.get("ok") if isinstance(payload, Mapping) else type(payload).__name__
