"""`smcat sample`: study designs (two-stage and constructed-week samples of posts) and how many
posts to code (prevalence, reliability subsample, power of the effect model)."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from smcat.cli_common import (
    CodebookOption,
    DbOption,
    naming_options,
    settings,
    stderr,
    stdout,
    sub_cli,
)
from smcat.coders import DEFAULT_CODEBOOK
from smcat.errors import SmcatError
from smcat.store import Store

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The models' libraries take seconds to import: each command imports what it uses.
app = sub_cli()
size_app = sub_cli()
app.add_typer(
    size_app,
    name="size",
    help="How many posts to code: for a prevalence, a reliability subsample, or the power of"
    " the NB2 effect model.",
)

SinceOption = Annotated[
    str | None, typer.Option(help="First day of the window (YYYY-MM-DD), inclusive.")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Last day of the window (YYYY-MM-DD), inclusive.")
]


def _names(text: str | None) -> list[str] | None:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    return names or None


def _assumptions(lines: list[str]) -> None:
    stdout.print("assumptions:")
    for line in lines:
        stdout.print(f"  - {escape(line)}")


@app.command("posts")
def posts_command(
    seed: Annotated[int, typer.Option(help="Seed of the draw: the same seed draws the same.")],
    months: Annotated[
        int | None,
        typer.Option(help="Calendar months drawn per account among its months with posts.", min=1),
    ] = None,
    per_month: Annotated[
        int | None, typer.Option(help="Posts drawn per drawn month (all where fewer).", min=1)
    ] = None,
    constructed_week: Annotated[
        int | None,
        typer.Option(
            help="Draw N constructed weeks instead (a Monday, a Tuesday, ... each from a"
            " different week) and take every post of those days.",
            min=1,
        ),
    ] = None,
    accounts: Annotated[
        str | None,
        typer.Option(help="Account ids, separated by commas (default: every account)."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    reposts: Annotated[
        bool, typer.Option("--reposts/--no-reposts", help="Draw reposts too.")
    ] = False,
    platform: Annotated[str, typer.Option(help="The posts of this platform.")] = "weibo",
    name: Annotated[
        str | None, typer.Option(help="Id of the sample (default: one naming its design).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Draw a study sample of posts and record it with its design.

    Two stages: for each account, --months calendar months at random among its months with
    posts in the window, then --per-month posts of each (all where fewer). Or
    --constructed-week N: N constructed weeks of the window, the same days for every account,
    and every post of those days. `smcat db export samples` shows the design (stages, seed,
    posts per account and month, what was drawn); `smcat code export --within ID` draws coding
    sheets from the sample."""
    from smcat.sampling import constructed_week_sample, two_stage_sample

    two_stage = months is not None or per_month is not None
    if two_stage == (constructed_week is not None):
        raise SmcatError("pass --months and --per-month, or --constructed-week N")
    if two_stage and (months is None or per_month is None):
        raise SmcatError("a two-stage sample needs both --months and --per-month")
    with Store.open(settings(db=db).db) as store, naming_options(sample_id="--name"):
        if constructed_week is not None:
            sample = constructed_week_sample(
                store, platform, _names(accounts), weeks=constructed_week, seed=seed,
                since=since, until=until, reposts=reposts, sample_id=name,
            )  # fmt: skip
        else:
            assert months is not None and per_month is not None  # checked above
            sample = two_stage_sample(
                store, platform, _names(accounts), months=months, per_month=per_month,
                seed=seed, since=since, until=until, reposts=reposts, sample_id=name,
            )  # fmt: skip
    design = sample.design
    stdout.print(f"sample {escape(sample.sample_id)}: {len(sample.posts):,} posts")
    for stage in design["stages"]:
        stdout.print(f"  - {escape(stage)}")
    if "days" in design:
        for week in design["days"]:
            named = (f"{name} {day}" for name, day in zip(_WEEKDAYS, week, strict=True))
            stdout.print(f"  days: {', '.join(named)}")
    for account, drawn in design["drawn"].items():
        frame = design["frame"].get(account, {})
        stdout.print(
            f"  {escape(account)}: {sum(drawn.values())} of {sum(frame.values())} posts"
            + (f"; months {', '.join(drawn)}" if "months" in design else "")
        )
    stdout.print(
        f"next: smcat code export --coder NAME --sample N --within {escape(sample.sample_id)}"
    )


