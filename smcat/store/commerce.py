"""Commerce data that users import (smcat import orders|products|choices): products, order
lines, and choice situations with the alternatives offered."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from smcat.store.engine import (
    _FLAG,
    _INT,
    _JSON,
    _REAL,
    _TEXT,
    _TIME,
    Engine,
    Rows,
    WriteResult,
    _imported_now,
    _table,
)

_PRODUCTS = _table(
    "products",
    ("product_id",),
    {
        "product_id": _TEXT,
        "name": _TEXT,
        "brand": _TEXT,
        "category": _TEXT,
        "list_price": _REAL,
        "attributes": _JSON,
        "imported_at": _TIME,
    },
)
_ORDERS = _table(
    "orders",
    ("order_id", "product_id"),
    {
        "order_id": _TEXT,
        "product_id": _TEXT,
        "customer_id": _TEXT,
        "ordered_at": _TIME,
        "quantity": _INT,
        "price": _REAL,
        "list_price": _REAL,
        "imported_at": _TIME,
        "system": _TEXT,
    },
    required=("customer_id", "ordered_at", "price"),
)
_CHOICES = _table(
    "choices",
    ("choice_id", "alternative"),
    {
        "choice_id": _TEXT,
        "alternative": _TEXT,
        "chosen": _FLAG,
        "customer_id": _TEXT,
        "attributes": _JSON,
        "imported_at": _TIME,
    },
    required=("chosen",),
)
# What each commerce import reads from a file's columns (the rest of a products or choices
# file are attributes; an orders file has no others)
COMMERCE_COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: tuple(c for c in table.names if c not in ("attributes", "imported_at"))
    for table in (_PRODUCTS, _ORDERS, _CHOICES)
}
COMMERCE_REQUIRED: dict[str, tuple[str, ...]] = {
    table.name: tuple(table.names[p] for p in table.required)
    for table in (_PRODUCTS, _ORDERS, _CHOICES)
}


class Commerce(Engine):
    """Imported products, order lines and choices, and their reads."""

    def upsert_products(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update products: product_id, name, brand, category, list_price and
        `attributes` (a dict of the file's other columns)."""
        return self._write(_PRODUCTS, rows, None, _imported_now(_PRODUCTS))

    def upsert_orders(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update order lines: order_id, product_id, customer_id, ordered_at, price
        (per unit paid), quantity (1 if not given), list_price (the undiscounted price) and system
        (the shop or app whose customer ids these are, for `smcat link`)."""
        quantity = ((_ORDERS.position("quantity"), 1),)
        return self._write(_ORDERS, rows, None, _imported_now(_ORDERS) + quantity)

    def upsert_choices(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update the alternatives of choice situations: choice_id, alternative,
        chosen (0/1), customer_id and `attributes` (a dict of the file's other columns)."""
        return self._write(_CHOICES, rows, None, _imported_now(_CHOICES))

    def order_lines(self) -> Rows:
        """Every order line with its product's name, brand, category and list price: order_id,
        customer_id, product_id, ordered_at, quantity, price, list_price (the line's, else the
        product's), name, brand, category."""
        sql = (
            "SELECT o.order_id, o.customer_id, o.product_id, o.ordered_at, o.quantity, o.price,"
            " coalesce(o.list_price, p.list_price), p.name, p.brand, p.category"
            " FROM orders o LEFT JOIN products p ON p.product_id = o.product_id"
            " ORDER BY o.ordered_at, o.order_id, o.product_id"
        )
        columns = ("order_id", "customer_id", "product_id", "ordered_at", "quantity", "price",
                   "list_price", "name", "brand", "category")  # fmt: skip
        return Rows(columns, self.connection.execute(sql).fetchall())

    def products(self) -> Rows:
        """Every product: product_id, name, brand, category, list_price, attributes (a dict)."""
        sql = "SELECT product_id, name, brand, category, list_price, attributes FROM products"
        rows = [(*row[:-1], json.loads(row[-1] or "{}")) for row in self.connection.execute(sql)]
        return Rows(("product_id", "name", "brand", "category", "list_price", "attributes"), rows)

    def choices(self) -> Rows:
        """Every alternative of every choice situation: choice_id, alternative, chosen,
        customer_id, attributes (a dict)."""
        sql = (
            "SELECT choice_id, alternative, chosen, customer_id, attributes FROM choices"
            " ORDER BY choice_id, alternative"
        )
        rows = [(*row[:-1], json.loads(row[-1] or "{}")) for row in self.connection.execute(sql)]
        return Rows(("choice_id", "alternative", "chosen", "customer_id", "attributes"), rows)
