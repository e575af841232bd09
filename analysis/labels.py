"""The label library per person (seed 001's "user portrait"): RFM score and segment, price
sensitivity type, k-means segment, lifecycle stage, churn risk and purchase propensity, each
from the analysis that defines it, with the method that made it.

A label that cannot be computed on the data at hand (no list prices, too few people, a
training period of one outcome) is left out with a note saying why; the others are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analysis.lifecycle import as_of_default, churn_risk, customer_features, rfm
from analysis.people import Events, lines_by_person, person_events
from analysis.pricing import price_sensitivity
from analysis.propensity import propensity_scores
from analysis.segments import kmeans_segments, shopper_features
from smcat.errors import SmcatError
from smcat.store import Store

STAGES = ("new", "active", "silent", "lost")
LABEL_COLUMNS = ("person_id", "label", "value", "score", "method")


@dataclass(frozen=True)
class LabelSettings:
    """The thresholds and model settings of the labels."""

    new_days: float = 30  # first order at most this many days ago: new
    active_days: float = 90  # else last order at most this many days ago: active
    lost_days: float = 180  # else at most this many: silent; longer: lost
    type_a_share: float = 0.5  # share of units bought at a discount from which a buyer is A
    type_c_share: float = 0.1  # ... up to which a buyer is C (B between)
    churn_horizon_days: float = 90
    within_days: float = 14  # purchase propensity: a purchase within this many days
    browsed_days: float = 14  # ... of units that browsed in this many days before
    max_k: int = 8
    seed: int = 0


@dataclass
class Labels:
    """The labels computed (one row per person and label: LABEL_COLUMNS) and notes on the
    labels left out."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def counts(self) -> pd.DataFrame:
        """People labelled per label."""
        return self.rows.groupby("label").size().rename("people").to_frame()


def lifecycle_stage(
    lines: pd.DataFrame, settings: LabelSettings, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Each customer's stage as of `as_of`: new (first order within new_days), active (last
    order within active_days), silent (within lost_days), lost; and the days since the last
    order."""
    if not settings.new_days <= settings.active_days < settings.lost_days:
        raise SmcatError("give stage thresholds with new <= active < lost days")
    features = customer_features(lines, as_of)
    recency, tenure = features["recency_days"], features["tenure_days"]
    stage = np.select(
        [
            tenure <= settings.new_days,
            recency <= settings.active_days,
            recency <= settings.lost_days,
        ],
        list(STAGES[:3]),
        STAGES[3],
    )
    return pd.DataFrame({"stage": stage, "days": recency}, index=features.index)


def price_types(lines: pd.DataFrame, settings: LabelSettings) -> pd.DataFrame:
    """Price sensitivity A (high: at least type_a_share of units bought at 10% or more below
    the list price), C (low: at most type_c_share), B between; from
    analysis.pricing.price_sensitivity's discount share."""
    share = price_sensitivity(lines)["discount share"]
    kind = np.select(
        [share >= settings.type_a_share, share <= settings.type_c_share], ["A", "C"], "B"
    )
    return pd.DataFrame({"type": kind, "discount share": share}, index=share.index)


def _rows(
    label: str, method: str, *, values: pd.Series | None = None, scores: pd.Series | None = None
) -> pd.DataFrame:
    """One label's rows: a value (text), a score or both per person (the series' index)."""
    given = values if values is not None else scores
    if given is None:
        raise ValueError(f"label {label!r} has neither values nor scores")
    return pd.DataFrame(
        {
            "person_id": given.index,
            "label": label,
            "value": values.astype(str).to_numpy() if values is not None else None,
            "score": scores.astype(float).to_numpy() if scores is not None else np.nan,
            "method": method,
        }
    )


