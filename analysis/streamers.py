"""Streamer sales levels: which features go with a high sales level.

One row per streamer (from the store, or a feature table the researcher brings), the sales
split into levels at quantiles; then the correlation of each feature with sales, k-nearest
neighbours per feature group, factor scores into a logistic regression, and permutation
importance, all scored by stratified cross-validation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.multitest import multipletests

from analysis.bootstrap import percentile_interval, resample_counts, weighted_auc, weighted_f1
from analysis.factors import (
    CONVENTIONS,
    PAIRWISE,
    Adequacy,
    collinear_pairs,
    explained_variance,
    factors_for,
    fold_factor_model,
    loadings,
    sampling_adequacy,
)
from analysis.formatting import stars
from smcat.errors import SettingError, SmcatError
from smcat.store import Store
from smcat.tables import read_table

PERSONAL = "personal attributes"
DAILY = "daily behaviour"
MONTH = "marketing-month behaviour"
SINGLE = "single marketing feature"
ALL = "all features"
# The feature groups of the source study, declared here only: a feature belongs to a group by
# its name's prefix, so a table from a file gets the group models by naming columns the same way.
GROUP_PREFIXES = {"personal_": PERSONAL, "daily_": DAILY, "month_": MONTH}
# the study's single marketing feature: likes per follower over the marketing month
SINGLE_FEATURE = "month_likes_per_follower"
ALPHA = 0.05
# odd k only, so that two sales levels cannot tie a vote
K_CANDIDATES = range(1, 22, 2)
INNER_FOLDS = 3
CORRELATION_METHODS = ("auto", "spearman", "pearson")
# multiple-testing adjustments of the correlation p-values: option -> (statsmodels, label)
ADJUSTMENTS = {"bh": ("fdr_bh", "Benjamini-Hochberg"), "holm": ("holm", "Holm")}


@dataclass(frozen=True)
class StreamerData:
    """Numeric features (one row per streamer, indexed by the streamer's name or id), their
    sales, and notes on how the table was built."""

    features: pd.DataFrame
    sales: pd.Series
    notes: list[str] = field(default_factory=list)


def feature_groups(columns: Sequence[str], single: str = SINGLE_FEATURE) -> dict[str, list[str]]:
    """The non-empty feature groups of these columns: by prefix, the single feature if there,
    and all features."""
    groups = {
        name: [c for c in columns if c.startswith(prefix)]
        for prefix, name in GROUP_PREFIXES.items()
    }
    groups[SINGLE] = [single] if single in columns else []
    groups[ALL] = list(columns)
    return {name: members for name, members in groups.items() if members}


# -- the table: from the store or from a file ------------------------------------------------


def store_features(
    store: Store,
    *,
    platform: str = "douyin",
    days: float = 30,
    until: str | None = None,
    figure: str = "sales_amount",
    period: str | None = None,
) -> StreamerData:
    """One row per crawled account with imported sales linked to it: profile figures of its
    latest snapshot (personal_), live sessions in the window (daily_), and its posting over the
    `days` before `until` (default: just after the newest stored post) (month_); sales is the
    imported `figure` (sales_amount or sales_volume) of `period` (needed where sales of several
    periods are stored), a range's midpoint where the export gave a range."""
    sales_rows = store.linked_streamer_sales(platform)
    sales = pd.DataFrame(sales_rows.rows, columns=list(sales_rows.columns))
    if period is not None:
        sales = sales[sales["period"] == period]
    if sales.empty:
        raise SmcatError(
            f"no imported sales are linked to crawled {platform} accounts"
            + (f" for period {period!r}" if period else "")
            + ": crawl the streamers (smcat crawl douyin-user) and `smcat import streamers FILE`"
        )
    repeated = sales[sales["account_id"].duplicated(keep=False)]
    if not repeated.empty:
        seen = ", ".join(
            sorted(
                {f"{s} {p}" for s, p in zip(repeated["source"], repeated["period"], strict=True)}
            )
        )
        raise SettingError(
            f"streamers have sales of several periods or sources ({seen}): choose one period",
            period=None,
        )
    notes: list[str] = []
    low, high = sales[f"{figure}_low"], sales[f"{figure}_high"]
    midpoint = sales[figure].isna() & low.notna() & high.notna()
    if midpoint.any():
        notes.append(f"{int(midpoint.sum())} streamers' {figure} is a range: its midpoint is used.")
    figures = sales[figure].where(~midpoint, (low + high) / 2)

    end = pd.Timestamp(until or store.latest_post_time(platform) or pd.Timestamp.now("UTC"))
    if until is None:
        end += pd.Timedelta(seconds=1)  # so that the newest post falls in the window
    start = end - pd.Timedelta(days=days)
    window = (start.isoformat(), end.isoformat())
    notes.append(f"Posting and live figures from {window[0]} to {window[1]} ({days:g} days).")

    profiles = _frame(store.account_profiles(platform)).set_index("account_id")
    posts = _frame(store.account_posts(platform, *window))
    lives = _frame(store.live_sessions(platform, *window))
    accounts = pd.Index(sales["account_id"], name="streamer")
    profile = profiles.reindex(accounts)
    videos = posts[posts["media_type"] == "video"].groupby("account_id")
    posted = posts.groupby("account_id")["post_id"].count().reindex(accounts, fill_value=0)
    video_count = videos["post_id"].count().reindex(accounts, fill_value=0)
    live = lives.groupby("account_id")
    table = pd.DataFrame(
        {
            "personal_followers": profile["followers"],
            "personal_following": profile["following"],
            "personal_works": profile["posts"],
            "personal_total_likes": profile["total_likes"],
            "personal_verified": profile["verified"],
            "daily_videos_per_day": video_count / days,
            "daily_live_sessions": live["room_id"].count().reindex(accounts, fill_value=0),
            "daily_live_peak_viewers": live["peak_viewers"].mean().reindex(accounts),
            "daily_live_viewers_total": live["viewers_total"].mean().reindex(accounts),
            "daily_live_likes": live["likes"].mean().reindex(accounts),
            "month_posts": posted,
            "month_videos": video_count,
            "month_video_share": video_count / posted.where(posted > 0),
            "month_comments_per_video": videos["comments"].mean().reindex(accounts),
            "month_shares_per_video": videos["shares"].mean().reindex(accounts),
            "month_likes_per_video": videos["likes"].mean().reindex(accounts),
            "month_likes_per_follower": videos["likes"].sum().reindex(accounts, fill_value=0)
            / profile["followers"].where(profile["followers"] > 0),
        },
        index=accounts,
    ).astype(float)
    names = profile["screen_name"].fillna(pd.Series(sales["nickname"].to_numpy(), accounts))
    table.index = pd.Index(names.fillna(accounts.to_series()), name="streamer")
    return StreamerData(table, pd.Series(figures.to_numpy(), table.index, name="sales"), notes)


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows.rows, columns=list(rows.columns))


