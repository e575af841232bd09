"""Association rules over shopping baskets: support, confidence and lift.

The pair tables (co-occurrence and the confidence of every X -> Y) come straight from the
one-hot basket matrix; itemsets of any size and the rules between them come from mlxtend's
apriori and association_rules, filtered by a minimum support and confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules
from mlxtend.preprocessing import TransactionEncoder

from smcat.errors import SmcatError


@dataclass(frozen=True)
class BasketResult:
    """The pair tables, the frequent itemsets and the rules of a set of baskets."""

    baskets: int
    pair_counts: pd.DataFrame  # baskets holding both items; the diagonal: holding the item
    confidence: pd.DataFrame  # row -> column: P(column | row); the diagonal is empty
    itemsets: pd.DataFrame  # itemset, size, support
    rules: pd.DataFrame  # antecedents, consequents, support, confidence, lift

    @property
    def pair_support(self) -> pd.DataFrame:
        """The share of baskets holding both items (the diagonal: the item's support)."""
        return self.pair_counts / self.baskets


def baskets_of(
    lines: pd.DataFrame, *, basket: str = "order_id", item: str = "item"
) -> list[list[str]]:
    """The items of each basket (an order, by default), from one row per basket and item."""
    return [sorted(set(group)) for _, group in lines.groupby(basket, sort=True)[item]]


def _joined(itemset: frozenset[str]) -> str:
    return ", ".join(sorted(itemset))


def association(
    baskets: Sequence[Sequence[str]],
    *,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    max_len: int | None = None,
) -> BasketResult:
    """Pair tables, frequent itemsets (support >= min_support) and the rules among them
    (confidence >= min_confidence) of `baskets`, each a list of items."""
    if not baskets:
        raise SmcatError("there are no baskets: import orders with `smcat import orders FILE`")
    if empty := [i for i, b in enumerate(baskets, start=1) if not b]:
        raise SmcatError(f"basket {empty[0]} is empty: every basket needs at least one item")
    if not 0 <= min_support <= 1 or not 0 <= min_confidence <= 1:
        raise SmcatError("minimum support and confidence are shares: give them between 0 and 1")
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
    matrix = onehot.to_numpy(dtype=np.int64)
    counts = pd.DataFrame(matrix.T @ matrix, index=onehot.columns, columns=onehot.columns)
    item_counts = np.diag(counts.to_numpy())
    shares = matrix.T @ matrix / item_counts[:, None]
    np.fill_diagonal(shares, np.nan)  # X -> X is no rule
    confidence = pd.DataFrame(shares, index=onehot.columns, columns=onehot.columns)
    # apriori refuses a support of 0; the smallest real support is one basket
    floor = max(min_support, 1 / len(baskets))
    frequent = apriori(onehot, min_support=floor, use_colnames=True, max_len=max_len)
    itemsets = pd.DataFrame(
        {
            "itemset": frequent["itemsets"].map(_joined),
            "size": frequent["itemsets"].map(len),
            "support": frequent["support"],
        }
    ).sort_values(["size", "support", "itemset"], ascending=[True, False, True])
    rules = _rules(frequent, len(onehot), min_confidence)
    return BasketResult(len(baskets), counts, confidence, itemsets.reset_index(drop=True), rules)


def _rules(frequent: pd.DataFrame, baskets: int, min_confidence: float) -> pd.DataFrame:
    columns = ["antecedents", "consequents", "support", "confidence", "lift"]
    if not (frequent["itemsets"].map(len) > 1).any():
        return pd.DataFrame(columns=columns)
    # num_itemsets is passed explicitly: mlxtend 0.23 required it, and later ones accept it
    found = association_rules(
        frequent, num_itemsets=baskets, metric="confidence", min_threshold=min_confidence
    )
    rules = pd.DataFrame(
        {
            "antecedents": found["antecedents"].map(_joined),
            "consequents": found["consequents"].map(_joined),
            "support": found["support"],
            "confidence": found["confidence"],
            "lift": found["lift"],
        }
    )
    return rules.sort_values(
        ["confidence", "lift", "antecedents", "consequents"], ascending=[False, False, True, True]
    ).reset_index(drop=True)