@size_app.command("prevalence")
def prevalence_command(
    margin: Annotated[float, typer.Option(help="Margin of error, e.g. 0.05 for +/-5 points.")],
    prevalence: Annotated[
        float | None,
        typer.Option(help="Expected share of posts with the code (default .5, the safe guess)."),
    ] = None,
    subcategory: Annotated[
        str | None,
        typer.Option(help="Take the expected share from this subcategory's codes so far."),
    ] = None,
    codes: Annotated[str, typer.Option(help="Whose codes: auto, gold or a coder.")] = "auto",
    confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    population: Annotated[
        int | None,
        typer.Option(
            help="Posts in the population, for the finite population correction (with"
            " --subcategory: the stored posts).",
            min=1,
        ),
    ] = None,
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    db: DbOption = None,
) -> None:
    """Posts to code to estimate a subcategory's prevalence within a margin (Cochran)."""
    from analysis.sample_size import cochran_n, coded_share

    assumed = []
    if subcategory is not None:
        if prevalence is not None:
            raise SmcatError("pass --prevalence or --subcategory, not both")
        with (
            Store.open(settings(db=db).db, readonly=True) as store,
            naming_options(codes="--codes"),
        ):
            share = coded_share(store, subcategory, codes=codes, codebook=codebook)
            population = population or store.count("posts")
        prevalence = share.share
        assumed.append(
            f"prevalence {share.share:.3f}: {subcategory} in {share.coded_1:,} of the"
            f" {share.coded:,} posts {share.coder} coded"
        )
    else:
        assumed.append(
            "prevalence .5 (the largest n)" if prevalence is None else f"prevalence {prevalence}"
        )
    n = cochran_n(0.5 if prevalence is None else prevalence, margin, confidence, population)
    stdout.print(f"code {n:,} posts")
    assumed.append(f"margin +/-{margin:g} at {confidence:.0%} confidence (Cochran 1977, eq. 4.2)")
    assumed.append(
        f"finite population of {population:,} posts"
        if population
        else "a large population (no finite population correction)"
    )
    assumed.append("a simple random sample of posts")
    _assumptions(assumed)


@size_app.command("compare")
def compare_command(
    p1: Annotated[float, typer.Option(help="Expected share of posts with the code in group 1.")],
    p2: Annotated[float, typer.Option(help="Expected share in group 2.")],
    ratio: Annotated[float, typer.Option(help="Posts of group 2 per post of group 1.")] = 1.0,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Significance level (two-sided).")] = 0.05,
) -> None:
    """Posts per group to detect a difference in a subcategory's prevalence between two groups
    (two brands, platforms or periods): the closed form of statsmodels' power module."""
    from analysis.sample_size import two_proportions_n

    n1 = two_proportions_n(p1, p2, alpha=alpha, power=power, ratio=ratio)
    first, second = math.ceil(n1), math.ceil(n1 * ratio)
    stdout.print(f"code {first:,} posts of group 1 and {second:,} of group 2")
    _assumptions(
        [
            f"shares {p1:g} and {p2:g}: Cohen's h = |2 asin sqrt p1 - 2 asin sqrt p2|, normal"
            " approximation (statsmodels NormalIndPower)",
            f"two-sided test at {alpha:g}, power {power:g}",
            "simple random samples of posts in each group",
        ]
    )


