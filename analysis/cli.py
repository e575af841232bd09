"""`smcat analyze`: effect models and the classic analyses of the source studies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.markup import escape

from analysis.commerce import choice_table, order_lines
from analysis.frame import DVS
from smcat.cli_common import CodebookOption, DbOption, naming_options, settings, stdout, sub_cli
from smcat.coders import DEFAULT_CODEBOOK
from smcat.hot_words import HotWindow
from smcat.store import Store

if TYPE_CHECKING:
    from analysis.pages import Page
    from analysis.people import Events

# The models' libraries (statsmodels, pyfixest, scikit-learn, mlxtend, matplotlib) take seconds
# to import, so each command imports what it uses: other smcat commands start without them.
app = sub_cli()

_AGE = re.compile(r"(\d+(?:\.\d+)?)([dh])")
OutputOption = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="Folder for the report: its tables, plots and page.", file_okay=False
    ),
]


def parse_age(text: str) -> float:
    """An age such as 7d or 36h, in days."""
    match = _AGE.fullmatch(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is no age: write it as 7d or 36h")
    number = float(match[1])
    return number if match[2] == "d" else number / 24


def parse_tolerance(text: str, age_days: float) -> float:
    """A tolerance around an age, in days: a span (6h, 1d) or a share of the age (25%)."""
    if text.strip().endswith("%"):
        try:
            return float(text.strip()[:-1]) / 100 * age_days
        except ValueError:
            raise typer.BadParameter(
                f"{text!r} is no share: write it as 25%", param_hint="--age-tolerance"
            ) from None
    return parse_age(text)


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


@app.command("effects")
def effects_command(
    output: OutputOption = Path("report"),
    dv: Annotated[str, typer.Option(help=f"The outcome: one of {', '.join(DVS)}.")] = "engagement",
    model: Annotated[
        str, typer.Option(help="nb, poisson, ols, zinb, or all (nb, poisson and ols).")
    ] = "all",
    fe: Annotated[
        str | None, typer.Option("--fe", help="Fixed effects of this column, e.g. account.")
    ] = None,
    se: Annotated[
        str,
        typer.Option(
            "--se", help="Standard errors: cluster (the default, by --cluster), robust or model."
        ),
    ] = "cluster",
    cluster: Annotated[
        str | None, typer.Option(help="Cluster the standard errors by this column (account).")
    ] = None,
    codes: Annotated[
        list[str] | None,
        typer.Option(
            help="Whose codes: auto, gold or a coder's name; repeat it to put them side by side."
        ),
    ] = None,
    at_age: Annotated[
        str | None,
        typer.Option(
            help="Counts at this age of each post (7d, 36h); default: the latest, with log post"
            " age as a control."
        ),
    ] = None,
    age_tolerance: Annotated[
        str | None,
        typer.Option(
            help="How far from --at-age the observation used may be: a span (6h) or a share of"
            " the age (25%, the default); posts without one are left out and counted."
        ),
    ] = None,
    hot_window: Annotated[
        str,
        typer.Option(
            help="When, relative to the post, a word or topic must have been on the hot-search"
            " list to count as hot (-7d..0: the week before; -7d..7d lets later trends in)."
        ),
    ] = "-7d..0",
    regressors: Annotated[
        str | None,
        typer.Option(
            help="The regressors, separated by commas; default: hot_words, giveaway,"
            " promotion, topic_count, hot_topic, log_followers and the controls."
        ),
    ] = None,
    drop: Annotated[
        str | None, typer.Option(help="Regressors to leave out, separated by commas.")
    ] = None,
    allow_unfit: Annotated[
        bool,
        typer.Option(
            help="Use a trained model's codes its validation marked not fit for use (alpha under"
            " 0.667), with a note in the report; without it they are refused."
        ),
    ] = False,
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    platform: Annotated[
        str, typer.Option(help="The posts of this platform (weibo or douyin).")
    ] = "weibo",
    db: DbOption = None,
) -> None:
    """Fit NB2, Poisson and OLS of log(1+y) of engagement on hot words, giveaway, promotion,
    topics and the controls (SEs clustered by account unless --se says otherwise); write the
    side-by-side table (Markdown, CSV, LaTeX, HTML), the IRR and descriptive plots, and
    index.html with them all. A regressor with one value in the posts used is left out, with a
    note."""
    from analysis.formatting import side_by_side, to_markdown
    from analysis.report import write_report
    from analysis.suite import SUITE, run_suite

    if dv not in DVS:
        raise typer.BadParameter(f"choose one of {', '.join(DVS)}", param_hint="--dv")
    age_days = parse_age(at_age) if at_age else None
    if age_tolerance is not None and age_days is None:
        raise typer.BadParameter("give --at-age too", param_hint="--age-tolerance")
    try:
        window = HotWindow.parse(hot_window)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--hot-window") from None
    with (
        Store.open(settings(db=db).db, readonly=True) as store,
        naming_options(
            model="--model",
            fe="--fe",
            codes="--codes",
            regressors="--regressors",
            drop="--drop",
            se="--se",
            cluster="--cluster",
            allow_unfit="--allow-unfit",
        ),
    ):
        report = run_suite(
            store,
            codes=codes or ["auto"],
            models=SUITE if model == "all" else (model,),
            dv=dv,
            regressors=_names(regressors) or None,
            drop=_names(drop),
            fe=fe,
            at_age_days=age_days,
            age_tolerance_days=(
                parse_tolerance(age_tolerance, age_days)
                if age_tolerance is not None and age_days is not None
                else None
            ),
            hot_window=window,
            se=se,
            cluster=cluster,
            allow_unfit=allow_unfit,
            codebook=codebook,
            platform=platform,
        )
    written = write_report(report, output)
    stdout.print(escape(to_markdown(side_by_side(report.columns))))
    stdout.print(f"wrote {', '.join(escape(str(p)) for p in written)}")


@app.command("screen")
def screen_command(
    output: OutputOption = Path("report"),
    threshold: Annotated[
        float, typer.Option(help="Flag pairs of regressors with |Spearman rho| at least this.")
    ] = 0.7,
    dv: Annotated[str, typer.Option(help=f"The outcome: one of {', '.join(DVS)}.")] = "engagement",
    codes: Annotated[str, typer.Option(help="Whose codes: auto, gold or a coder's name.")] = "auto",
    at_age: Annotated[
        str | None,
        typer.Option(help="Counts at this age of each post (7d, 36h), as `analyze effects`."),
    ] = None,
    regressors: Annotated[
        str | None,
        typer.Option(help="The regressors, separated by commas; default: those of the models."),
    ] = None,
    drop: Annotated[
        str | None, typer.Option(help="Regressors to leave out, separated by commas.")
    ] = None,
    codebook: CodebookOption = DEFAULT_CODEBOOK,
    platform: Annotated[
        str, typer.Option(help="The posts of this platform (weibo or douyin).")
    ] = "weibo",
    db: DbOption = None,
) -> None:
    """Screen the model frame's regressors before choosing them: the Spearman correlation
    matrix with the pairs above --threshold flagged, VIFs and near-zero-variance columns (caret's
    rule), over the rows the models use; writes screen.html beside the effects report."""
    from analysis.frame import default_regressors, model_frame
    from analysis.screen import screen, screen_page

    if dv not in DVS:
        raise typer.BadParameter(f"choose one of {', '.join(DVS)}", param_hint="--dv")
    if not 0 < threshold <= 1:
        raise typer.BadParameter("give a share in (0, 1]", param_hint="--threshold")
    age_days = parse_age(at_age) if at_age else None
    with (
        Store.open(settings(db=db).db, readonly=True) as store,
        naming_options(codes="--codes", regressors="--regressors", drop="--drop"),
    ):
        frame = model_frame(
            store, codes=codes, codebook=codebook, at_age_days=age_days, platform=platform
        )
        wanted = _names(regressors) or list(default_regressors(age_days))
        result = screen(
            frame.data, dv, [r for r in wanted if r not in _names(drop)], threshold=threshold
        )
    _finish(screen_page(result, f"Screening the regressors ({frame.coder}'s codes)"), output,
            "flagged", "columns")  # fmt: skip


# -- commerce: the analyses of shoppers -------------------------------------------

SeedOption = Annotated[int, typer.Option(help="Seed of the random draws (splits, k-means).")]


def _finish(page: Page, output: Path, *shown: str) -> None:
    """Write the page and print the tables named in `shown`."""
    from analysis.formatting import formatted, to_markdown
    from analysis.report import write_page

    for key in shown:
        caption, table = page.tables[key]
        stdout.print(f"\n{escape(caption)}\n{escape(to_markdown(formatted(table)))}")
    written = write_page(page, output)
    stdout.print(f"\nwrote {len(written)} files; open {escape(str(output / f'{page.name}.html'))}")


ByOption = Annotated[
    str,
    typer.Option(
        "--by",
        help="customer (each system's customer id) or person (the people of `smcat link people`;"
        " an order whose record is not linked stays its own customer).",
    ),
]


def _lines(db: Path | None, by: str = "customer") -> pd.DataFrame:
    """The order lines, per customer id or, `by` person, per linked person (said on stdout)."""
    from analysis.people import lines_by_person

    if by not in ("customer", "person"):
        raise typer.BadParameter("choose customer or person", param_hint="--by")
    with Store.open(settings(db=db).db, readonly=True) as store:
        if by == "customer":
            return order_lines(store)
        person_lines = lines_by_person(store)
    stdout.print(escape(person_lines.describe()))
    return person_lines.lines


@app.command("basket")
def basket_command(
    min_support: Annotated[float, typer.Option(help="Smallest share of baskets of a rule.")] = 0.0,
    min_confidence: Annotated[float, typer.Option(help="Smallest confidence of a rule.")] = 0.0,
    max_len: Annotated[int | None, typer.Option(help="Largest itemset size.")] = None,
    output: OutputOption = Path("report"),
    by: ByOption = "customer",
    db: DbOption = None,
) -> None:
    """Association rules of the items bought together in an order (--by person: by the same
    person, in any system): the pair co-occurrence and confidence tables, frequent itemsets,
    and rules with support, confidence and lift."""
    from analysis.pages import basket_page

    page = basket_page(
        _lines(db, by),
        min_support=min_support,
        min_confidence=min_confidence,
        max_len=max_len,
        per_customer=by == "person",
    )
    _finish(page, output, "pairs", "confidence")


@app.command("choice")
def choice_command(
    test_share: Annotated[float, typer.Option(help="Share of choices held out for testing.")] = 0.3,
    split_by: Annotated[
        str,
        typer.Option(
            help="choice (draw the test choices one by one) or customer (keep each customer's "
            "choices on one side)."
        ),
    ] = "choice",
    goodness_of_fit: Annotated[
        bool,
        typer.Option(
            "--goodness-of-fit",
            help="Also show the Pearson and deviance goodness-of-fit tests over covariate "
            "patterns (as SPSS prints them).",
        ),
    ] = False,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Brand choice: a multinomial logit (one row per choice) or conditional logit (every
    alternative offered) on the attributes, fitted on 70% and tested on 30%: the
    likelihood-ratio test against the null model and the hit rates with bootstrap intervals."""
    from analysis.pages import choice_page

    if split_by not in ("choice", "customer"):
        raise typer.BadParameter("choose choice or customer", param_hint="--split-by")
    with Store.open(settings(db=db).db, readonly=True) as store:
        choices = choice_table(store)
    page = choice_page(
        choices,
        test_share=test_share,
        seed=seed,
        split_by=split_by,
        goodness_of_fit=goodness_of_fit,
    )
    _finish(page, output, "fit", "coefficients")


