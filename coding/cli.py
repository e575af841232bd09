"""`smcat code`: the codebook, machine tags, coder exchange and reliability."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coding.codebook import (
    Codebook,
    default_codebook_path,
    load_codebook,
    parse_codebook,
    validate_codebook,
)
from coding.reliability import reliability_table
from coding.tagger import auto_code
from smcat.cli_common import DbOption, settings, stderr, stdout
from smcat.errors import SmcatError
from smcat.store import Store

app = typer.Typer(
    help="Code posts into the 21-subcategory codebook: auto-tags, coder export/import, "
    "reliability and accuracy.",
    no_args_is_help=True,
)

codebook_app = typer.Typer(
    help="Check and inspect codebooks (YAML; the default is coding/codebooks/brand_posts_v1.yaml).",
    no_args_is_help=True,
)
app.add_typer(codebook_app, name="codebook")

DEFAULT_CODEBOOK = "brand_posts"
GOLD = "gold"
MACHINE_PREFIX = "auto:"


@codebook_app.command("validate")
def validate_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="The codebook to check (default: the bundled one).", dir_okay=False),
    ] = None,
) -> None:
    """Check a codebook and explain each mistake with its line: FILE:LINE:COL: what to fix."""
    path = file or default_codebook_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SmcatError(f"cannot read {path}: {error.strerror}") from None
    problems = validate_codebook(text, str(path), path.parent)
    for problem in problems:
        stdout.print(escape(str(problem)))
    if problems:
        raise SmcatError(f"{path}: {len(problems)} problem(s) to fix, listed above")
    codebook = parse_codebook(text, str(path), path.parent)
    rules = sum(len(s.rules) for s in codebook.subcategories)
    stdout.print(
        f"{escape(str(path))}: codebook {codebook.name} version {codebook.version} is valid: "
        f"{len(codebook.subcategories)} subcategories ({len(codebook.coded())} coded), "
        f"{rules} rules"
    )


@app.command("auto")
def auto_command(
    codebook_file: Annotated[
        Path | None,
        typer.Option(
            "--codebook",
            help="The codebook's YAML (default: the bundled brand_posts_v1.yaml).",
            dir_okay=False,
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Posts read and written per batch.", min=1)] = 10_000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes that tag posts while this one reads and writes the database; 0 "
            "tags in this process. Default: 2, or 0 on a single CPU.",
            min=0,
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Machine-code every post not yet coded with this codebook version: each code is stored
    with its evidence (rule, matched terms, character offsets) as coder
    auto:<codebook>@<version>. Hot words come from the crawled hot_search table."""
    codebook = load_codebook(codebook_file or default_codebook_path())
    with Store.open(settings(db=db).db) as store:
        done = store.coded_post_count(codebook.name, codebook.coder)
        total = store.count("posts")
        with Progress(
            TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=stderr, transient=True, disable=not stderr.is_terminal,
        ) as progress:  # fmt: skip
            task = progress.add_task("coding", total=total - done)
            result = auto_code(
                store,
                codebook,
                batch=batch,
                on_batch=lambda n: progress.advance(task, n),
                workers=workers,
            )
        print_code_counts(store, codebook)
    stdout.print(f"{result.coder}: coded {result.posts} new posts ({done} before), "
                 f"{result.codes} codes")  # fmt: skip


def print_code_counts(store: Store, codebook: Codebook) -> None:
    """How many posts each coded subcategory got from the machine coder, out of all it coded."""
    counts = store.code_counts(codebook.name, codebook.coder)
    coded = store.coded_post_count(codebook.name, codebook.coder)
    shown = Table("", "", "posts", "share", box=None, pad_edge=False,
                  title=f"{codebook.coder}: {coded} posts", title_justify="left")  # fmt: skip
    for sub in codebook.coded():
        got = counts.get(sub.id, 0)
        share = f"{got / coded:.0%}" if coded else "–"
        shown.add_row(sub.id, f"{sub.name_zh} {sub.name_en}", str(got), share)
    stdout.print(shown)


@app.command("reliability")
def reliability_command(
    codebook: Annotated[str, typer.Option(help="The codebook whose codes are compared.")] = (
        DEFAULT_CODEBOOK
    ),
    coder: Annotated[
        list[str] | None,
        typer.Option(
            "--coder",
            help="A coder to compare (repeat the option); default: every person who coded, "
            "not the machine and not gold.",
            show_default=False,
        ),
    ] = None,
    boot: Annotated[
        int, typer.Option(help="Bootstrap draws for alpha's 95% interval (0 = none).", min=0)
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    csv: Annotated[
        Path | None,
        typer.Option(help="Also write the full table (with Cohen's kappa per pair) as CSV."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Inter-coder reliability per subcategory and per level: Krippendorff's alpha (nominal)
    with a bootstrap 95% interval, percent agreement, Gwet's AC1, Cohen's kappa per pair of
    coders, and n. Flags alpha below .800 and .667, and high agreement with low alpha (a rare
    code: the prevalence problem)."""
    with Store.open(settings(db=db).db, readonly=True) as store:
        known = store.coders(codebook)
        people = [c for c in known if c != GOLD and not c.startswith(MACHINE_PREFIX)]
        chosen = coder or people
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise SmcatError(
                f"no codes of coder {unknown[0]!r} with codebook {codebook}: coders are "
                f"{', '.join(known) or 'none yet'}"
            )
        if len(chosen) < 2:
            raise SmcatError(
                f"reliability needs two coders of the same posts; codebook {codebook} has "
                f"{', '.join(chosen) or 'none'}: have two people code the same posts"
            )
        rows = pd.DataFrame(
            store.code_rows(codebook, chosen),
            columns=["platform", "post_id", "item", "coder", "value"],
        )
    rows["unit"] = rows["platform"] + ":" + rows["post_id"]
    table = reliability_table(rows[["unit", "coder", "item", "value"]], n_boot=boot, seed=seed)
    _print_reliability(table, chosen)
    if csv is not None:
        table.to_csv(csv, index=False)
        stdout.print(f"wrote {escape(str(csv))}")


def _print_reliability(table: pd.DataFrame, coders: list[str]) -> None:
    shown = Table(
        "", "alpha", "95% CI", "agree", "AC1", "n", "flags",
        box=None, pad_edge=False, title=f"coders: {', '.join(coders)}", title_justify="left",
    )  # fmt: skip
    for row in table.itertuples():
        name = f"[bold]{row.name}[/]" if row.scope == "level" else row.name
        interval = "" if pd.isna(row.ci_low) else f"{row.ci_low:.3f}–{row.ci_high:.3f}"
        shown.add_row(
            name, _number(row.alpha), interval, _number(row.percent_agreement),
            _number(row.ac1), str(row.n_units), escape(row.flags),
        )  # fmt: skip
    stdout.print(shown)


def _number(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.3f}"