def read_features(path: Path, *, sales_column: str = "sales") -> StreamerData:
    """A feature table from a CSV or XLSX file: the first column names the streamer, the column
    `sales_column` holds the sales, every other column is a numeric feature (empty cells are
    gaps)."""
    data = read_numbers(path, "streamer")
    if sales_column not in data.columns:
        raise SettingError(
            f"{path}: no column {sales_column!r} (the columns are {', '.join(data.columns)}): "
            "name the sales column",
            sales_column=None,
        )
    return StreamerData(data.drop(columns=sales_column), data[sales_column].rename("sales"))


def read_numbers(path: Path, name: str) -> pd.DataFrame:
    """A CSV or XLSX table whose first column names the rows (the index, called `name`) and
    whose other columns are numbers, empty cells as NaN; an error names the row and column of
    a cell that is no number."""
    table = read_table(path)
    values: dict[str, list[float]] = {column: [] for column in table.header[1:]}
    for number, cells in table.rows:
        for column, cell in zip(table.header[1:], cells[1:], strict=True):
            values[column].append(_number(path, number, column, cell))
    index = pd.Index([cells[0] for _, cells in table.rows], name=name)
    return pd.DataFrame(values, index=index)


def _number(path: Path, row: int, column: str, cell: str) -> float:
    if not cell:
        return math.nan
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        raise SmcatError(
            f"{path} row {row}, column {column!r}: {cell!r} is no number: code it as a number "
            "(e.g. 0/1 for a yes/no attribute) or leave the cell empty"
        ) from None


# -- checks and sales levels --------------------------------------------------------------------


