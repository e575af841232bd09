"""Item-based collaborative filtering: cosine similarity of items over the customers who bought
them, top-N recommendations per customer, and the hit rate on held-out purchases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smcat.errors import SmcatError


def purchase_matrix(lines: pd.DataFrame) -> pd.DataFrame:
    """Customers x items, 1 where the customer bought the item."""
    return pd.crosstab(lines["customer_id"], lines["item"]).clip(upper=1)


def item_similarity(matrix: pd.DataFrame) -> pd.DataFrame:
    """Cosine similarity of every pair of items (columns of `matrix`); 0 on the diagonal, so
    that an item never recommends itself."""
    values = matrix.to_numpy(dtype=float)
    norms = np.linalg.norm(values, axis=0)
    norms[norms == 0] = 1  # an item nobody bought is similar to nothing
    similarity = values.T @ values / np.outer(norms, norms)
    np.fill_diagonal(similarity, 0)
    return pd.DataFrame(similarity, index=matrix.columns, columns=matrix.columns)


def recommend(matrix: pd.DataFrame, similarity: pd.DataFrame, top_n: int = 5) -> pd.DataFrame:
    """The `top_n` items each customer has not bought, by the summed similarity to the items
    they did buy: customer_id, rank, item, score (ties by item name)."""
    scores = (
        matrix.to_numpy(dtype=float) @ similarity.loc[matrix.columns, matrix.columns].to_numpy()
    )
    scores[matrix.to_numpy() > 0] = -np.inf  # recommend only what is new to them
    frame = pd.DataFrame(scores, index=matrix.index, columns=matrix.columns)
    long = frame.stack().rename("score").reset_index()
    long.columns = ["customer_id", "item", "score"]
    long = long[np.isfinite(long["score"]) & (long["score"] > 0)]
    long = long.sort_values(["customer_id", "score", "item"], ascending=[True, False, True])
    long["rank"] = long.groupby("customer_id").cumcount() + 1
    return long[long["rank"] <= top_n][["customer_id", "rank", "item", "score"]].reset_index(
        drop=True
    )


@dataclass(frozen=True)
class HoldOut:
    """The hit rate of a held-out evaluation, and that of recommending the most bought items."""

    customers: int
    top_n: int
    hit_rate: float
    popular_hit_rate: float


def holdout_hit_rate(lines: pd.DataFrame, top_n: int = 5) -> HoldOut:
    """Hold out each customer's last new item (for customers with two items or more), learn
    the similarities from the rest, and count how often the held-out item is in the top-N;
    beside it, the same for recommending the items most bought in the rest."""
    firsts = lines.sort_values(["ordered_at", "order_id"]).drop_duplicates(["customer_id", "item"])
    counts = firsts.groupby("customer_id")["item"].transform("size")
    eligible = firsts[counts >= 2]
    if eligible.empty:
        raise SmcatError("no customer bought two different items: nothing to hold out")
    held = eligible.groupby("customer_id").tail(1)
    rest = firsts.drop(index=held.index)
    matrix = purchase_matrix(rest)
    ranked = recommend(matrix, item_similarity(matrix), top_n)
    picks = ranked.groupby("customer_id")["item"].agg(set)
    hits = [
        item in picks.get(customer, set())
        for customer, item in held[["customer_id", "item"]].itertuples(index=False)
    ]
    popular = rest["item"].value_counts()
    owned = rest.groupby("customer_id")["item"].agg(set)
    popular_hits = [
        item in [p for p in popular.index if p not in owned[customer]][:top_n]
        for customer, item in held[["customer_id", "item"]].itertuples(index=False)
    ]
    return HoldOut(len(held), top_n, float(np.mean(hits)), float(np.mean(popular_hits)))
