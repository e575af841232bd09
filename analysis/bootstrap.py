"""Percentile bootstrap intervals of scores of held-out rows (predictions, test cases).

A resample is a vector of counts (how often each row was drawn), so that the scores of all
resamples are computed at once from weighted sums instead of one library call per resample:
ROC AUC, F1 (binary, or macro over classes as scikit-learn averages them) and a plain share
such as a hit rate. With all counts 1 each equals the ordinary score of the rows.
"""

from __future__ import annotations

import numpy as np

DRAWS = 1000
LEVEL = 0.95


def resample_counts(rows: int, *, seed: int = 0, draws: int = DRAWS) -> np.ndarray:
    """`draws` x `rows` counts: each row is how often each of `rows` rows was drawn, with
    replacement, in a resample of the same size (seeded)."""
    generator = np.random.default_rng(seed)
    return generator.multinomial(rows, np.full(rows, 1 / rows), size=draws).astype(float)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The `level` percentile interval of the resamples' scores, leaving out the resamples
    where the score is undefined (NaN, e.g. an AUC of a resample holding one class)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return (float(low), float(high))


def weighted_share(hits: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample, the share of drawn rows with a hit (`hits` 0/1 per row)."""
    return (counts @ hits.astype(float)) / counts.sum(axis=1)


def weighted_auc(positive: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample, the ROC AUC of `scores` for the rows where `positive` is true: the share of
    (positive, negative) pairs of drawn rows where the positive scores higher, ties half; NaN
    where a resample holds one class only."""
    order = np.argsort(scores, kind="stable")
    ordered, positive = scores[order], positive[order].astype(bool)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    # weights of the drawn positives and negatives at each distinct score, lowest first
    pos = np.add.reduceat(counts[:, order] * positive, starts, axis=1)
    neg = np.add.reduceat(counts[:, order] * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (pos * (below + neg / 2)).sum(axis=1) / pairs, np.nan)


def weighted_f1(truth: np.ndarray, predicted: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample, F1 of class 1 when there are two classes (0 and 1), else the unweighted
    mean of each class's F1 (scikit-learn's macro average); 0 where a class is never true nor
    predicted."""
    classes = np.arange(max(int(truth.max()), int(predicted.max())) + 1)
    shown = classes[1:] if len(classes) == 2 else classes
    f1 = []
    for c in shown:
        tp = counts @ ((truth == c) & (predicted == c)).astype(float)
        wrong = counts @ ((truth == c) != (predicted == c)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1.append(np.where(2 * tp + wrong > 0, 2 * tp / (2 * tp + wrong), 0.0))
    return np.mean(f1, axis=0)
