"""What every sub-CLI shares: the --db option, resolving settings, and one-line errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from smcat.config import Settings, load_settings
from smcat.errors import SettingError, SmcatError

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

# the codebook whose codes a coding or analysis command uses, by name
CodebookOption = Annotated[str, typer.Option(help="The codebook (its name) whose codes are used.")]


def sub_cli() -> typer.Typer:
    """A package's sub-CLI, mounted by smcat/cli.py (which holds its help)."""
    return typer.Typer(no_args_is_help=True, add_completion=False)


def settings(**flags: Any) -> Settings:
    """The settings in force for a command, its flags (None = not given) beating the rest."""
    return load_settings(flags)


@contextmanager
def naming_options(**options: str) -> Iterator[None]:
    """Name the command's options in an error whose fix is a setting: the library speaks of its
    parameters, and `options` maps their names to the options that set them."""
    try:
        yield
    except SettingError as error:
        line = error_line(error, options)
        if line == str(error):
            raise
        raise SmcatError(line) from error


# the parameters every command has an option for: named wherever their error is caught
EVERY_COMMAND = {"db": "--db"}


def error_line(error: SmcatError, options: Mapping[str, str] = EVERY_COMMAND) -> str:
    """The error's one line, with the options that set the parameters a SettingError names."""
    if not isinstance(error, SettingError):
        return str(error)
    named = [
        _option(options[name], value) for name, value in error.settings.items() if name in options
    ]
    return f"{error} ({', '.join(named)})" if named else str(error)


def _option(option: str, value: object) -> str:
    """An option as the user would give it: its name, and the value where one is known (a
    switch's True is the switch alone)."""
    if value is None or value is True:
        return option
    if isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    return f"{option} {value}"


def print_error(message: str) -> None:
    """Print a one-line error to stderr."""
    stderr.print(f"[bold red]error:[/] {escape(message)}")
