"""The effects suite of a store: a model frame per coder, the models fitted on each, and what
the report shows of them (`analysis.report.write_report` renders it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.effects import EffectsError, build_design, fit, model_label
from analysis.frame import (
    AGE_CONTROL,
    CODED,
    GIVEAWAY,
    HOT_WORDS,
    PROMOTION,
    ModelFrame,
    default_regressors,
    model_frame,
    subcategory_flags,
)
from analysis.results import Column, Failure, Report, Sample, subcategory_summary
from smcat.coders import DEFAULT_CODEBOOK
from smcat.hot_words import BEFORE_THE_POST, HotWindow
from smcat.store import Store

SUITE = ("nb", "poisson", "ols")


def run_suite(
    store: Store,
    *,
    codes: Sequence[str] = ("auto",),
    models: Sequence[str] = SUITE,
    dv: str = "engagement",
    regressors: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    at_age_days: float | None = None,
    age_tolerance_days: float | None = None,
    hot_window: HotWindow = BEFORE_THE_POST,
    codebook: str = DEFAULT_CODEBOOK,
    keep_going: bool = False,
    allow_unfit: bool = False,
    platform: str | None = "weibo",
) -> Report:
    """Fit each of `models` of `dv` on `regressors` (default: `default_regressors`) but `drop`
    with the codes of each coder in `codes`.

    SEs are of kind `se` (cluster, robust, model), clustered by `cluster` (None: account); with
    `fe`, every fit has those fixed effects. A regressor with one value in the rows used is left
    out and named in the notes. A fit that fails raises, unless `keep_going`: then it is listed
    among the report's failures. The descriptive plots show the first coder's codes. The posts
    are those of `platform` (None: every platform's); counts and hot words are read with
    `at_age_days`, `age_tolerance_days` and `hot_window` (see `analysis.frame`)."""
    wanted = list(default_regressors(at_age_days) if regressors is None else regressors)
    if unknown := [name for name in drop if name not in wanted]:
        raise EffectsError(
            f"cannot drop {', '.join(map(repr, unknown))}: the regressors are {', '.join(wanted)}"
        )
    wanted = [name for name in wanted if name not in drop]
    frames = [
        model_frame(
            store,
            codes=c,
            codebook=codebook,
            at_age_days=at_age_days,
            age_tolerance_days=age_tolerance_days,
            hot_window=hot_window,
            platform=platform,
        )
        for c in codes
    ]
    columns: list[Column] = []
    failures: list[Failure] = []
    notes: list[str] = []
    samples: list[Sample] = []
    controlled = []
    for frame in frames:
        used = _varying(frame.data, dv, wanted)
        controlled.append(AGE_CONTROL in used)
        if left_out := [r for r in wanted if r not in used]:
            notes.append(
                f"Left out with {frame.coder}'s codes, for having one value in the posts"
                f" used: {', '.join(left_out)}."
            )
        if unfit := _unfit(store, frame, used):
            named = ", ".join(
                f"{name} ({coder}: cross-validated alpha {alpha:.2f})"
                for name, (coder, alpha) in unfit.items()
            )
            if not allow_unfit:
                raise EffectsError(
                    f"codes their validation marked not fit for use: {named}; code more gold"
                    " posts and train again, drop these regressors, or allow unfit codes with a"
                    " note in the report",
                    allow_unfit=True,
                )
            notes.append(f"Used although their validation marked them not fit for use: {named}.")
        sample = _sample(frame, dv, used, fe, (cluster or "account") if se == "cluster" else None)
        samples.append(sample)
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
    notes.insert(
        0,
        f"{len(first.data):,} posts of {first.data['account'].nunique():,} accounts; codes of"
        f" {', '.join(f.coder for f in frames)}.",
    )
    return Report(
        title=f"Effect models of {dv}",
        dv=dv,
        columns=columns,
        failures=failures,
        notes=notes,
        outcome=outcome,
        subcategories=subcategory_summary(subcategory_flags(store, first, codebook), outcome),
        samples=samples,
        hot_window=f"Hot words and hot topics: on the hot-search list {hot_window.describe()}.",
        age_rule=f"{dv.capitalize()}: {first.age_rule(controlled[0])}.",
    )


def _unfit(store: Store, frame: ModelFrame, used: Sequence[str]) -> dict[str, tuple[str, float]]:
    """The used regressors read from a trained model's codes that its validation marked not fit
    for use, with that model and its cross-validated alpha: giveaway and promotion come from the
    frame's coder, hot words from the machine whose B5 evidence counts them."""
    sources = {"giveaway": (GIVEAWAY, frame.coder), "promotion": (PROMOTION, frame.coder),
               "hot_words": (HOT_WORDS, frame.machine)}  # fmt: skip
    unfit: dict[str, tuple[str, float]] = {}
    for name, (subcategory, coder) in sources.items():
        if name in used and coder and subcategory in (marked := store.unfit_subcategories(coder)):
            alpha = marked[subcategory]  # None: alpha undefined (the coder gave one value)
            unfit[name] = (coder, float("nan") if alpha is None else alpha)
    return unfit


def _varying(data: pd.DataFrame, dv: str, regressors: Sequence[str]) -> list[str]:
    """The regressors with more than one value in the rows without missing values (an unknown
    one is kept, for the fit to name it)."""
    rows = data[[c for c in (dv, *regressors) if c in data.columns]].dropna()
    return [r for r in regressors if r not in rows or rows[r].nunique() > 1]


def _sample(
    frame: ModelFrame, dv: str, regressors: Sequence[str], fe: str | None, cluster: str | None
) -> Sample:
    """The rows the models of a frame use: N, the posts dropped and why (each post under the
    first model column it misses), the reference levels, and the clusters of `cluster`."""
    data = frame.data
    why = {
        dv: f"without an observation of {dv}",
        "log_followers": "without a follower count",
        AGE_CONTROL: "without an observation",
        **{name: f"not coded by {frame.coder}" for name in (*CODED.values(), "hot_words")},
    }
    dropped: dict[str, int] = {}
    missing = pd.Series(False, index=data.index)
    for name in dict.fromkeys([dv, *regressors, *(c for c in (fe, cluster) if c)]):
        if name not in data.columns:
            continue  # the fit names it
        new = data[name].isna() & ~missing
        if new.any():
            reason = why.get(name, f"without {name}")
            dropped[reason] = dropped.get(reason, 0) + int(new.sum())
        missing |= data[name].isna()
    try:
        design = build_design(data, dv, regressors, fe=fe, cluster=cluster)
    except EffectsError:
        references: dict[str, str] = {}  # the fits raise or list the same error
        clusters = None
    else:
        references = design.references
        clusters = None if design.clusters is None else int(design.clusters.nunique())
    return Sample(
        coder=frame.coder,
        posts=len(data) + sum(count for count, _ in frame.excluded),
        n=int((~missing).sum()),
        dropped=(*frame.excluded, *((count, reason) for reason, count in dropped.items())),
        references=references,
        cluster=cluster,
        clusters=clusters,
    )
