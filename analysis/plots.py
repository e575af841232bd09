"""The plots of the reports and pages, each a matplotlib `Figure` for the renderer to save.

Figures use matplotlib's object API (saved to PNG through the Agg canvas), so no pyplot state
or display is needed and nothing changes the caller's backend: this runs on a server or in CI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from analysis.effects import INTERCEPT
from analysis.results import Column

# -- the effects report ---------------------------------------------------------------------------


def irr_plot(columns: Sequence[Column]) -> Figure:
    """exp(b) with its 95% interval for every term but the intercept, one marker per
    model and coder, on a log scale with a line at 1 (no effect)."""
    terms = list(dict.fromkeys(t for c in columns for t in c.result.params.index if t != INTERCEPT))
    figure = Figure(figsize=(8, 1.6 + 0.38 * len(terms) * max(1, len(columns) / 3)))
    axes = figure.subplots()
    step = 0.8 / len(columns)
    for j, column in enumerate(columns):
        irr = column.result.irr().reindex(terms)
        y = np.arange(len(terms)) + (j - (len(columns) - 1) / 2) * step
        axes.errorbar(
            irr["irr"],
            y,
            xerr=[irr["irr"] - irr["lower"], irr["upper"] - irr["irr"]],
            fmt="o",
            markersize=4,
            capsize=2,
            label=column.title,
        )
    axes.axvline(1.0, color="0.4", linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    # ratios are read as plain numbers (0.5, 1, 2), not 10^k, at a few round values in view
    low, high = axes.get_xlim()
    axes.xaxis.set_major_locator(FixedLocator(log_ticks(low, high)))
    axes.set_xlim(low, high)
    axes.xaxis.set_major_formatter(FuncFormatter(_ratio))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_yticks(np.arange(len(terms)), terms)
    axes.invert_yaxis()  # the first term on top, as in the table
    axes.set_xlabel("exp(b) with 95% interval (log scale; OLS: ratio of 1 + y)")
    axes.grid(axis="x", which="both", color="0.9")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(columns), 3),
                fontsize="small", frameon=False)  # fmt: skip
    return figure


# the mantissas of round ticks, coarse to fine: the coarsest with three ticks in view is used
_MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), tuple(range(1, 10)), tuple(np.arange(10, 100) / 10))


def log_ticks(low: float, high: float) -> list[float]:
    """Round tick values (mantissa times a power of ten) within [low, high] on a log axis: the
    coarsest set of `_MANTISSAS` that puts at least three ticks there (else the finest)."""
    powers = range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1)
    ticks: list[float] = []
    for mantissas in _MANTISSAS:
        ticks = sorted(
            v
            for k in powers
            for m in mantissas
            if low <= (v := float(f"{m * 10.0**k:.6g}")) <= high
        )
        if len(ticks) >= 3:
            break
    return ticks


def _ratio(value: float, _position: int) -> str:
    """A tick label of a ratio: 0.5, 1, 20, 5000, without trailing zeros or exponents."""
    return f"{value:,.12g}"


def distribution_plot(outcome: pd.Series, dv: str) -> Figure:
    """A histogram of the outcome on a log scale (of 1 + y, so zeros show), with its mean,
    median, share of zeros and variance-to-mean ratio."""
    values = outcome.dropna().to_numpy(dtype=float)
    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    top = max(float(values.max()) + 1, 10.0)
    axes.hist(values + 1, bins=np.logspace(0, np.log10(top), 40).tolist(), color="#4c72b0")
    axes.set_xscale("log")
    axes.set_xlabel(f"{dv} + 1 (log scale)")
    axes.set_ylabel("posts")
    axes.set_title(
        f"{dv}: {len(values):,} posts, mean {values.mean():,.1f}, median {np.median(values):,.0f},"
        f" zeros {np.mean(values == 0):.0%}, variance/mean {values.var() / values.mean():,.0f}",
        fontsize="medium",
    )
    return figure


def subcategory_plot(summary: pd.DataFrame, dv: str) -> Figure:
    """Two bar charts side by side: posts per subcategory and their mean outcome."""
    figure = Figure(figsize=(10, 1.2 + 0.32 * len(summary)))
    posts, means = figure.subplots(1, 2, sharey=True)
    y = np.arange(len(summary))
    posts.barh(y, summary["posts"], color="#4c72b0")
    posts.set_yticks(y, summary.index)
    posts.invert_yaxis()
    posts.set_xlabel("posts coded 1")
    means.barh(y, summary["mean"].fillna(0), color="#dd8452")
    means.set_xlabel(f"mean {dv} of those posts")
    for axes in (posts, means):
        axes.grid(axis="x", color="0.9")
    return figure


# -- the pages of the other analyses -----------------------------------------------------------


def bar_plot(values: pd.Series, *, xlabel: str, ylabel: str) -> Figure:
    """A bar chart of a series by its index."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    axes.bar([str(i) for i in values.index], values.to_numpy())
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    return figure


def line_plot(values: pd.Series, *, xlabel: str, ylabel: str) -> Figure:
    """A line with markers of a series by its index."""
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.plot(values.index, values.to_numpy(), marker="o")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return figure


def calibration_plot(curves: Mapping[str, pd.DataFrame], outcome: str = "churn") -> Figure:
    """Observed against predicted `outcome` per score bin, one line per model, and the
    diagonal."""
    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, curve in curves.items():
        axes.plot(curve["predicted"], curve["observed"], marker="o", label=name)
    axes.set_xlabel(f"predicted {outcome} probability (bin mean)")
    axes.set_ylabel(f"observed {outcome} share")
    axes.legend()
    return figure


def heatmap(table: pd.DataFrame, *, label: str) -> Figure:
    """A table of shares as a heat map with its values written in."""
    figure = Figure(figsize=(1 + 0.9 * len(table.columns), 1 + 0.6 * len(table)))
    axes = figure.subplots()
    image = axes.imshow(table.to_numpy(dtype=float), cmap="Blues", vmin=0)
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=45)
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    for (row, column), value in _cells(table):
        if pd.notna(value):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=8)
    figure.colorbar(image, ax=axes, label=label)
    return figure


def _cells(table: pd.DataFrame) -> Sequence[tuple[tuple[int, int], float]]:
    values = table.to_numpy(dtype=float)
    return [((r, c), values[r, c]) for r in range(values.shape[0]) for c in range(values.shape[1])]


def roc_plot(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """ROC curves (columns fpr, tpr), one line per curve, and the diagonal of chance."""
    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    for name, curve in curves.items():
        axes.plot(curve["fpr"], curve["tpr"], label=name)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.legend()
    return figure
