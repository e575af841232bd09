"""End to end on the three-system people fixture (fixtures/people/make_people.py): customers,
events and orders imported per system, people linked, then `analyze response`, `analyze
propensity` and `analyze labels` over the CLI. The models' AUC (with its interval) comes near
the planted probabilities' on the same test cases; per system record, without linking, the
contacts lose the history their person has in the other systems."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from typer.testing import CliRunner

from smcat.cli import app
from smcat.store import RECORD, Store
from tests.people_events import people_maker, reliability_gap

PEOPLE = 1000  # a third of the link tests' fixture: enough cases for stable AUCs, and quick
SALT = "a-project-salt-of-some-length"
SYSTEMS = (("tmall", "tmall_customers.csv", "tmall_events.csv"),
           ("app", "app_customers.jsonl", "app_events.jsonl"),
           ("crm", "crm_customers.xlsx", "crm_events.xlsx"))  # fmt: skip
RESPONSE = ("--within", "7", "--period", "56")  # 4 blocks of contacts to train on, 4 to test


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"SMCAT_PSEUDONYM_SALT": SALT})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture imported into unlinked.db over the CLI, and linked.db: the same, linked."""
    folder = tmp_path_factory.mktemp("people")
    people_maker().write_people(folder, PEOPLE)
    db = str(folder / "unlinked.db")
    for system, customers, events in SYSTEMS:
        _cli("import", "customers", str(folder / customers), "--system", system, "--db", db)
        _cli("import", "events", str(folder / events), "--system", system, "--db", db)
        _cli("import", "orders", str(folder / f"{system}_orders.csv"), "--system", system,
             "--db", db)  # fmt: skip
    shutil.copyfile(folder / "unlinked.db", folder / "linked.db")
    _cli("link", "people", "--db", str(folder / "linked.db"))
    return folder


def _models(folder: Path, command: str, db: str, *options: str) -> tuple[str, pd.DataFrame]:
    """`analyze COMMAND` on `db`: its output, and the table of models with the test cases'
    scores (scores: unit, outcome, one column per model; by case key)."""
    out = folder / f"{command}-{db}"
    printed = _cli("analyze", command, *options, "-o", str(out), "--db", str(folder / f"{db}.db"))
    scores = pd.read_csv(out / f"{command}-scores.csv", index_col=0)
    return printed, scores


def _truth_person(folder: Path, db: str) -> pd.Series:
    """Each unit's true person: per system record from truth.csv; per linked person, the true
    person of most of its records."""
    truth = pd.read_csv(folder / "truth.csv", dtype=str)
    truth.index = truth["system"] + ":" + truth["record_id"]
    if db == "unlinked":
        return truth["person"]
    with Store.open(folder / "linked.db", readonly=True) as store:
        links = [(p, f"{s}:{r}") for s, kind, r, p, _, _ in store.person_links().rows
                 if kind == RECORD]  # fmt: skip
    linked = pd.DataFrame(links, columns=["unit", "record"])
    linked["person"] = truth["person"].reindex(linked["record"]).to_numpy()
    return linked.groupby("unit")["person"].agg(lambda people: people.mode().iloc[0])


def _oracle(folder: Path, command: str, db: str, scores: pd.DataFrame) -> np.ndarray:
    """The planted probability of each test case: a contact's from truth_response.csv; a
    browsing unit's at the last block start from truth_purchase.csv, of its true person."""
    if command == "response":
        truth = pd.read_csv(folder / "truth_response.csv", dtype={"event_id": str})
        planted = truth.set_index(truth["system"] + ":" + truth["event_id"])["probability"]
        return planted.loc[scores.index].to_numpy()
    truth = pd.read_csv(folder / "truth_purchase.csv")
    last = truth[truth["cutoff"] == truth["cutoff"].max()].set_index("person")["probability"]
    return last.loc[_truth_person(folder, db).loc[scores["unit"]]].to_numpy()


@pytest.mark.parametrize(
    ("command", "options"), [("response", RESPONSE), ("propensity", ("--within", "14"))]
)
def test_the_models_on_the_linked_fixture_come_near_the_planted_oracle(
    fixture: Path, command: str, options: tuple[str, ...]
) -> None:
    printed, scores = _models(fixture, command, "linked", *options)
    assert "Counted per person (people linked)" in printed
    y = scores["outcome"].to_numpy()
    logit = scores["logistic regression"].to_numpy()
    oracle = _oracle(fixture, command, "linked", scores)
    models = pd.read_csv(fixture / f"{command}-linked" / f"{command}-models.csv", index_col=0)
    auc, low, high, lift = models.loc[
        "logistic regression", ["AUC", "AUC 95% low", "AUC 95% high", "lift at top decile"]
    ]
    oracle_auc = roc_auc_score(y, oracle)
    assert len(y) > 300
    # the oracle also knows each person's hidden trait, so it is the ceiling
    assert oracle_auc - 0.07 < auc <= oracle_auc + 0.02
    assert low < auc < high and high - low < 0.15
    assert (models["lift at top decile"] > 1).all() and lift > 1.5
    # calibration, with tests/test_propensity.py's tolerances
    assert brier_score_loss(y, logit) < brier_score_loss(y, oracle) + 0.02
    assert reliability_gap(y, logit) < reliability_gap(y, oracle) + 0.03
    assert abs(logit.mean() - oracle.mean()) < 0.04
    assert (fixture / f"{command}-linked" / f"{command}-calibration.png").stat().st_size > 0


def test_without_linking_contacts_lose_their_persons_history(fixture: Path) -> None:
    """Per system record, a contact on the CRM record sees none of the purchases its person
    made in the shop or the app: the response model ranks worse than per person."""
    figures = {}
    for db in ("linked", "unlinked"):
        printed, scores = _models(fixture, "response", db, *RESPONSE)
        y = scores["outcome"].to_numpy()
        figures[db] = (
            roc_auc_score(y, scores["logistic regression"]),
            roc_auc_score(y, _oracle(fixture, "response", db, scores)),
            len(y),
        )
    assert "Counted per system record (no people)" in printed
    (linked, oracle, cases), (unlinked, same_oracle, same_cases) = figures.values()
    assert (same_oracle, same_cases) == (oracle, cases)  # the very same contacts
    assert unlinked < linked - 0.03, figures


def test_labels_are_stored_per_linked_person(fixture: Path) -> None:
    db = str(fixture / "linked.db")
    printed = _cli("analyze", "labels", "--db", db)
    # the fixture's orders come without products: the one label that needs list prices is out
    assert "price sensitivity left out: no list prices" in printed
    with Store.open(fixture / "linked.db", readonly=True) as store:
        labels = pd.DataFrame(store.person_labels().rows, columns=store.person_labels().columns)
        people = {row[3] for row in store.person_links().rows}
    assert set(labels["person_id"]) <= people
    per_label = labels.groupby("label")["person_id"].nunique()
    assert {"rfm_segment", "lifecycle_stage", "churn_risk", "purchase_propensity"} <= set(
        per_label.index
    )
    assert per_label["purchase_propensity"] > 300 and per_label["rfm_segment"] > 300