@size_app.command("reliability")
def reliability_command(
    alpha_min: Annotated[float, typer.Option(help="Smallest acceptable alpha.")] = 0.800,
    significance: Annotated[float, typer.Option(help="Significance level of the test.")] = 0.05,
    smallest_share: Annotated[
        float | None,
        typer.Option(
            help="Share of the rarest value (.5 for a binary code used half the time; default:"
            " from the codes so far, else .5)."
        ),
    ] = None,
    coders: Annotated[int, typer.Option(help="Coders who code every shared post.", min=2)] = 2,
    width: Annotated[
        float, typer.Option(help="Target width of alpha's 95% interval, for the bootstrap.")
    ] = 0.2,
    subcategory: Annotated[
        str | None,
        typer.Option(help="The subcategory to bootstrap (default: all pooled)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    db: DbOption = None,
) -> None:
    """Posts the coders must share: Krippendorff's minimum for alpha_min at a significance level,
    and, from the people's codes so far, the width of alpha's interval by shared posts."""
    from coding.reliability import reliability_data
    from coding.reliability_size import (
        krippendorff_minimum,
        krippendorff_table,
        width_by_size,
    )

    assumed = []
    bootstrap = None
    with Store.open(settings(db=db).db, readonly=True) as store:
        try:
            data = reliability_data(store, codebook)
        except SmcatError as error:
            assumed.append(f"no bootstrap: {error}")
        else:
            codes = data.codes
            if subcategory is not None:
                codes = codes[codes["item"] == subcategory]
                if codes.empty:
                    raise SmcatError(f"no codes of {subcategory} by {', '.join(data.coders)}")
            else:
                codes = codes.assign(unit=codes["unit"] + "/" + codes["item"])
            bootstrap = width_by_size(codes[["unit", "coder", "value"]], width, seed=seed)
    share = smallest_share
    if share is None:
        share = bootstrap.smallest_share if bootstrap and bootstrap.smallest_share else 0.5
        where = "the codes so far" if bootstrap and bootstrap.smallest_share else "a guess"
        assumed.insert(0, f"rarest value's share {share:.3f} ({where})")
    minimum = krippendorff_minimum(alpha_min, significance, min(share, 0.5), coders)
    stdout.print(
        f"Krippendorff's minimum: {minimum:,} posts coded by all {coders} coders, to show alpha"
        f" >= {alpha_min:g} at p = {significance:g}"
    )
    row = krippendorff_table([min(share, 0.5)], coders).iloc[0]
    stdout.print(f"  his table at P_c = {min(share, 0.5):.3f} (alpha_min: posts at p):")
    for level in row.index.get_level_values(0).unique():
        cells = ", ".join(f"{n:,} at {p:g}" for p, n in row[level].items())
        stdout.print(f"    {level:.3f}: {cells}")
    assumed.append(
        "Krippendorff (2004, Content Analysis, section 11.4.4; Bloch & Kraemer 1989 eq. 3.7):"
        " one-sided test, the rarest value's share as P_c"
    )
    if bootstrap is not None:
        what = subcategory or "all subcategories pooled (post x subcategory units)"
        stdout.print(
            f"bootstrap of {what}: alpha {bootstrap.alpha:.3f} on {bootstrap.units:,} shared"
            " units so far"
        )
        for units, span in bootstrap.widths.items():
            stdout.print(f"  {units:>6,} units: 95% interval width {span:.3f}")
        if bootstrap.n is None:
            stdout.print(f"no size tried reaches a width of {width:g}")
        else:
            stdout.print(f"width <= {width:g} from {bootstrap.n:,} shared units")
        assumed.append(
            f"1,000 bootstrap draws of shared units (seed {seed}): the coming posts agree as"
            " the coded ones do"
        )
    _assumptions(assumed)


@size_app.command("power")
def power_command(
    irr: Annotated[float, typer.Option(help="The IRR of the code to detect, e.g. 1.3.")],
    code: Annotated[
        str, typer.Option(help="The binary content code: a model frame column (giveaway).")
    ] = "giveaway",
    prevalence: Annotated[
        float | None, typer.Option(help="Share of posts with the code (default: from the data).")
    ] = None,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Significance level (two-sided).")] = 0.05,
    draws: Annotated[int, typer.Option(help="Simulated studies per size.", min=20)] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 0,
    codes: Annotated[str, typer.Option(help="Whose codes: auto, gold or a coder.")] = "auto",
    dv: Annotated[str, typer.Option(help="The outcome.")] = "engagement",
    platform: Annotated[str, typer.Option(help="The posts of this platform.")] = "weibo",
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    db: DbOption = None,
) -> None:
    """Posts to code to detect an IRR of a binary content code on engagement with NB2 (SEs
    clustered by account) at a level and power: simulated from the data's accounts and
    dispersion, with the closed form without account structure beside it."""
    import numpy as np

    from analysis.frame import model_frame
    from analysis.sample_size import (
        PowerPoint,
        fit_world,
        nb2_sample_size,
        negbin_ratio_n,
        simulated_power,
    )

    with (
        Store.open(settings(db=db).db, readonly=True) as store,
        naming_options(codes="--codes"),
    ):
        frame = model_frame(store, codes=codes, codebook=codebook, platform=platform)
    if code not in frame.data.columns:
        raise SmcatError(f"no column {code!r} in the model frame: name a 0/1 code such as giveaway")
    if dv not in frame.data.columns:
        raise SmcatError(f"no outcome {dv!r} in the model frame: try engagement")
    if prevalence is None:
        prevalence = float((frame.data[code].dropna() > 0).mean())
    world = fit_world(frame.data, dv)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), console=stderr, transient=True,
        disable=not stderr.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("simulating", total=None)

        def shown(point: PowerPoint) -> None:
            progress.update(task, description=f"n = {point.n:,}: power {point.power:.2f}")

        result = nb2_sample_size(
            world, irr=irr, prevalence=prevalence, power=power, alpha=alpha, draws=draws,
            seed=seed, on_size=shown,
        )  # fmt: skip
        level = None
        if result.n is not None:
            progress.update(task, description=f"n = {result.n:,}: with no effect")
            level = simulated_power(
                world, result.n, irr=1.0, prevalence=prevalence, alpha=alpha, draws=draws,
                seed=seed,
            )  # fmt: skip
    if result.n is None:
        stdout.print(f"no sample up to {result.curve[-1].n:,} posts reaches power {power:g}")
    else:
        stdout.print(f"code {result.n:,} posts (simulated power {result.achieved or 0:.2f})")
    for point in result.curve:
        failed = f" ({point.failed} fits failed)" if point.failed else ""
        stdout.print(f"  n = {point.n:>6,}: power {point.power:.2f}{failed}")
    if level is not None:
        stdout.print(
            f"with no effect (IRR 1) the test rejects in {level.power:.2f} of the draws at n ="
            f" {level.n:,}: its actual level, against {alpha:g} asked (above it, the clustered"
            " SEs are too small at this n and the power above is flattered)"
        )
    rate = float(np.exp(world.log_means).mean())
    closed = negbin_ratio_n(rate, irr, prevalence, world.dispersion, alpha=alpha, power=power)
    stdout.print(f"closed form without account structure (Zhu & Lakkis 2014): {closed:,} posts")
    _assumptions([*result.assumptions(), f"outcome {dv}, codes of {frame.coder}"])
