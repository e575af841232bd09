"""The `smcat` command: mounts each package's sub-CLI, lazily, and the demo.

A sub-CLI's module is imported only when the sub-command runs, so `smcat --help`, `smcat
--version` and `smcat db info` start without Scrapy, jieba, pandas or the models.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from smcat import __version__
from smcat.cli_common import error_line, print_error, settings, stdout
from smcat.errors import SmcatError

# name: (module:attribute of its typer app, its help: the one place it is written)
SUB_CLIS: dict[str, tuple[str, str]] = {
    "crawl": (
        "crawler.cli:crawl_app",
        "Run crawls of Weibo and Douyin into the project database. A crawl records how it "
        "ended in `smcat db info`; re-running adds observations, never duplicates.",
    ),
    "code": (
        "coding.cli:app",
        "Code posts into the 21-subcategory codebook: auto-tags, coder export/import, "
        "reliability and accuracy.",
    ),
    "analyze": (
        "analysis.cli:app",
        "Fit effect models of hot words, activities and micro-topics on engagement, and "
        "analyse imported orders and choices: basket rules, brand choice, segments, RFM, churn, "
        "recommendations, price bands.",
    ),
    "import": (
        "smcat.imports.cli:import_app",
        "Import exports into the project database: streamer sales figures from Chanmama, "
        "Feigua or any CSV/XLSX described by a mapping file; shop orders, products and brand "
        "choices (CSV or XLSX) for `smcat analyze`; customer records (personal data hashed) and "
        "behaviour events of any system (CSV, XLSX or JSONL) for `smcat link`.",
    ),
    "link": (
        "smcat.linkage.cli:link_app",
        "One view of people across systems: link imported customer records into people "
        "(rules, then splink), review uncertain pairs in the browser, report on the result.",
    ),
    "sample": (
        "smcat.sample_cli:app",
        "Design a study: two-stage and constructed-week samples of posts, recorded with their "
        "design, and how many posts to code (prevalence, reliability, power).",
    ),
    "worker": (
        "crawler.cluster.cli:worker_app",
        "Crawl from a cluster's shared frontier in Redis (crawls submitted with `smcat crawl "
        "... --cluster`), on as many machines as wanted.",
    ),
    "cluster": (
        "crawler.cluster.cli:cluster_app",
        "Run a crawl cluster: write what the workers crawled (ingest), see its state (status), "
        "add signed-in cookies to its pool (add-cookie).",
    ),
    "db": (
        "smcat.db_cli:app",
        "Look into the project database: schema, row counts, crawls; export tables.",
    ),
}


class _LazySubCli(TyperCommand):
    """A sub-CLI listed in `smcat --help` by its help alone, and loaded when it runs."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name=name, help=help)
        self._target = target

    @functools.cached_property
    def loaded(self) -> TyperGroup:
        """The sub-CLI's group, built from its module's typer app."""
        module, _, attribute = self._target.partition(":")
        typer_app = getattr(importlib.import_module(module), attribute)
        _reflow_help(typer_app)
        group = typer.main.get_command(typer_app)
        assert isinstance(group, TyperGroup), self._target  # a sub-CLI has sub-commands
        group.help = self.help
        group.context_class = typer.Context  # so that make_context's type is a public one
        return group

    # `parent` is typer's vendored click context, a private type: hence Any
    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> typer.Context:
        """The loaded group's context: the root then invokes the loaded group."""
        context = self.loaded.make_context(info_name, args, parent=parent, **extra)
        assert isinstance(context, typer.Context)
        return context


class _Root(TyperGroup):
    """The root group: the commands defined here, then the sub-CLIs of SUB_CLIS."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (target, help) in SUB_CLIS.items():
            self.add_command(_LazySubCli(name, target, help))


app = typer.Typer(
    name="smcat",
    cls=_Root,
    help="Capture, code and model brand marketing on Chinese social media (Weibo, Douyin). "
    "Start with `smcat demo`; settings come from flags, SMCAT_* variables or smcat.toml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    from coding.cli import print_code_counts
    from smcat.demo import run_demo
    from smcat.store import Store

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
    if not all(c.ran_to_end for c in result.crawls):
        raise SmcatError(f"the demo crawl did not finish: see `smcat db info --db {result.db}`")


_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def main() -> None:
    """Entry point: run the app; a user-fixable failure is one line on stderr and exit 1."""
    try:
        app()
    except SmcatError as error:
        print_error(error_line(error))
        sys.exit(1)
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorcode & 0xFF not in _DAMAGED:
            raise
        # damage deeper in the file than opening it reads (the schema, the length)
        print_error(f"the database is damaged ({error}): restore it from a backup")
        sys.exit(1)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)


_reflow_help(app)  # after every command is registered