@app.command("segments")
def segments_command(
    max_k: Annotated[int, typer.Option(help="Largest number of segments tried.")] = 8,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    by: ByOption = "customer",
    db: DbOption = None,
) -> None:
    """Consumer segments: k-means on scaled shopper features (mean price, discount share,
    items per order, orders per month), k by silhouette, a profile per segment."""
    from analysis.pages import segments_page

    _finish(segments_page(_lines(db, by), max_k=max_k, seed=seed), output, "profile", "silhouette")


@app.command("rfm")
def rfm_command(
    silent_days: Annotated[
        float, typer.Option(help="Days without an order before a repeat customer is silent.")
    ] = 90,
    output: OutputOption = Path("report"),
    by: ByOption = "customer",
    db: DbOption = None,
) -> None:
    """RFM scores and segments per customer, price-sensitivity segments, and the silent
    customers to win back."""
    from analysis.pages import rfm_page

    page = rfm_page(_lines(db, by), silent_days=silent_days)
    stdout.print(page.notes[-1])  # how many silent customers
    shown = [key for key in ("segments", "price-segments") if key in page.tables]
    _finish(page, output, *shown)


@app.command("churn")
def churn_command(
    horizon: Annotated[float, typer.Option(help="Days without an order that count as churn.")] = 90,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    by: ByOption = "customer",
    db: DbOption = None,
) -> None:
    """Churn: logistic regression and gradient boosting, trained on one period and tested on the
    next (AUC, lift at the top decile, calibration plot)."""
    from analysis.pages import churn_page

    with naming_options(horizon_days="--horizon"):
        page = churn_page(_lines(db, by), horizon_days=horizon, seed=seed)
    _finish(page, output, "models")