def person_labels(
    lines: pd.DataFrame, events: Events | None, settings: LabelSettings | None = None
) -> Labels:
    """Every label of every customer in `lines` (order lines per person) and, for purchase
    propensity, of every unit that browsed recently in `events`."""
    s = settings or LabelSettings()  # short: every method below names its settings
    as_of = as_of_default(lines)

    def rfm_labels() -> list[pd.DataFrame]:
        table = rfm(lines, as_of)
        method = "RFM quintiles 1-5 (5: most recent, frequent, spending) and segment rules"
        return [
            _rows(
                "rfm_score",
                method,
                values=table["rfm"],
                scores=table["r"] + table["f"] + table["m"],
            ),
            _rows("rfm_segment", method, values=table["segment"]),
        ]

    def price_labels() -> list[pd.DataFrame]:
        table = price_types(lines, s)
        method = (
            f"discount share of units (10%+ below list): A >= {s.type_a_share:g}, "
            f"C <= {s.type_c_share:g}, else B"
        )
        return [
            _rows("price_sensitivity", method, values=table["type"], scores=table["discount share"])
        ]

    def segment_labels() -> list[pd.DataFrame]:
        found = kmeans_segments(shopper_features(lines), ks=range(2, s.max_k + 1), seed=s.seed)
        method = (
            f"k-means (k = {found.k} by silhouette) on mean price, discount share, items per "
            f"order, orders per month; seed {s.seed}"
        )
        return [_rows("kmeans_segment", method, values=found.labels)]

    def stage_labels() -> list[pd.DataFrame]:
        table = lifecycle_stage(lines, s, as_of)
        method = (
            f"new: first order within {s.new_days:g} days; active: last within "
            f"{s.active_days:g}; silent: within {s.lost_days:g}; else lost"
        )
        return [_rows("lifecycle_stage", method, values=table["stage"], scores=table["days"])]

    def churn_labels() -> list[pd.DataFrame]:
        risk = churn_risk(lines, horizon_days=s.churn_horizon_days, as_of=as_of)
        method = (
            f"logistic regression of no order in {s.churn_horizon_days:g} days, trained at "
            f"{as_of - pd.Timedelta(days=s.churn_horizon_days):%Y-%m-%d}"
        )
        return [_rows("churn_risk", method, scores=risk)]

    def propensity_labels() -> list[pd.DataFrame]:
        if events is None:
            raise SmcatError("no events: import them with `smcat import events FILE`")
        scores = propensity_scores(
            events, within_days=s.within_days, browsed_days=s.browsed_days, seed=s.seed
        )
        method = (
            f"logistic regression of a purchase within {s.within_days:g} days of units that "
            f"browsed in the {s.browsed_days:g} days before"
        )
        return [_rows("purchase_propensity", method, scores=scores)]

    makers: dict[str, Callable[[], list[pd.DataFrame]]] = {
        "RFM": rfm_labels,
        "price sensitivity": price_labels,
        "k-means segment": segment_labels,
        "lifecycle stage": stage_labels,
        "churn risk": churn_labels,
        "purchase propensity": propensity_labels,
    }
    parts: list[pd.DataFrame] = []
    notes = []
    for name, make in makers.items():
        try:
            parts += make()
        except SmcatError as error:
            notes.append(f"{name} left out: {error}")
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LABEL_COLUMNS)
    return Labels(rows, notes)


def label_records(labels: Labels, computed_at: str) -> list[dict[str, object]]:
    """The rows for Store.upsert_person_labels, stamped `computed_at`."""
    return [
        {
            "person_id": row.person_id,
            "label": row.label,
            "computed_at": computed_at,
            "value": row.value if isinstance(row.value, str) else None,
            "score": float(row.score) if pd.notna(row.score) else None,
            "method": row.method,
        }
        for row in labels.rows.itertuples(index=False)
    ]


@dataclass(frozen=True)
class LabelRun:
    """What `label_people` did: who was counted, the labels, and how many it stored."""

    counted: str
    labels: Labels
    stored: int
    people: int


def label_people(
    store: Store, settings: LabelSettings | None = None, *, computed_at: str | None = None
) -> LabelRun:
    """Label every linked person from their orders and events and store the labels, stamped
    `computed_at` (default: now); an error naming `smcat link people` without people."""
    person_lines = lines_by_person(store)
    try:
        events: Events | None = person_events(store)
    except SmcatError:  # no events: every label but purchase propensity
        events = None
    labels = person_labels(person_lines.lines, events, settings)
    # an unlinked customer record is counted beside the people, but it is no person
    people = {row[3] for row in store.person_links().rows}
    labels.rows = labels.rows[labels.rows["person_id"].isin(people)]
    stamp = computed_at or datetime.now(UTC).isoformat(timespec="seconds")
    records = label_records(labels, stamp)
    store.upsert_person_labels(records)
    labelled = len({record["person_id"] for record in records})
    return LabelRun(person_lines.describe(), labels, len(records), labelled)
