"""Rendering fitted effect models: the side-by-side table (Markdown) and a tidy CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.effects import EffectResult


@dataclass(frozen=True)
class Column:
    """One column of the side-by-side table: a fitted model and the coder whose codes it used."""

    result: EffectResult
    coder: str

    @property
    def title(self) -> str:
        """The column heading: model, then coder."""
        return f"{self.result.label} ({self.coder})"


def _stars(p: float) -> str:
    # the usual convention of the literature's tables: * p<.05, ** p<.01, *** p<.001
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
            f"{irr.loc[t, 'irr']:.3f}{_stars(irr.loc[t, 'p'])} "
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
    index = [*terms, "N", "log-likelihood", "AIC", "BIC", "fit", "alpha", "SE", "fixed effects"]
    return pd.DataFrame(table, index=index)


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


def write_tables(columns: Sequence[Column], folder: Path) -> list[Path]:
    """Write effects.md (side by side) and effects.csv (tidy) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    table = side_by_side(columns)
    markdown = folder / "effects.md"
    note = (
        "\n\nCells: exp(b) [95% interval]; for the count models an incidence-rate ratio, for "
        "OLS the ratio of 1 + y. * p<.05, ** p<.01, *** p<.001.\n"
    )
    markdown.write_text(to_markdown(table) + note, encoding="utf-8")
    csv = folder / "effects.csv"
    tidy(columns).to_csv(csv, index=False)
    return [markdown, csv]
