"""The event models of the customer lifecycle (seed 001): who responds to a campaign contact
within N days (response), and who buys within N days after browsing (purchase propensity).

Each case is a unit (person or system record, see analysis.people) at a moment: a contact, or a
cutoff at which the unit had browsed in the days before. Its features are counted from the
unit's events before that moment only, so a case of the past and one of today are alike.
Both models are trained on one period and tested on the next, as the churn model is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from analysis.bootstrap import percentile_interval, resample_counts, weighted_auc
from analysis.lifecycle import lift_at
from analysis.people import Events
from smcat.errors import SettingError

BROWSING = ("view", "click", "cart", "favourite")
CAP_DAYS = 365.0  # days since a purchase, for none or longer ago
# counts in the window before the case, log(1 + n); purchases, contacts and responses ever
WINDOW_COUNTS = ("view", "click", "cart", "favourite")
EVER_COUNTS = ("purchase", "contact", "response")
FEATURES = (
    *(f"{kind}s" for kind in WINDOW_COUNTS),
    *(f"{kind}s ever" for kind in EVER_COUNTS),
    "days since purchase",
)
DAY = pd.Timedelta(days=1)
Period = tuple[pd.Timestamp, pd.Timestamp]


def _count_before(cases: pd.DataFrame, events: pd.DataFrame, at: pd.Series) -> np.ndarray:
    """For each case, the number of `events` of its unit strictly before `at`."""
    if events.empty or cases.empty:
        return np.zeros(len(cases))
    ordered = events.sort_values("at")[["unit", "at"]].copy()
    ordered["n"] = ordered.groupby("unit").cumcount() + 1
    probe = pd.DataFrame(
        {"unit": cases["unit"].to_numpy(), "at": at.to_numpy(), "row": range(len(cases))}
    )
    joined = pd.merge_asof(
        probe.sort_values("at"), ordered, on="at", by="unit", allow_exact_matches=False
    )
    return joined.sort_values("row")["n"].fillna(0).to_numpy()


def features_at(cases: pd.DataFrame, events: pd.DataFrame, window_days: float) -> pd.DataFrame:
    """The features of each case (a unit and a moment `at`) from the unit's events before it:
    log(1 + n) of its views, clicks, cart adds and favourites in the `window_days` before, of
    its purchases, contacts and responses ever, and the days since its last purchase (up to
    CAP_DAYS)."""
    if cases.empty:
        return pd.DataFrame(columns=list(FEATURES), index=cases.index, dtype=float)
    window = cases["at"] - pd.Timedelta(days=window_days)
    columns = {}
    for kind in WINDOW_COUNTS:
        typed = events[events["event_type"] == kind]
        n = _count_before(cases, typed, cases["at"]) - _count_before(cases, typed, window)
        columns[f"{kind}s"] = np.log1p(n)
    for kind in EVER_COUNTS:
        typed = events[events["event_type"] == kind]
        columns[f"{kind}s ever"] = np.log1p(_count_before(cases, typed, cases["at"]))
    bought = events[events["event_type"] == "purchase"][["unit", "at"]].sort_values("at")
    probe = pd.DataFrame({"unit": cases["unit"].to_numpy(), "at": cases["at"].to_numpy(),
                          "row": range(len(cases))})  # fmt: skip
    last = pd.merge_asof(
        probe.sort_values("at"),
        bought.assign(last=bought["at"]),
        on="at",
        by="unit",
        allow_exact_matches=False,
    ).sort_values("row")
    days = ((last["at"] - last["last"]) / DAY).fillna(CAP_DAYS).clip(upper=CAP_DAYS)
    columns["days since purchase"] = days.to_numpy()
    return pd.DataFrame(columns, index=cases.index)


def propensity_cases(events: Events, cutoff: pd.Timestamp, browsed_days: float) -> pd.DataFrame:
    """The units that browsed (view, click, cart, favourite) in the `browsed_days` before
    `cutoff`: unit, at (the cutoff)."""
    table = events.table
    recent = table[
        table["event_type"].isin(BROWSING)
        & (table["at"] >= cutoff - pd.Timedelta(days=browsed_days))
        & (table["at"] < cutoff)
    ]
    units = np.sort(recent["unit"].unique())
    return pd.DataFrame({"unit": units, "at": cutoff, "key": units})


def bought_within(events: Events, cases: pd.DataFrame, within_days: float) -> np.ndarray:
    """1 where the case's unit bought in the `within_days` from its moment."""
    table = events.table
    bought = table[table["event_type"] == "purchase"][["unit", "at"]]
    after = _count_before(cases, bought, cases["at"] + pd.Timedelta(days=within_days))
    return (after - _count_before(cases, bought, cases["at"]) > 0).astype(int)


