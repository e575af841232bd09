"""Labels per person and the commerce analyses `--by person`: the commerce fixture's customers
each split over two systems (a shop and an app record, linked to one person, but for a few whose
app record is not linked), with simulated browsing events for the propensity label."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.commerce import order_lines
from analysis.labels import LabelSettings, label_people, lifecycle_stage
from analysis.lifecycle import rfm
from analysis.pages import basket_page
from analysis.people import NO_PEOPLE, lines_by_person
from analysis.segments import kmeans_segments, shopper_features
from smcat.errors import SmcatError
from smcat.imports.commerce import import_commerce
from smcat.store import DEVICE, RECORD, PersonLink, Store
from tests.conftest import FIXTURES
from tests.people_events import START, simulator

COMMERCE = FIXTURES / "commerce"
UNLINKED = {"C238", "C239", "C240"}  # their app records are not linked to their person


def _person(customer: str) -> str:
    return "P" + customer[1:]


def _app(customer: str) -> str:
    return "A" + customer[1:]


def _store(path: Path, *, linked: bool = True) -> None:
    """The fixture's orders, every other order of a customer from the app under its app id;
    linked: with the people and their simulated events."""
    orders = pd.read_csv(COMMERCE / "orders.csv", dtype=str)
    firsts = orders.drop_duplicates("order_id")
    rank = orders["order_id"].map(
        firsts.groupby("customer_id").cumcount().set_axis(firsts["order_id"])
    )
    rows = []
    for (_, order), n in zip(orders.iterrows(), rank, strict=True):
        app = n % 2 == 1
        rows.append(
            {
                **order.to_dict(),
                "ordered_at": order["ordered_at"].replace(" ", "T") + "+00:00",
                "system": "app" if app else "shop",
                "customer_id": _app(order["customer_id"]) if app else order["customer_id"],
            }
        )
    customers = sorted(orders["customer_id"].unique())
    members = [(_person(c), "shop", c, (f"d{c}",)) for c in customers]
    with Store.open(path) as store:
        import_commerce(store, "products", COMMERCE / "products.csv")
        store.upsert_orders(rows)
        if linked:
            events, _ = simulator().simulate_events(
                members, 7, START, START + pd.Timedelta(days=140).to_pytimedelta()
            )
            store.upsert_events(events)
            links = []
            for c in customers:
                links.append(PersonLink("shop", RECORD, c, _person(c), 1.0, "member_id"))
                links.append(PersonLink("shop", DEVICE, f"d{c}", _person(c), 1.0, "signed_in"))
                if c not in UNLINKED:
                    links.append(PersonLink("app", RECORD, _app(c), _person(c), 0.95, "splink"))
            store.replace_people(links)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "labels.db"
    _store(path)
    return path


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    table = pd.read_csv(COMMERCE / "customers_truth.csv")
    table["customer_id"] = table["customer_id"].map(_person)
    return table.set_index("customer_id")


def test_orders_by_person_join_the_systems_and_count_the_unlinked(db: Path, truth) -> None:
    with Store.open(db, readonly=True) as store:
        by_customer = order_lines(store)
        by_person = lines_by_person(store)
    original = pd.read_csv(COMMERCE / "orders.csv").groupby("customer_id")["order_id"].nunique()
    # 236 customers bought; those with two orders or more are split in two
    assert by_customer["customer_id"].nunique() == len(original) + (original >= 2).sum()
    assert by_person.unlinked_customers == {"app:A238", "app:A239", "app:A240"}
    unlinked = by_customer["customer_id"].isin({"A238", "A239", "A240"})
    assert by_person.unlinked_orders == by_customer.loc[unlinked, "order_id"].nunique()
    assert by_person.lines["customer_id"].nunique() == len(original) + 3
    assert "orders of 3 customer records not linked" in by_person.describe()
    # per person, frequency is the whole customer's again, and the planted segments come back
    frequency = rfm(by_person.lines)["frequency"]
    linked = [c for c in original.index if c not in UNLINKED]
    assert (frequency[[_person(c) for c in linked]].to_numpy() == original[linked].to_numpy()).all()
    page = basket_page(by_person.lines, per_customer=True)
    assert page.notes[0] == f"{len(original) + 3} baskets (customers)."
    segments = kmeans_segments(shopper_features(by_person.lines))
    people = [p for p in segments.labels.index if p.startswith("P")]
    labels = segments.labels[people]
    assert adjusted_rand_score(truth.loc[people, "segment"], labels) > 0.85


def test_by_person_without_people_names_link_people(tmp_path: Path) -> None:
    _store(tmp_path / "nobody.db", linked=False)
    with Store.open(tmp_path / "nobody.db", readonly=True) as store:
        with pytest.raises(SmcatError, match="smcat link people"):
            lines_by_person(store)
        with pytest.raises(SmcatError, match="smcat link people"):
            label_people(store)


def test_lifecycle_stage_by_hand() -> None:
    day = pd.Timestamp("2025-01-01", tz="UTC")
    lines = pd.DataFrame(
        {
            "customer_id": ["new", "active", "active", "silent", "silent", "lost"],
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "ordered_at": [day - pd.Timedelta(days=d) for d in (10, 400, 60, 400, 120, 200)],
            "amount": [1.0] * 6,
        }
    )
    stages = lifecycle_stage(lines, LabelSettings(), day)
    assert stages["stage"].to_dict() == {
        "active": "active", "lost": "lost", "new": "new", "silent": "silent"
    }  # fmt: skip
    assert stages.loc["silent", "days"] == 120
    with pytest.raises(SmcatError, match="new <= active < lost"):
        lifecycle_stage(lines, LabelSettings(active_days=200, lost_days=100), day)


def test_shoppers_without_list_prices_bought_nothing_below_them() -> None:
    # orders imported without their products: no list price (None) on any line
    day = pd.Timestamp("2025-01-01", tz="UTC")
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_id": ["o1", "o2", "o3"],
            "ordered_at": [day, day + pd.Timedelta(days=40), day],
            "quantity": [1, 2, 1],
            "price": [10.0, 20.0, 5.0],
            "list_price": [None, None, None],
            "amount": [10.0, 40.0, 5.0],
        }
    )
    features = shopper_features(lines)
    assert features["discount share"].to_dict() == {"a": 0.0, "b": 0.0}
    assert features.loc["a", "mean price"] == 50 / 3


def test_labels_are_stored_per_person_with_their_method(db: Path, truth) -> None:
    with Store.open(db) as store:
        run = label_people(store, computed_at="2025-06-01T00:00:00+00:00")
        rows = store.person_labels()
    assert run.labels.notes == []
    table = pd.DataFrame(rows.rows, columns=list(rows.columns))
    assert not table["person_id"].str.startswith("app:").any()  # unlinked records: no person
    labels = table.pivot(index="person_id", columns="label", values="value")
    scores = table.pivot(index="person_id", columns="label", values="score")
    assert set(labels.columns) == {
        "rfm_score", "rfm_segment", "price_sensitivity", "kmeans_segment", "lifecycle_stage",
        "churn_risk", "purchase_propensity",
    }  # fmt: skip
    assert labels["rfm_segment"].notna().sum() == 236  # every person who bought
    assert (table["computed_at"] == "2025-06-01T00:00:00+00:00").all()
    assert table["method"].str.len().gt(10).all()
    segment = truth.loc[labels.index, "segment"]
    price = labels["price_sensitivity"]
    assert (price[segment == "deal"] == "A").mean() > 0.9
    assert (price[segment == "premium"] == "C").all()
    # stage and churn risk follow who stopped buying, and when
    stopped = pd.to_datetime(truth["stopped_at"], utc=True, format="ISO8601")
    end = pd.Timestamp("2025-01-01", tz="UTC")
    long_gone = stopped[stopped < end - pd.Timedelta(days=400)].index.intersection(labels.index)
    assert (labels.loc[long_gone, "lifecycle_stage"] == "lost").all()
    buying = truth.index[stopped.isna() & (truth["segment"] == "premium")].intersection(
        labels.index
    )
    assert (labels.loc[buying, "lifecycle_stage"] == "active").mean() > 0.9
    risk = scores["churn_risk"].reindex(truth.index)
    assert (
        risk[stopped.dropna().index].mean() > risk[stopped.isna()[lambda s: s].index].mean() + 0.2
    )
    assert scores["purchase_propensity"].dropna().between(0, 1).all()
    assert scores["purchase_propensity"].notna().sum() > 100


def test_the_commands_by_person_and_the_label_export(
    db: Path, smcat: Callable[..., object], tmp_path: Path
) -> None:
    churn = smcat("analyze", "churn", "--by", "person", "-o", "out", "--db", str(db))
    assert churn.returncode == 0, churn.stderr
    assert "By person: 239 customers; 22 orders of 3 customer records" in churn.stdout
    labelled = smcat("analyze", "labels", "--db", str(db))
    assert labelled.returncode == 0, labelled.stderr
    assert "of 236 people" in labelled.stdout, labelled.stdout
    export = smcat("db", "export", "person_labels", "--format", "csv", "--db", str(db))
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert {row["label"] for row in rows} >= {"rfm_segment", "churn_risk", "lifecycle_stage"}
    assert rows[0]["method"] and rows[0]["computed_at"]


def test_without_people_the_command_is_one_line_naming_link_people(
    tmp_path: Path, smcat: Callable[..., object]
) -> None:
    _store(tmp_path / "nobody.db", linked=False)
    result = smcat("analyze", "rfm", "--by", "person", "--db", str(tmp_path / "nobody.db"))
    assert result.returncode == 1
    assert NO_PEOPLE in result.stderr and "Traceback" not in result.stderr
