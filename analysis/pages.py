"""The pages of the commerce, streamer and audience analyses: each function runs its analysis
and returns a `Page` of notes, tables and plots, which `analysis.report.write_page` writes.

The models' libraries (statsmodels, scikit-learn, mlxtend) take seconds to import, so each
function imports its analysis when it runs: a caller pays only for the one it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from analysis.plots import bar_plot, calibration_plot, heatmap, line_plot, roc_plot

if TYPE_CHECKING:
    from analysis.propensity import EventModelResult
    from analysis.streamers import StreamerData


@dataclass
class Page:
    """One analysis's output: its name (the stem of its files), title, notes, tables and plots,
    in the order added."""

    name: str
    title: str
    notes: list[str] = field(default_factory=list)
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    plots: dict[str, tuple[str, Figure]] = field(default_factory=dict)

    def table(self, key: str, caption: str, table: pd.DataFrame) -> None:
        """Add a table under `key` (its file names) with a caption."""
        self.tables[key] = (caption, table)

    def plot(self, key: str, caption: str, figure: Figure) -> None:
        """Add a plot under `key` (its file name) with a caption."""
        self.plots[key] = (caption, figure)


# -- orders and choices ----------------------------------------------------------------------


def basket_page(
    lines: pd.DataFrame,
    *,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    max_len: int | None = None,
    per_customer: bool = False,
) -> Page:
    """Association rules of the items bought together in an order, or `per_customer` by the
    same customer (`lines`: the order lines of `analysis.commerce.order_lines`): pair counts,
    confidence, frequent itemsets and rules."""
    from analysis.basket import association, baskets_of

    basket = "customer_id" if per_customer else "order_id"
    result = association(
        baskets_of(lines, basket=basket),
        min_support=min_support,
        min_confidence=min_confidence,
        max_len=max_len,
    )
    page = Page("basket", "Items bought together")
    page.notes.append(f"{result.baskets:,} baskets ({'customers' if per_customer else 'orders'}).")
    counts = result.pair_counts.astype(object)
    page.table("pairs", "Baskets holding both items (diagonal: the item)", counts)
    page.table("confidence", "Confidence of row -> column: P(column | row)", result.confidence)
    page.table("itemsets", "Frequent itemsets", result.itemsets.set_index("itemset"))
    page.table("rules", "Association rules", result.rules)
    page.plot(
        "confidence", "Confidence of row -> column", heatmap(result.confidence, label="confidence")
    )
    page.notes.append(f"{len(result.rules):,} rules, in basket-rules.md and .csv.")
    return page


def choice_page(
    choices: pd.DataFrame,
    *,
    test_share: float = 0.3,
    seed: int = 0,
    split_by: str = "choice",
    goodness_of_fit: bool = False,
) -> Page:
    """Brand choice (`choices`: the table of `analysis.commerce.choice_table`): a multinomial or
    conditional logit fitted on all but `test_share` of the choices (drawn by choice or, with
    `split_by` "customer", by customer) and tested on the rest; with `goodness_of_fit`, also
    the Pearson and deviance goodness-of-fit tests."""
    from analysis.choice import fit_choices

    result = fit_choices(choices, test_share=test_share, seed=seed, split_by=split_by)
    page = Page("choice", f"Brand choice: {result.kind}")
    cases = choices["choice_id"].nunique()
    page.notes.append(
        f"N = {result.train_cases:,} choices fitted of {cases:,} (the other"
        f" {result.test_cases:,} held out for the hit rate; none dropped). SE model-based"
        " (observed information), not clustered: one cluster per choice."
    )
    texts = [
        c
        for c in choices.columns
        if c not in ("choice_id", "alternative", "chosen", "customer_id")
        and not pd.api.types.is_numeric_dtype(choices[c])
    ]
    references = [f"alternative = {result.base}"] + [
        f"{c} = {sorted(choices[c].dropna().astype(str).unique())[0]}" for c in texts
    ]
    page.notes.append(f"Reference categories: {', '.join(references)}.")
    page.notes.append(
        f"The likelihood-ratio test compares the model with the null model ({result.null_model}); "
        "hit rates carry 95% percentile bootstrap intervals over the test choices."
    )
    page.table(
        "fit",
        "Fit, likelihood-ratio test against the null model and hit rate",
        result.summary(goodness_of_fit),
    )
    if goodness_of_fit:
        tests = result.fit_tests
        page.table(
            "goodness-of-fit",
            "Pearson and deviance goodness of fit over covariate patterns (training choices)",
            tests,
        )
        sparse = float(tests["cells expected below 5"].iloc[0])
        if sparse > 0.2:
            page.notes.append(
                f"Caution: {sparse:.0%} of the pattern x alternative cells are expected below 5 "
                f"({int(tests['patterns'].iloc[0]):,} covariate patterns among "
                f"{result.train_cases:,} choices), so the goodness-of-fit p-values, which assume "
                "a chi-square distribution, are unreliable."
            )
    page.table("coefficients", "Coefficients", result.coefficients)
    terms = (
        result.coefficients["alternative"].str.cat(result.coefficients["term"], sep=" ").str.strip()
    )
    page.plot(
        "coefficients",
        "Coefficients",
        bar_plot(result.coefficients.set_index(terms)["coef"], xlabel="term", ylabel="coefficient"),
    )
    return page


def segments_page(lines: pd.DataFrame, *, max_k: int = 8, seed: int = 0) -> Page:
    """Consumer segments: k-means on scaled shopper features for k from 2 to `max_k`, k by
    silhouette, a profile per segment."""
    from analysis.segments import kmeans_segments, shopper_features

    segments = kmeans_segments(shopper_features(lines), ks=range(2, max_k + 1), seed=seed)
    page = Page("segments", f"Consumer segments (k = {segments.k})")
    page.table("profile", "Profile of each segment (means)", segments.profile)
    page.table("silhouette", "Mean silhouette by k", segments.silhouettes.to_frame())
    page.table("customers", "Segment of each customer", segments.labels.to_frame())
    page.plot(
        "silhouette",
        "Mean silhouette by k",
        line_plot(segments.silhouettes, xlabel="k", ylabel="mean silhouette"),
    )
    return page


def rfm_page(lines: pd.DataFrame, *, silent_days: float = 90) -> Page:
    """RFM scores and segments per customer, price-sensitivity segments (where list prices were
    imported), and the customers without an order for over `silent_days`. The last note counts
    the silent customers."""
    from analysis.lifecycle import rfm, silent_customers
    from analysis.pricing import price_sensitivity

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
    silent = silent_customers(lines, silent_days=silent_days)
    page.table("silent", f"Silent customers (no order for over {silent_days:g} days)", silent)
    page.plot(
        "segments",
        "Customers per RFM segment",
        bar_plot(sizes["customers"], xlabel="segment", ylabel="customers"),
    )
    page.notes.append(f"{len(silent):,} silent customers to win back, in rfm-silent.md and .csv.")
    return page


def churn_page(lines: pd.DataFrame, *, horizon_days: float = 90, seed: int = 0) -> Page:
    """Churn (no order in the next `horizon_days`): logistic regression and gradient boosting,
    trained on one period and tested on the next, with a calibration plot."""
    from analysis.lifecycle import churn_models

    result = churn_models(lines, horizon_days=horizon_days, seed=seed)
    page = Page("churn", "Churn models")
    page.notes.append(
        f"Trained at {result.train_cutoff:%Y-%m-%d} ({result.train_customers} customers), tested "
        f"at {result.test_cutoff:%Y-%m-%d} ({result.test_customers} customers, "
        f"{result.churn_rate:.1%} churned): churn is no order in the next {horizon_days:g} days."
    )
    page.notes.append(
        f"{result.active_customers} test customers were active at the cutoff (an order in the "
        f"{horizon_days:g} days before it; {result.active_churn_rate:.1%} of them churned). "
        "Customers gone longer are churned almost by definition and recency alone ranks them, "
        "so the AUC over all customers flatters every model: the AUC of the active ones, and "
        "the recency baseline, show what a model adds."
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
    return page


def event_model_page(result: EventModelResult, name: str, outcome: str) -> Page:
    """An event model's page (`analysis.propensity`): who counted, the periods, the models'
    AUC with bootstrap intervals, top-decile lift and Brier score, the scores and the
    calibration plot; `outcome` names it in the plot."""
    page = Page(name, f"Event model: {result.outcome}")
    page.notes.append(result.note)
    (train_low, train_high), (test_low, test_high) = result.train_period, result.test_period
    page.notes.append(
        f"Trained on {result.train_cases:,} cases from {train_low:%Y-%m-%d} to "
        f"{train_high:%Y-%m-%d}, tested on {result.test_cases:,} cases from "
        f"{test_low:%Y-%m-%d} to {test_high:%Y-%m-%d} ({result.rate:.1%} with the outcome). "
        "AUC intervals: 95% percentile bootstrap over the test cases."
    )
    page.table("models", "Test-period performance", result.table())
    scores = pd.concat([m.scores for m in result.models], axis=1)
    scores.insert(0, "outcome", result.test["outcome"].to_numpy())
    scores.insert(0, "unit", result.test["unit"].to_numpy())
    page.table("scores", "Scores per test case", scores)
    page.plot(
        "calibration",
        "Calibration on the test period",
        calibration_plot({m.name: m.calibration for m in result.models}, outcome),
    )
    return page


def recommend_page(lines: pd.DataFrame, *, top: int = 5) -> Page:
    """Item-based collaborative filtering (cosine similarity): the `top` items per customer and
    the hit rate on each customer's held-out last new item."""
    from analysis.recommend import holdout_hit_rate, item_similarity, purchase_matrix, recommend

    matrix = purchase_matrix(lines)
    similarity = item_similarity(matrix)
    evaluation = holdout_hit_rate(lines, top)
    page = Page("recommend", "Recommendations (item-based collaborative filtering)")
    holdout = {
        "customers held out": f"{evaluation.customers:,}",
        "top N": str(evaluation.top_n),
        "hit rate": f"{evaluation.hit_rate:.3f}",
        "hit rate of the most bought items": f"{evaluation.popular_hit_rate:.3f}",
    }
    page.table("holdout", "Hit rate on held-out purchases", pd.DataFrame({"value": holdout}))
    page.table(
        "recommendations",
        f"Top {top} per customer",
        recommend(matrix, similarity, top).set_index("customer_id"),
    )
    page.table("similarity", "Cosine similarity of items", similarity)
    return page


