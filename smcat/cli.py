"""The `smcat` command: mounts each package's sub-CLI and the demo."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from analysis.cli import app as analyze_app
from coding.cli import app as code_app
from coding.cli import print_code_counts
from crawler.cli import crawl_app
from smcat import __version__
from smcat.cli_common import print_error, settings, stdout
from smcat.db_cli import app as db_app
from smcat.demo import run_demo
from smcat.errors import SmcatError
from smcat.imports.cli import import_app
from smcat.store import Store

app = typer.Typer(
    name="smcat",
    help="Capture, code and model brand marketing on Chinese social media (Weibo, Douyin). "
    "Start with `smcat demo`; settings come from flags, SMCAT_* variables or smcat.toml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(crawl_app, name="crawl")
app.add_typer(code_app, name="code")
app.add_typer(analyze_app, name="analyze")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")


def _reflow_help(typer_app: typer.Typer) -> None:
    """Give each command of the app and its sub-apps its docstring as help with every paragraph
    on one line. Typer keeps the line breaks of the paragraphs after the first, and a terminal
    then breaks the lines a second time, mid-sentence. A paragraph starting with \\b (click's
    mark for preformatted text) is kept as written."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            paragraphs = inspect.cleandoc(info.callback.__doc__).split("\n\n")
            info.help = "\n\n".join(
                p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs
            )
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


def _version(value: bool) -> None:
    if value:
        stdout.print(f"smcat {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Capture, code and model brand marketing on Chinese social media."""


@app.command()
def demo(
    db: Annotated[
        Path, typer.Option("--db", help="Where to write the demo database.", dir_okay=False)
    ] = Path("smcat-demo.db"),
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Folder for the HTML report (default: next to the database, DB-NAME-report).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Run the main job on the bundled fixtures, with no network.

    Replay server -> crawl (Weibo and Douyin) -> store, a streamer sales import -> machine
    coding -> effect models -> HTML report."""
    result = run_demo(settings(db=db), report)
    stdout.print(
        f"[bold]smcat demo[/] wrote {escape(str(result.db))} from {result.pages_served} responses"
        " of the replay server on 127.0.0.1"
    )
    for crawl in result.crawls:
        stdout.print(f"  crawl {crawl.crawl_id} {crawl.spider}: {crawl.status}")
    streamers = result.streamers
    bad_rows = ", ".join(str(number) for number, _ in streamers.rejected)
    stdout.print(
        f"  import {streamers.path.name} ({streamers.source}): {streamers.stored} streamer rows,"
        f" {streamers.linked} linked to the crawled Douyin creators; rows {bad_rows} rejected"
        " on purpose (see the rejects table)"
    )
    for table, rows in result.row_counts.items():
        if rows:
            stdout.print(f"  {table:18s} {rows:>6,} rows")
    with Store.open(result.db, readonly=True) as store:
        print_code_counts(store, result.codebook)
    fitted = ", ".join(c.title for c in result.report.columns) or "none"
    stdout.print(f"models fitted: {escape(fitted)}")
    for failure in result.report.failures:
        stdout.print(f"  not fitted: {escape(failure.model)}: {escape(failure.message)}")
    stdout.print(f"report: {escape(str(result.report_files[-1]))} (open it in a browser)")
    stdout.print(
        f"next: smcat db info --db {result.db}   |   smcat db export posts --db {result.db}"
    )
    if any(c.status != "finished" for c in result.crawls):
        raise SmcatError(f"the demo crawl did not finish: see `smcat db info --db {result.db}`")


def main() -> None:
    """Entry point: run the app; a user-fixable failure is one line on stderr and exit 1."""
    try:
        app()
    except SmcatError as error:
        print_error(str(error))
        sys.exit(1)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)


_reflow_help(app)  # after every command is registered