def prepared(data: StreamerData, drop: Sequence[str] = ()) -> StreamerData:
    """The data ready for the models: `drop`ped features removed, gaps in features noted (the
    models fill them with the training streamers' medians, fold by fold); an error naming the
    fix for gaps in sales or a constant feature."""
    unknown = [name for name in drop if name not in data.features.columns]
    if unknown:
        raise SettingError(f"no such feature to drop: {', '.join(unknown)}", drop=None)
    features = data.features.drop(columns=list(drop))
    gaps = data.sales.index[data.sales.isna()]
    if len(gaps):
        raise SmcatError(
            f"sales are missing for {len(gaps)} streamers ({', '.join(map(str, gaps[:5]))}"
            f"{', ...' if len(gaps) > 5 else ''}): fill them in or remove those streamers"
        )
    constant = [c for c in features.columns if features[c].nunique(dropna=True) <= 1]
    if constant:
        raise SettingError(
            f"features without variation: {', '.join(constant)}: leave them out", drop=constant
        )
    notes = list(data.notes)
    holes = features.isna().sum()
    if holes.any():
        listed = ", ".join(f"{name} ({count})" for name, count in holes[holes > 0].items())
        rows = int(features.isna().any(axis=1).sum())
        notes.append(
            f"{rows} of {len(features)} streamers have gaps, imputed with the training "
            f"streamers' median inside each cross-validation fold: {listed}."
        )
    return StreamerData(features, data.sales, notes)


def sales_levels(sales: pd.Series, quantiles: Sequence[float] = (0.5,)) -> pd.Series:
    """Each streamer's sales level, coded 0 (lowest) upwards: above the median is 1 by default;
    with several quantiles, one level between each pair of cuts."""
    if not quantiles or any(not 0 < q < 1 for q in quantiles):
        raise SettingError(
            f"sales level quantiles {list(quantiles)}: give them between 0 and 1, e.g. 0.5",
            quantiles=None,
        )
    cuts = np.sort(sales.quantile(sorted(quantiles)).to_numpy())
    # a streamer exactly at a cut belongs to the level below it: "above the median" is high
    coded = np.searchsorted(cuts, sales.to_numpy(), side="left")
    return pd.Series(coded, sales.index, name="level")


def level_names(levels: int) -> list[str]:
    """The names of the sales levels, lowest first."""
    if levels == 2:
        return ["low", "high"]
    if levels == 3:
        return ["low", "middle", "high"]
    return [f"level {i}" for i in range(1, levels + 1)]


def check_folds(levels: pd.Series, folds: int) -> None:
    """An error naming the fix when a sales level has too few streamers for `folds`-fold
    cross-validation with the inner choice of k."""
    if folds < 2:
        raise SettingError(f"{folds}-fold cross-validation: it needs at least 2 folds", folds=None)
    counts = levels.value_counts().reindex(range(int(levels.max()) + 1), fill_value=0)
    fewest = int(counts.min())
    # every outer fold needs a streamer of each level, and each outer training part (all but
    # one fold) INNER_FOLDS of them for the inner choice of k
    needed = next(c for c in range(folds, 10_000) if c - math.ceil(c / folds) >= INNER_FOLDS)
    if fewest < needed:
        name = level_names(len(counts))[int(counts.idxmin())]
        raise SettingError(
            f"the {name} sales level has {fewest} streamers, too few for {folds}-fold "
            f"cross-validation (it needs {needed}): add streamers, or use fewer sales levels "
            "or fewer folds",
            quantiles=None,
            folds=None,
        )


# -- correlation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correlations:
    """Shapiro-Wilk's test of normal sales, the coefficient that follows from it, each
    feature's correlation with sales, and the multiple-testing adjustment of the p-values."""

    shapiro_w: float
    shapiro_p: float
    method: str  # "Spearman" or "Pearson"
    adjustment: str  # "Benjamini-Hochberg" or "Holm"
    table: pd.DataFrame  # feature -> group, coefficient, n, p, adjusted p, stars of adjusted p


