"""Pairwise precision, recall and F1 of a linkage against the truth: over every pair of
records, whether the linkage put them in one person and whether they are one person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

Record = TypeVar("Record", bound=Hashable)


@dataclass(frozen=True)
class PairwiseQuality:
    """Pairs linked, true pairs, pairs both linked and true, and the three measures."""

    linked_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs(sizes: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise_quality(
    linked: Mapping[Record, Hashable], truth: Mapping[Record, Hashable]
) -> PairwiseQuality:
    """The quality of `linked` (record -> person) against `truth` (record -> true person),
    over the records both know."""
    common = linked.keys() & truth.keys()
    return PairwiseQuality(
        _pairs(Counter(linked[r] for r in common)),
        _pairs(Counter(truth[r] for r in common)),
        _pairs(Counter((linked[r], truth[r]) for r in common)),
    )
