"""Prices: the distribution of sales over price bands, and price-sensitivity segments."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from smcat.errors import SmcatError

PRICE_SEGMENTS = ("discount seekers", "premium buyers", "both", "regular")


def parse_bands(text: str) -> list[float]:
    """Band edges from "0,50,100,200" (a last band from the highest edge up is added)."""
    try:
        edges = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SmcatError(f"{text!r} are no price edges: write them as 0,50,100,200") from None
    if len(edges) < 2 or edges != sorted(set(edges)):
        raise SmcatError(f"{text!r}: give two or more rising price edges, e.g. 0,50,100,200")
    return edges


def price_bands(lines: pd.DataFrame, edges: Sequence[float]) -> pd.DataFrame:
    """Per price band [low, high) of the unit price paid: order lines, units, sales amount and
    each one's share of the total. Prices below the first edge are refused."""
    if (lines["price"] < edges[0]).any():
        raise SmcatError(
            f"some prices are below the first band edge {edges[0]:g}: start the bands lower"
        )
    bounds = [*edges, np.inf]
    labels = [
        f"{low:g}-{high:g}" if np.isfinite(high) else f"{low:g}+"
        for low, high in itertools.pairwise(bounds)
    ]
    band = pd.cut(lines["price"], bins=bounds, right=False, labels=labels)
    table = lines.groupby(band, observed=False).agg(
        lines=("price", "size"), units=("quantity", "sum"), amount=("amount", "sum")
    )
    table.index.name = "price band"
    table["units share"] = table["units"] / table["units"].sum()
    table["amount share"] = table["amount"] / table["amount"].sum()
    return table


def price_sensitivity(
    lines: pd.DataFrame, *, discount: float = 0.1, premium_quantile: float = 2 / 3
) -> pd.DataFrame:
    """Per customer: the share of units bought at a discount (paid at least `discount` below
    the list price) and of units of premium products (list price at or above the
    `premium_quantile` of the category's products), and the segment: discount seekers, premium
    buyers, both (half or more of each), or regular."""
    if lines["list_price"].isna().all():
        raise SmcatError(
            "no list prices: import products with list_price, or orders with a list_price column"
        )
    lines = lines.dropna(subset=["list_price"])
    category = lines["category"].fillna("")
    products = lines.drop_duplicates("product_id").assign(category=category)
    threshold = products.groupby("category")["list_price"].quantile(premium_quantile)
    discounted = lines["price"] <= lines["list_price"] * (1 - discount)
    premium = lines["list_price"] >= category.map(threshold)
    units = lines["quantity"]
    by = lines["customer_id"]
    table = pd.DataFrame(
        {
            "units": units.groupby(by).sum(),
            "discount share": (units * discounted).groupby(by).sum() / units.groupby(by).sum(),
            "premium share": (units * premium).groupby(by).sum() / units.groupby(by).sum(),
        }
    )
    deal = table["discount share"] >= 0.5
    high = table["premium share"] >= 0.5
    table["segment"] = np.select(
        [deal & high, deal, high], ["both", "discount seekers", "premium buyers"], "regular"
    )
    return table
