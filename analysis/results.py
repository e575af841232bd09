"""What an effects report holds: the fitted columns, the fits that failed, notes, and the data of
its descriptive plots. Data only: `analysis.report` renders it, `analysis.suite` fills it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.effects import INTERCEPT, EffectResult

ALL_POSTS = "all posts"


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
class Sample:
    """The rows behind one coder's models: the posts of the frame, the rows the models used
    (N), the posts left out and why, as (count, why), the reference level of every categorical
    regressor, and the cluster column with its number of clusters in those rows."""

    coder: str
    posts: int
    n: int
    dropped: tuple[tuple[int, str], ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    cluster: str | None = None
    clusters: int | None = None


@dataclass(frozen=True)
class Report:
    """What a report shows: the fitted columns, the fits that failed, notes on the data, and
    for the descriptive plots the outcome per post and posts and mean outcome per
    subcategory (index: subcategory label; columns: posts, mean). `samples`, `hot_window` and
    `age_rule` say what was measured, for the statements every report carries."""

    title: str
    dv: str
    columns: Sequence[Column]
    failures: Sequence[Failure] = ()
    notes: Sequence[str] = ()
    samples: Sequence[Sample] = ()
    hot_window: str | None = None
    age_rule: str | None = None
    outcome: pd.Series | None = None
    subcategories: pd.DataFrame | None = None


def tidy(columns: Sequence[Column]) -> pd.DataFrame:
    """One row per model and term: coefficient, SE, exp(b) with its 95% interval (none for the
    intercept, which is no ratio), p, SE type, clusters and N."""
    frames = []
    for column in columns:
        r = column.result
        irr = r.irr()
        irr.loc[irr.index == INTERCEPT, ["irr", "lower", "upper"]] = np.nan
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
                    "clusters": column.result.n_clusters,
                    "n": r.nobs,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def subcategory_summary(flags: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """Posts coded 1 and their mean outcome, per subcategory (a column of 0/1 `flags`), after a
    first row of all posts for comparison."""
    rows = {ALL_POSTS: (int(outcome.notna().sum()), float(outcome.mean()))}
    rows |= {
        label: (int((coded == 1).sum()), float(outcome[coded == 1].mean()))
        for label, coded in flags.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["posts", "mean"])
