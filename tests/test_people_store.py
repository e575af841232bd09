"""The store's people area: events, the people a linkage run makes, and labels per person."""

from __future__ import annotations

from pathlib import Path

import pytest

from smcat.store import DEVICE, RECORD, PersonLink, Store


def _event(event_id: str, **fields: object) -> dict[str, object]:
    return {
        "system": "app",
        "event_id": event_id,
        "occurred_at": "2025-03-01T10:00:00+08:00",
        "event_type": "view",
        **fields,
    }


def test_events_resolve_to_people_through_records_and_devices(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        result = store.upsert_events(
            [
                _event("e1", record_id="m1", device_id="d1", event_type="purchase", amount=9.5),
                _event("e2", device_id="d1"),  # the same phone, signed out
                _event("e3", device_id="d9"),  # never signed in: nobody
                _event("e4"),  # neither a member nor a device: cannot be anyone's
                _event("e5", record_id="m1", event_type="bought"),
            ]
        )
        assert (result.stored, result.rejected) == (3, 2)
        assert [r["kind"] for r in store.rejects()] == ["events", "events"]
        people = store.replace_people(
            [
                PersonLink("app", RECORD, "m1", "p1", 1.0, "member_id"),
                PersonLink("crm", RECORD, "c7", "p1", 0.97, "splink"),
                PersonLink("app", DEVICE, "d1", "p1", 1.0, "signed_in"),
            ]
        )
        assert people == 1
        persons = {row[1]: row[-1] for row in store.events().rows}
        assert persons == {"e1": "p1", "e2": "p1", "e3": None}
        count = store.connection.execute("SELECT records, systems FROM people").fetchone()
        assert count == (2, 2)


def test_a_new_linkage_run_replaces_the_people_whole_or_not_at_all(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        store.replace_people([PersonLink("crm", RECORD, "c1", "p1", 1.0, "single")])
        with pytest.raises(ValueError, match="no person"):
            store.replace_people(
                [
                    PersonLink("crm", RECORD, "c1", "p2", 1.0, "single"),
                    PersonLink("app", DEVICE, "d1", "p3", 1.0, "signed_in"),
                ]
            )
        assert store.person_links().rows == [("crm", "record", "c1", "p1", 1.0, "single")]
        store.replace_people([PersonLink("crm", RECORD, "c1", "p2", 1.0, "review")])
        assert [row[3] for row in store.person_links().rows] == ["p2"]


def test_labels_are_a_series_and_the_latest_is_read(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        jan, feb = "2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00"
        label = {"person_id": "p1", "label": "lifecycle"}
        store.upsert_person_labels(
            [
                {**label, "computed_at": jan, "value": "new"},
                {**label, "computed_at": feb, "value": "active"},
                {"person_id": "p1", "label": "churn", "computed_at": feb, "score": 0.2},
            ]
        )
        latest = {(r[1]): (r[3], r[4]) for r in store.person_labels().rows}
        assert latest == {"lifecycle": ("active", None), "churn": (None, 0.2)}


def test_orders_name_their_system(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        store.upsert_orders(
            [{"order_id": "o1", "product_id": "x", "customer_id": "c1", "system": "tmall",
              "ordered_at": "2025-01-01T00:00:00+08:00", "price": 3}]
        )  # fmt: skip
        system = store.connection.execute("SELECT system FROM orders").fetchone()
        assert system == ("tmall",)
