"""The effects suite of a store: a model frame per coder, the models fitted on each, and what
the report shows of them (`analysis.report.write_report` renders it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.effects import EffectsError, fit, model_label
from analysis.frame import DEFAULT_REGRESSORS, model_frame, subcategory_flags
from analysis.results import Column, Failure, Report, subcategory_summary
from smcat.coders import DEFAULT_CODEBOOK
from smcat.store import Store

SUITE = ("nb", "poisson", "ols")


def run_suite(
    store: Store,
    *,
    codes: Sequence[str] = ("auto",),
    models: Sequence[str] = SUITE,
    dv: str = "engagement",
    regressors: Sequence[str] = DEFAULT_REGRESSORS,
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    at_age_days: float | None = None,
    codebook: str = DEFAULT_CODEBOOK,
    keep_going: bool = False,
    platform: str | None = "weibo",
) -> Report:
    """Fit each of `models` of `dv` on `regressors` with the codes of each coder in `codes`.

    SEs are of kind `se` (cluster, robust, model), clustered by `cluster` (None: account); with
    `fe`, every fit has those fixed effects. A fit that fails raises, unless `keep_going`: then it
    is listed among the report's failures, and regressors without variation in the data are
    left out (and named in the notes) rather than refused. The descriptive plots show the
    first coder's codes. The posts are those of `platform` (None: every platform's)."""
    frames = [
        model_frame(store, codes=c, codebook=codebook, at_age_days=at_age_days, platform=platform)
        for c in codes
    ]
    columns: list[Column] = []
    failures: list[Failure] = []
    notes: list[str] = []
    for frame in frames:
        used = list(regressors)
        if keep_going:
            used = _varying(frame.data, dv, regressors)
            if left_out := [r for r in regressors if r not in used]:
                notes.append(
                    f"Left out with {frame.coder}'s codes, for having one value in the posts"
                    f" used: {', '.join(left_out)}."
                )
        for name in models:
            try:
                result = fit(name, frame.data, dv, used, fe=fe, se=se, cluster=cluster)
            except EffectsError as error:
                if not keep_going:
                    raise
                failures.append(Failure(model_label(name, fe), frame.coder, str(error)))
                continue
            columns.append(Column(result, frame.coder))
    first = frames[0]
    outcome = first.data[dv]
    age = "the latest observation" if at_age_days is None else f"an age of {at_age_days:g} days"
    notes.insert(
        0,
        f"{len(first.data):,} posts of {first.data['account'].nunique():,} accounts; {dv} at"
        f" {age}; codes of {', '.join(f.coder for f in frames)}.",
    )
    return Report(
        title=f"Effect models of {dv}",
        dv=dv,
        columns=columns,
        failures=failures,
        notes=notes,
        outcome=outcome,
        subcategories=subcategory_summary(subcategory_flags(store, first, codebook), outcome),
    )


def _varying(data: pd.DataFrame, dv: str, regressors: Sequence[str]) -> list[str]:
    """The regressors with more than one value in the rows without missing values (an unknown
    one is kept, for the fit to name it)."""
    rows = data[[c for c in (dv, *regressors) if c in data.columns]].dropna()
    return [r for r in regressors if r not in rows or rows[r].nunique() > 1]