def price_bands_page(lines: pd.DataFrame, edges: Sequence[float]) -> Page:
    """The distribution of sales over the price bands between `edges` (and above the last), as
    a table and a plot."""
    from analysis.pricing import price_bands

    table = price_bands(lines, edges)
    page = Page("price-bands", "Sales by price band")
    page.table("bands", "Sales by price band (unit price paid)", table)
    page.plot(
        "bands",
        "Share of sales amount by price band",
        bar_plot(table["amount share"], xlabel="price band", ylabel="share of sales amount"),
    )
    return page


# -- streamers and live audiences --------------------------------------------------------------


def streamers_page(
    features: StreamerData,
    *,
    quantiles: Sequence[float] = (0.5,),
    drop: Sequence[str] = (),
    folds: int = 5,
    minkowski_p: float = 2,
    variance: float = 0.8,
    correlation: str = "auto",
    adjust: str = "bh",
    seed: int = 0,
) -> Page:
    """Which features go with a high sales level (sales cut into levels at `quantiles`), the
    `drop`ped features left out: correlations (Spearman or Pearson after Shapiro-Wilk, p-values
    adjusted by `adjust`, "bh" or "holm"), KNN per
    feature group, KMO/Bartlett and factor scores (reaching `variance`) in a logistic
    regression, permutation importance; scored by `folds`-fold cross-validation."""
    from analysis.streamers import (
        check_folds,
        correlations,
        factor_logit,
        importance,
        knn_table,
        level_names,
        prepared,
        sales_levels,
    )

    data = prepared(features, drop)
    level = sales_levels(data.sales, quantiles)
    check_folds(level, folds)
    names = level_names(int(level.max()) + 1)
    page = Page("streamers", "Streamer features and sales level")
    page.notes += data.notes
    counts = ", ".join(f"{names[i]} {n}" for i, n in level.value_counts().sort_index().items())
    page.notes.append(
        f"{len(data.sales)} streamers, {data.features.shape[1]} features; sales levels "
        f"(quantiles {','.join(f'{q:g}' for q in quantiles)}): {counts}. Scores are out of "
        f"fold ({folds}-fold, seed {seed})."
    )
    related = correlations(data, correlation, adjust)
    page.notes.append(
        f"Shapiro-Wilk on sales: W = {related.shapiro_w:.4f}, p = {related.shapiro_p:.3g}: "
        f"{related.method} correlations; their stars mark p-values adjusted for "
        f"{len(related.table)} tests by {related.adjustment}."
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
    page.table(
        "adequacy",
        "Sampling adequacy (KMO) and Bartlett's sphericity test: pairwise correlations over all "
        "rows (psych's convention) and complete cases",
        pd.concat([adequacy.table() for adequacy in factors.adequacy], axis=1),
    )
    page.table(
        "variance",
        f"Explained variance: {factors.n_factors} factors reach {variance:.0%} on all "
        f"streamers; chosen in each fold on its training streamers: "
        f"{', '.join(map(str, factors.fold_factors))}",
        factors.variance,
    )
    page.table("loadings", "Varimax loadings", factors.loadings)
    page.table(
        "factor-logit",
        "Logistic regression on the factor scores (out of fold; 95% percentile bootstrap "
        "intervals)",
        factors.evaluation.table(),
    )
    page.table("collinear", "Collinear features (|r| > 0.8)", factors.collinear)
    ranked = importance(data, level, folds=folds, seed=seed)
    page.table("importance", "Permutation importance (drop in held-out ROC AUC)", ranked)
    page.plot(
        "roc",
        "ROC of the logistic regression on factor scores (out of fold)",
        roc_plot(factors.evaluation.roc),
    )
    page.plot(
        "importance",
        "The 15 most important features",
        bar_plot(ranked["importance"].head(15), xlabel="feature", ylabel="drop in ROC AUC"),
    )
    return page


def audience_page(
    viewers: pd.DataFrame,
    *,
    outcome: str = "purchases",
    retained_seconds: float = 60,
    folds: int = 5,
    seed: int = 0,
) -> Page:
    """Live-audience tiers of a session's `viewers`: interaction, quartile tiers, a random
    forest that tells the tier from behaviour, retention (watching `retained_seconds` or more)
    and conversion, and OLS of `outcome` on interaction."""
    from analysis.audience import audience

    result = audience(
        viewers, outcome=outcome, retained_seconds=retained_seconds, folds=folds, seed=seed
    )
    page = Page("audience", "Live audience tiers")
    page.notes.append(
        f"{len(result.viewers):,} viewers; random forest accuracy (out of fold, {folds}-fold): "
        f"{result.accuracy:.3f}; OLS R² {result.r_squared:.3f}."
    )
    missing = int(viewers[outcome].isna().sum())
    page.notes.append(
        f"OLS of {outcome} on interaction: N = {len(result.viewers):,} viewers, none dropped"
        f" ({missing:,} without {outcome} count as 0); SE HC3 (heteroskedasticity-robust), not"
        " clustered: one cluster per viewer."
    )
    page.notes.append(
        "Caution: the tiers are cut from comments + likes + shares, and the forest predicts them "
        "from those same counts, so its accuracy is circular: it shows how well the forest "
        "relearns a sum, not that behaviour predicts a tier. The cut-off rule beside it assigns "
        "every tier exactly."
    )
    page.table("rates", "Retention and conversion of the session", result.rates)
    page.table(
        "rule",
        "The cut-off rule that defines the tiers (interaction = comments + likes + shares; "
        "quartiles, a viewer at a cut in the tier below)",
        result.rule,
    )
    page.table("confusion", "Tier against the random forest's prediction", result.confusion)
    page.table(
        "regression", f"OLS of {outcome} on interaction (HC3 standard errors)", result.regression
    )
    page.table("viewers", "Each viewer's interaction and tier", result.viewers)
    mean = result.viewers.groupby("tier", observed=True)[outcome].mean()
    page.plot("tiers", f"Mean {outcome} by tier", bar_plot(mean, xlabel="tier", ylabel=outcome))
    return page
