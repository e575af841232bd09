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
from smcat.cli_common import DbOption, settings, stdout
from smcat.coders import DEFAULT_CODEBOOK
from smcat.store import Store

if TYPE_CHECKING:
    from analysis.commerce_report import Page

# The models' libraries (statsmodels, pyfixest, scikit-learn, mlxtend, matplotlib) take seconds
# to import, so each command imports what it uses: other smcat commands start without them.
app = typer.Typer(
    help="Fit effect models of hot words, activities and micro-topics on engagement, and "
    "analyse imported orders and choices: basket rules, brand choice, segments, RFM, churn, "
    "recommendations, price bands.",
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
    platform: Annotated[
        str, typer.Option(help="The posts of this platform (weibo or douyin).")
    ] = "weibo",
    db: DbOption = None,
) -> None:
    """Fit NB2, Poisson (SEs clustered by account) and OLS of log(1+y) (HC3) of engagement on
    hot words, giveaway, promotion, topics and the controls; write the side-by-side table
    (Markdown, CSV, LaTeX, HTML), the IRR and descriptive plots, and index.html with them all."""
    from analysis.report import side_by_side, to_markdown, write_report
    from analysis.suite import SUITE, run_suite

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
            platform=platform,
        )
    written = write_report(report, output)
    stdout.print(escape(to_markdown(side_by_side(report.columns))))
    stdout.print(f"wrote {', '.join(escape(str(p)) for p in written)}")


# -- commerce: the analyses of shoppers -------------------------------------------

OutputOption = Annotated[
    Path,
    typer.Option("--output", "-o", help="Folder for the tables, plots and page.", file_okay=False),
]
SeedOption = Annotated[int, typer.Option(help="Seed of the random draws (splits, k-means).")]


def _finish(page: Page, output: Path, *shown: str) -> None:
    """Write the page and print the tables named in `shown`."""
    from analysis.commerce_report import formatted
    from analysis.report import to_markdown

    for key in shown:
        caption, table = page.tables[key]
        stdout.print(f"\n{escape(caption)}\n{escape(to_markdown(formatted(table)))}")
    written = page.write(output)
    stdout.print(f"\nwrote {len(written)} files; open {escape(str(output / f'{page.name}.html'))}")


def _lines(db: Path | None) -> pd.DataFrame:
    with Store.open(settings(db=db).db, readonly=True) as store:
        return order_lines(store)


