"""What every sub-CLI shares: the --db option, resolving settings, and one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from smcat.config import Settings, load_settings

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite file of the research project"
        " (default: SMCAT_DB, else db in smcat.toml, else ./smcat.db).",
        show_default=False,
        dir_okay=False,
    ),
]


def sub_cli() -> typer.Typer:
    """A package's sub-CLI, mounted by smcat/cli.py (which holds its help)."""
    return typer.Typer(no_args_is_help=True, add_completion=False)


def settings(**flags: Any) -> Settings:
    """The settings in force for a command, its flags (None = not given) beating the rest."""
    return load_settings(flags)


def print_error(message: str) -> None:
    """Print a one-line error to stderr."""
    stderr.print(f"[bold red]error:[/] {escape(message)}")