def contact_cases(events: Events, low: pd.Timestamp, high: pd.Timestamp) -> pd.DataFrame:
    """The contacts from `low` up to `high`: unit, at, campaign, key ("system:event_id")."""
    table = events.table
    contacts = table[
        (table["event_type"] == "contact") & (table["at"] >= low) & (table["at"] < high)
    ]
    return pd.DataFrame(
        {
            "unit": contacts["unit"],
            "at": contacts["at"],
            "campaign": contacts["campaign"],
            "key": contacts["system"] + ":" + contacts["event_id"],
        }
    ).reset_index(drop=True)


def responded_within(events: Events, cases: pd.DataFrame, within_days: float) -> np.ndarray:
    """1 where the unit responded to the contact's campaign in the `within_days` after it."""
    table = events.table
    responses = table[table["event_type"] == "response"]
    joined = cases.reset_index().merge(
        responses[["unit", "campaign", "at"]], on=["unit", "campaign"], suffixes=("", "_r")
    )
    hit = (joined["at_r"] > joined["at"]) & (joined["at_r"] <= joined["at"] + within_days * DAY)
    found = set(joined.loc[hit, "index"])
    return np.array([int(i in found) for i in range(len(cases))])


@dataclass(frozen=True)
class EventModel:
    """One fitted model and how it did on the test period."""

    name: str
    auc: float
    auc_interval: tuple[float, float]  # 95% percentile bootstrap over the test cases
    lift_top_decile: float  # the outcome rate of the 10% scored highest / the overall rate
    brier: float
    calibration: pd.DataFrame  # predicted (mean score per bin), observed (outcome share)
    scores: pd.Series  # per test case (key)


@dataclass(frozen=True)
class EventModelResult:
    """The models of one outcome, trained on one period and tested on the next."""

    outcome: str  # e.g. "response within 7 days"
    by: str  # person or record
    note: str  # what a unit is, what was left out
    train_period: Period  # the cases' moments, from and before
    test_period: Period
    train_cases: int
    test_cases: int
    rate: float  # of the outcome among the test cases
    test: pd.DataFrame  # the test cases: unit, at, key, outcome
    models: tuple[EventModel, ...]

    def table(self) -> pd.DataFrame:
        """AUC with its interval, top-decile lift and Brier score per model."""
        return pd.DataFrame(
            {
                "AUC": [m.auc for m in self.models],
                "AUC 95% low": [m.auc_interval[0] for m in self.models],
                "AUC 95% high": [m.auc_interval[1] for m in self.models],
                "lift at top decile": [m.lift_top_decile for m in self.models],
                "Brier score": [m.brier for m in self.models],
            },
            index=[m.name for m in self.models],
        )


def estimators(seed: int) -> dict[str, Any]:
    """The two models of every event outcome, as `analyze churn` fits them."""
    return {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "gradient boosting": GradientBoostingClassifier(random_state=seed),
    }


def _check(part: str, y: np.ndarray, what: str) -> None:
    if len(y) == 0 or len(np.unique(y)) < 2:
        raise SettingError(
            f"the {part} period has {len(y)} {what}, all of one outcome: choose other days"
            " or import a longer history of events",
            within_days=None,
        )


def _fit(train: pd.DataFrame, test: pd.DataFrame, *, seed: int) -> tuple[EventModel, ...]:
    x_train, x_test = train[list(FEATURES)], test[list(FEATURES)]
    y_train, y_test = train["outcome"].to_numpy(), test["outcome"].to_numpy()
    counts = resample_counts(len(test), seed=seed)
    models = []
    for name, estimator in estimators(seed).items():
        estimator.fit(x_train, y_train)
        scores = estimator.predict_proba(x_test)[:, 1]
        observed, predicted = calibration_curve(y_test, scores, n_bins=10, strategy="quantile")
        models.append(
            EventModel(
                name=name,
                auc=float(roc_auc_score(y_test, scores)),
                auc_interval=percentile_interval(weighted_auc(y_test, scores, counts)),
                lift_top_decile=lift_at(y_test, scores),
                brier=float(brier_score_loss(y_test, scores)),
                calibration=pd.DataFrame({"predicted": predicted, "observed": observed}),
                scores=pd.Series(scores, index=test["key"].to_numpy(), name=name),
            )
        )
    return tuple(models)


