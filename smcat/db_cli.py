"""`smcat db`: look into a project database and export its tables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from smcat.cli_common import DbOption, naming_options, settings, stdout, sub_cli
from smcat.export import export_table
from smcat.store import TABLES, Store

app = sub_cli()


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
    recent.add_column("status", no_wrap=True)  # finished_with_rejects must read as one word
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
    with (
        Store.open(settings(db=db).db, readonly=True) as store,
        naming_options(output="-o FILE.parquet"),
    ):
        rows = export_table(store, table, format.value, output)
    if output is not None:
        stdout.print(f"wrote {rows:,} rows of {table} to {output}", highlight=False)