def _events(db: Path | None) -> Events:
    from analysis.people import person_events

    with Store.open(settings(db=db).db, readonly=True) as store:
        return person_events(store)


@app.command("response")
def response_command(
    within: Annotated[float, typer.Option(help="Days after a contact a response counts.")] = 7,
    period: Annotated[float, typer.Option(help="Days of contacts to train on, and to test.")] = 90,
    window: Annotated[
        float, typer.Option(help="Days of browsing before a contact that its features count.")
    ] = 30,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Who responds to a campaign contact within --within days: logistic regression and
    gradient boosting on each contact's history (per person when people are linked, else per
    system record), trained on one period of contacts and tested on the next (AUC with a
    bootstrap interval, lift at the top decile, Brier score, calibration plot)."""
    from analysis.pages import event_model_page
    from analysis.propensity import response_models

    events = _events(db)
    stdout.print(escape(events.describe()))
    with naming_options(within_days="--within"):
        result = response_models(
            events, within_days=within, period_days=period, window_days=window, seed=seed
        )
    _finish(event_model_page(result, "response", "response"), output, "models")


@app.command("propensity")
def propensity_command(
    within: Annotated[float, typer.Option(help="Days after the cutoff a purchase counts.")] = 14,
    browsed: Annotated[
        float, typer.Option(help="Days before the cutoff in which a unit must have browsed.")
    ] = 14,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Who buys within --within days after browsing: logistic regression and gradient
    boosting on the browsing and buying history (per person when people are linked, else per
    system record), trained at one cutoff and tested at the next (AUC with a bootstrap
    interval, lift at the top decile, Brier score, calibration plot)."""
    from analysis.pages import event_model_page
    from analysis.propensity import propensity_models

    events = _events(db)
    stdout.print(escape(events.describe()))
    with naming_options(within_days="--within"):
        result = propensity_models(events, within_days=within, browsed_days=browsed, seed=seed)
    _finish(event_model_page(result, "propensity", "purchase"), output, "models")