def correlations(data: StreamerData, method: str = "auto", adjust: str = "bh") -> Correlations:
    """Each feature's correlation with sales over the streamers where the feature is present,
    its two-sided p-value, and that p-value adjusted over all features (`adjust`: "bh",
    Benjamini-Hochberg's false discovery rate, or "holm", Holm's family-wise error), which the
    stars mark: with method "auto", Spearman's rho when Shapiro-Wilk rejects normal sales at 5%,
    else Pearson's r; or the method named ("spearman", "pearson")."""
    if method not in CORRELATION_METHODS:
        raise SmcatError(f"correlation {method!r}: choose {', '.join(CORRELATION_METHODS)}")
    if adjust not in ADJUSTMENTS:
        raise SettingError(
            f"p-value adjustment {adjust!r}: choose {' or '.join(ADJUSTMENTS)}", adjust=None
        )
    shapiro = stats.shapiro(data.sales.to_numpy())
    if method == "auto":
        method = "pearson" if shapiro.pvalue >= ALPHA else "spearman"
    test = stats.pearsonr if method == "pearson" else stats.spearmanr
    group = _group_of(data.features.columns)
    rows = {}
    for name in data.features.columns:
        present = data.features[name].notna()
        result = test(data.features[name][present].to_numpy(), data.sales[present].to_numpy())
        rows[name] = {
            "group": group[name],
            "coefficient": result.statistic,
            "n": int(present.sum()),
            "p": result.pvalue,
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("feature")
    statsmodels_name, label = ADJUSTMENTS[adjust]
    adjusted = multipletests(table["p"].to_numpy(), alpha=ALPHA, method=statsmodels_name)[1]
    table[f"p ({label})"] = adjusted
    table["sig."] = [stars(p) for p in adjusted]
    return Correlations(
        float(shapiro.statistic), float(shapiro.pvalue), method.title(), label, table
    )


def _group_of(columns: Sequence[str]) -> dict[str, str]:
    return {
        name: next((g for p, g in GROUP_PREFIXES.items() if name.startswith(p)), "other")
        for name in columns
    }


# -- models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """A model's out-of-fold scores: recall, precision, F1 and ROC AUC (macro over levels when
    there are more than two), seeded percentile bootstrap intervals of F1 and ROC AUC, its ROC
    curve(s) (named with their AUC), and the model fitted in each fold."""

    scores: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    roc: dict[str, pd.DataFrame]  # curve name -> fpr, tpr
    fitted: list[BaseEstimator]

    def table(self) -> pd.DataFrame:
        """The scores with their 95% intervals where computed."""
        table = pd.DataFrame({"value": self.scores})
        table["95% CI"] = [_interval(self.intervals.get(name)) for name in table.index]
        return table


def _interval(bounds: tuple[float, float] | None) -> str:
    return "" if bounds is None else f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def evaluate(
    model: BaseEstimator, x: pd.DataFrame, levels: pd.Series, *, folds: int, seed: int
) -> Evaluation:
    """Score `model` by stratified `folds`-fold cross-validation: each streamer predicted by
    the model fitted without it; the intervals resample the streamers' held-out predictions."""
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    y = levels.to_numpy()
    proba = np.zeros((len(y), int(y.max()) + 1))
    fitted = []
    for train, test in splitter.split(x, y):
        fold = clone(model).fit(x.iloc[train], y[train])
        proba[test] = fold.predict_proba(x.iloc[test])
        fitted.append(fold)
    predicted = proba.argmax(axis=1)
    names = level_names(proba.shape[1])
    average = "binary" if proba.shape[1] == 2 else "macro"
    if proba.shape[1] == 2:
        auc = roc_auc_score(y, proba[:, 1])
        fpr, tpr, _ = roc_curve(y, proba[:, 1])
        curves = {f"high vs low (AUC {auc:.3f})": pd.DataFrame({"fpr": fpr, "tpr": tpr})}
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr")
        curves = {}
        for level, name in enumerate(names):
            fpr, tpr, _ = roc_curve(y == level, proba[:, level])
            one = roc_auc_score(y == level, proba[:, level])
            curves[f"{name} vs rest (AUC {one:.3f})"] = pd.DataFrame({"fpr": fpr, "tpr": tpr})
    scores = {
        "recall": recall_score(y, predicted, average=average, zero_division=0),
        "precision": precision_score(y, predicted, average=average, zero_division=0),
        "F1": f1_score(y, predicted, average=average, zero_division=0),
        "ROC AUC": auc,
    }
    counts = resample_counts(len(y), seed=seed)
    # scikit-learn's ROC AUC of several levels: the mean of each level's AUC against the rest
    shown = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    aucs = np.mean([weighted_auc(y == level, proba[:, level], counts) for level in shown], axis=0)
    intervals = {
        "F1": percentile_interval(weighted_f1(y, predicted, counts)),
        "ROC AUC": percentile_interval(aucs),
    }
    return Evaluation({k: float(v) for k, v in scores.items()}, intervals, curves, fitted)


def knn_model(rows: int, *, folds: int, minkowski_p: float, seed: int) -> GridSearchCV:
    """Median imputation, scaling and k-nearest neighbours (Minkowski distance of power
    `minkowski_p`), k chosen by an inner stratified cross-validation on ROC AUC among the odd k
    a training part of `rows` streamers allows."""
    train = rows * (folds - 1) // folds
    inner_train = train * (INNER_FOLDS - 1) // INNER_FOLDS
    ks = [k for k in K_CANDIDATES if k <= inner_train] or [1]
    pipeline = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), KNeighborsClassifier(p=minkowski_p)
    )
    return GridSearchCV(
        pipeline,
        {"kneighborsclassifier__n_neighbors": ks},
        scoring="roc_auc_ovr",
        cv=StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed),
    )


