"""Screening the regressors before the models: the Spearman correlation matrix with the pairs
above a threshold flagged, variance inflation factors, and near-zero-variance columns.

The columns screened are those of the models' design (`build_design`): numeric regressors as
they are, a categorical one as its 0/1 columns against the reference level, over the rows the
models use. Near-zero variance is caret's `nearZeroVar` rule (Kuhn 2008): a column whose most
common value is more than `freq_cut` (95/5) times as frequent as its second, and whose distinct
values are under `unique_cut` (10%) of the rows; a column with one value is flagged too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.effects import INTERCEPT, build_design, vif
from analysis.pages import Page

RHO_THRESHOLD = 0.7
FREQ_CUT = 95 / 5
UNIQUE_CUT = 10.0
SCREEN_PAGE = "screen"  # the page's file stem: screen.html beside the effects report


@dataclass(frozen=True)
class Screen:
    """A screen of the design's columns over its `n` rows: the Spearman matrix, the pairs with
    |rho| >= `threshold` (a, b, rho), VIFs, caret's near-zero-variance figures per column
    (freq_ratio, percent_unique, near_zero), and the notes of the design (terms left out)."""

    correlations: pd.DataFrame
    flagged: pd.DataFrame
    vif: pd.Series
    variance: pd.DataFrame
    threshold: float
    n: int
    notes: tuple[str, ...] = ()


def near_zero_variance(
    column: pd.Series, freq_cut: float = FREQ_CUT, unique_cut: float = UNIQUE_CUT
) -> tuple[float, float, bool]:
    """caret's nearZeroVar figures of one column: the frequency ratio of its two most common
    values (inf with one value), the percent of distinct values, and the flag."""
    counts = column.value_counts()
    percent_unique = 100 * len(counts) / len(column) if len(column) else 0.0
    if len(counts) < 2:
        return float("inf"), percent_unique, True
    ratio = float(counts.iloc[0] / counts.iloc[1])
    return ratio, percent_unique, ratio > freq_cut and percent_unique < unique_cut


def screen_columns(
    columns: pd.DataFrame,
    threshold: float = RHO_THRESHOLD,
    freq_cut: float = FREQ_CUT,
    unique_cut: float = UNIQUE_CUT,
) -> Screen:
    """Screen a frame of numeric columns (no intercept column): see the module doc. VIFs
    are those of `analysis.effects.vif`, each column regressed on the others with a constant."""
    if not 0 < threshold <= 1:
        raise ValueError(f"the |rho| threshold is in (0, 1], not {threshold}")
    rho = columns.corr(method="spearman")
    pairs = [
        (a, b, float(rho.loc[a, b]))
        for i, a in enumerate(rho.columns)
        for b in rho.columns[i + 1 :]
        if np.isfinite(rho.loc[a, b]) and abs(rho.loc[a, b]) >= threshold
    ]
    flagged = pd.DataFrame(pairs, columns=["a", "b", "rho"])
    flagged = flagged.reindex(flagged["rho"].abs().sort_values(ascending=False).index)
    variance = pd.DataFrame(
        [near_zero_variance(columns[c], freq_cut, unique_cut) for c in columns.columns],
        index=columns.columns,
        columns=["freq_ratio", "percent_unique", "near_zero"],
    )
    return Screen(
        correlations=rho,
        flagged=flagged.reset_index(drop=True),
        vif=vif(columns),
        variance=variance,
        threshold=threshold,
        n=len(columns),
    )


def screen(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    threshold: float = RHO_THRESHOLD,
    freq_cut: float = FREQ_CUT,
    unique_cut: float = UNIQUE_CUT,
) -> Screen:
    """Screen the design columns of `dv` on `regressors` over the rows the models use. A
    column with one value in those rows cannot be screened (its correlations are undefined):
    the design leaves it out, and the screen's notes say so."""
    design = build_design(data, dv, regressors)
    columns = design.X.drop(columns=[INTERCEPT])
    result = screen_columns(columns, threshold, freq_cut, unique_cut)
    return Screen(
        correlations=result.correlations,
        flagged=result.flagged,
        vif=result.vif,
        variance=result.variance,
        threshold=threshold,
        n=result.n,
        notes=design.notes,
    )


def screen_page(result: Screen, title: str = "Screening the regressors") -> Page:
    """The screen as a page (`analysis.report.write_page` writes it as screen.html): the
    flagged pairs, VIF and near-zero variance per column, and the Spearman matrix."""
    page = Page(SCREEN_PAGE, title)
    page.notes += [
        f"{result.n:,} posts: the rows the models use. Categorical regressors as 0/1 columns"
        " against their reference level.",
        f"Pairs flagged at |Spearman rho| >= {result.threshold:g}; VIF of each column on the"
        " others with a constant (above 10 is the usual alarm); near-zero variance by caret's"
        f" nearZeroVar rule (frequency ratio > {FREQ_CUT:g} and under {UNIQUE_CUT:g}% distinct"
        " values).",
        *result.notes,
    ]
    page.table(
        "flagged",
        f"Pairs with |rho| >= {result.threshold:g}" + ("" if len(result.flagged) else ": none"),
        result.flagged,
    )
    columns = result.variance.assign(vif=result.vif)[
        ["vif", "freq_ratio", "percent_unique", "near_zero"]
    ]
    columns["near_zero"] = columns["near_zero"].map({True: "yes", False: ""})
    columns.index.name = "column"
    page.table("columns", "VIF and near-zero variance per column", columns)
    page.table("spearman", "Spearman correlations", result.correlations.rename_axis("column"))
    return page
