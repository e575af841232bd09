"""Export a table of the store as CSV, JSON Lines or Parquet, streaming (tables larger than
memory work). BLOB columns (raw response bodies) are written as base64 in CSV and JSON Lines."""

from __future__ import annotations

import base64
import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TextIO

from smcat.errors import SettingError
from smcat.store import Store

ExportFormat = Literal["csv", "jsonl", "parquet"]
_PARQUET_TYPES = {"INTEGER": "int64", "REAL": "float64", "BLOB": "binary"}


def export_table(store: Store, table: str, format: ExportFormat, output: Path | None) -> int:
    """Write every row of `table` to `output` (None: standard output, not for parquet) and
    return how many rows were written. An unknown table fails before `output` is touched. The
    file is written under a temporary name and renamed when complete, so that an export cut
    short (an error, Ctrl-C, a full disk) leaves no partial file that reads as whole, and an
    earlier file of that name as it was."""
    store.columns(table)
    if format == "parquet":
        if output is None:
            raise SettingError(
                "parquet is binary: it needs an output file, not standard output", output=None
            )
        with _complete_only(output) as partial:
            return _write_parquet(store, table, partial)
    writer = _write_csv if format == "csv" else _write_jsonl
    if output is None:
        return writer(store, table, sys.stdout)
    with (
        _complete_only(output) as partial,
        partial.open("w", encoding="utf-8", newline="") as handle,
    ):
        return writer(store, table, handle)


@contextmanager
def _complete_only(output: Path) -> Iterator[Path]:
    """A temporary path beside `output`, renamed to it if the block ends normally and
    removed if not."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)


def _plain(value: object) -> object:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _write_csv(store: Store, table: str, handle: TextIO) -> int:
    writer = csv.writer(handle)
    writer.writerow(store.columns(table))
    count = 0
    for row in store.iter_rows(table):
        writer.writerow([_plain(v) for v in row])
        count += 1
    return count


def _write_jsonl(store: Store, table: str, handle: TextIO) -> int:
    columns = store.columns(table)
    count = 0
    for row in store.iter_rows(table):
        record = dict(zip(columns, (_plain(v) for v in row), strict=True))
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_parquet(store: Store, table: str, output: Path, batch: int = 50_000) -> int:
    import pyarrow as pa  # imported here: only parquet export needs it
    import pyarrow.parquet as pq

    types = store.column_types(table)
    schema = pa.schema([(name, _PARQUET_TYPES.get(kind, "string")) for name, kind in types.items()])
    count = 0
    with pq.ParquetWriter(output, schema) as writer:
        chunk: list[tuple] = []
        for row in store.iter_rows(table):
            chunk.append(row)
            if len(chunk) >= batch:
                writer.write_table(pa.Table.from_pylist(_records(types, chunk), schema=schema))
                count += len(chunk)
                chunk = []
        writer.write_table(pa.Table.from_pylist(_records(types, chunk), schema=schema))
        count += len(chunk)
    return count


def _records(types: dict[str, str], rows: list[tuple]) -> list[dict[str, object]]:
    names = list(types)
    return [dict(zip(names, row, strict=True)) for row in rows]
