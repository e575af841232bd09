"""Consumer segments: k-means on scaled features, k chosen by the silhouette, a profile each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from smcat.errors import SmcatError


@dataclass(frozen=True)
class Segments:
    """The chosen k-means clustering: the silhouette of each k tried, each customer's segment
    (numbered from 1 by size, largest first) and the profile of each segment."""

    k: int
    silhouettes: pd.Series  # k -> mean silhouette
    labels: pd.Series  # customer -> segment
    profile: pd.DataFrame  # segment -> customers, share, mean of each feature


def kmeans_segments(
    features: pd.DataFrame, *, ks: Sequence[int] = range(2, 9), seed: int = 0
) -> Segments:
    """Cluster the rows of `features` (numbers, one row per customer) with k-means on
    standardised columns, for each k in `ks`, and keep the k with the highest silhouette."""
    data = features.dropna()
    ks = [k for k in ks if 2 <= k < len(data)]
    if not ks:
        raise SmcatError(
            f"{len(data)} customers are too few to segment: k-means needs at least three"
        )
    scaled = StandardScaler().fit_transform(data)
    fits = {k: KMeans(n_clusters=k, n_init=10, random_state=seed).fit(scaled) for k in ks}
    silhouettes = pd.Series(
        {k: silhouette_score(scaled, fit.labels_) for k, fit in fits.items()}, name="silhouette"
    )
    k = int(silhouettes.idxmax())
    raw = pd.Series(fits[k].labels_, index=data.index)
    # number the segments by size so that reruns and reports read the same way
    order = {label: i for i, label in enumerate(raw.value_counts().index, start=1)}
    labels = raw.map(order).rename("segment")
    profile = data.groupby(labels).mean()
    profile.insert(0, "share", labels.value_counts(normalize=True).sort_index())
    profile.insert(0, "customers", labels.value_counts().sort_index())
    return Segments(k, silhouettes, labels, profile)


def shopper_features(lines: pd.DataFrame) -> pd.DataFrame:
    """What k-means segments customers on by default: mean unit price paid, the share of
    units bought below the list price, items per order, and orders per 30 days between the
    first and the last order (taken as at least 90 days, so that a few orders close together
    do not read as a habit)."""
    by = lines.groupby("customer_id")
    # orders of products never imported have no list price (None): such a unit is not below it
    list_price = pd.to_numeric(lines["list_price"])
    below = (lines["price"] < list_price).astype(float) * lines["quantity"]
    orders = by["order_id"].nunique()
    span = (by["ordered_at"].max() - by["ordered_at"].min()) / pd.Timedelta(days=30)
    return pd.DataFrame(
        {
            "mean price": by["amount"].sum() / by["quantity"].sum(),
            "discount share": below.groupby(lines["customer_id"]).sum() / by["quantity"].sum(),
            "items per order": by["quantity"].sum() / orders,
            "orders per month": orders / span.clip(lower=3),
        }
    )
