"""`smcat import streamers`: streamer sales figures from third-party platforms' exports.

Sales and GMV of Douyin streamers come from platforms such as Chanmama (蝉妈妈) and Feigua
(飞瓜), exported as CSV or XLSX with Chinese headers. A layout maps an export's headers to the
figures of `streamer_stats`; built-in layouts cover Chanmama, Feigua and a generic one, and a
mapping file (TOML) covers any other. Figures are read as the exports write them (1.2w, 3.5万,
1亿, ¥1,234.50), a range ("10w-25w") as its low and high ends, "--" as missing. A row that cannot
be read goes to `rejects` and is reported by its row number; every other row is stored, and
linked to the crawled Douyin account whose ids or nickname it names.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler.parsers.douyin_common import PLATFORM
from smcat.errors import SettingError, SmcatError
from smcat.store import Store
from smcat.tables import Table, read_table
from smcat.units import parse_amount, parse_count, parse_range

MISSING = frozenset({"", "-", "--", "—", "——", "/", "N/A", "n/a", "暂无"})
REJECT_KIND = "streamer_row"
# what each figure is read as; each is stored plain (one number) and as its low and high ends
FIGURES = {
    "followers": parse_count,
    "sales_volume": parse_count,
    "sales_amount": parse_amount,
    "live_sales_volume": parse_count,
    "live_sales_amount": parse_amount,
    "video_sales_volume": parse_count,
    "video_sales_amount": parse_amount,
}
TEXTS = ("account_id", "nickname", "category", "period")
FIELDS = (*TEXTS, *FIGURES)


@dataclass(frozen=True)
class Layout:
    """Which header of an export holds which field (FIELDS); and, for rows without a period
    column, the period the figures cover, or the window they cover up to the day the export
    was saved ("近30天")."""

    name: str
    columns: dict[str, str]
    window: str = ""
    period: str = ""
    platform: str = ""


# Chanmama's 达人 list, as the Chanmama-exporter extension writes it (reference notes, section 6)
_CHANMAMA_COLUMNS = {
    "用户昵称": "nickname", "用户ID": "account_id", "粉丝数量": "followers",
    "近30天销售额": "sales_amount", "近30天销量": "sales_volume", "主营类目": "category",
    "直播销量": "live_sales_volume", "直播销售额": "live_sales_amount",
    "短视频销量": "video_sales_volume", "短视频销售额": "video_sales_amount",
}  # fmt: skip
CHANMAMA = Layout("chanmama", _CHANMAMA_COLUMNS, window="近30天")
# Feigua documents no export format: this layout is a guess at one; for an export whose
# headers differ, describe it with a mapping file
_FEIGUA_COLUMNS = {
    "达人昵称": "nickname", "抖音号": "account_id", "粉丝数": "followers",
    "带货品类": "category", "统计周期": "period", "销量": "sales_volume",
    "销售额": "sales_amount", "直播销量": "live_sales_volume",
    "直播销售额": "live_sales_amount", "视频销量": "video_sales_volume",
    "视频销售额": "video_sales_amount",
}  # fmt: skip
FEIGUA = Layout("feigua", _FEIGUA_COLUMNS)
# smcat's own names, and the Chinese headers of both platforms
GENERIC = Layout("generic", {**{f: f for f in FIELDS}, **CHANMAMA.columns, **FEIGUA.columns})
LAYOUTS = {layout.name: layout for layout in (CHANMAMA, FEIGUA, GENERIC)}


@dataclass
class StreamerImport:
    """What an import did: rows stored, of which linked to a crawled account, and the rows
    that could not be read, by row number."""

    path: Path
    source: str
    period: str
    stored: int = 0
    linked: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def load_mapping(path: Path, fields: Collection[str] = FIELDS) -> Layout:
    """A layout from a mapping file: `[columns]` maps headers to `fields`; `period` and
    `platform` optional."""
    columns, data = read_mapping(path, fields)
    return Layout(
        path.stem,
        columns,
        period=str(data.get("period", "")),
        platform=str(data.get("platform", "")),
    )


def read_mapping(path: Path, fields: Collection[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """A mapping file's `[columns]` table (a file's headers to `fields`), checked, and the
    whole file; an SmcatError naming the fix if it cannot be used."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SmcatError(f"mapping file {path} cannot be read ({error}): fix it") from None
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise SmcatError(f"mapping file {path} has no [columns] table: map headers to fields")
    unknown = sorted({str(v) for v in columns.values()} - set(fields))
    if unknown:
        raise SmcatError(
            f"mapping file {path} maps to unknown field {unknown[0]!r}: use {', '.join(fields)}"
        )
    return {str(k): str(v) for k, v in columns.items()}, data


