"""Commerce imports: orders, products and choices from a user's CSV or XLSX file into the store.

The header is checked before any row is read: a missing required column, an orders column the
store does not know, or a column that looks like a misspelt known one stops the import with a
message naming the fix. Each row is then checked on its own; good rows are stored and bad ones
go to the store's rejects with their row number, as a spreadsheet counts it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from smcat.errors import SmcatError
from smcat.store import COMMERCE_COLUMNS, COMMERCE_REQUIRED, Store, WriteResult
from smcat.tables import read_table

KINDS = ("orders", "products", "choices")
# Kinds whose columns beyond the known ones are the user's attributes (brand promises, etc.)
_WITH_ATTRIBUTES = ("products", "choices")
ROW = "row"  # carried in each row so that a reject names its row; the store ignores it


class CommerceImportError(SmcatError):
    """A file that cannot be imported as it is; the message names the fix."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows stored, rows rejected (row number and why), the attribute
    columns it found."""

    kind: str
    path: Path
    stored: int
    rejects: list[tuple[int, str]]
    attributes: tuple[str, ...]


def _check_header(kind: str, path: Path, header: list[str]) -> tuple[str, ...]:
    """The attribute columns of a header; a CommerceImportError for a header not to import."""
    return check_header(
        path, header, COMMERCE_COLUMNS[kind], COMMERCE_REQUIRED[kind], f"a {kind} file",
        attributes=kind in _WITH_ATTRIBUTES,
    )  # fmt: skip


def check_header(
    path: Path,
    header: list[str],
    known: tuple[str, ...],
    required: tuple[str, ...],
    what: str,
    *,
    attributes: bool = False,
) -> tuple[str, ...]:
    """The columns of a header beyond the `known` ones (allowed only as `attributes`); a
    CommerceImportError naming the fix for a blank or repeated column, a missing `required`
    one, one that looks like a misspelt known one, or an unknown one. `what` names the file
    in messages ("an orders file")."""
    if blank := [i + 1 for i, name in enumerate(header) if not name]:
        raise CommerceImportError(f"{path}: column {blank[0]} has no name: name it or delete it")
    if repeated := sorted({name for name in header if header.count(name) > 1}):
        raise CommerceImportError(f"{path}: column {repeated[0]!r} appears twice: keep one")
    if missing := [name for name in required if name not in header]:
        raise CommerceImportError(
            f"{path}: no column {missing[0]!r}: {what} needs "
            f"{', '.join(required)} (found {', '.join(header)})"
        )
    extra = [name for name in header if name not in known]
    for name in extra:
        # a misspelt optional column would otherwise pass silently as an attribute
        if close := difflib.get_close_matches(name, known, n=1, cutoff=0.8):
            raise CommerceImportError(f"{path}: column {name!r} looks like {close[0]!r}: rename it")
    if extra and not attributes:
        raise CommerceImportError(
            f"{path}: unknown column {extra[0]!r}: {what} has only "
            f"{', '.join(known)}; delete the others"
        )
    return tuple(extra)


def rejects_by_row(result: WriteResult) -> list[tuple[int, str]]:
    """The rows a write refused, as (row number, reason), by row number: rows refused by
    SQLite's checks come after those refused by the converters. Each row carries its number
    under ROW."""
    return sorted(
        (int(row[ROW]), reason)
        for row, reason in zip(result.rejected_rows, result.reasons, strict=True)
    )


def with_offset(text: str, utc_offset: str) -> str:
    """A time as written, with `utc_offset` added where it has none (shop exports give local
    times without one)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the store rejects it, naming the row
    return text if moment.utcoffset() is not None else moment.isoformat() + utc_offset


def import_commerce(
    store: Store, kind: str, path: Path, *, utc_offset: str = "+08:00", system: str | None = None
) -> ImportReport:
    """Import a CSV or XLSX file of `kind` (orders, products or choices) into the store.

    Times without an offset are taken as at `utc_offset` (China time by default). Columns of a
    products or choices file other than the known ones are kept as the row's attributes. Order
    lines name `system` (the shop or app whose customer ids they hold) unless a row names its own.
    """
    if kind not in KINDS:
        raise CommerceImportError(f"unknown import {kind!r}: choose one of {', '.join(KINDS)}")
    sheet = read_table(path)
    attributes = _check_header(kind, path, sheet.header)
    if not sheet.rows:
        raise CommerceImportError(f"{path}: the file has a header but no rows: fill it in")
    at = {name: index for index, name in enumerate(sheet.header)}
    rows = []
    for number, cells in sheet.rows:
        row: dict[str, object] = {
            name: cells[at[name]] or None for name in COMMERCE_COLUMNS[kind] if name in at
        }
        if kind == "orders" and row["ordered_at"]:
            row["ordered_at"] = with_offset(str(row["ordered_at"]), utc_offset)
        if kind == "orders" and system and not row.get("system"):
            row["system"] = system
        if kind in _WITH_ATTRIBUTES:
            row["attributes"] = {name: cells[at[name]] for name in attributes if cells[at[name]]}
        row[ROW] = number
        rows.append(row)
    write = {
        "orders": store.upsert_orders,
        "products": store.upsert_products,
        "choices": store.upsert_choices,
    }[kind]
    result = write(rows)
    return ImportReport(kind, path, result.stored, rejects_by_row(result), attributes)
