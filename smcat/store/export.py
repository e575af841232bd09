"""Reads of any store table by its name: row counts, columns and their types, all rows in
batches (what `smcat db info` and `smcat db export` show)."""

from __future__ import annotations

from collections.abc import Iterator

from smcat.store.engine import Engine, payload_text
from smcat.store.schema import TABLES, StoreError


class Export(Engine):
    """Counts, columns and rows of any store table by name."""

    # plain SQL, not sqlite-utils, so that `smcat db` starts without importing pandas
    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        (rows,) = self.connection.execute(f"SELECT count(*) FROM {_known_table(table)}").fetchone()
        return int(rows)

    def columns(self, table: str) -> list[str]:
        """Column names of one of the store's tables."""
        return list(self.column_types(table))

    def column_types(self, table: str) -> dict[str, str]:
        """Declared SQLite type (TEXT, INTEGER, REAL, BLOB) of each column of a table."""
        described = self.connection.execute(f"PRAGMA table_info({_known_table(table)})")
        return {name: kind.upper() for _, name, kind, *_ in described}

    def present_tables(self) -> set[str]:
        """The store's tables that exist in the file (an older schema may lack some)."""
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows} & set(TABLES)

    def iter_rows(self, table: str, batch: int = 10_000) -> Iterator[tuple]:
        """Yield the rows of a table as tuples in `columns()` order, without loading it whole."""
        cursor = self.connection.execute(f"SELECT * FROM {_known_table(table)}")
        # a reject's long payload is stored gzipped: given back as the text it was
        payload = self.columns(table).index("payload") if table == "rejects" else None
        while chunk := cursor.fetchmany(batch):
            if payload is None:
                yield from chunk
                continue
            for row in chunk:
                yield (*row[:payload], payload_text(row[payload]), *row[payload + 1 :])


def _known_table(table: str) -> str:
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")
    return table
