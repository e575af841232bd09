"""Third-party streamer sales figures (imported exports), and what links them to crawled
accounts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from smcat.store.engine import (
    _COUNT,
    _JSON,
    _REAL,
    _TEXT,
    _TIME,
    Engine,
    Rows,
    WriteResult,
    _imported_now,
    _Kind,
    _table,
)

# the figures of streamer_stats that an export may give as a range (migration 6), and the
# suffixes of its two ends
_RANGE_ENDS = ("low", "high")
_STREAMER_FIGURES: dict[str, _Kind] = {
    "followers": _COUNT, "sales_volume": _COUNT, "sales_amount": _REAL,
    "live_sales_volume": _COUNT, "live_sales_amount": _REAL,
    "video_sales_volume": _COUNT, "video_sales_amount": _REAL,
}  # fmt: skip
_STREAMER_STATS = _table(
    "streamer_stats",
    ("source", "account", "period"),
    {
        "source": _TEXT,
        "account": _TEXT,
        "period": _TEXT,
        "platform": _TEXT,
        "account_id": _TEXT,
        "nickname": _TEXT,
        "sales_volume": _COUNT,
        "sales_amount": _REAL,
        "live_sales_amount": _REAL,
        "video_sales_amount": _REAL,
        "extra": _JSON,
        "imported_at": _TIME,
        "category": _TEXT,
        "followers": _COUNT,
        "live_sales_volume": _COUNT,
        "video_sales_volume": _COUNT,
        **{
            f"{figure}_{end}": kind
            for figure, kind in _STREAMER_FIGURES.items()
            for end in _RANGE_ENDS
        },
    },
)


class Streamers(Engine):
    """Imported streamer figures and the accounts they can be linked to."""

    def upsert_streamer_stats(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update imported third-party streamer sales figures (source, account,
        period; nickname, category, and each figure plain and as `<figure>_low` and
        `<figure>_high`: followers, sales_volume, sales_amount, live_/video_sales_volume and
        live_/video_sales_amount)."""
        return self._write(_STREAMER_STATS, rows, None, _imported_now(_STREAMER_STATS))

    def account_handles(self, platform: str) -> list[tuple[str, str | None, dict[str, Any]]]:
        """(account_id, screen_name, extra) of a platform's stored accounts: what a row from
        elsewhere (a sales platform's export) can be matched on."""
        rows = self.connection.execute(
            "SELECT account_id, screen_name, extra FROM accounts WHERE platform = ?"
            " ORDER BY account_id",
            (platform,),
        )
        return [(account, name, json.loads(extra or "{}")) for account, name, extra in rows]

    def linked_streamer_sales(self, platform: str) -> Rows:
        """The imported sales rows linked to a crawled account of `platform`: account_id,
        source, period, nickname, and each of sales_amount and sales_volume plain and as
        `_low`/`_high` (an export's range)."""
        figures = [
            f"{f}{end}"
            for f in ("sales_amount", "sales_volume")
            for end in ("", *(f"_{e}" for e in _RANGE_ENDS))
        ]
        sql = (
            f"SELECT account_id, source, period, nickname, {', '.join(figures)}"
            " FROM streamer_stats WHERE platform = ? AND account_id IS NOT NULL"
            " ORDER BY account_id, period, source"
        )
        columns = ("account_id", "source", "period", "nickname", *figures)
        return Rows(columns, self.connection.execute(sql, (platform,)).fetchall())