@app.command("labels")
def labels_command(
    new_days: Annotated[float, typer.Option(help="A first order this recent: new.")] = 30,
    active_days: Annotated[float, typer.Option(help="A last order this recent: active.")] = 90,
    lost_days: Annotated[
        float, typer.Option(help="A last order older than this: lost (between: silent).")
    ] = 180,
    churn_horizon: Annotated[
        float, typer.Option(help="Days without an order that count as churn.")
    ] = 90,
    within: Annotated[
        float, typer.Option(help="Purchase propensity: a purchase within this many days.")
    ] = 14,
    browsed: Annotated[
        float, typer.Option(help="Purchase propensity: of people who browsed in these days.")
    ] = 14,
    seed: SeedOption = 0,
    db: DbOption = None,
) -> None:
    """Label every linked person and store the labels (a new series each run, with the date
    and method): RFM score and segment, price sensitivity A/B/C, k-means segment, lifecycle
    stage, churn risk, purchase propensity. Export them with `smcat db export person_labels`."""
    from analysis.formatting import to_markdown
    from analysis.labels import LabelSettings, label_people

    label_settings = LabelSettings(
        new_days=new_days,
        active_days=active_days,
        lost_days=lost_days,
        churn_horizon_days=churn_horizon,
        within_days=within,
        browsed_days=browsed,
        seed=seed,
    )
    with Store.open(settings(db=db).db) as store:
        run = label_people(store, label_settings)
    stdout.print(escape(run.counted))
    for note in run.labels.notes:
        stdout.print(escape(note))
    stdout.print(escape(to_markdown(run.labels.counts())))
    stdout.print(f"stored {run.stored:,} labels of {run.people:,} people")


@app.command("recommend")
def recommend_command(
    top: Annotated[int, typer.Option(help="Items recommended per customer.")] = 5,
    output: OutputOption = Path("report"),
    by: ByOption = "customer",
    db: DbOption = None,
) -> None:
    """Item-based collaborative filtering (cosine similarity): top-N items per customer and
    the hit rate on each customer's held-out last new item."""
    from analysis.pages import recommend_page

    _finish(recommend_page(_lines(db, by), top=top), output, "holdout")