@app.command("basket")
def basket_command(
    min_support: Annotated[float, typer.Option(help="Smallest share of baskets of a rule.")] = 0.0,
    min_confidence: Annotated[float, typer.Option(help="Smallest confidence of a rule.")] = 0.0,
    max_len: Annotated[int | None, typer.Option(help="Largest itemset size.")] = None,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Association rules of the items bought together in an order: the pair co-occurrence and
    confidence tables, frequent itemsets, and rules with support, confidence and lift."""
    from analysis.basket import association, baskets_of
    from analysis.commerce_report import Page, heatmap

    result = association(
        baskets_of(_lines(db)),
        min_support=min_support,
        min_confidence=min_confidence,
        max_len=max_len,
    )
    page = Page("basket", "Items bought together")
    page.notes.append(f"{result.baskets:,} baskets (orders).")
    counts = result.pair_counts.astype(object)
    page.table("pairs", "Baskets holding both items (diagonal: the item)", counts)
    page.table("confidence", "Confidence of row -> column: P(column | row)", result.confidence)
    page.table("itemsets", "Frequent itemsets", result.itemsets.set_index("itemset"))
    page.table("rules", "Association rules", result.rules)
    page.plot(
        "confidence", "Confidence of row -> column", heatmap(result.confidence, label="confidence")
    )
    page.notes.append(f"{len(result.rules):,} rules, in basket-rules.md and .csv.")
    _finish(page, output, "pairs", "confidence")


@app.command("choice")
def choice_command(
    test_share: Annotated[float, typer.Option(help="Share of choices held out for testing.")] = 0.3,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Brand choice: a multinomial logit (one row per choice) or conditional logit (every
    alternative offered) on the attributes, fitted on 70% and tested on 30%."""
    from analysis.choice import fit_choices
    from analysis.commerce_report import Page, bar_plot

    with Store.open(settings(db=db).db, readonly=True) as store:
        result = fit_choices(choice_table(store), test_share=test_share, seed=seed)
    page = Page("choice", f"Brand choice: {result.kind}")
    page.table("fit", "Fit, likelihood-ratio test and hit rate", result.summary())
    page.table("coefficients", "Coefficients", result.coefficients)
    page.plot(
        "coefficients",
        "Coefficients",
        bar_plot(
            result.coefficients.set_index(
                result.coefficients["alternative"]
                .str.cat(result.coefficients["term"], sep=" ")
                .str.strip()
            )["coef"],
            xlabel="term",
            ylabel="coefficient",
        ),
    )
    _finish(page, output, "fit", "coefficients")


@app.command("segments")
def segments_command(
    max_k: Annotated[int, typer.Option(help="Largest number of segments tried.")] = 8,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Consumer segments: k-means on scaled shopper features (mean price, discount share,
    items per order, orders per month), k by silhouette, a profile per segment."""
    from analysis.commerce_report import Page, line_plot
    from analysis.segments import kmeans_segments, shopper_features

    segments = kmeans_segments(shopper_features(_lines(db)), ks=range(2, max_k + 1), seed=seed)
    page = Page("segments", f"Consumer segments (k = {segments.k})")
    page.table("profile", "Profile of each segment (means)", segments.profile)
    page.table("silhouette", "Mean silhouette by k", segments.silhouettes.to_frame())
    page.table("customers", "Segment of each customer", segments.labels.to_frame())
    page.plot(
        "silhouette",
        "Mean silhouette by k",
        line_plot(segments.silhouettes, xlabel="k", ylabel="mean silhouette"),
    )
    _finish(page, output, "profile", "silhouette")


@app.command("rfm")
def rfm_command(
    silent_days: Annotated[
        float, typer.Option(help="Days without an order before a repeat customer is silent.")
    ] = 90,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """RFM scores and segments per customer, price-sensitivity segments, and the silent
    customers to win back."""
    from analysis.commerce_report import Page, bar_plot
    from analysis.lifecycle import rfm, silent_customers
    from analysis.pricing import price_sensitivity

    lines = _lines(db)
    scores = rfm(lines)
    sizes = scores["segment"].value_counts().rename("customers").to_frame()
    page = Page("rfm", "Customer lifecycle: RFM, price sensitivity, silent customers")
    page.table("segments", "Customers per RFM segment", sizes)
    page.table("scores", "RFM per customer", scores)
    if lines["list_price"].notna().any():
        sensitivity = price_sensitivity(lines)
        page.table(
            "price-segments",
            "Customers per price-sensitivity segment",
            sensitivity["segment"].value_counts().rename("customers").to_frame(),
        )
        page.table("price-sensitivity", "Price sensitivity per customer", sensitivity)
    page.table(
        "silent",
        f"Silent customers (no order for over {silent_days:g} days)",
        silent_customers(lines, silent_days=silent_days),
    )
    page.plot(
        "segments",
        "Customers per RFM segment",
        bar_plot(sizes["customers"], xlabel="segment", ylabel="customers"),
    )
    silent = len(page.tables["silent"][1])
    page.notes.append(f"{silent:,} silent customers to win back, in rfm-silent.md and .csv.")
    stdout.print(page.notes[-1])
    shown = ["segments"] + (["price-segments"] if "price-segments" in page.tables else [])
    _finish(page, output, *shown)


@app.command("churn")
def churn_command(
    horizon: Annotated[float, typer.Option(help="Days without an order that count as churn.")] = 90,
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Churn: logistic regression and gradient boosting, trained on one period and tested on the
    next (AUC, lift at the top decile, calibration plot)."""
    from analysis.commerce_report import Page, calibration_plot
    from analysis.lifecycle import churn_models

    result = churn_models(_lines(db), horizon_days=horizon, seed=seed)
    page = Page("churn", "Churn models")
    page.notes.append(
        f"Trained at {result.train_cutoff:%Y-%m-%d} ({result.train_customers} customers), tested "
        f"at {result.test_cutoff:%Y-%m-%d} ({result.test_customers} customers, "
        f"{result.churn_rate:.1%} churned): churn is no order in the next {horizon:g} days."
    )
    page.table("models", "Test-period performance", result.table())
    page.table(
        "scores",
        "Churn scores per test customer",
        pd.concat([m.scores for m in result.models], axis=1),
    )
    page.plot(
        "calibration",
        "Calibration on the test period",
        calibration_plot({m.name: m.calibration for m in result.models}),
    )
    _finish(page, output, "models")


@app.command("recommend")
def recommend_command(
    top: Annotated[int, typer.Option(help="Items recommended per customer.")] = 5,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Item-based collaborative filtering (cosine similarity): top-N items per customer and
    the hit rate on each customer's held-out last new item."""
    from analysis.commerce_report import Page
    from analysis.recommend import holdout_hit_rate, item_similarity, purchase_matrix, recommend

    lines = _lines(db)
    matrix = purchase_matrix(lines)
    similarity = item_similarity(matrix)
    evaluation = holdout_hit_rate(lines, top)
    page = Page("recommend", "Recommendations (item-based collaborative filtering)")
    page.table(
        "holdout",
        "Hit rate on held-out purchases",
        pd.DataFrame(
            {
                "value": {
                    "customers held out": f"{evaluation.customers:,}",
                    "top N": str(evaluation.top_n),
                    "hit rate": f"{evaluation.hit_rate:.3f}",
                    "hit rate of the most bought items": f"{evaluation.popular_hit_rate:.3f}",
                }
            }
        ),
    )
    page.table(
        "recommendations",
        f"Top {top} per customer",
        recommend(matrix, similarity, top).set_index("customer_id"),
    )
    page.table("similarity", "Cosine similarity of items", similarity)
    _finish(page, output, "holdout")


@app.command("price-bands")
def price_bands_command(
    bands: Annotated[str, typer.Option(help="Band edges of the unit price paid.")] = (
        "0,50,100,200,500"
    ),
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """The distribution of sales over price bands, as a table and a plot."""
    from analysis.commerce_report import Page, bar_plot
    from analysis.pricing import parse_bands, price_bands

    table = price_bands(_lines(db), parse_bands(bands))
    page = Page("price-bands", "Sales by price band")
    page.table("bands", "Sales by price band (unit price paid)", table)
    page.plot(
        "bands",
        "Share of sales amount by price band",
        bar_plot(table["amount share"], xlabel="price band", ylabel="share of sales amount"),
    )
    _finish(page, output, "bands")


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
    seed: SeedOption = 0,
    output: OutputOption = Path("report"),
    db: DbOption = None,
) -> None:
    """Which features go with a high sales level: correlations (Spearman or Pearson after
    Shapiro-Wilk), KNN per feature group, KMO/Bartlett and factor scores in a logistic
    regression, permutation importance."""
    from analysis.commerce_report import Page, bar_plot, roc_plot
    from analysis.streamers import (
        check_folds,
        correlations,
        factor_logit,
        importance,
        knn_table,
        level_names,
        prepared,
        read_features,
        sales_levels,
        store_features,
    )

    if figure not in ("sales_amount", "sales_volume"):
        raise typer.BadParameter("choose sales_amount or sales_volume", param_hint="--figure")
    if features is not None:
        raw = read_features(features, sales_column=sales_column)
    else:
        with Store.open(settings(db=db).db, readonly=True) as store:
            raw = store_features(store, days=days, figure=figure, period=period)
    data = prepared(raw, [name.strip() for name in drop.split(",") if name.strip()])
    level = sales_levels(data.sales, _floats(levels, "--levels"))
    check_folds(level, folds)
    names = level_names(int(level.max()) + 1)
    page = Page("streamers", "Streamer features and sales level")
    page.notes += data.notes
    counts = ", ".join(f"{names[i]} {n}" for i, n in level.value_counts().sort_index().items())
    page.notes.append(
        f"{len(data.sales)} streamers, {data.features.shape[1]} features; sales levels "
        f"(quantiles {levels}): {counts}. Scores are out of fold ({folds}-fold, seed {seed})."
    )
    related = correlations(data, correlation)
    page.notes.append(
        f"Shapiro-Wilk on sales: W = {related.shapiro_w:.4f}, p = {related.shapiro_p:.3g}: "
        f"{related.method} correlations."
    )
    page.table(
        "correlation", f"{related.method} correlation of each feature with sales", related.table
    )
    page.table(
        "knn",
        f"K-nearest neighbours per feature group (Minkowski p = {minkowski_p:g})",
        knn_table(data, level, folds=folds, minkowski_p=minkowski_p, seed=seed),
    )
    factors = factor_logit(data, level, variance_share=variance, folds=folds, seed=seed)
    page.table("adequacy", "Sampling adequacy (KMO) and Bartlett's sphericity test",
               factors.adequacy.table())  # fmt: skip
    page.table(
        "variance",
        f"Explained variance: {factors.n_factors} factors reach {variance:.0%}",
        factors.variance,
    )
    page.table("loadings", "Varimax loadings", factors.loadings)
    page.table(
        "factor-logit",
        "Logistic regression on the factor scores",
        pd.DataFrame({"value": factors.evaluation.scores}),
    )
    page.table("collinear", "Collinear features (|r| > 0.8)", factors.collinear)
    ranked = importance(data, level, folds=folds, seed=seed)
    page.table("importance", "Permutation importance (drop in held-out ROC AUC)", ranked)
    page.plot("roc", "ROC of the logistic regression on factor scores (out of fold)",
              roc_plot(factors.evaluation.roc))  # fmt: skip
    page.plot(
        "importance",
        "The 15 most important features",
        bar_plot(ranked["importance"].head(15), xlabel="feature", ylabel="drop in ROC AUC"),
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
    from analysis.audience import audience
    from analysis.commerce_report import Page, bar_plot
    from analysis.streamers import read_numbers

    result = audience(
        read_numbers(file, "viewer"), outcome=outcome, retained_seconds=retained, folds=folds,
        seed=seed,
    )  # fmt: skip
    page = Page("audience", "Live audience tiers")
    page.notes.append(
        f"{len(result.viewers):,} viewers; random forest accuracy (out of fold, {folds}-fold): "
        f"{result.accuracy:.3f}; OLS R² {result.r_squared:.3f}."
    )
    page.table("rates", "Retention and conversion of the session", result.rates)
    page.table("confusion", "Tier against the random forest's prediction", result.confusion)
    page.table(
        "regression", f"OLS of {outcome} on interaction (HC3 standard errors)", result.regression
    )
    page.table("viewers", "Each viewer's interaction and tier", result.viewers)
    mean = result.viewers.groupby("tier", observed=True)[outcome].mean()
    page.plot("tiers", f"Mean {outcome} by tier", bar_plot(mean, xlabel="tier", ylabel=outcome))
    _finish(page, output, "rates", "confusion", "regression")
