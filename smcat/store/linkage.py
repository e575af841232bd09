"""Record linkage (`smcat link`): the customer records of each system with their hashed
personal data and comparison features, the last run's model and its pairs for clerical review,
and the reviewers' decisions on pairs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from smcat.store.engine import (
    _INT,
    _TEXT,
    _TIME,
    Engine,
    Rows,
    WriteResult,
    _imported_now,
    _now,
    _table,
)

MATCH, NON_MATCH = "match", "non-match"  # a reviewer's decision on a pair

_CUSTOMER_RECORDS = _table(
    "customer_records",
    ("system", "record_id"),
    {
        "system": _TEXT,
        "record_id": _TEXT,
        "name_hash": _TEXT,
        "phone_hash": _TEXT,
        "email_hash": _TEXT,
        "address_hash": _TEXT,
        "name_pinyin": _TEXT,
        "surname": _TEXT,
        "phone_tail": _TEXT,
        "city": _TEXT,
        "district": _TEXT,
        "birth_year": _INT,
        "registered_at": _TIME,
        "name": _TEXT,
        "phone": _TEXT,
        "email": _TEXT,
        "address": _TEXT,
        "imported_at": _TIME,
    },
)
CUSTOMER_FIELDS = tuple(n for n in _CUSTOMER_RECORDS.names if n != "imported_at")


@dataclass(frozen=True)
class RecordPair:
    """Two customer records, each (system, record_id), in a fixed order (the smaller first),
    with the probability the last linkage run gave them (None if it gave none)."""

    left: tuple[str, str]
    right: tuple[str, str]
    probability: float | None = None
    match_weight: float | None = None

    @classmethod
    def of(
        cls,
        a: tuple[str, str],
        b: tuple[str, str],
        probability: float | None = None,
        match_weight: float | None = None,
    ) -> RecordPair:
        """The pair of records a and b, in either order."""
        left, right = sorted((a, b))
        return cls(left, right, probability, match_weight)


@dataclass(frozen=True)
class LinkRun:
    """The last linkage run: when, its match threshold, the low end of its review band, and the
    trained model (splink's settings as JSON)."""

    linked_at: str
    threshold: float
    review_low: float
    model: str


class Linkage(Engine):
    """Customer records, linkage runs, review candidates and decisions."""

    def upsert_customer_records(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update customer records: system, record_id, the hashes (name_hash,
        phone_hash, email_hash, address_hash), the comparison features (name_pinyin, surname,
        phone_tail, city, district, birth_year, registered_at) and, only when kept on
        purpose, the clear name, phone, email and address."""
        return self._write(_CUSTOMER_RECORDS, rows, None, _imported_now(_CUSTOMER_RECORDS))

    def forget_clear_values(self, system: str, record_ids: Iterable[str]) -> None:
        """Drop the clear name, phone, email and address of these records (an import without
        --keep-pii after one with it); SQLite overwrites the freed bytes (secure_delete)."""
        self.connection.execute("PRAGMA secure_delete = ON")
        try:
            with self.transaction():
                self.connection.executemany(
                    "UPDATE customer_records SET name = NULL, phone = NULL, email = NULL,"
                    " address = NULL WHERE system = ? AND record_id = ?"
                    " AND coalesce(name, phone, email, address) IS NOT NULL",
                    ((system, record_id) for record_id in record_ids),
                )
        finally:
            self.connection.execute("PRAGMA secure_delete = OFF")

    def customer_records(self) -> Rows:
        """Every customer record with its hashes, features and clear values (None unless
        kept), by system and record id."""
        sql = (
            f"SELECT {', '.join(CUSTOMER_FIELDS)} FROM customer_records ORDER BY system, record_id"
        )
        return Rows(CUSTOMER_FIELDS, self.connection.execute(sql).fetchall())

    def customer_record(self, system: str, record_id: str) -> dict[str, Any] | None:
        """One customer record's hashes, features and clear values (None unless kept)."""
        columns = ", ".join(CUSTOMER_FIELDS)
        row = self.connection.execute(
            f"SELECT {columns} FROM customer_records WHERE system = ? AND record_id = ?",
            (system, record_id),
        ).fetchone()
        return dict(zip(CUSTOMER_FIELDS, row, strict=True)) if row else None

    def signed_in_devices(self) -> Rows:
        """How often each device was seen signed in as each record: system, device_id,
        record_id, events."""
        sql = (
            "SELECT system, device_id, record_id, count(*) FROM events"
            " WHERE device_id IS NOT NULL AND record_id IS NOT NULL"
            " GROUP BY system, device_id, record_id ORDER BY system, device_id, record_id"
        )
        columns = ("system", "device_id", "record_id", "events")
        return Rows(columns, self.connection.execute(sql).fetchall())

    def record_link_run(
        self, threshold: float, review_low: float, model: str, candidates: Iterable[RecordPair]
    ) -> None:
        """Keep a linkage run's model and replace the review candidates with its pairs."""
        rows = [
            (*pair.left, *pair.right, pair.probability, pair.match_weight) for pair in candidates
        ]
        with self.transaction():
            self.connection.execute(
                "INSERT INTO link_runs (linked_at, threshold, review_low, model)"
                " VALUES (?, ?, ?, ?)",
                (_now(), threshold, review_low, model),
            )
            self.connection.execute("DELETE FROM link_candidates")
            self.connection.executemany(
                "INSERT OR REPLACE INTO link_candidates VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def last_link_run(self) -> LinkRun | None:
        """The latest linkage run, or None before the first."""
        row = self.connection.execute(
            "SELECT linked_at, threshold, review_low, model FROM link_runs"
            " ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return LinkRun(*row) if row else None

    def review_queue(self) -> list[RecordPair]:
        """The last run's pairs in the review band that no reviewer has decided yet, the most
        likely match first."""
        sql = (
            "SELECT c.left_system, c.left_id, c.right_system, c.right_id, c.probability,"
            " c.match_weight FROM link_candidates c WHERE NOT EXISTS (SELECT 1 FROM"
            " link_decisions d WHERE d.left_system = c.left_system AND d.left_id = c.left_id"
            " AND d.right_system = c.right_system AND d.right_id = c.right_id)"
            " ORDER BY c.probability DESC, c.left_system, c.left_id, c.right_system, c.right_id"
        )
        return [
            RecordPair((a, b), (c, d), p, w)
            for a, b, c, d, p, w in self.connection.execute(sql).fetchall()
        ]

    def decide_pair(self, pair: RecordPair, decision: str, reviewer: str) -> str:
        """Keep a reviewer's decision (MATCH or NON_MATCH) on a pair, replacing an earlier one;
        return when it was made."""
        if decision not in (MATCH, NON_MATCH):
            raise ValueError(f"a decision is {MATCH!r} or {NON_MATCH!r}, not {decision!r}")
        decided_at = _now()
        with self.transaction():
            self.connection.execute(
                "INSERT OR REPLACE INTO link_decisions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*pair.left, *pair.right, decision, reviewer, decided_at),
            )
        return decided_at

    def link_decisions(self) -> list[tuple[RecordPair, str]]:
        """Every pair a reviewer decided, with the decision."""
        sql = (
            "SELECT left_system, left_id, right_system, right_id, decision FROM link_decisions"
            " ORDER BY left_system, left_id, right_system, right_id"
        )
        return [
            (RecordPair((a, b), (c, d)), decision)
            for a, b, c, d, decision in self.connection.execute(sql).fetchall()
        ]
