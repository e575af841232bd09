"""One view of people across a company's systems (seed 001): behaviour events per system, the
people that record linkage makes with every record's and device's link to its person, and the
labels computed per person.

A person's id is made by the linkage run (`smcat link people`) and holds until the next run
replaces the people; labels name the run's people, so they are computed again after linking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from smcat.store.engine import (
    _REAL,
    _TEXT,
    _TIME,
    Engine,
    Rows,
    WriteResult,
    _imported_now,
    _now,
    _table,
)

EVENT_TYPES = ("view", "click", "cart", "favourite", "purchase", "contact", "response")
RECORD, DEVICE = "record", "device"  # what a person link starts from

_EVENTS = _table(
    "events",
    ("system", "event_id"),
    {
        "system": _TEXT,
        "event_id": _TEXT,
        "occurred_at": _TIME,
        "event_type": _TEXT,
        "record_id": _TEXT,
        "device_id": _TEXT,
        "item": _TEXT,
        "campaign": _TEXT,
        "amount": _REAL,
        "imported_at": _TIME,
    },
    required=("occurred_at", "event_type"),
)
_PERSON_LABELS = _table(
    "person_labels",
    ("person_id", "label", "computed_at"),
    {
        "person_id": _TEXT,
        "label": _TEXT,
        "computed_at": _TIME,
        "value": _TEXT,
        "score": _REAL,
        "method": _TEXT,
    },
)


@dataclass(frozen=True)
class PersonLink:
    """One source record (kind RECORD: a customer record's id in its system) or device (kind
    DEVICE: a device or cookie id seen in a system's events) and the person it belongs to, with
    the probability of the match that put it there and the rule that decided it."""

    system: str
    kind: str
    source_id: str
    person_id: str
    probability: float
    rule: str


class People(Engine):
    """Events, people, their links to source records and devices, and their labels."""

    def upsert_events(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update behaviour events: system, event_id, occurred_at, event_type (one
        of EVENT_TYPES), record_id (the member id, when signed in) and/or device_id, item,
        campaign, amount. A row that is neither signed in nor has a device goes to rejects."""
        return self._write(_EVENTS, rows, None, _imported_now(_EVENTS))

    def events(self) -> Rows:
        """Every event with the person it belongs to (through its record, else its device; None
        if neither is linked): system, event_id, occurred_at, event_type, record_id,
        device_id, item, campaign, amount, person_id; in time order."""
        sql = (
            "SELECT e.system, e.event_id, e.occurred_at, e.event_type, e.record_id,"
            " e.device_id, e.item, e.campaign, e.amount, coalesce(r.person_id, d.person_id)"
            " FROM events e"
            " LEFT JOIN person_links r ON r.system = e.system AND r.kind = 'record'"
            " AND r.source_id = e.record_id"
            " LEFT JOIN person_links d ON d.system = e.system AND d.kind = 'device'"
            " AND d.source_id = e.device_id"
            " ORDER BY e.occurred_at, e.system, e.event_id"
        )
        columns = ("system", "event_id", "occurred_at", "event_type", "record_id",
                   "device_id", "item", "campaign", "amount", "person_id")  # fmt: skip
        return Rows(columns, self.connection.execute(sql).fetchall())

    def replace_people(self, links: Iterable[PersonLink]) -> int:
        """Replace the people and every link with the result of a linkage run, in one
        transaction; return the number of people. A person is made by its record links; a
        device link must name one of them."""
        linked_at = _now()
        rows = [
            (link.system, link.kind, link.source_id, link.person_id, link.probability,
             link.rule, linked_at)
            for link in links
        ]  # fmt: skip
        if bad := [row for row in rows if row[1] not in (RECORD, DEVICE)]:
            raise ValueError(f"a person link of unknown kind {bad[0][1]!r}")
        with self.transaction():
            self.connection.execute("DELETE FROM person_links")
            self.connection.execute("DELETE FROM people")
            self.connection.execute(
                "CREATE TEMP TABLE IF NOT EXISTS new_links (system, kind, source_id,"
                " person_id, probability, rule, linked_at)"
            )
            self.connection.execute("DELETE FROM temp.new_links")
            self.connection.executemany(
                "INSERT INTO temp.new_links VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )
            self.connection.execute(
                "INSERT INTO people (person_id, records, systems, linked_at)"
                " SELECT person_id, count(*), count(DISTINCT system), ? FROM temp.new_links"
                " WHERE kind = 'record' GROUP BY person_id",
                (linked_at,),
            )
            orphan = self.connection.execute(
                "SELECT source_id, person_id FROM temp.new_links WHERE person_id NOT IN"
                " (SELECT person_id FROM people) LIMIT 1"
            ).fetchone()
            if orphan:
                raise ValueError(f"device {orphan[0]!r} is linked to {orphan[1]!r}, no person")
            self.connection.execute("INSERT INTO person_links SELECT * FROM temp.new_links")
            self.connection.execute("DELETE FROM temp.new_links")
            return self.connection.execute("SELECT count(*) FROM people").fetchone()[0]

    def person_links(self) -> Rows:
        """Every record's and device's link to its person: system, kind, source_id,
        person_id, probability, rule."""
        sql = (
            "SELECT system, kind, source_id, person_id, probability, rule FROM person_links"
            " ORDER BY person_id, system, kind, source_id"
        )
        columns = ("system", "kind", "source_id", "person_id", "probability", "rule")
        return Rows(columns, self.connection.execute(sql).fetchall())

    def order_people(self) -> Rows:
        """Every order line's system, customer id and the person its customer record is linked
        to (None where the record is not linked, or the line names no system): order_id,
        product_id, system, customer_id, person_id."""
        sql = (
            "SELECT o.order_id, o.product_id, o.system, o.customer_id, l.person_id FROM orders o"
            " LEFT JOIN person_links l ON l.system = o.system AND l.kind = 'record'"
            " AND l.source_id = o.customer_id ORDER BY o.order_id, o.product_id"
        )
        columns = ("order_id", "product_id", "system", "customer_id", "person_id")
        return Rows(columns, self.connection.execute(sql).fetchall())

    def has_people(self) -> bool:
        """Whether a linkage run has stored people."""
        return self.connection.execute("SELECT 1 FROM people LIMIT 1").fetchone() is not None

    def upsert_person_labels(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update labels: person_id, label (e.g. "rfm_segment", "churn_risk"),
        computed_at, value (text), score (a number, if the label has one), method."""
        return self._write(_PERSON_LABELS, rows, None)

    def person_labels(self) -> Rows:
        """Each person's latest value of each label: person_id, label, computed_at, value,
        score, method."""
        sql = (
            "SELECT person_id, label, max(computed_at), value, score, method FROM person_labels"
            " GROUP BY person_id, label ORDER BY person_id, label"
        )
        columns = ("person_id", "label", "computed_at", "value", "score", "method")
        return Rows(columns, self.connection.execute(sql).fetchall())
