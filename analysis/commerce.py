"""Commerce data from the store as DataFrames: order lines, products and choices."""

from __future__ import annotations

import pandas as pd

from smcat.errors import SmcatError
from smcat.store import Store


def order_lines(store: Store) -> pd.DataFrame:
    """One row per order line with its product's fields, `ordered_at` as UTC timestamps,
    `amount` (price x quantity) and `item` (the product's name, else its id); an error naming
    the fix where no orders were imported."""
    rows = store.order_lines()
    lines = pd.DataFrame(rows.rows, columns=list(rows.columns))
    if lines.empty:
        raise SmcatError("there are no orders: import them with `smcat import orders FILE`")
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True, format="ISO8601")
    lines["amount"] = lines["price"] * lines["quantity"]
    lines["item"] = lines["name"].fillna(lines["product_id"])
    return lines


def choice_table(store: Store) -> pd.DataFrame:
    """One row per alternative of each choice: choice_id, alternative, chosen, customer_id and
    one column per attribute."""
    rows = store.choices()
    table = pd.DataFrame(rows.rows, columns=list(rows.columns))
    attributes = pd.DataFrame(list(table.pop("attributes")), index=table.index)
    return pd.concat([table, attributes], axis=1)
