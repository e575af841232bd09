"""Customer lifecycle: RFM scores and segments, silent customers, and a churn model.

Every figure is "as of" a moment (by default just after the last order), so that the same
code computes the features of a past cutoff for the churn model's time-based split: train on
what was known one horizon before the last cutoff and what happened next, test on the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from smcat.errors import SettingError

# (name, rule on the R and F scores 1-5): the first that matches names the customer's segment;
# a reduced form of the usual RFM grid
RFM_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("champions", "r >= 4 and f >= 4"),
    ("loyal", "r >= 3 and f >= 3"),
    ("new", "r >= 4 and f <= 2"),
    ("at risk", "r <= 2 and f >= 3"),
    ("hibernating", "r <= 2 and f <= 2"),
    ("needs attention", "r == r"),
)
FEATURES = ("recency_days", "frequency", "monetary", "tenure_days", "mean_gap_days")
RECENCY_ALONE = "recency alone (baseline)"


def as_of_default(lines: pd.DataFrame) -> pd.Timestamp:
    """The moment just after the last order: the default "as of"."""
    return lines["ordered_at"].max() + pd.Timedelta(seconds=1)


def customer_features(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer, from the orders before `as_of`: recency_days (since the last order),
    frequency (orders), monetary (amount spent), tenure_days (since the first order),
    mean_gap_days (between orders; the tenure for a one-order customer)."""
    past = lines[lines["ordered_at"] < as_of]
    orders = past.groupby(["customer_id", "order_id"]).agg(
        at=("ordered_at", "min"), amount=("amount", "sum")
    )
    by = orders.groupby(level="customer_id")
    first, last = by["at"].min(), by["at"].max()
    frequency = by.size()
    days = pd.Timedelta(days=1)
    features = pd.DataFrame(
        {
            "recency_days": (as_of - last) / days,
            "frequency": frequency,
            "monetary": by["amount"].sum(),
            "tenure_days": (as_of - first) / days,
        }
    )
    spans = (last - first) / days
    features["mean_gap_days"] = np.where(
        frequency > 1, spans / (frequency - 1).clip(lower=1), features["tenure_days"]
    )
    return features


def _quintile_scores(values: pd.Series, *, high_is_good: bool = True, bins: int = 5) -> pd.Series:
    """Scores 1..bins by quantile; ties broken by order of appearance so every bin fills."""
    ranks = values.rank(method="first", ascending=high_is_good)
    return pd.qcut(ranks, q=min(bins, len(values)), labels=False).astype(int) + 1