def import_streamers(
    store: Store, path: Path, source: str, layout: Layout, period: str | None = None
) -> StreamerImport:
    """Store every readable row of an export; reject the others, each with its row number.

    The period of a row is its own period column, else `period`, else the layout's, else the
    layout's window ("近30天") up to the day the file was saved (so that importing the same file
    again replaces its rows)."""
    table = read_table(path)
    columns = _columns(table, layout)
    default_period = period or layout.period or _file_period(path, layout)
    result = StreamerImport(path, source, default_period)
    links = _AccountLinks(store.account_handles(PLATFORM))
    with store.transaction():
        for number, cells in table.rows:
            try:
                row = _row(table.header, cells, columns, source, default_period)
            except ValueError as error:
                reason = f"row {number}: {error}"
                store.reject(REJECT_KIND, reason, _cells(path, number, table.header, cells))
                result.rejected.append((number, str(error)))
                continue
            if account := links.find(row["account"], row.get("nickname")):
                row.update(platform=PLATFORM, account_id=account)
                result.linked += 1
            written = store.upsert_streamer_stats([row])
            result.stored += written.stored
            result.rejected.extend((number, reason) for reason in written.reasons)
    return result


def _columns(table: Table, layout: Layout) -> dict[int, str]:
    """Column position -> field, for the header cells the layout knows."""
    columns = {i: layout.columns[h] for i, h in enumerate(table.header) if h in layout.columns}
    if not {"account_id", "nickname"} & set(columns.values()):
        known = ", ".join(h for h, f in layout.columns.items() if f in ("account_id", "nickname"))
        raise SettingError(
            f"{table.path}: no column names the streamer (the {layout.name} layout looks for "
            f"{known}): pick the layout of the file's source, or describe the file with a mapping",
            source=None,
            mapping=None,
        )
    return columns


def _file_period(path: Path, layout: Layout) -> str:
    changed = date.fromtimestamp(path.stat().st_mtime).isoformat()
    return f"{layout.window or 'export'} to {changed}"


def _row(
    header: list[str], cells: list[str], columns: Mapping[int, str], source: str, period: str
) -> dict[str, Any]:
    """A streamer_stats row from a row of cells; ValueError naming the column that is wrong.
    The streamer is keyed by the export's id, else its nickname; account_id is left for the
    link to a crawled account. Columns the layout does not know are kept in `extra`."""
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for position, cell in enumerate(cells):
        if cell in MISSING:
            continue
        if position in columns:
            values[columns[position]] = cell
        elif header[position]:
            extra[header[position]] = cell
    row: dict[str, Any] = {
        "source": source,
        "period": values.get("period") or period,
        "account": values.get("account_id") or values.get("nickname"),
        "nickname": values.get("nickname"),
        "category": values.get("category"),
        "extra": extra or None,
    }
    if not row["account"]:
        raise ValueError("names no streamer (no id and no nickname)")
    for name, parse in FIGURES.items():
        try:
            low, high = (None, None) if name not in values else parse_range(values[name], parse)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
        row[f"{name}_low"], row[f"{name}_high"] = low, high
        row[name] = low if low == high else None  # a range is not one number
    return row


def _cells(path: Path, number: int, header: list[str], cells: list[str]) -> dict[str, Any]:
    """A rejected row as it stood in the file."""
    return {"file": path.name, "row": number, "cells": dict(zip(header, cells, strict=True))}


class _AccountLinks:
    """The crawled Douyin accounts an export's row may name: by any of their ids (sec_uid,
    uid, the handle unique_id or short_id), else by a nickname no other account has."""

    def __init__(self, accounts: list[tuple[str, str | None, dict[str, Any]]]) -> None:
        self.ids: dict[str, str] = {}
        names: defaultdict[str, set[str]] = defaultdict(set)
        for account, name, extra in accounts:
            self.ids[account] = account
            for key in ("uid", "unique_id", "short_id"):
                if extra.get(key):
                    self.ids[str(extra[key])] = account
            if name:
                names[name.strip()].add(account)
        self.names = {name: next(iter(ids)) for name, ids in names.items() if len(ids) == 1}

    def find(self, account_id: str | None, nickname: str | None) -> str | None:
        """The account a row names, if exactly one does."""
        if account_id and account_id in self.ids:
            return self.ids[account_id]
        return self.names.get((nickname or "").strip())
