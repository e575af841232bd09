"""Reading other tools' output files, record by record: CSV, JSON, JSONL and SQLite, and the
values in them (ids, counts, times) as smcat's crawler reads them.

A problem with the whole file (not the text encoding it claims, a truncated JSON, a table
that is not there, ids a spreadsheet turned into numbers) raises ImportFileError with one line
naming the fix; a problem with one record is a ValueError, which costs only that record.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.parsers.common import CHINA, PostTime, weibo_time
from crawler.parsers.douyin_common import epoch_time
from smcat.errors import SettingError
from smcat.tables import read_table
from smcat.units import SECOND

Record = dict[str, Any]
_SNIFF = 64 * 1024  # bytes read to tell a file's encoding
# an id a spreadsheet read as a number: 4.51241E+15, or 4512413447368168.0 (pandas, Excel)
_EXCEL_ID = re.compile(r"^\d(?:\.\d+)?E\+\d+$", re.IGNORECASE)
_FLOAT_ID = re.compile(r"^\d+\.0+$")
_FULL_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}:\d{2}")
_EPOCH = re.compile(r"^\d{9,13}$")
_CHINA_SECONDS = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


class ImportFileError(SettingError):
    """A file that cannot be imported as it is: nothing of it is stored; the message names
    the fix (and `settings` the parameter that gives it, where one does)."""


def text_encoding(path: Path, encoding: str | None = None) -> str:
    """The encoding to read a text file in: `encoding` if given, else UTF-8 (with or without
    a BOM). ImportFileError naming the fix for a file in GBK (Excel's 'CSV' on Chinese
    Windows, weiboSpider's .txt there) or UTF-16 (Excel's 'Unicode text')."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(f"unknown encoding {encoding!r}: use e.g. utf-8 or gbk") from None
        return encoding
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError as error:
        raise ImportFileError(
            f"{path}: cannot be read ({error.strerror}): check the path"
        ) from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(
            f"{path}: UTF-16 text (Excel's 'Unicode text'): save it as 'CSV UTF-8' and import "
            "it again"
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut by the sniff's end
            raise _not_utf8(path, head) from None
    return "utf-8-sig"


def _not_utf8(path: Path, head: bytes) -> ImportFileError:
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        return ImportFileError(
            f"{path}: not UTF-8 text: save it as 'CSV UTF-8' (or name its encoding) and import "
            "it again",
            encoding=None,
        )
    return ImportFileError(
        f"{path}: GBK-encoded (a Chinese-Windows save): import it as gbk, or save it as "
        "'CSV UTF-8'",
        encoding="gbk",
    )


def csv_records(
    path: Path, encoding: str | None = None
) -> tuple[list[str], Iterator[tuple[int, Record]]]:
    """A CSV file's header and its rows as records (header -> cell, cells stripped), each
    numbered as a spreadsheet numbers it. A row that repeats the header (a tool that appends
    a header on every run) and an empty row are passed over."""
    chosen = text_encoding(path, encoding)
    handle = path.open(encoding=chosen, newline="")
    reader = csv.reader(handle)
    try:
        header = [cell.strip() for cell in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as error:
        handle.close()
        raise ImportFileError(f"{path}: cannot be read as CSV ({error}): export it again") from None
    if not any(header):
        handle.close()
        raise ImportFileError(f"{path}: empty, or no header row: export it again")

    def rows() -> Iterator[tuple[int, Record]]:
        with handle:
            try:
                for cells in reader:
                    cells = list(map(str.strip, cells))
                    if not any(cells) or cells == header:
                        continue
                    yield reader.line_num, dict(zip(header, cells, strict=False))
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"{path}: line {reader.line_num + 1} is not {chosen} text: save the file "
                    "as 'CSV UTF-8' (or name its encoding) and import it again"
                ) from None
            except csv.Error as error:
                raise ImportFileError(
                    f"{path}: line {reader.line_num}: {error}: export the file again"
                ) from None

    return header, rows()


def xlsx_records(path: Path) -> tuple[list[str], Iterator[tuple[int, Record]]]:
    """An XLSX file's first sheet as records, as `csv_records` gives them."""
    table = read_table(path)
    return table.header, (
        (number, dict(zip(table.header, cells, strict=True))) for number, cells in table.rows
    )


def json_document(path: Path, encoding: str | None = None) -> Any:
    """A JSON file's content; ImportFileError for one that is not whole."""
    chosen = text_encoding(path, encoding)
    try:
        return json.loads(path.read_text(encoding=chosen))
    except UnicodeDecodeError:
        raise _not_utf8(path, path.read_bytes()[:_SNIFF]) from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"{path}: not whole JSON ({error.msg} at line {error.lineno}): the crawler may have "
            "stopped while writing it; export it again"
        ) from None


