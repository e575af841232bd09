"""Rendering fitted effect models: the side-by-side table (Markdown, CSV, LaTeX, HTML), the IRR
plot, descriptive plots, and one HTML page that holds them all.

Plots use matplotlib's object API (a `Figure` saved to PNG through the Agg canvas), so no
pyplot state or display is needed and nothing changes the caller's backend.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.effects import INTERCEPT, EffectResult

FIT_ROWS = ("N", "log-likelihood", "AIC", "BIC", "fit", "alpha", "SE", "fixed effects")
CELL_NOTE = (
    "Cells: exp(b) [95% interval]; for the count models an incidence-rate ratio, for OLS the "
    "ratio of 1 + y. * p<.05, ** p<.01, *** p<.001."
)
IRR_PLOT, DISTRIBUTION_PLOT, SUBCATEGORY_PLOT = "irr.png", "distribution.png", "subcategories.png"
DPI = 110
ALL_POSTS = "all posts"
# Each LaTeX special character and its text-mode spelling (< and > print as ¡ and ¿ in OT1)
_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "²": r"\textsuperscript{2}",
}
_LATEX_TABLE = str.maketrans(_LATEX)
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table.effects { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.effects th, table.effects td { padding: .25rem .6rem; text-align: right;
       border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
table.effects th:first-child, table.effects td:first-child { text-align: left; }
table.effects thead th { border-bottom: 2px solid #555; vertical-align: bottom;
       white-space: normal; }
table.effects tr.first-fit td { border-top: 2px solid #555; }
.scroll { overflow-x: auto; }
.note, .meta { color: #555; font-size: .9rem; }
.failed { background: #fff4e5; border-left: 4px solid #e69500; padding: .5rem 1rem; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
"""


@dataclass(frozen=True)
class Column:
    """One column of the side-by-side table: a fitted model and the coder whose codes it used."""

    result: EffectResult
    coder: str

    @property
    def title(self) -> str:
        """The column heading: model, then coder."""
        return f"{self.result.label} ({self.coder})"


@dataclass(frozen=True)
class Failure:
    """A model that was asked for but could not be fitted, and why."""

    model: str
    coder: str
    message: str


@dataclass(frozen=True)
class Report:
    """What a report shows: the fitted columns, the fits that failed, notes on the data, and
    for the descriptive plots the outcome per post and posts and mean outcome per
    subcategory (index: subcategory label; columns: posts, mean)."""

    title: str
    dv: str
    columns: Sequence[Column]
    failures: Sequence[Failure] = ()
    notes: Sequence[str] = ()
    outcome: pd.Series | None = None
    subcategories: pd.DataFrame | None = None


def stars(p: float) -> str:
    """Significance stars of a p-value, the literature's convention: * p<.05, ** p<.01,
    *** p<.001."""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def side_by_side(columns: Sequence[Column]) -> pd.DataFrame:
    """exp(b) with stars and the 95% interval per term, and the fit figures, one column per
    model: the terms in the order they first appear."""
    terms = list(dict.fromkeys(t for c in columns for t in c.result.params.index))
    table: dict[str, list[str]] = {}
    for column in columns:
        r = column.result
        irr = r.irr()
        cells = [
            f"{irr.loc[t, 'irr']:.3f}{stars(irr.loc[t, 'p'])} "
            f"[{irr.loc[t, 'lower']:.3f}, {irr.loc[t, 'upper']:.3f}]"
            if t in irr.index
            else ""
            for t in terms
        ]
        cells += [
            f"{r.nobs:,}",
            f"{r.llf:.1f}",
            f"{r.aic:.1f}",
            f"{r.bic:.1f}",
            f"{r.pseudo_r2:.4f} ({r.r2_kind})",
            "" if r.alpha is None else f"{r.alpha:.4f}",
            r.cov_type,
            r.fixed_effects or "",
        ]
        table[column.title] = cells
    return pd.DataFrame(table, index=[*terms, *FIT_ROWS])