def rfm(lines: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """RFM per customer: recency, frequency and monetary values, their quintile scores 1-5
    (5 = most recent, most frequent, highest spending), the score "RFM" and the segment."""
    as_of = as_of or as_of_default(lines)
    features = customer_features(lines, as_of)[["recency_days", "frequency", "monetary"]]
    table = features.assign(
        r=_quintile_scores(features["recency_days"], high_is_good=False),
        f=_quintile_scores(features["frequency"]),
        m=_quintile_scores(features["monetary"]),
    )
    table["rfm"] = table["r"].astype(str) + table["f"].astype(str) + table["m"].astype(str)
    table["segment"] = ""
    for name, rule in reversed(RFM_SEGMENTS):  # the first rule that matches wins
        table.loc[table.eval(rule), "segment"] = name
    return table


def silent_customers(
    lines: pd.DataFrame, *, silent_days: float = 90, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Repeat customers (two orders or more) whose last order is more than `silent_days` and
    more than twice their usual gap between orders before `as_of`: the ones to win back,
    longest silent first."""
    as_of = as_of or as_of_default(lines)
    features = customer_features(lines, as_of)
    silent = features[
        (features["frequency"] >= 2)
        & (features["recency_days"] > silent_days)
        & (features["recency_days"] > 2 * features["mean_gap_days"])
    ]
    return silent.sort_values("recency_days", ascending=False)


def churn_frame(lines: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: float) -> pd.DataFrame:
    """Features of customers known before `cutoff`, and `churned`: no order in the
    `horizon_days` after it."""
    features = customer_features(lines, cutoff)
    window = lines[
        (lines["ordered_at"] >= cutoff)
        & (lines["ordered_at"] < cutoff + pd.Timedelta(days=horizon_days))
    ]
    return features.assign(churned=(~features.index.isin(window["customer_id"])).astype(int))


@dataclass(frozen=True)
class ChurnModel:
    """One fitted churn model and how it did on the later period."""

    name: str
    auc: float  # over every test customer
    auc_active: float  # over the test customers active at the cutoff (NaN if they are one class)
    lift_top_decile: float  # churn rate among the 10% scored riskiest / the overall rate
    calibration: pd.DataFrame  # predicted (mean score per bin), observed (churn share)
    scores: pd.Series  # per test customer


@dataclass(frozen=True)
class ChurnResult:
    """The churn models of a time-based split: trained on the cutoff one horizon earlier,
    tested on the latest cutoff."""

    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    horizon_days: float
    train_customers: int
    test_customers: int
    churn_rate: float  # in the test period
    active_customers: int  # test customers with an order in the horizon before the cutoff
    active_churn_rate: float
    models: tuple[ChurnModel, ...]

    def table(self) -> pd.DataFrame:
        """AUC over all test customers and over those active at the cutoff, and top-decile
        lift, per model."""
        return pd.DataFrame(
            {
                "AUC (all)": [m.auc for m in self.models],
                "AUC (active at cutoff)": [m.auc_active for m in self.models],
                "lift at top decile": [m.lift_top_decile for m in self.models],
            },
            index=[m.name for m in self.models],
        )


def lift_at(y: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """The churn rate among the `share` of customers with the highest scores, over the rate
    among all."""
    top = np.argsort(-scores, kind="stable")[: max(1, round(len(scores) * share))]
    return float(y[top].mean() / y.mean())


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC, NaN where the customers are all of one class."""
    return float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else float("nan")


def churn_models(lines: pd.DataFrame, *, horizon_days: float = 90, seed: int = 0) -> ChurnResult:
    """Logistic regression (scaled features) and gradient boosting of churn, and a logistic
    regression on recency alone as the baseline, trained on the customers at the cutoff two
    horizons before the last order and what they did in the next horizon, tested the same way
    one horizon later. AUC is given over all test customers and over those active at the cutoff
    (an order in the horizon before it): customers long gone are churned by definition, and
    recency alone ranks them, so the AUC of the active ones shows what a model adds."""
    end = as_of_default(lines)
    test_cutoff = end - pd.Timedelta(days=horizon_days)
    train_cutoff = test_cutoff - pd.Timedelta(days=horizon_days)
    train = churn_frame(lines, train_cutoff, horizon_days)
    test = churn_frame(lines, test_cutoff, horizon_days)
    for part, frame in (("training", train), ("test", test)):
        if frame["churned"].nunique() < 2:
            raise SettingError(
                f"the {part} period has {len(frame)} customers, all "
                f"{'churned' if len(frame) and frame['churned'].iloc[0] else 'active'}: "
                "choose another horizon or import a longer order history",
                horizon_days=None,
            )
    x_train, x_test = train[list(FEATURES)], test[list(FEATURES)]
    y_train, y_test = train["churned"].to_numpy(), test["churned"].to_numpy()
    active = (test["recency_days"] <= horizon_days).to_numpy()
    candidates = {
        "logistic regression": (
            list(FEATURES),
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        ),
        "gradient boosting": (list(FEATURES), GradientBoostingClassifier(random_state=seed)),
        RECENCY_ALONE: (["recency_days"], LogisticRegression(max_iter=1000)),
    }
    models = []
    for name, (columns, estimator) in candidates.items():
        estimator.fit(x_train[columns], y_train)
        scores = estimator.predict_proba(x_test[columns])[:, 1]
        observed, predicted = calibration_curve(y_test, scores, n_bins=10, strategy="quantile")
        models.append(
            ChurnModel(
                name=name,
                auc=float(roc_auc_score(y_test, scores)),
                auc_active=_auc(y_test[active], scores[active]),
                lift_top_decile=lift_at(y_test, scores),
                calibration=pd.DataFrame({"predicted": predicted, "observed": observed}),
                scores=pd.Series(scores, index=test.index, name=name),
            )
        )
    return ChurnResult(
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        horizon_days=horizon_days,
        train_customers=len(train),
        test_customers=len(test),
        churn_rate=float(y_test.mean()),
        active_customers=int(active.sum()),
        active_churn_rate=float(y_test[active].mean()) if active.any() else float("nan"),
        models=tuple(models),
    )


def churn_risk(
    lines: pd.DataFrame, *, horizon_days: float = 90, as_of: pd.Timestamp | None = None
) -> pd.Series:
    """Each customer's churn risk as of `as_of` (default: just after the last order): the
    logistic regression of churn_models trained at the latest cutoff whose outcome is known
    (`horizon_days` before `as_of`), scoring the features as of `as_of`."""
    as_of = as_of or as_of_default(lines)
    train = churn_frame(lines, as_of - pd.Timedelta(days=horizon_days), horizon_days)
    if train["churned"].nunique() < 2:
        raise SettingError(
            f"the {len(train)} customers of the training period are all of one outcome: "
            "choose another horizon or import a longer order history",
            horizon_days=None,
        )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[list(FEATURES)], train["churned"])
    now = customer_features(lines, as_of)
    return pd.Series(
        model.predict_proba(now[list(FEATURES)])[:, 1], index=now.index, name="churn risk"
    )