@app.command("price-bands")
def price_bands_command(
    bands: Annotated[str, typer.Option(help="Band edges of the unit price paid.")] = (
        "0,50,100,200,500"
    ),
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """The distribution of sales over price bands, as a table and a plot."""
    from analysis.pages import price_bands_page
    from analysis.pricing import parse_bands

    _finish(price_bands_page(_lines(db), parse_bands(bands)), output, "bands")


# -- streamers: sales levels ---------------------------------------------------------------------


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: write numbers separated by commas", param_hint=option
        ) from None


@app.command("streamers")
def streamers_command(
    features: Annotated[
        Path | None,
        typer.Option(
            help="A CSV/XLSX feature table (first column the streamer, a sales column, numeric "
            "features named personal_*, daily_*, month_* for the group models); default: "
            "the crawled Douyin accounts with imported sales.",
            dir_okay=False,
        ),
    ] = None,
    sales_column: Annotated[str, typer.Option(help="The sales column of --features.")] = "sales",
    levels: Annotated[
        str, typer.Option(help="Quantiles that cut sales into levels: 0.5 (median) or 0.33,0.67.")
    ] = "0.5",
    figure: Annotated[
        str, typer.Option(help="The imported figure that is sales: sales_amount or sales_volume.")
    ] = "sales_amount",
    period: Annotated[
        str | None, typer.Option(help="The imported sales period, where several are stored.")
    ] = None,
    days: Annotated[float, typer.Option(help="Days of posting before the newest post.")] = 30,
    drop: Annotated[str, typer.Option(help="Features to leave out, separated by commas.")] = "",
    folds: Annotated[int, typer.Option(help="Folds of the stratified cross-validation.")] = 5,
    minkowski_p: Annotated[
        float, typer.Option(help="Power of the KNN distance: 2 Euclidean, 1 Manhattan.")
    ] = 2,
    variance: Annotated[
        float, typer.Option(help="Cumulative explained variance the factors must reach.")
    ] = 0.8,
    correlation: Annotated[
        str,
        typer.Option(
            help="auto (Spearman unless Shapiro-Wilk finds sales normal), spearman, pearson."
        ),
    ] = "auto",
    adjust: Annotated[
        str,
        typer.Option(
            help="Adjustment of the correlation p-values for testing every feature: bh "
            "(Benjamini-Hochberg) or holm."
        ),
    ] = "bh",
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Which features go with a high sales level: correlations (Spearman or Pearson after
    Shapiro-Wilk), KNN per feature group, KMO/Bartlett and factor scores in a logistic
    regression, permutation importance."""
    from analysis.pages import streamers_page
    from analysis.streamers import read_features, store_features

    if figure not in ("sales_amount", "sales_volume"):
        raise typer.BadParameter("choose sales_amount or sales_volume", param_hint="--figure")
    quantiles = _floats(levels, "--levels")
    with naming_options(
        sales_column="--sales-column",
        period="--period",
        drop="--drop",
        quantiles="--levels",
        folds="--folds",
        adjust="--adjust",
    ):
        if features is not None:
            data = read_features(features, sales_column=sales_column)
        else:
            with Store.open(settings(db=db).db, readonly=True) as store:
                data = store_features(store, days=days, figure=figure, period=period)
        page = streamers_page(
            data,
            quantiles=quantiles,
            drop=[name.strip() for name in drop.split(",") if name.strip()],
            folds=folds,
            minkowski_p=minkowski_p,
            variance=variance,
            correlation=correlation,
            adjust=adjust,
            seed=seed,
        )
    _finish(page, output, "knn", "adequacy", "factor-logit")


@app.command("audience")
def audience_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV/XLSX of viewers: the viewer, watch_seconds, comments, likes, shares "
            "and the outcome (purchases).",
            dir_okay=False,
        ),
    ],
    outcome: Annotated[str, typer.Option(help="The purchases (or sales) column.")] = "purchases",
    retained: Annotated[
        float, typer.Option(help="Seconds of watching that count as retained.")
    ] = 60,
    folds: Annotated[int, typer.Option(help="Folds of the stratified cross-validation.")] = 5,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
) -> None:
    """Live-audience tiers: interaction (comments + likes + shares), quartile tiers, a random
    forest that tells the tier from behaviour, retention and conversion, and OLS of the
    outcome on interaction."""
    from analysis.pages import audience_page
    from analysis.streamers import read_numbers

    with naming_options(outcome="--outcome"):
        page = audience_page(
            read_numbers(file, "viewer"),
            outcome=outcome,
            retained_seconds=retained,
            folds=folds,
            seed=seed,
        )
    stdout.print(escape(page.notes[-1]))  # the forest's circularity
    _finish(page, output, "rates", "rule", "confusion", "regression")