def tidy(columns: Sequence[Column]) -> pd.DataFrame:
    """One row per model and term: coefficient, SE, exp(b) with its 95% interval, p."""
    frames = []
    for column in columns:
        r = column.result
        irr = r.irr()
        frames.append(
            pd.DataFrame(
                {
                    "model": r.label,
                    "coder": column.coder,
                    "dv": r.dv,
                    "term": r.params.index,
                    "coef": r.params.to_numpy(),
                    "se": r.bse.to_numpy(),
                    "exp_coef": irr["irr"].to_numpy(),
                    "lower": irr["lower"].to_numpy(),
                    "upper": irr["upper"].to_numpy(),
                    "p": r.pvalues.to_numpy(),
                    "se_type": r.cov_type,
                    "n": r.nobs,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def to_markdown(table: pd.DataFrame) -> str:
    """A pipe table of a frame of strings, the index as its first column."""
    rows = [["", *map(str, table.columns)], ["---"] * (len(table.columns) + 1)]
    rows += [
        [str(term), *map(str, values)]
        for term, values in zip(table.index, table.to_numpy(), strict=True)
    ]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def to_latex(table: pd.DataFrame) -> str:
    """A booktabs tabular of the side-by-side table (for `\\input`; needs \\usepackage{booktabs}),
    a rule between the terms and the fit figures, the cell note as a comment."""

    def row(cells: Sequence[str]) -> str:
        return " & ".join(str(c).translate(_LATEX_TABLE) for c in cells) + r" \\"

    lines = [
        f"% {CELL_NOTE}",
        r"\begin{tabular}{l" + "c" * len(table.columns) + "}",
        r"\toprule",
        row(["", *table.columns]),
        r"\midrule",
    ]
    for term, values in zip(table.index, table.to_numpy(), strict=True):
        if term == FIT_ROWS[0]:
            lines.append(r"\midrule")
        lines.append(row([term, *values]))
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame) -> str:
    """An HTML table of the side-by-side table (class "effects"), the fit rows marked."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = []
    for term, values in zip(table.index, table.to_numpy(), strict=True):
        kind = ' class="first-fit"' if term == FIT_ROWS[0] else ""
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in values)
        body.append(f"<tr{kind}><td>{html.escape(str(term))}</td>{cells}</tr>")
    return (
        f'<table class="effects">\n<thead><tr><th></th>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )


def plot_irr(columns: Sequence[Column], path: Path) -> None:
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
    axes.set_yticks(np.arange(len(terms)), terms)
    axes.invert_yaxis()  # the first term on top, as in the table
    axes.set_xlabel("exp(b) with 95% interval (log scale; OLS: ratio of 1 + y)")
    axes.grid(axis="x", which="both", color="0.9")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(columns), 3),
                fontsize="small", frameon=False)  # fmt: skip
    figure.savefig(path, dpi=DPI, bbox_inches="tight")


def plot_distribution(outcome: pd.Series, dv: str, path: Path) -> None:
    """A histogram of the outcome on a log scale (of 1 + y, so zeros show), with its mean,
    median, share of zeros and variance-to-mean ratio."""
    values = outcome.dropna().to_numpy(dtype=float)
    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    top = max(float(values.max()) + 1, 10.0)
    axes.hist(values + 1, bins=np.logspace(0, np.log10(top), 40), color="#4c72b0")
    axes.set_xscale("log")
    axes.set_xlabel(f"{dv} + 1 (log scale)")
    axes.set_ylabel("posts")
    axes.set_title(
        f"{dv}: {len(values):,} posts, mean {values.mean():,.1f}, median {np.median(values):,.0f},"
        f" zeros {np.mean(values == 0):.0%}, variance/mean {values.var() / values.mean():,.0f}",
        fontsize="medium",
    )
    figure.savefig(path, dpi=DPI, bbox_inches="tight")


def subcategory_summary(flags: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """Posts coded 1 and their mean outcome, per subcategory (a column of 0/1 `flags`), after a
    first row of all posts for comparison."""
    rows = {ALL_POSTS: (int(outcome.notna().sum()), float(outcome.mean()))}
    rows |= {
        label: (int((coded == 1).sum()), float(outcome[coded == 1].mean()))
        for label, coded in flags.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["posts", "mean"])


def plot_subcategories(summary: pd.DataFrame, dv: str, path: Path) -> None:
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
    figure.savefig(path, dpi=DPI, bbox_inches="tight")


def write_report(report: Report, folder: Path) -> list[Path]:
    """Write the report into `folder`: effects.md, .csv, .tex, .html (the table), irr.png,
    distribution.png and subcategories.png (those with data), and index.html holding them all.
    Returns the files written, index.html last."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)

    table = side_by_side(report.columns) if report.columns else None
    if table is not None:
        write("effects.md", to_markdown(table) + f"\n\n{CELL_NOTE}\n")
        tidy(report.columns).to_csv(folder / "effects.csv", index=False)
        written.append(folder / "effects.csv")
        write("effects.tex", to_latex(table))
        write("effects.html", to_html(table) + f'\n<p class="note">{html.escape(CELL_NOTE)}</p>\n')
        plot_irr(report.columns, folder / IRR_PLOT)
        written.append(folder / IRR_PLOT)
    if report.outcome is not None:
        plot_distribution(report.outcome, report.dv, folder / DISTRIBUTION_PLOT)
        written.append(folder / DISTRIBUTION_PLOT)
    if report.subcategories is not None and not report.subcategories.empty:
        plot_subcategories(report.subcategories, report.dv, folder / SUBCATEGORY_PLOT)
        written.append(folder / SUBCATEGORY_PLOT)
    write("index.html", _page(report, table, {p.name for p in written}))
    return written


def _page(report: Report, table: pd.DataFrame | None, files: set[str]) -> str:
    """The self-contained HTML page: the table, the plots (referenced relatively) and notes."""
    e = html.escape
    parts = [f"<h1>{e(report.title)}</h1>"]
    parts += [f'<p class="meta">{e(note)}</p>' for note in report.notes]
    if report.failures:
        items = "".join(
            f"<li><b>{e(f.model)} ({e(f.coder)})</b>: {e(f.message)}</li>" for f in report.failures
        )
        parts.append(f'<div class="failed"><p>Not fitted:</p><ul>{items}</ul></div>')
    if table is not None:
        links = " · ".join(
            f'<a href="{name}">{name}</a>'
            for name in ("effects.csv", "effects.md", "effects.tex")
            if name in files
        )
        parts += [
            "<h2>Effects</h2>",
            f'<div class="scroll">{to_html(table)}</div>',
            f'<p class="note">{e(CELL_NOTE)} Download: {links}</p>',
            "<h2>Diagnostics</h2>",
            _diagnostics(report.columns),
            f'<h2>Effects plot</h2><img src="{IRR_PLOT}" alt="exp(b) with 95% intervals">',
        ]
    if DISTRIBUTION_PLOT in files or SUBCATEGORY_PLOT in files:
        parts.append("<h2>Descriptives</h2>")
    if DISTRIBUTION_PLOT in files:
        parts.append(f'<img src="{DISTRIBUTION_PLOT}" alt="distribution of {e(report.dv)}">')
    if SUBCATEGORY_PLOT in files:
        parts.append(
            f'<img src="{SUBCATEGORY_PLOT}" alt="posts and mean {e(report.dv)} by subcategory">'
        )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _diagnostics(columns: Sequence[Column]) -> str:
    """Per model: how it was fitted, the over-dispersion test and the largest VIF."""
    items = []
    for column in columns:
        r = column.result
        bits = [f"{r.method}" + (f", {r.iterations} iterations" if r.iterations else "")]
        if r.dispersion is not None:
            d = r.dispersion
            bits.append(f"{d.name} {d.statistic:.2f} (p = {d.pvalue:.3g})")
        if not r.vif.empty:
            bits.append(f"largest VIF {r.vif.max():.1f} ({r.vif.idxmax()})")
        bits += r.notes
        items.append(f"<li><b>{html.escape(column.title)}</b>: {html.escape('; '.join(bits))}</li>")
    return f"<ul>{''.join(items)}</ul>"
