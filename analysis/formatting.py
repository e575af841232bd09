"""Results as text: significance stars, table cells as text, the side-by-side table of effect
models, and tables in Markdown and LaTeX. Plain pandas, so fitting may use it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.results import Column

FIT_ROWS = ("N", "log-likelihood", "AIC", "BIC", "fit", "alpha", "SE", "fixed effects")
CELL_NOTE = (
    "Cells: exp(b) [95% interval]; for the count models an incidence-rate ratio, for OLS the "
    "ratio of 1 + y. * p<.05, ** p<.01, *** p<.001."
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


def formatted(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table as text: reals to `digits` decimals, whole numbers as they are, empty for NaN."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if pd.isna(value):
                return ""
            return f"{value:.{digits}f}"
        return str(value)

    return table.map(cell)


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
