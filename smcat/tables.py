"""Reading spreadsheets people bring in (CSV or XLSX): coding sheets, third-party exports.

Cells come back as the text a spreadsheet shows, each row numbered as the spreadsheet numbers
it, so that every problem can be reported by row.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from smcat.errors import SmcatError

TABLE_FORMATS = (".xlsx", ".csv")


class TableError(SmcatError):
    """A file that cannot be read as a table; the message names the fix."""


@dataclass(frozen=True)
class Table:
    """A table's header and rows as text ("" for an empty cell), with each row's number as a
    spreadsheet counts it (the header is row 1)."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_table(path: Path, sheet: str | None = None) -> Table:
    """A CSV (UTF-8) or XLSX file's cells as text, its first row the header; of an XLSX, the
    worksheet named `sheet` if it has one, else the first. Rows with no cell filled are left
    out. A TableError names what to do if the file cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise TableError(f"{path}: name the file .xlsx or .csv")
    try:
        lines = _read_csv(path) if suffix == ".csv" else _read_xlsx(path, sheet)
    except FileNotFoundError:
        raise TableError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TableError(
            f"{path}: not UTF-8 text: save it as 'CSV UTF-8' and import again"
        ) from None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise TableError(
            f"{path}: not a readable XLSX workbook ({error}): save it from your spreadsheet "
            "as .xlsx, or export the sheet again"
        ) from None
    numbered = [(number, cells) for number, cells in enumerate(lines, start=1) if any(cells)]
    if not numbered or numbered[0][0] != 1:
        raise TableError(f"{path}: the first row must be the header row")
    header = [cell.strip() for cell in numbered[0][1]]
    width = len(header)
    rows = [(n, (cells + [""] * width)[:width]) for n, cells in numbered[1:]]
    return Table(path, header, rows)


def read_records(path: Path) -> Table:
    """A CSV, XLSX or JSONL file as a Table. Of JSONL (one JSON object a line, as apps log),
    the header is every key in the order first met and each row's number is its line's;
    values are the text of what the line holds (None as ""). A TableError names what to do
    if the file cannot be read."""
    if path.suffix.lower() != ".jsonl":
        return read_table(path)
    objects: list[tuple[int, dict[str, object]]] = []
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    found = json.loads(line)
                except ValueError:
                    found = None
                if not isinstance(found, dict):
                    raise TableError(f"{path}: line {number} is not a JSON object: fix it")
                objects.append((number, found))
    except FileNotFoundError:
        raise TableError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TableError(f"{path}: not UTF-8 text: save it as UTF-8 and import again") from None
    header = list(dict.fromkeys(key for _, found in objects for key in found))
    rows = [(n, [_cell_text(found.get(key)) for key in header]) for n, found in objects]
    return Table(path, header, rows)


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [[cell.strip() for cell in line] for line in csv.reader(handle)]


def _read_xlsx(path: Path, sheet: str | None) -> list[list[str]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        chosen = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in chosen.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell's value as the text it shows: 1 for a number 1 or 1.0, TRUE as 1."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()
