"""Results as text: significance stars, table cells as text, the side-by-side table of effect
models, and tables in Markdown and LaTeX. Plain pandas, so fitting may use it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.effects import INTERCEPT
from analysis.results import Column, Report

FIT_ROWS = (
    "N",
    "log-likelihood",
    "AIC",
    "BIC",
    "fit",
    "alpha",
    "alpha SE",
    "SE",
    "clusters",
    "fixed effects",
)
# the intercept is a level, not a ratio: shown as b on the model's scale
INTERCEPT_ROW = f"{INTERCEPT} (b)"
CELL_NOTE = (
    "Cells: exp(b) [95% interval]; for the count models an incidence-rate ratio, for OLS the "
    "ratio of 1 + y; the intercept as b on the log scale. * p<.05, ** p<.01, *** p<.001."
)
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


def stars(p: float) -> str:
    """Significance stars of a p-value, the literature's convention: * p<.05, ** p<.01,
    *** p<.001."""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def format_p(p: float) -> str:
    """A p-value as printed: three decimals, `<0.001` below that (never `0.000`)."""
    return "" if pd.isna(p) else "<0.001" if p < 0.001 else f"{p:.3f}"


def is_p_column(name: object) -> bool:
    """Whether a column holds p-values: named p, "... p", "p ..." or "... p-value"."""
    text = str(name).strip().lower()
    return text == "p" or text.endswith((" p", "p-value", "p value")) or text.startswith("p ")


def formatted(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table as text: reals to `digits` decimals, whole numbers as they are, empty for NaN;
    p-values by `format_p`."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if pd.isna(value):
                return ""
            return f"{value:.{digits}f}"
        return str(value)

    text = table.map(cell)
    for position, name in enumerate(table.columns):
        if is_p_column(name) and pd.api.types.is_numeric_dtype(table.iloc[:, position]):
            text.iloc[:, position] = table.iloc[:, position].map(format_p)
    return text


def side_by_side(columns: Sequence[Column]) -> pd.DataFrame:
    """exp(b) with stars and the 95% interval per term (the intercept as b, INTERCEPT_ROW), and
    the fit figures, one column per model: the terms in the order they first appear."""
    terms = list(dict.fromkeys(t for c in columns for t in c.result.params.index))
    table: dict[str, list[str]] = {}
    for column in columns:
        r = column.result
        irr = r.irr()
        cells = [_cell(r.params, r.conf_int, r.pvalues, t) if t == INTERCEPT else
                 f"{irr.loc[t, 'irr']:.3f}{stars(irr.loc[t, 'p'])} "
                 f"[{irr.loc[t, 'lower']:.3f}, {irr.loc[t, 'upper']:.3f}]"
                 if t in irr.index else "" for t in terms]  # fmt: skip
        cells += [
            f"{r.nobs:,}",
            f"{r.llf:.1f}",
            f"{r.aic:.1f}",
            f"{r.bic:.1f}",
            f"{r.pseudo_r2:.4f} ({r.r2_kind})",
            "" if r.alpha is None else f"{r.alpha:.4f}",
            "" if r.alpha_se is None else f"{r.alpha_se:.4f}",
            r.cov_type,
            "" if column.result.n_clusters is None else f"{column.result.n_clusters:,}",
            r.fixed_effects or "",
        ]
        table[column.title] = cells
    labels = [INTERCEPT_ROW if t == INTERCEPT else t for t in terms]
    return pd.DataFrame(table, index=[*labels, *FIT_ROWS])


def _cell(params: pd.Series, conf: pd.DataFrame, pvalues: pd.Series, term: str) -> str:
    """b with stars and its 95% interval, on the model's own scale."""
    if term not in params.index:
        return ""
    return (
        f"{params[term]:.3f}{stars(pvalues[term])} "
        f"[{conf.loc[term, 'lower']:.3f}, {conf.loc[term, 'upper']:.3f}]"
    )


def report_statements(report: Report) -> list[str]:
    """What a reader needs to judge an effects report, one sentence each: per coder N, the posts
    dropped and why, the clusters and the reference categories; the SE type and alpha of each
    model; the hot window and the age rule."""
    lines = []
    for sample in report.samples:
        dropped = "; ".join(f"{count:,} posts {why}" for count, why in sample.dropped)
        lines.append(
            f"N = {sample.n:,} of {sample.posts:,} posts with {sample.coder}'s codes"
            + (f"; dropped: {dropped}." if dropped else "; none dropped.")
        )
        if sample.references:
            levels = ", ".join(f"{name} = {level}" for name, level in sample.references.items())
            lines.append(f"Reference categories ({sample.coder}): {levels}.")
    for column in report.columns:
        r = column.result
        bits = [f"SE {r.cov_type}"]
        if (clusters := column.result.n_clusters) is not None:
            few = " (few: under 30, clustered SEs may be too small)" if clusters < 30 else ""
            bits.append(f"{clusters:,} clusters{few}")
        if r.alpha is not None:
            se = "" if r.alpha_se is None else f" (SE {r.alpha_se:.4f})"
            bits.append(f"alpha {r.alpha:.4f}{se}")
        lines.append(f"{column.title}: N = {r.nobs:,}, {', '.join(bits)}.")
    lines += [text for text in (report.hot_window, report.age_rule) if text]
    return lines


def to_markdown(table: pd.DataFrame) -> str:
    """A pipe table of a frame of strings, the index as its first column."""
    rows = [["", *map(str, table.columns)], ["---"] * (len(table.columns) + 1)]
    rows += [
        [str(term), *map(str, values)]
        for term, values in zip(table.index, table.to_numpy(), strict=True)
    ]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def to_latex(table: pd.DataFrame, notes: Sequence[str] = ()) -> str:
    """A booktabs tabular of a table of text in a threeparttable, the `notes` in its
    tablenotes (for `\\input`; needs \\usepackage{booktabs,threeparttable}). A rule sets the
    fit figures (from the row N) apart from the terms."""

    def escaped(text: object) -> str:
        return str(text).translate(_LATEX_TABLE)

    def row(cells: Sequence[object]) -> str:
        return " & ".join(map(escaped, cells)) + r" \\"

    corner = "" if table.index.name is None else table.index.name
    lines = [
        r"\begin{threeparttable}",
        r"\begin{tabular}{l" + "c" * len(table.columns) + "}",
        r"\toprule",
        row([corner, *table.columns]),
        r"\midrule",
    ]
    for term, values in zip(table.index, table.to_numpy(), strict=True):
        if term == FIT_ROWS[0]:
            lines.append(r"\midrule")
        lines.append(row([term, *values]))
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\begin{tablenotes}\footnotesize"]
        lines += [rf"\item {escaped(note)}" for note in notes]
        lines += [r"\end{tablenotes}"]
    lines.append(r"\end{threeparttable}")
    return "\n".join(lines) + "\n"