def knn_table(
    data: StreamerData,
    levels: pd.Series,
    *,
    folds: int = 5,
    minkowski_p: float = 2,
    seed: int = 0,
) -> pd.DataFrame:
    """Recall, precision, F1, ROC AUC (out of fold, F1 and AUC with 95% bootstrap intervals)
    and the k chosen on all streamers of the k-nearest-neighbours model of each feature group:
    one column per group."""
    columns = {}
    for group, members in feature_groups(list(data.features.columns)).items():
        x = data.features[members]
        model = knn_model(len(x), folds=folds, minkowski_p=minkowski_p, seed=seed)
        evaluation = evaluate(model, x, levels, folds=folds, seed=seed)
        intervals = {f"{k} 95% CI": _interval(v) for k, v in evaluation.intervals.items()}
        chosen = model.fit(x, levels).best_params_["kneighborsclassifier__n_neighbors"]
        columns[f"{group} ({len(members)})"] = {**evaluation.scores, **intervals, "k": chosen}
    # object cells, so that k prints as the whole number it is beside the scores
    return pd.DataFrame(columns, dtype=object)


@dataclass(frozen=True)
class FactorLogit:
    """Factor analysis of all features and a logistic regression of the sales level on the
    factor scores."""

    adequacy: tuple[Adequacy, ...]  # one per convention: pairwise (psych), complete cases
    variance: pd.DataFrame
    n_factors: int  # on all streamers, for the loadings
    fold_factors: list[int]  # chosen in each fold on its training streamers
    loadings: pd.DataFrame
    evaluation: Evaluation
    collinear: pd.DataFrame


def factor_logit(
    data: StreamerData,
    levels: pd.Series,
    *,
    variance_share: float = 0.8,
    folds: int = 5,
    seed: int = 0,
) -> FactorLogit:
    """KMO and Bartlett of all features (both conventions), as many factors as reach
    `variance_share` of the variance, and a logistic regression on their scores; the medians
    that fill gaps, the number of factors and the factors are all chosen within each fold so
    that no held-out streamer shapes them."""
    x = data.features
    variance = explained_variance(x)
    n = factors_for(variance, variance_share)
    model = make_pipeline(
        fold_factor_model(variance_share, seed), LogisticRegression(max_iter=1000)
    )
    evaluation = evaluate(model, x, levels, folds=folds, seed=seed)
    # complete cases too few for a correlation matrix of full rank: psych's convention only
    conventions = CONVENTIONS if len(x.dropna()) > x.shape[1] else (PAIRWISE,)
    return FactorLogit(
        adequacy=tuple(sampling_adequacy(x, convention) for convention in conventions),
        variance=variance,
        n_factors=n,
        fold_factors=[int(fold[0][-1].n_factors_) for fold in evaluation.fitted],
        loadings=loadings(x, n, seed),
        evaluation=evaluation,
        collinear=collinear_pairs(x),
    )


def importance(
    data: StreamerData, levels: pd.Series, *, folds: int = 5, seed: int = 0, repeats: int = 5
) -> pd.DataFrame:
    """Permutation importance of each feature for the sales level: the mean drop in held-out
    ROC AUC when the feature is shuffled, over the folds of a scaled logistic regression (gaps
    filled with the training folds' medians), largest first."""
    x, y = data.features, levels.to_numpy()
    scoring = "roc_auc" if levels.nunique() == 2 else "roc_auc_ovr"
    drops = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        # strongly regularised: ~80 training streamers and ~55 features overfit otherwise, and
        # an overfitted model ranks noise features high
        model = make_pipeline(
            SimpleImputer(strategy="median"),
            StandardScaler(),
            LogisticRegression(C=0.05, max_iter=1000),
        )
        model.fit(x.iloc[train], y[train])
        result = permutation_importance(
            model, x.iloc[test], y[test], scoring=scoring, n_repeats=repeats, random_state=seed
        )
        drops.append(result.importances_mean)
    drops_by_fold = np.array(drops)
    table = pd.DataFrame(
        {"importance": drops_by_fold.mean(axis=0), "sd over folds": drops_by_fold.std(axis=0)},
        index=pd.Index(x.columns, name="feature"),
    )
    return table.sort_values("importance", ascending=False)
