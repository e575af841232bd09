"""`smcat analyze`: effect models and the classic analyses of the source studies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from analysis.frame import DEFAULT_CODEBOOK, DVS
from analysis.report import side_by_side, to_markdown, write_report
from analysis.suite import SUITE, run_suite
from smcat.cli_common import DbOption, settings, stdout
from smcat.store import Store

app = typer.Typer(
    help="Fit effect models of hot words, activities and micro-topics on engagement.",
    no_args_is_help=True,
)

_AGE = re.compile(r"(\d+(?:\.\d+)?)([dh])")


def parse_age(text: str) -> float:
    """An age such as 7d or 36h, in days."""
    match = _AGE.fullmatch(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is no age: write it as 7d or 36h")
    number = float(match[1])
    return number if match[2] == "d" else number / 24


@app.command("effects")
def effects_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the report.", file_okay=False)
    ] = Path("report"),
    dv: Annotated[str, typer.Option(help=f"The outcome: one of {', '.join(DVS)}.")] = "engagement",
    model: Annotated[
        str, typer.Option(help="nb, poisson, ols, zinb, or all (nb, poisson and ols).")
    ] = "all",
    fe: Annotated[
        str | None, typer.Option("--fe", help="Fixed effects of this column, e.g. account.")
    ] = None,
    codes: Annotated[
        list[str] | None,
        typer.Option(
            help="Whose codes: auto, gold or a coder's name; repeat it to put them side by side."
        ),
    ] = None,
    at_age: Annotated[
        str | None,
        typer.Option(help="Counts at this age of each post (7d, 36h); default: the latest."),
    ] = None,
    codebook: Annotated[str, typer.Option(help="The codebook the codes are of.")] = (
        DEFAULT_CODEBOOK
    ),
    db: DbOption = None,
) -> None:
    """Fit NB2, Poisson (SEs clustered by account) and OLS of log(1+y) (HC3) of engagement on
    hot words, giveaway, promotion, topics and the controls; write the side-by-side table
    (Markdown, CSV, LaTeX, HTML), the IRR and descriptive plots, and index.html with them all."""
    if dv not in DVS:
        raise typer.BadParameter(f"choose one of {', '.join(DVS)}", param_hint="--dv")
    with Store.open(settings(db=db).db, readonly=True) as store:
        report = run_suite(
            store,
            codes=codes or ["auto"],
            models=SUITE if model == "all" else (model,),
            dv=dv,
            fe=fe,
            at_age_days=parse_age(at_age) if at_age else None,
            codebook=codebook,
        )
    written = write_report(report, output)
    stdout.print(escape(to_markdown(side_by_side(report.columns))))
    stdout.print(f"wrote {', '.join(escape(str(p)) for p in written)}")