def _result(
    outcome: str,
    events: Events,
    frames: list[pd.DataFrame],
    periods: tuple[Period, Period],
    seed: int,
) -> EventModelResult:
    train, test = frames
    _check("training", train["outcome"].to_numpy(), "cases")
    _check("test", test["outcome"].to_numpy(), "cases")
    return EventModelResult(
        outcome=outcome,
        by=events.by,
        note=events.describe(),
        train_period=periods[0],
        test_period=periods[1],
        train_cases=len(train),
        test_cases=len(test),
        rate=float(test["outcome"].mean()),
        test=test[["unit", "at", "key", "outcome"]],
        models=_fit(train, test, seed=seed),
    )


def propensity_models(
    events: Events,
    *,
    within_days: float = 14,
    browsed_days: float = 14,
    end: pd.Timestamp | None = None,
    seed: int = 0,
) -> EventModelResult:
    """Who buys within `within_days` after browsing: the units that browsed in the
    `browsed_days` before a cutoff, and whether they bought in the `within_days` after it.
    Trained at the cutoff two spans before `end` (default: just after the last event), tested
    at the cutoff one span before it."""
    end = end if end is not None else events.end
    test_cutoff = end - within_days * DAY
    train_cutoff = test_cutoff - within_days * DAY
    frames = []
    for cutoff in (train_cutoff, test_cutoff):
        cases = propensity_cases(events, cutoff, browsed_days)
        cases = pd.concat([cases, features_at(cases, events.table, browsed_days)], axis=1)
        frames.append(cases.assign(outcome=bought_within(events, cases, within_days)))
    periods = ((train_cutoff, test_cutoff), (test_cutoff, end))
    return _result(
        f"purchase within {within_days:g} days after browsing", events, frames, periods, seed
    )


def response_models(
    events: Events,
    *,
    within_days: float = 7,
    period_days: float = 90,
    window_days: float = 30,
    end: pd.Timestamp | None = None,
    seed: int = 0,
) -> EventModelResult:
    """Who responds to a campaign contact within `within_days` (a response event of the same
    campaign): the contacts of the last `period_days` whose days to respond have passed by
    `end` are the test cases; the contacts of the `period_days` before, whose responses were
    all known when the test period began, train the models."""
    end = end if end is not None else events.end
    test_high = end - within_days * DAY
    test_low = test_high - period_days * DAY
    train_high = test_low - within_days * DAY
    train_low = train_high - period_days * DAY
    frames = []
    for low, high in ((train_low, train_high), (test_low, test_high)):
        cases = contact_cases(events, low, high)
        cases = pd.concat([cases, features_at(cases, events.table, window_days)], axis=1)
        frames.append(cases.assign(outcome=responded_within(events, cases, within_days)))
    periods = ((train_low, train_high), (test_low, test_high))
    return _result(
        f"response within {within_days:g} days of a contact", events, frames, periods, seed
    )


def propensity_scores(
    events: Events,
    *,
    within_days: float = 14,
    browsed_days: float = 14,
    end: pd.Timestamp | None = None,
    seed: int = 0,
) -> pd.Series:
    """Today's purchase propensity per unit that browsed in the `browsed_days` before `end`:
    the logistic regression trained on the latest cutoff whose outcome is known
    (`within_days` before `end`), scoring the features as of `end`."""
    end = end if end is not None else events.end
    cutoff = end - within_days * DAY
    train = propensity_cases(events, cutoff, browsed_days)
    train = pd.concat([train, features_at(train, events.table, browsed_days)], axis=1)
    y = bought_within(events, train, within_days)
    _check("training", y, "browsing units")
    now = propensity_cases(events, end, browsed_days)
    x_now = features_at(now, events.table, browsed_days)
    model = estimators(seed)["logistic regression"]
    model.fit(train[list(FEATURES)], y)
    scores = model.predict_proba(x_now[list(FEATURES)])[:, 1]
    return pd.Series(scores, index=now["unit"].to_numpy(), name="purchase propensity")
