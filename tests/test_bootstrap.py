"""The bootstrap of held-out scores: with every row drawn once it gives scikit-learn's scores; a
resample's counts give the scores of the rows drawn; and its percentile intervals cover a
planted ROC AUC (binormal scores, AUC = Phi(d / sqrt 2)) about 95% of the time."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score, roc_auc_score

from analysis.bootstrap import (
    percentile_interval,
    resample_counts,
    weighted_auc,
    weighted_f1,
    weighted_share,
)


def test_unit_counts_give_scikit_learns_scores_and_counts_give_the_rows_drawn() -> None:
    rng = np.random.default_rng(3)
    truth, scores = rng.integers(0, 2, 200), np.round(rng.random(200), 1)  # ties included
    predicted = rng.integers(0, 2, 200)
    three, guess = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    once = np.ones((1, 200))
    assert weighted_auc(truth == 1, scores, once)[0] == pytest.approx(roc_auc_score(truth, scores))
    assert weighted_f1(truth, predicted, once)[0] == pytest.approx(f1_score(truth, predicted))
    macro = f1_score(three, guess, average="macro")
    assert weighted_f1(three, guess, once)[0] == pytest.approx(macro)
    counts = resample_counts(200, seed=1, draws=5)
    assert (counts.sum(axis=1) == 200).all()
    for row in counts:
        drawn = np.repeat(np.arange(200), row.astype(int))
        one = row[None, :]
        auc = roc_auc_score(truth[drawn], scores[drawn])
        assert weighted_auc(truth == 1, scores, one)[0] == pytest.approx(auc)
        assert weighted_f1(three, guess, one)[0] == pytest.approx(
            f1_score(three[drawn], guess[drawn], average="macro")
        )
        share = (three[drawn] == guess[drawn]).mean()
        assert weighted_share(three == guess, one)[0] == pytest.approx(share)


def test_a_resample_of_one_class_is_left_out() -> None:
    counts = np.array([[2.0, 0, 0], [1, 1, 1]])
    auc = weighted_auc(np.array([True, False, False]), np.array([0.9, 0.1, 0.2]), counts)
    assert np.isnan(auc[0]) and auc[1] == 1
    assert percentile_interval(auc) == (1.0, 1.0)


def test_percentile_intervals_cover_a_planted_auc_about_95_percent_of_the_time() -> None:
    shift, n, simulations = 1.0, 120, 200
    truth = stats.norm.cdf(shift / np.sqrt(2))  # 0.760
    rng = np.random.default_rng(20261204)
    positive = np.arange(n) < n // 2
    covered = 0
    for seed in range(simulations):
        scores = rng.normal(size=n) + shift * positive
        low, high = percentile_interval(
            weighted_auc(positive, scores, resample_counts(n, seed=seed))
        )
        covered += low <= truth <= high
    assert 0.89 <= covered / simulations <= 0.99
