"""Association rules: the six-basket example of the source study, checked cell by cell against
hand computation (stats.md section 4), and the options and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.basket import association, baskets_of
from smcat.errors import SmcatError

SIX = [
    ["day cream", "facial cleanser", "night cream"],  # A
    ["shampoo", "night cream", "shower gel"],  # B
    ["facial cleanser", "night cream"],  # C
    ["shampoo", "shower gel", "facial cleanser", "day cream"],  # D
    ["shampoo"],  # E
    ["shampoo", "shower gel"],  # F
]
ITEMS = ["day cream", "facial cleanser", "night cream", "shampoo", "shower gel"]

# Baskets holding both items, counted by hand from A-F (diagonal: baskets holding the item):
# day cream in A, D; facial cleanser in A, C, D; night cream in A, B, C; shampoo in B, D, E, F;
# shower gel in B, D, F. So day cream & facial cleanser: A, D = 2; facial cleanser & night
# cream: A, C = 2; shampoo & shower gel: B, D, F = 3; every other pair shares one basket
# (day cream & night cream: A; day cream & shampoo: D; night cream & shampoo: B; ...).
PAIRS = [
    [2, 2, 1, 1, 1],
    [2, 3, 2, 1, 1],
    [1, 2, 3, 1, 1],
    [1, 1, 1, 4, 3],
    [1, 1, 1, 3, 3],
]
# Confidence(row -> column) = both / row: day cream -> facial cleanser 2/2 = 1; facial
# cleanser -> day cream 2/3; night cream -> day cream 1/3; shampoo -> shower gel 3/4;
# shower gel -> shampoo 3/3 = 1; shampoo -> anything else 1/4.
NAN = np.nan
CONFIDENCE = [
    [NAN, 2 / 2, 1 / 2, 1 / 2, 1 / 2],
    [2 / 3, NAN, 2 / 3, 1 / 3, 1 / 3],
    [1 / 3, 2 / 3, NAN, 1 / 3, 1 / 3],
    [1 / 4, 1 / 4, 1 / 4, NAN, 3 / 4],
    [1 / 3, 1 / 3, 1 / 3, 3 / 3, NAN],
]


def test_six_baskets_pair_table_cell_by_cell() -> None:
    result = association(SIX)
    assert result.baskets == 6
    assert list(result.pair_counts.index) == ITEMS
    assert list(result.pair_counts.columns) == ITEMS
    for i, row in enumerate(ITEMS):
        for j, column in enumerate(ITEMS):
            assert result.pair_counts.loc[row, column] == PAIRS[i][j], (row, column)
            assert result.pair_support.loc[row, column] == pytest.approx(PAIRS[i][j] / 6)


def test_six_baskets_confidence_table_cell_by_cell() -> None:
    result = association(SIX)
    for i, row in enumerate(ITEMS):
        for j, column in enumerate(ITEMS):
            value = result.confidence.loc[row, column]
            if i == j:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(CONFIDENCE[i][j]), (row, column)


def test_six_baskets_quoted_rules_with_lift() -> None:
    rules = association(SIX).rules.set_index(["antecedents", "consequents"])
    # lift = confidence / support(consequent): 1 / (3/6) = 2; 0.75 / (3/6) = 1.5; 1 / (4/6) = 1.5
    expected = {
        ("day cream", "facial cleanser"): (2 / 6, 1.0, 2.0),
        ("shampoo", "shower gel"): (3 / 6, 0.75, 1.5),
        ("shower gel", "shampoo"): (3 / 6, 1.0, 1.5),
    }
    for rule, (support, confidence, lift) in expected.items():
        assert rules.loc[rule, "support"] == pytest.approx(support)
        assert rules.loc[rule, "confidence"] == pytest.approx(confidence)
        assert rules.loc[rule, "lift"] == pytest.approx(lift)
    # the largest itemset is basket D itself, once in six baskets
    itemsets = association(SIX).itemsets
    largest = itemsets[itemsets["size"] == itemsets["size"].max()]
    assert largest["itemset"].tolist() == ["day cream, facial cleanser, shampoo, shower gel"]
    assert largest["support"].tolist() == pytest.approx([1 / 6])


def test_minimum_support_and_confidence_filter() -> None:
    result = association(SIX, min_support=0.5, min_confidence=0.8)
    # itemsets in 3 baskets or more: the five items but day cream (2/6), and shampoo+shower gel
    assert sorted(result.itemsets["itemset"]) == [
        "facial cleanser",
        "night cream",
        "shampoo",
        "shampoo, shower gel",
        "shower gel",
    ]
    # of shampoo -> shower gel (0.75) and shower gel -> shampoo (1.0) only the second is kept
    assert result.rules[["antecedents", "consequents"]].values.tolist() == [
        ["shower gel", "shampoo"]
    ]


def test_baskets_of_order_lines() -> None:
    lines = pd.DataFrame({"order_id": ["2", "1", "1", "2"], "item": ["b", "a", "c", "a"]})
    assert baskets_of(lines) == [["a", "c"], ["a", "b"]]


@pytest.mark.parametrize(
    ("baskets", "options", "message"),
    [
        ([], {}, "there are no baskets"),
        ([["a"], []], {}, "basket 2 is empty"),
        ([["a", "b"]], {"min_support": 1.5}, "between 0 and 1"),
    ],
)
def test_refusals_name_the_fix(baskets: list, options: dict, message: str) -> None:
    with pytest.raises(SmcatError, match=message):
        association(baskets, **options)
