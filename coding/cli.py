"""`smcat code`: the codebook, machine tags, coder exchange and reliability."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coding.accuracy import accuracy_table, gold_pairs
from coding.autocode import auto_code
from coding.codebook import Codebook, check_codebook_file, default_codebook_path, load_codebook
from coding.exchange import (
    ImportResult,
    SheetProblems,
    compare_coders,
    export_decisions,
    export_disagreements,
    export_for_coder,
    import_decisions,
    import_sheet,
)
from coding.queue import uncertain_first
from coding.reliability import reliability_data, reliability_table
from coding.review import (
    LOCAL_HOSTS,
    LOOPBACK,
    adjudication_review,
    check_port_free,
    coder_review,
    create_app,
    serve,
)
from coding.status import ALL_POSTS, coding_progress, model_figures
from coding.train import FIT_ALPHA, FOLDS, TrainResult, load_model, train_and_store
from smcat.cli_common import (
    CodebookOption,
    DbOption,
    naming_options,
    settings,
    stderr,
    stdout,
    sub_cli,
)
from smcat.coders import DEFAULT_CODEBOOK, GOLD, LATEST, choose_machine, choose_model, choose_people
from smcat.errors import SmcatError
from smcat.sampling import coding_sample
from smcat.store import Store

app = sub_cli()

codebook_app = typer.Typer(
    help="Check and inspect codebooks (YAML; the default is coding/codebooks/brand_posts_v1.yaml).",
    no_args_is_help=True,
)
app.add_typer(codebook_app, name="codebook")

adjudicate_app = typer.Typer(
    help="Settle the coders' disagreements: export them for a third person, import the "
    "decisions as coder gold.",
    no_args_is_help=True,
)
app.add_typer(adjudicate_app, name="adjudicate")

Coders = Annotated[
    list[str] | None,
    typer.Option(
        "--coder",
        help="A coder to compare (repeat the option); default: every person who coded, "
        "not the machine and not gold.",
        show_default=False,
    ),
]
CodebookFile = Annotated[
    Path | None,
    typer.Option(
        "--codebook",
        help="The codebook's YAML (default: the bundled brand_posts_v1.yaml).",
        dir_okay=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]
SheetOption = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="The sheet to write: FILE.xlsx or FILE.csv.", dir_okay=False
    ),
]
UserDictOption = Annotated[
    list[Path] | None,
    typer.Option(
        help="A user dictionary of brand and product names for the segmenter (jieba's format: a"
        " word a line, then optionally its frequency and tag); repeat for more. Default:"
        " user_dicts in smcat.toml.",
        show_default=False,
    ),
]

# fewer shared posts than this leave reliability figures with wide intervals
SMALL_SHARED = 50

# the library parameters whose errors name these commands' options
_OPTIONS = {
    "overwrite": "--force", "port": "--port", "machine": "--machine", "blind": "--blind",
    "blank_as_zero": "--blank-as-zero",
}  # fmt: skip


@codebook_app.command("validate")
def validate_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="The codebook to check (default: the bundled one).", dir_okay=False),
    ] = None,
) -> None:
    """Check a codebook and explain each mistake with its line.

    Each problem is printed as FILE:LINE:COL: what to fix."""
    path = file or default_codebook_path()
    check = check_codebook_file(path)
    for problem in check.problems:
        stdout.print(escape(str(problem)))
    if check.codebook is None:
        raise SmcatError(f"{path}: {len(check.problems)} problem(s) to fix, listed above")
    codebook = check.codebook
    rules = sum(len(s.rules) for s in codebook.subcategories)
    stdout.print(
        f"{escape(str(path))}: codebook {codebook.name} version {codebook.version} is valid: "
        f"{len(codebook.subcategories)} subcategories ({len(codebook.coded())} coded), "
        f"{rules} rules"
    )


@app.command("auto")
def auto_command(
    codebook_file: CodebookFile = None,
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
    user_dict: UserDictOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Code with a trained model (`smcat code train`): latest, or its name "
            "model:<codebook>@<version>+<n>.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Machine-code the posts not yet coded with this codebook version.

    Each code is stored with its evidence (rule, matched terms, character offsets) as coder
    auto:<codebook>@<version>. Hot words come from the crawled hot_search table. With --model,
    a trained model codes the subcategories it learnt (evidence: the features that weighed
    most for the post) and the rules the others, as coder model:<codebook>@<version>+<n>."""
    codebook = load_codebook(codebook_file or default_codebook_path())
    # checked whole first: codes are written batch by batch, and none may go into a damaged file
    configured = settings(db=db, user_dicts=[str(path) for path in user_dict or ()] or None)
    with Store.open(configured.db, checked=True) as store:
        trained = None if model is None else load_model(
            store, choose_model(store, codebook.name, model)
        )  # fmt: skip
        if trained is not None and configured.user_dicts:
            stderr.print("note: a trained model segments with the user dictionaries it was "
                         "trained with (`code train --user-dict`), not these")  # fmt: skip
        coder = codebook.coder if trained is None else trained.coder
        done = store.coded_post_count(codebook.name, coder)
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
                user_dicts=configured.user_dicts,
                model=trained,
            )
        print_code_counts(store, codebook, coder)
    stdout.print(f"{result.coder}: coded {result.posts} new posts ({done} before), "
                 f"{result.codes} codes")  # fmt: skip


