"""Churn AUC over all test customers and over those active at the cutoff, on planted orders:
customers long gone are churned by definition (recency ranks them perfectly), and among the
active ones churn is drawn independently of everything the models see, so their AUC is
chance while the AUC over everyone looks excellent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.lifecycle import RECENCY_ALONE, churn_models
from analysis.pages import churn_page

START = pd.Timestamp("2024-01-01", tz="UTC")
HORIZON = 90


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    """Order lines of 600 active customers (an order about every 10 days; at the test cutoff
    30% of them stop, at random) and 400 gone ones (last order over 100 days before the
    training cutoff); and which active customers stop."""
    rng = np.random.default_rng(20261204)
    end = START + pd.Timedelta(days=400)
    test_cutoff = end - pd.Timedelta(days=HORIZON)
    rows = []
    stops = {}
    for c in range(600):
        name = f"active{c:03d}"
        stops[name] = rng.random() < 0.3
        day = rng.uniform(0, 10)
        while START + pd.Timedelta(days=day) < end - pd.Timedelta(days=1):
            at = START + pd.Timedelta(days=day)
            if not (stops[name] and at >= test_cutoff):
                rows.append((name, at, rng.gamma(2, 30)))
            day += rng.uniform(5, 15)
    for c in range(400):
        last = rng.uniform(0, 400 - 2 * HORIZON - 100)
        for day in [*np.sort(rng.uniform(0, last, rng.integers(1, 6))).tolist(), last]:
            rows.append((f"gone{c:03d}", START + pd.Timedelta(days=day), rng.gamma(2, 30)))
    rows.append(("anchor", end - pd.Timedelta(seconds=1), 10.0))  # fixes the last order
    lines = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    lines["order_id"] = [f"o{i}" for i in range(len(lines))]
    return lines, pd.Series(stops)


def test_auc_of_the_customers_active_at_the_cutoff_is_beside_the_whole_set(planted) -> None:
    lines, stops = planted
    result = churn_models(lines, horizon_days=HORIZON)
    assert result.test_customers == 1000  # the anchor orders after the test cutoff only
    assert result.active_customers == 600
    assert result.active_churn_rate == pytest.approx(stops.mean())
    # the best any model can do: gone churners ranked above every active customer (AUC 1 for
    # them), active churners at chance: (400 + 0.5 x active churners) / all churners
    ceiling = (400 + 0.5 * stops.sum()) / (400 + stops.sum())
    for model in result.models:
        assert ceiling - 0.03 < model.auc <= ceiling + 0.03, model.name
        assert abs(model.auc_active - 0.5) < 0.08, model.name  # the rest is chance
    assert [m.name for m in result.models][-1] == RECENCY_ALONE
    table = result.table()
    assert list(table.columns) == ["AUC (all)", "AUC (active at cutoff)", "lift at top decile"]


def test_the_churn_page_explains_the_active_auc(planted) -> None:
    lines, _ = planted
    page = churn_page(lines, horizon_days=HORIZON)
    assert "600 test customers were active at the cutoff" in page.notes[1]
    assert "AUC (active at cutoff)" in page.tables["models"][1].columns
