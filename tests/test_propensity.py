"""The response and purchase-propensity models on simulated events whose probabilities are
planted (fixtures/people/make_events.py): AUC near the oracle's (the planted probabilities
ranking the same test cases), lift above 1, and calibration close to the oracle's Brier score."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from analysis.people import PERSON, RECORD, person_events
from analysis.propensity import EventModelResult, propensity_models, response_models
from smcat.errors import SmcatError
from smcat.store import Store
from tests.people_events import end, reliability_gap, simulated_stores


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("people")
    return folder, simulated_stores(folder, 600)


def _events(folder: Path, name: str):
    with Store.open(folder / name, readonly=True) as store:
        return person_events(store)


def _check_against_oracle(result: EventModelResult, oracle: np.ndarray) -> None:
    y = result.test["outcome"].to_numpy()
    oracle_auc = roc_auc_score(y, oracle)
    oracle_brier = brier_score_loss(y, oracle)
    logit, boosting = result.models
    # the oracle knows each person's hidden trait too, so it is the ceiling
    assert oracle_auc - 0.07 < logit.auc <= oracle_auc + 0.02
    assert logit.auc_interval[0] < logit.auc < logit.auc_interval[1]
    assert logit.auc_interval[1] - logit.auc_interval[0] < 0.15
    assert boosting.auc > oracle_auc - 0.12
    for model in result.models:
        assert model.lift_top_decile > 1.5, model.name
    assert logit.brier < oracle_brier + 0.02
    # the reliability curve strays from the diagonal by bin noise; no more than the oracle's
    assert reliability_gap(y, logit.scores.to_numpy()) < reliability_gap(y, oracle) + 0.03
    assert abs(logit.scores.mean() - oracle.mean()) < 0.04  # calibration in the large


def test_purchase_propensity_comes_near_the_planted_oracle(stores) -> None:
    folder, truth = stores
    events = _events(folder, "linked.db")
    assert events.by == PERSON and events.left_out == 0
    result = propensity_models(events, within_days=14, browsed_days=14, end=end())
    cutoff = end() - pd.Timedelta(days=14)
    planted = truth.purchase[truth.purchase["cutoff"] == cutoff].set_index("person")
    assert result.test_cases > 300
    _check_against_oracle(result, planted.loc[result.test["unit"], "probability"].to_numpy())


def test_response_comes_near_the_planted_oracle(stores) -> None:
    folder, truth = stores
    result = response_models(_events(folder, "linked.db"), within_days=7, period_days=84, end=end())
    planted = truth.response.assign(key=truth.response["system"] + ":" + truth.response["event_id"])
    probability = planted.set_index("key")["probability"]
    assert result.test_cases > 800
    assert result.test["at"].min() >= result.test_period[0]
    assert result.train_period[1] + pd.Timedelta(days=7) <= result.test_period[0]
    _check_against_oracle(result, probability.loc[result.test["key"]].to_numpy())


def test_without_people_events_count_per_system_record(stores) -> None:
    folder, _ = stores
    events = _events(folder, "unlinked.db")
    assert events.by == RECORD
    assert events.table["unit"].str.match(r"^(shop:m|app:a)\d{4}$").all()
    assert events.left_out > 0  # the anonymous views, clicks and cart adds
    assert f"{events.left_out:,} anonymous (device-only) events left out" in events.describe()
    result = propensity_models(events, end=end())
    assert result.by == RECORD
    assert result.models[0].auc > 0.6


def test_one_period_of_one_outcome_names_the_fix(stores) -> None:
    folder, _ = stores
    with pytest.raises(SmcatError, match="choose other days"):
        response_models(
            _events(folder, "linked.db"), within_days=7, end=end() - pd.Timedelta(days=600)
        )


def test_the_commands_print_auc_intervals_and_write_the_calibration_plot(
    stores, smcat: Callable[..., object], tmp_path: Path
) -> None:
    folder, _ = stores
    db = str(folder / "linked.db")
    response = smcat("analyze", "response", "--period", "84", "-o", "out", "--db", db)
    assert response.returncode == 0, response.stderr
    assert "Counted per person (people linked)" in response.stdout
    assert "AUC 95% low" in response.stdout and "gradient boosting" in response.stdout
    assert (tmp_path / "out" / "response-calibration.png").stat().st_size > 0
    propensity = smcat("analyze", "propensity", "--within", "14", "-o", "out", "--db", db)
    assert propensity.returncode == 0, propensity.stderr
    assert "lift at top decile" in propensity.stdout
    assert (tmp_path / "out" / "propensity-scores.csv").exists()
