"""`smcat import events`: a system's behaviour events (views, clicks, carts, favourites,
purchases, campaign contacts and responses), each with the device or cookie id it came from
and the member id when the person was signed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smcat.imports.commerce import rejects_by_row, with_offset
from smcat.imports.mapped import read_mapped
from smcat.store import EVENT_TYPES, Store

FIELDS = ("event_id", "occurred_at", "event_type", "record_id", "device_id", "item",
          "campaign", "amount")  # fmt: skip
ALIASES = {
    "member_id": "record_id", "customer_id": "record_id", "user_id": "record_id",
    "会员ID": "record_id", "cookie_id": "device_id", "device": "device_id",
    "设备ID": "device_id", "time": "occurred_at", "timestamp": "occurred_at",
    "时间": "occurred_at", "type": "event_type", "event": "event_type", "行为": "event_type",
    "item_id": "item", "product_id": "item", "商品ID": "item", "活动": "campaign",
    "金额": "amount",
}  # fmt: skip
# other names of the event types (the store keeps EVENT_TYPES only)
EVENT_ALIASES = {
    "pv": "view", "browse": "view", "浏览": "view", "点击": "click", "add_to_cart": "cart",
    "加购": "cart", "加入购物车": "cart", "favorite": "favourite", "fav": "favourite",
    "收藏": "favourite", "buy": "purchase", "order": "purchase", "购买": "purchase",
    "下单": "purchase", "触达": "contact", "响应": "response",
}  # fmt: skip


@dataclass(frozen=True)
class EventImport:
    """What an import of events did: events stored and rows rejected (row number and why)."""

    path: Path
    system: str
    stored: int
    rejects: list[tuple[int, str]]


def import_events(
    store: Store,
    path: Path,
    system: str,
    *,
    mapping: Path | None = None,
    utc_offset: str = "+08:00",
) -> EventImport:
    """Import a system's events from a CSV, XLSX or JSONL file: event_id, occurred_at,
    event_type (one of EVENT_TYPES or a common other name of one: pv, add_to_cart, 收藏 ...),
    record_id (the member id, if signed in), device_id, item, campaign, amount. Times without
    an offset are taken as at `utc_offset`; a row of no known type or with neither a member
    nor a device goes to rejects, named by its row."""
    rows = read_mapped(
        path, FIELDS, ("event_id", "occurred_at", "event_type"), ALIASES, mapping, "an events file"
    )
    for row in rows:
        kind = str(row.get("event_type") or "").strip()
        row["event_type"] = EVENT_ALIASES.get(kind.lower(), EVENT_ALIASES.get(kind, kind.lower()))
        if row["event_type"] not in EVENT_TYPES:
            row["event_type"] = kind  # SQLite's check refuses it, and the row is rejected
        if row.get("occurred_at"):
            row["occurred_at"] = with_offset(str(row["occurred_at"]), utc_offset)
        row["system"] = system
    result = store.upsert_events(rows)
    return EventImport(path, system, result.stored, rejects_by_row(result))