def print_code_counts(store: Store, codebook: Codebook, coder: str | None = None) -> None:
    """How many posts each coded subcategory got from the machine coder (the rules', unless
    another is named), out of all it coded."""
    coder = coder or codebook.coder
    counts = store.code_counts(codebook.name, coder)
    coded = store.coded_post_count(codebook.name, coder)
    shown = Table("", "", "posts", "share", box=None, pad_edge=False,
                  title=f"{coder}: {coded} posts", title_justify="left")  # fmt: skip
    for sub in codebook.coded():
        got = counts.get(sub.id, 0)
        share = f"{got / coded:.0%}" if coded else "–"
        shown.add_row(sub.id, f"{sub.name_zh} {sub.name_en}", str(got), share)
    stdout.print(shown)


@app.command("export")
def export_command(
    coder: Annotated[str, typer.Option(help="Who codes this sheet (their coder name).")],
    output: SheetOption,
    sample: Annotated[
        int | None,
        typer.Option(help="Posts in the sheet (or --decisions).", min=1, show_default=False),
    ] = None,
    decisions: Annotated[
        bool,
        typer.Option(
            "--decisions",
            help="Write the posts the coder has already coded (e.g. in the browser), with "
            "their codes and notes, instead of drawing a sample.",
        ),
    ] = False,
    force: ForceOption = False,
    seed: Annotated[
        int, typer.Option(help="Seed of the draw; give every coder of a study the same one.")
    ] = 0,
    overlap: Annotated[
        float,
        typer.Option(
            help="Share of the sample that every coder with this seed gets, for reliability.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.2,
    blind: Annotated[
        bool, typer.Option("--blind", help="Empty cells and no machine suggestions.")
    ] = False,
    within: Annotated[
        str | None,
        typer.Option(help="Draw only from this recorded sample (e.g. of `smcat sample posts`)."),
    ] = None,
    codebook_file: CodebookFile = None,
    db: DbOption = None,
) -> None:
    """Write a coding sheet (XLSX or CSV) for one coder, or their decisions (--decisions).

    One row per post with its text, and one 0/1 column per coded subcategory (drop-downs in XLSX),
    prefilled with the machine's codes and their evidence unless --blind; a prefilled row counts
    as the coder's codes only once they put 1 in its "done 完成" column. round(overlap x sample)
    posts go to every coder who exports with the same seed, shuffled in among the coder's own.
    The sample is recorded in the database, and exporting again for the same coder gives the same
    posts (another --sample size or --overlap is refused: use another seed). XLSX keeps ids as
    text; Excel shortens the ids of a CSV it opens (import then refuses those rows)."""
    if decisions == (sample is not None):
        raise SmcatError("pass --sample N to draw posts, or --decisions for the coded ones")
    codebook = load_codebook(codebook_file or default_codebook_path())
    if decisions:
        with Store.open(settings(db=db).db, readonly=True) as store, naming_options(**_OPTIONS):
            rows = export_decisions(store, codebook.name, output, coder=coder, overwrite=force)
        stdout.print(f"wrote {escape(str(output))}: {rows} posts {coder} coded, with their codes")
        return
    assert sample is not None  # checked above
    with Store.open(settings(db=db).db) as store, naming_options(**_OPTIONS):
        result = export_for_coder(
            store, codebook, output, coder=coder, n=sample, seed=seed, overlap=overlap,
            blind=blind, within=within, overwrite=force,
        )  # fmt: skip
    suggestions = "blind" if result.blind else f"with {codebook.coder}'s suggestions"
    stdout.print(
        f"wrote {escape(str(result.path))}: {result.shared + result.own} posts for {coder} "
        f"({result.shared} shared with every coder of seed {seed}, {result.own} their own), "
        f"{suggestions}; sample {result.sample_id}"
    )


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A coded sheet (.xlsx or .csv).", dir_okay=False)],
    coder: Annotated[str, typer.Option(help="Whose codes these are (as exported).")],
    blank_as_zero: Annotated[
        bool,
        typer.Option("--blank-as-zero", help="Read every empty code cell as 0, empty rows too."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Check a coder's sheet and store its codes.

    Every cell is checked: a problem is listed with its row and column, and a sheet with any
    problem imports nothing; so is every row's post, against the coder's recorded sample and the
    hidden post check (a row whose id a spreadsheet shortened is refused). Rows whose code cells
    are all empty are not coded yet and are skipped; on a sheet prefilled with the machine's
    suggestions only rows marked 1 in "done 完成" are imported. Importing again replaces the
    coder's codes of the same posts."""
    with Store.open(settings(db=db).db) as store, naming_options(**_OPTIONS):
        result = _reporting_problems(lambda: import_sheet(store, file, coder=coder,
                                                          blank_as_zero=blank_as_zero))  # fmt: skip
    stdout.print(
        f"imported {result.posts} posts ({result.codes} codes) of {result.coder} with "
        f"{result.codebook} version {result.version}"
        + (f"; {result.blank_rows} rows left blank are not coded yet" if result.blank_rows else "")
        + (
            f"; {result.unconfirmed_rows} rows not marked done 完成 were left out (the "
            "machine's suggestions count as codes only once you put 1 in done)"
            if result.unconfirmed_rows
            else ""
        )
    )


def _reporting_problems(work: Callable[[], ImportResult]) -> ImportResult:
    """Run an import, listing a sheet's problems one a line before its one-line error."""
    try:
        return work()
    except SheetProblems as error:
        for problem in error.problems:
            stdout.print(escape(str(problem)))
        raise


@adjudicate_app.command("export")
def adjudicate_export_command(
    output: SheetOption,
    force: ForceOption = False,
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    coder: Coders = None,
    db: DbOption = None,
) -> None:
    """Write the coders' disagreements as a sheet for a third person.

    The posts two or more coders coded differently: the cells they agree on are filled, disputed
    cells are empty, and a column says who gave what. Import the decisions with `smcat code
    adjudicate import`."""
    with Store.open(settings(db=db).db, readonly=True) as store, naming_options(**_OPTIONS):
        chosen = choose_people(store, codebook, coder)
        comparison = compare_coders(store, codebook, chosen)
        rows = export_disagreements(store, comparison, output, overwrite=force)
    stdout.print(
        f"wrote {escape(str(output))}: {rows} posts with disagreements among "
        f"{', '.join(chosen)} ({len(comparison.consensus)} posts all agree on)"
    )


@adjudicate_app.command("import")
def adjudicate_import_command(
    file: Annotated[Path, typer.Argument(help="The decided sheet.", dir_okay=False)],
    db: DbOption = None,
) -> None:
    """Import an adjudicator's decisions as coder gold.

    Checked as `smcat code import` checks, and stored together with the codes of every post the
    coders all agreed on."""
    with Store.open(settings(db=db).db) as store:
        result = _reporting_problems(lambda: import_decisions(store, file))
    stdout.print(
        f"gold: {result.posts} decided posts and {result.consensus} agreed posts "
        f"({result.codes} codes) with {result.codebook} version {result.version}"
        + (
            f"; {result.blank_rows} rows left blank are not decided yet"
            if result.blank_rows
            else ""
        )
    )


@app.command("accuracy")
def accuracy_command(
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    machine: Annotated[
        str | None,
        typer.Option(help="The machine coder (default: the only auto: coder of the codebook)."),
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the table as CSV.")] = None,
    gold: Annotated[
        str, typer.Option("--gold", help="Whose codes to score against: gold, or any one coder.")
    ] = GOLD,
    db: DbOption = None,
) -> None:
    """Score the machine's codes against gold (or one coder): precision, recall, F1.

    On the posts both coded: precision, recall and F1 per subcategory, with their counts, and micro
    and macro averages."""
    with Store.open(settings(db=db).db, readonly=True) as store, naming_options(**_OPTIONS):
        machine = choose_machine(store, codebook, machine)
        pairs = gold_pairs(store, codebook, machine, gold)
    table = accuracy_table(pairs)
    shown = Table("", "P", "R", "F1", "tp", "fp", "fn", "support", box=None, pad_edge=False,
                  title=f"{machine} vs {gold}: {pairs['unit'].nunique()} posts",
                  title_justify="left")  # fmt: skip
    for row in table.itertuples():
        counts = [] if row.name == "macro" else [row.tp, row.fp, row.fn, row.support]
        name = row.name if row.scope == "item" else f"[bold]{row.name}[/]"
        shown.add_row(
            name, _number(row.precision), _number(row.recall), _number(row.f1),
            *(f"{count:.0f}" for count in counts),
        )  # fmt: skip
    stdout.print(shown)
    if csv is not None:
        table.to_csv(csv, index=False)
        stdout.print(f"wrote {escape(str(csv))}")


@app.command("train")
def train_command(
    source: Annotated[
        str,
        typer.Option("--from", help="Whose codes to learn from: gold, or a coder's name."),
    ] = GOLD,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the learning curve.")] = 0,
    user_dict: UserDictOption = None,
    codebook_file: CodebookFile = None,
    db: DbOption = None,
) -> None:
    """Train a model on a coder's codes, and measure its validity before it is used; the user
    dictionaries' entries are kept in the model.

    One classifier per content subcategory the coder coded (words, character n-grams and the
    rules' codes; logistic regression), structural ones staying rule-only. Prints the 5-fold
    cross-validated precision, recall, F1 and Krippendorff's alpha (machine vs the coder) of
    each, the rules' beside them, and the learning curve; a subcategory with alpha below .667 is
    not fit for use. The model is stored as model:<codebook>@<version>+<n>: code with it by
    `smcat code auto --model latest`."""
    codebook = load_codebook(codebook_file or default_codebook_path())
    configured = settings(db=db, user_dicts=[str(path) for path in user_dict or ()] or None)
    with Store.open(configured.db) as store:
        result = train_and_store(
            store, codebook, source=source, seed=seed, user_dicts=configured.user_dicts
        )
    print_validity(result, source)


def print_validity(result: TrainResult, source: str) -> None:
    """The validity table of a trained model, its macro F1 beside the rules', and its
    learning curve."""
    shown = Table("", "n", "1s", "P", "R", "F1", "alpha", "rules P", "rules R", "rules F1",
                  "rules alpha", "", box=None, pad_edge=False, title_justify="left",
                  title=f"{result.model.coder} vs {source}: {len(result.posts)} posts, "
                        f"{FOLDS}-fold cross-validated")  # fmt: skip
    for v in result.validity:
        verdict = "fit" if v.fit else "[bold]not fit for use[/]"
        if v.threshold is None:
            verdict += " (rules: too few 1s to learn)"
        shown.add_row(v.subcategory, str(v.n), str(v.support), *map(_number, (
            v.precision, v.recall, v.f1, v.alpha, v.rules_precision, v.rules_recall, v.rules_f1,
            v.rules_alpha)), verdict)  # fmt: skip
    whole = result.curve[-1]
    shown.add_row("[bold]macro[/]", "", "", "", "", _number(whole["macro_f1"]), "", "", "",
                  _number(whole["rules_macro_f1"]), "", "")  # fmt: skip
    stdout.print(shown)
    curve = Table("share", "posts", "macro F1", "rules macro F1", "mean alpha", "fit", box=None,
                  pad_edge=False, title="learning curve", title_justify="left")  # fmt: skip
    for point in result.curve:
        curve.add_row(f"{point['share']:.0%}", str(point["posts"]), _number(point["macro_f1"]),
                      _number(point["rules_macro_f1"]), _number(point["mean_alpha"]),
                      f"{point['fit']}/{point['subcategories']}")  # fmt: skip
    stdout.print(curve)
    unfit = [v.subcategory for v in result.validity if not v.fit]
    stdout.print(f"stored {result.model.coder}; "
                 + (f"not fit for use (alpha < {FIT_ALPHA}): {', '.join(unfit)}" if unfit
                    else "every subcategory fit for use"))  # fmt: skip


@app.command("status")
def status_command(
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    db: DbOption = None,
) -> None:
    """Where the coding stands: per coder and sample, posts coded and left; each trained
    model's cross-validated figures."""
    with Store.open(settings(db=db).db, readonly=True) as store:
        progress = coding_progress(store, codebook)
        models = model_figures(store, codebook)
    shown = Table("coder", "sample", "posts", "coded", "left", box=None, pad_edge=False,
                  title=f"coders of {codebook}", title_justify="left")  # fmt: skip
    for row in progress:
        sample = row.sample if row.sample != ALL_POSTS else f"[dim]{ALL_POSTS}[/]"
        shown.add_row(row.coder, sample, str(row.posts), str(row.coded), str(row.left))
    stdout.print(shown if progress else f"no one has coded posts with {codebook} yet")
    if not models:
        stdout.print(f"no trained model of {codebook}: run `smcat code train`")
    for coder, validity in models:
        figures = Table("", "n", "P", "R", "F1", "alpha", "rules F1", "rules alpha", "",
                        box=None, pad_edge=False, title=coder, title_justify="left")  # fmt: skip
        for v in validity:
            figures.add_row(v["subcategory"], str(v["n"]), *map(_optional, (
                v["precision"], v["recall"], v["f1"], v["alpha"], v["rules_f1"],
                v["rules_alpha"])), "fit" if v["fit"] else "not fit for use")  # fmt: skip
        stdout.print(figures)


def _optional(value: float | None) -> str:
    return _number(float("nan") if value is None else value)


@app.command("review")
def review_command(
    coder: Annotated[
        str | None, typer.Option(help="Who codes (their coder name); or use --adjudicate.")
    ] = None,
    adjudicate: Annotated[
        bool,
        typer.Option("--adjudicate", help="Settle the coders' disagreements; answers are gold."),
    ] = False,
    between: Annotated[
        list[str] | None,
        typer.Option(help="With --adjudicate: a coder to compare (repeat); default: everyone."),
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="Code the posts of this recorded sample (default: all).")
    ] = None,
    draw: Annotated[
        int | None,
        typer.Option(help="Draw N posts for this coder, as `code export --sample N` does.", min=1),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --draw; the same for every coder.")] = 0,
    overlap: Annotated[
        float, typer.Option(help="Share of --draw every coder of the seed gets.", min=0, max=1)
    ] = 0.2,
    blind: Annotated[
        bool, typer.Option("--blind", help="Hide the machine's suggestions and its evidence.")
    ] = False,
    queue: Annotated[
        str,
        typer.Option(
            help="The order of the posts: as drawn, or `uncertain`: the posts the trained model "
            "(--model) is least sure of first, and those it and the rules code differently."
        ),
    ] = "drawn",
    model: Annotated[
        str, typer.Option(help="With --queue uncertain: the trained model, or latest.")
    ] = LATEST,
    show_machine: Annotated[
        bool,
        typer.Option("--show-machine", help="With --adjudicate: show the machine's suggestions."),
    ] = False,
    codebook_file: CodebookFile = None,
    host: Annotated[str, typer.Option(help="Address to listen on (keep it local).")] = LOOPBACK,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8765,
    db: DbOption = None,
) -> None:
    """Code posts in the browser, by keyboard, or settle disagreements.

    Serves the review screen on 127.0.0.1 and prints its address. One post at a time: its
    text with the machine's evidence highlighted, its metadata, and the coded subcategories
    by level with the machine's suggestions pre-selected (none with --blind). A key toggles a
    subcategory, Enter saves the answer and goes on, arrows move, u undoes; every answer is
    stored at once. With --adjudicate, it shows only the posts the coders disagree on, each
    coder's answer beside it, and stores the decisions as coder gold (the posts they all
    agreed on are stored as gold at the start); a disputed subcategory must be decided before
    the post is saved, and the machine's suggestions are hidden unless --show-machine. Several
    coders can each run one, on other ports, against the same database. Ctrl+C stops it."""
    if adjudicate == (coder is not None):
        raise SmcatError("name the coder with --coder NAME, or pass --adjudicate (not both)")
    if sample is not None and draw is not None:
        raise SmcatError("pass --sample ID or --draw N, not both")
    if queue not in ("drawn", "uncertain"):
        raise SmcatError(f"--queue is drawn or uncertain, not {queue!r}")
    if show_machine and (blind or not adjudicate):
        raise SmcatError("--show-machine is for --adjudicate without --blind: drop one")
    with naming_options(**_OPTIONS):
        address = check_port_free(host, port)
    store = Store.open(settings(db=db).db)
    book = load_codebook(codebook_file or default_codebook_path())
    try:
        if coder is None:  # --adjudicate (checked above)
            session, agreed = adjudication_review(
                store,
                book.name,
                choose_people(store, book.name, between),
                show_machine=show_machine,
            )
            stdout.print(f"{agreed} posts all coders agreed on are stored as gold; "
                         f"{len(session.posts)} to decide")  # fmt: skip
        else:
            if draw is not None:
                posts = coding_sample(store, codebook=book.name, coder=coder, n=draw, seed=seed,
                                      overlap=overlap).posts  # fmt: skip
            else:
                posts = store.post_keys(sample)
            if queue == "uncertain":
                trained = load_model(store, choose_model(store, book.name, model))
                posts = uncertain_first(store, trained, book, posts)
            session = coder_review(store, book, posts, coder=coder, blind=blind)
        app = create_app(session, hosts=[host], url_token=host not in LOCAL_HOSTS)
        if host not in LOCAL_HOSTS:
            address += f"?token={app.state.token}"
            stderr.print(f"warning: the review screen listens on {escape(host)}, beyond this "
                         "machine; only the address below, with its token, opens it")  # fmt: skip
        stdout.print(f"review screen for {session.coder}: {address} (Ctrl+C to stop)")
        serve(app, host, port)
    finally:
        store.close()


@app.command("reliability")
def reliability_command(
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    coder: Coders = None,
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
    """Inter-coder reliability: Krippendorff's alpha, agreement, AC1, kappa.

    Every figure is computed on the shared posts only (those two or more of the coders coded);
    a warning says when there are fewer than 50. Per subcategory and per level: Krippendorff's
    alpha (nominal) with a bootstrap 95% interval, percent agreement, Gwet's AC1, Cohen's kappa
    per pair of coders, and n. Flags alpha below .800 and .667, and high agreement with low alpha
    (a rare code: the prevalence problem). Name the machine coder with --coder auto: the posts it
    coded and gave no code count as its 0s."""
    with Store.open(settings(db=db).db, readonly=True) as store:
        data = reliability_data(store, codebook, coder)
    table = reliability_table(data.codes, n_boot=boot, seed=seed)
    _print_reliability(table, data.coders)
    shared = int(table.loc[table["scope"] == "item", "n_units"].max())
    stdout.print(
        f"every figure is computed on the posts two or more of the coders coded ({shared} at "
        "most, n per row); each coder's own posts are left out"
    )
    if shared < SMALL_SHARED:
        stderr.print(
            f"warning: only {shared} shared posts (under {SMALL_SHARED}): the figures are "
            "imprecise; have every coder code more shared posts (a larger --overlap or --sample)"
        )
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