def jsonl_records(path: Path, encoding: str | None = None) -> Iterator[tuple[int, Record]]:
    """A JSON Lines file's objects, numbered by line. A line that is not an object is one bad
    record; a last line cut short (the writer stopped) stops the import."""
    chosen = text_encoding(path, encoding)
    with path.open(encoding=chosen) as handle:
        lines = enumerate(handle, start=1)
        for number, line in lines:
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                if not line.endswith("\n") and next(lines, None) is None:
                    raise ImportFileError(
                        f"{path}: its last line is cut short ({error.msg}): the crawler may "
                        "have stopped while writing it; export it again"
                    ) from None
                value = {"unreadable line": line.rstrip("\n")}
            yield number, value if isinstance(value, dict) else {"not an object": value}


def chained(
    first: tuple[int, Record], rest: Iterator[tuple[int, Record]]
) -> Iterator[tuple[int, Record]]:
    """A first record read ahead (to check its fields), then the rest."""
    yield first
    yield from rest


def list_records(path: Path, document: Any, key: str | None = None) -> list[tuple[int, Record]]:
    """The objects of a JSON list (or of the list under `key`), numbered from 1."""
    items = document.get(key) if key and isinstance(document, Mapping) else document
    if not isinstance(items, list):
        where = f"a list under {key!r}" if key else "a list of records"
        raise ImportFileError(f"{path}: the JSON holds no {where}: check the file and --format")
    return [
        (number, item if isinstance(item, dict) else {"not an object": item})
        for number, item in enumerate(items, start=1)
    ]


def sqlite_records(path: Path, table: str) -> Iterator[tuple[int, Record]]:
    """The rows of a table of another tool's SQLite file, read-only, numbered by rowid order."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise ImportFileError(
            f"{path}: not a readable SQLite database ({error}): copy it again"
        ) from None
    if table not in tables:
        connection.close()
        raise ImportFileError(
            f"{path}: has no table {table!r} (it has {', '.join(sorted(tables)) or 'none'}): "
            "check --format"
        )

    def rows() -> Iterator[tuple[int, Record]]:
        with connection:
            try:
                query = f'SELECT * FROM "{table}" ORDER BY rowid'  # a name of the format's own
                for number, row in enumerate(connection.execute(query), start=1):
                    yield number, dict(row)
            except sqlite3.DatabaseError as error:
                raise ImportFileError(f"{path}: damaged ({error}): copy it again") from None
        connection.close()

    return rows()


def require_columns(path: Path, header: Sequence[str], needed: Sequence[str], what: str) -> None:
    """ImportFileError naming the first column of `needed` the header lacks."""
    if missing := [name for name in needed if name not in header]:
        raise ImportFileError(
            f"{path}: no column {missing[0]!r}, which {what} has: check --format (the file's "
            f"columns: {', '.join(header[:8])}{'...' if len(header) > 8 else ''})"
        )


def id_text(value: object, what: str, path: Path) -> str:
    """An id as its text. ImportFileError for an id a spreadsheet damaged (1.23457E+15 loses
    digits; 4512413447368168.0 says the column was read as numbers): the file is re-exported,
    not guessed at."""
    if type(value) is str and value.isascii() and value.isdigit():
        return value  # the common case, which no spreadsheet damaged
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} is missing")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if _EXCEL_ID.match(text) or _FLOAT_ID.match(text):
        raise ImportFileError(
            f"{path}: {what} {text!r} was turned into a number by a spreadsheet (digits are "
            "lost): export the file from the crawler again, or open it with the id columns as "
            "Text, and do not save it from Excel as CSV"
        )
    if not text:
        raise ValueError(f"{what} is missing")
    return text


def observed_time(value: object) -> datetime:
    """A crawl time as another tool records it: epoch seconds or milliseconds, or an ISO time
    (China time where it names no offset)."""
    return _observed_time(str(value).strip())


@functools.lru_cache(maxsize=1024)
def _observed_time(text: str) -> datetime:
    """observed_time of a text: a file's rows share a few crawl times, read once each."""
    if _EPOCH.match(text):
        at = epoch_time(text)
        if at is not None:
            return datetime.fromisoformat(at)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def post_time(value: object, observed_at: datetime) -> PostTime:
    """A post's time as another tool wrote it: epoch seconds (SECOND), a full time with
    seconds (SECOND; China time where it names no offset), else as the crawler reads Weibo's
    times (relative ones against the crawl time; a date alone is its midnight, DAY)."""
    text = value.strip() if type(value) is str else str(value).strip() if value is not None else ""
    if _CHINA_SECONDS.fullmatch(text):  # the common spelling, read without datetime's help
        at = f"{text[:10]}T{text[11:]}+08:00"
        datetime.fromisoformat(at)  # a real date?
        return PostTime(at, SECOND)
    if not text:
        raise ValueError("the post's time is missing")
    if _EPOCH.match(text) and (epoch := epoch_time(text)) is not None:
        return PostTime(epoch, SECOND)
    if _FULL_TIME.match(text):
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
        return PostTime(moment.isoformat(), SECOND)
    return weibo_time(text, observed_at)


def listed(value: object) -> list[str]:
    """A list as tools write one in a cell ("a,b", a JSON list) as its texts."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not value:
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]
