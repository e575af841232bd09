"""`smcat db`: look into a project database and export its tables."""

from __future__ import annotations

import base64
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.markup import escape
from rich.table import Table

from smcat.cli_common import DbOption, settings, stdout, sub_cli
from smcat.errors import SmcatError
from smcat.store import TABLES, Store

app = sub_cli()
_PARQUET_TYPES = {"INTEGER": "int64", "REAL": "float64", "BLOB": "binary"}


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


@app.command()
def info(
    db: DbOption = None, crawls: int = typer.Option(5, help="How many recent crawls.")
) -> None:
    """Schema version, rows per table and the latest crawls with how they ended."""
    path = settings(db=db).db
    with Store.open(path, readonly=True) as store:
        summary = store.info(crawls=crawls)
    stdout.print(f"[bold]{escape(str(summary.path))}[/]  schema version {summary.schema_version}")
    counts = Table("table", "rows", box=None, pad_edge=False)
    for table, rows in summary.row_counts.items():
        counts.add_row(table, f"{rows:,}")
    stdout.print(counts)
    if not summary.crawls:
        stdout.print("no crawls yet")
        return
    recent = Table(box=None, pad_edge=False, title="latest crawls", title_justify="left")
    recent.add_column("crawl")
    recent.add_column("spider")
    recent.add_column("started", no_wrap=True)
    recent.add_column("status")
    recent.add_column("stored", justify="right")
    recent.add_column("rejected", justify="right")
    recent.add_column("why it ended", overflow="fold")  # a URL in a reason must stay whole
    for crawl in summary.crawls:
        recent.add_row(
            str(crawl.crawl_id),
            escape(crawl.spider),
            crawl.started_at[:16].replace("T", " "),
            crawl.status,
            str(crawl.counts.get("stored", "")),
            str(crawl.counts.get("rejected", "")),
            escape(crawl.reason or ""),
        )
    stdout.print(recent)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"One of: {', '.join(TABLES)}.", show_default=False)],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.csv,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: stdout; parquet needs -o).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write one table as CSV, JSON Lines or Parquet, streaming (tables larger than memory work).

    BLOB columns (raw response bodies) are written as base64 in CSV and JSON Lines.
    """
    path = settings(db=db).db
    if format is Format.parquet and output is None:
        raise SmcatError("parquet is binary: give a file with -o FILE.parquet")
    with Store.open(path, readonly=True) as store:
        store.columns(table)  # an unknown table fails here, before -o FILE is touched
        if format is Format.parquet:
            rows = _write_parquet(store, table, output)
        else:
            with _text_output(output) as handle:
                writer = _write_csv if format is Format.csv else _write_jsonl
                rows = writer(store, table, handle)
    if output is not None:
        stdout.print(f"wrote {rows:,} rows of {table} to {output}", highlight=False)


@contextmanager
def _text_output(output: Path | None) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


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


def _records(types: dict[str, str], rows: list[tuple]) -> list[dict]:
    names = list(types)
    return [dict(zip(names, row, strict=True)) for row in rows]
