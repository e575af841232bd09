"""Events and orders per person (seed 001's one view): the unit each analysis counts by.

With people stored (`smcat link people`), an event belongs to its person through its record or
device, and an order through its system's customer record. Without people, events count per
system record ("system:record_id") and anonymous device-only events are left out; the counts of
what was left out go into the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.commerce import order_lines
from smcat.errors import SmcatError
from smcat.store import Store

PERSON, RECORD = "person", "record"
NO_PEOPLE = "no people are stored: link the customer records first with `smcat link people`"


@dataclass(frozen=True)
class Events:
    """Events with their unit: `table` holds unit, system, event_id, at (UTC), event_type,
    campaign, amount; `by` is PERSON or RECORD; `left_out` counts the events of no unit."""

    table: pd.DataFrame
    by: str
    left_out: int

    @property
    def end(self) -> pd.Timestamp:
        """Just after the last event."""
        return self.table["at"].max() + pd.Timedelta(seconds=1)

    def describe(self) -> str:
        """One sentence: what a unit is and how many events were left out."""
        unit = (
            "per person (people linked)" if self.by == PERSON else "per system record (no people)"
        )
        lost = "device-only or unlinked" if self.by == PERSON else "anonymous (device-only)"
        return (
            f"Counted {unit}: {self.table['unit'].nunique():,} units, {len(self.table):,} "
            f"events; {self.left_out:,} {lost} events left out."
        )


def person_events(store: Store) -> Events:
    """The store's events per person when people are linked, else per system record."""
    rows = store.events()
    table = pd.DataFrame(rows.rows, columns=list(rows.columns))
    if table.empty:
        raise SmcatError("there are no events: import them with `smcat import events FILE`")
    by = PERSON if store.has_people() else RECORD
    if by == PERSON:
        table["unit"] = table["person_id"]
    else:
        table["unit"] = (table["system"] + ":" + table["record_id"]).where(
            table["record_id"].notna()
        )
    kept = table[table["unit"].notna()]
    frame = pd.DataFrame(
        {
            "unit": kept["unit"],
            "system": kept["system"],
            "event_id": kept["event_id"],
            "at": pd.to_datetime(kept["occurred_at"], utc=True, format="ISO8601"),
            "event_type": kept["event_type"],
            "campaign": kept["campaign"].fillna(""),
            "amount": kept["amount"],
        }
    ).reset_index(drop=True)
    return Events(frame, by, len(table) - len(kept))


@dataclass(frozen=True)
class PersonLines:
    """Order lines whose `customer_id` is the person (or, for an order whose record is not
    linked, "system:customer_id"), how many orders were not linked and their customers."""

    lines: pd.DataFrame
    unlinked_orders: int
    unlinked_customers: frozenset[str]  # their ids in `lines`

    def describe(self) -> str:
        """One sentence: the people counted and the orders that stay their own customer."""
        return (
            f"By person: {self.lines['customer_id'].nunique():,} customers; "
            f"{self.unlinked_orders:,} orders of {len(self.unlinked_customers):,} customer records "
            "not linked to a person stay their own customer."
        )


def lines_by_person(store: Store) -> PersonLines:
    """The order lines with each customer id replaced by its person; an error naming `smcat
    link people` where no people are stored."""
    if not store.has_people():
        raise SmcatError(NO_PEOPLE)
    lines = order_lines(store)
    rows = store.order_people()
    owners = pd.DataFrame(rows.rows, columns=list(rows.columns))
    unlinked = owners["person_id"].isna()
    own = owners["system"].fillna("") + ":" + owners["customer_id"]
    owners["unit"] = owners["person_id"].where(~unlinked, own)
    lines = lines.drop(columns="customer_id").merge(
        owners[["order_id", "product_id", "unit"]], on=["order_id", "product_id"]
    )
    lines = lines.rename(columns={"unit": "customer_id"})
    orders = owners.loc[unlinked, "order_id"].nunique()
    return PersonLines(lines, orders, frozenset(own[unlinked]))
