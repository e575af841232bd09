"""Reliability statistics against published worked examples, and their edge cases."""

import numpy as np
import pandas as pd
import pytest

from coding.reliability import (
    NO_PAIRABLE_UNITS,
    NO_VARIATION,
    PREVALENCE,
    TENTATIVE,
    UNACCEPTABLE,
    coincidence_matrix,
    item_level,
    matrix_from_long,
    reliability,
    reliability_table,
)

NA = np.nan

# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability", section C (nominal data,
# any number of observers, missing data): 4 observers A-D, 12 units, "." = missing.
# Published: nominal alpha = 0.743; coincidence matrix with diagonal 7, 10, 8, 4, 3 and
# n_c = 9, 13, 10, 5, 3 (n = 40).
KRIPPENDORFF_4 = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
        "C": [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
    },
    index=range(1, 13),
)

# Krippendorff (2011), section A (binary data, two observers, no missing data): 10 units.
# Published: coincidences o_00 = 10, o_01 = o_10 = 4, o_11 = 2; alpha = 0.095.
KRIPPENDORFF_BINARY = pd.DataFrame(
    {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}
)

# irrCAC (Gwet, CRAN irrCAC 1.0, README / vignette "Calculating Chance-corrected Agreement
# Coefficients"), dataset cac.raw4raters: Krippendorff's table above with the lone value of
# unit 12 given by Rater3 instead of B. Published: gwet.ac1.raw pa = 0.8181818,
# pe = 0.1903212, AC1 = 0.77544; krippen.alpha.raw = 0.74342.
CAC_RAW4RATERS = pd.DataFrame(
    {
        "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
        "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, NA],
        "Rater3": [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
        "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
    }
)


def two_coders_from_table(table: list[list[int]], labels: list[str]) -> pd.DataFrame:
    """Units from a 2-coder contingency table: rows = coder A's category, columns = B's."""
    pairs = [
        (labels[i], labels[j])
        for i, row in enumerate(table)
        for j, count in enumerate(row)
        for _ in range(count)
    ]
    return pd.DataFrame(pairs, columns=["A", "B"])


def units_from_distribution(distribution: list[list[int]]) -> pd.DataFrame:
    """A units x raters matrix from counts of raters per unit and category (rater identity
    does not enter AC1 or alpha, so raters are filled in category order)."""
    rows = [
        [category for category, count in enumerate(counts) for _ in range(count)]
        for counts in distribution
    ]
    return pd.DataFrame(rows, columns=[f"R{k}" for k in range(1, len(rows[0]) + 1)])


def test_krippendorff_alpha_four_coders_with_missing_values() -> None:
    result = reliability(KRIPPENDORFF_4, n_boot=0)
    assert round(result.alpha, 3) == 0.743
    assert result.n_units == 11  # unit 12 has one value: not pairable
    assert result.n_coders == 4


def test_krippendorff_coincidence_matrix_four_coders() -> None:
    coincidences = coincidence_matrix(KRIPPENDORFF_4)
    assert list(coincidences.index) == [1, 2, 3, 4, 5]
    assert np.allclose(np.diag(coincidences), [7, 10, 8, 4, 3])
    assert np.allclose(coincidences.sum(axis=1), [9, 13, 10, 5, 3])
    assert coincidences.loc[1, 2] == pytest.approx(4 / 3)
    assert coincidences.to_numpy().sum() == pytest.approx(40)


def test_krippendorff_alpha_binary_two_coders() -> None:
    assert np.allclose(coincidence_matrix(KRIPPENDORFF_BINARY), [[10, 4], [4, 2]])
    result = reliability(KRIPPENDORFF_BINARY, n_boot=0)
    assert round(result.alpha, 3) == 0.095
    assert result.percent_agreement == pytest.approx(0.6)  # units 2, 4, 5, 7, 8, 10 agree


def irrcac_ac1(matrix: pd.DataFrame) -> tuple[float, float, float]:
    """(p_a, p_e, AC1) as irrCAC's gwet.ac1.raw computes them (unweighted; Gwet 2008, eq. 20
    and Gwet 2014, ch. 2), written from the published formula, apart from the code tested:
    units no rater rated are dropped; p_a is the mean over units rated by 2+ raters of
    sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)); pi_k the mean over the units of r_ik / r_i;
    p_e = sum_k pi_k (1 - pi_k) / (q - 1)."""
    rows = [[v for v in row if not pd.isna(v)] for row in matrix.itertuples(index=False)]
    rows = [row for row in rows if row]
    categories = sorted({v for row in rows for v in row})
    q = len(categories)
    counts = [[row.count(k) for k in categories] for row in rows]
    paired = [(c, len(r)) for c, r in zip(counts, rows, strict=True) if len(r) >= 2]
    p_a = sum(sum(x * (x - 1) for x in c) / (r * (r - 1)) for c, r in paired) / len(paired)
    pi = [sum(c[k] / len(r) for c, r in zip(counts, rows, strict=True)) / len(rows)
          for k in range(q)]  # fmt: skip
    p_e = sum(p * (1 - p) for p in pi) / (q - 1)
    return p_a, p_e, (p_a - p_e) / (1 - p_e)


def test_the_ac1_formula_of_the_test_reproduces_irrcacs_published_example() -> None:
    p_a, p_e, ac1 = irrcac_ac1(CAC_RAW4RATERS)
    assert (round(p_a, 7), round(p_e, 7), round(ac1, 5)) == (0.8181818, 0.1903212, 0.77544)


def test_gwet_ac1_multiple_raters_with_missing_ratings() -> None:
    # Changed (issue 22): every measure is on the shared units, so unit 12, rated once, no
    # longer enters AC1's category shares as it does in irrCAC's published 0.77544: AC1 is
    # irrCAC's on the 11 shared units.
    result = reliability(CAC_RAW4RATERS, n_boot=0)
    assert result.ac1 == pytest.approx(irrcac_ac1(CAC_RAW4RATERS.iloc[:11])[2], abs=1e-12)
    assert round(result.ac1, 5) != 0.77544
    assert round(result.alpha, 5) == 0.74342
    assert result.n_units == 11


def test_ac1_counts_only_the_posts_two_coders_share() -> None:
    # Each coder also coded posts of their own, all 0: in the old AC1 they moved pi_k while
    # n reported only the shared posts.
    rng = np.random.default_rng(3)
    shared = [f"s{i}" for i in range(30)]
    rows = [(u, c, int(rng.random() < 0.3)) for u in shared for c in ("alice", "bob")]
    rows += [(f"{c}{i}", c, 0) for c in ("alice", "bob") for i in range(70)]
    long = pd.DataFrame(rows, columns=["unit", "coder", "value"]).assign(item="B3")
    row = reliability_table(long, n_boot=0, level_of=None).iloc[0]
    matrix = matrix_from_long(long[long["unit"].isin(shared)][["unit", "coder", "value"]])
    assert row["n_units"] == 30
    assert row["ac1"] == pytest.approx(irrcac_ac1(matrix)[2], abs=1e-12)


def test_two_raters_three_categories_irrcac_contingency_table() -> None:
    # irrCAC dataset cont3x3abstractors (Ectopic, AIU, NIU), 100 subjects. Published:
    # kappa2.table 0.7964094, gwet.ac1.table 0.8493305, krippen2.table 0.7972585,
    # pa2.table 0.89.
    matrix = two_coders_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]], ["Ectopic", "AIU", "NIU"])
    result = reliability(matrix, n_boot=0)
    assert result.kappas[("A", "B")] == pytest.approx(0.7964094, abs=5e-8)
    assert result.ac1 == pytest.approx(0.8493305, abs=5e-8)
    assert result.alpha == pytest.approx(0.7972585, abs=5e-8)
    assert result.percent_agreement == pytest.approx(0.89)


def test_six_raters_from_irrcac_distribution() -> None:
    # irrCAC dataset distrib.6raters: 15 patients, 6 psychiatrists, 5 diagnoses. Published:
    # gwet.ac1.dist 0.4448007 (pa 0.5511111), krippen.alpha.dist 0.4204384.
    distribution = [
        [0, 0, 0, 6, 0],
        [0, 3, 0, 0, 3],
        [0, 1, 4, 0, 1],
        [0, 0, 0, 0, 6],
        [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0],
        [0, 0, 4, 0, 2],
        [2, 0, 3, 1, 0],
        [2, 0, 0, 4, 0],
        [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0],
        [1, 1, 0, 4, 0],
        [0, 3, 3, 0, 0],
        [1, 0, 0, 5, 0],
        [0, 2, 0, 3, 1],
    ]
    result = reliability(units_from_distribution(distribution), n_boot=0)
    assert result.ac1 == pytest.approx(0.4448007, abs=5e-8)
    assert result.alpha == pytest.approx(0.4204384, abs=5e-8)
    # With complete data, pooled pairwise agreement is Gwet's p_a.
    assert result.percent_agreement == pytest.approx(0.5511111, abs=5e-8)


def test_cohens_kappa_textbook_example() -> None:
    # Wikipedia "Cohen's kappa", worked example: 50 grant proposals, both readers Yes 20,
    # A Yes / B No 5, A No / B Yes 10, both No 15: p_o = 0.70, p_e = 0.50, kappa = 0.40.
    matrix = two_coders_from_table([[20, 5], [10, 15]], ["Yes", "No"])
    result = reliability(matrix, n_boot=0)
    assert result.kappas == {("A", "B"): pytest.approx(0.40)}
    assert result.percent_agreement == pytest.approx(0.70)


def test_kappa_for_each_coder_pair_uses_units_both_coded() -> None:
    matrix = two_coders_from_table([[20, 5], [10, 15]], ["Yes", "No"])
    # C coded only the proposals A accepted, and always as B did.
    matrix["C"] = matrix["B"].where(matrix["A"] == "Yes")
    kappas = reliability(matrix, n_boot=0).kappas
    assert list(kappas) == [("A", "B"), ("A", "C"), ("B", "C")]
    assert kappas[("A", "B")] == pytest.approx(0.40)
    assert kappas[("B", "C")] == pytest.approx(1.0)
    # On A's 25 Yes units C says Yes 20 times: p_o = 0.8 = p_e, so kappa is 0.
    assert kappas[("A", "C")] == pytest.approx(0.0)


def test_units_coded_once_drop_out_of_alpha_and_agreement() -> None:
    with_lone_values = pd.concat(
        [KRIPPENDORFF_4, pd.DataFrame({"A": [1, NA], "C": [NA, 5]}, index=[13, 14])]
    )
    before = reliability(KRIPPENDORFF_4, n_boot=0)
    after = reliability(with_lone_values, n_boot=0)
    assert after.alpha == before.alpha
    assert after.percent_agreement == before.percent_agreement
    assert after.n_units == before.n_units == 11
    # Pooled pairs within units 1-11: 86 of 110 ordered pairs agree (counted by hand from the
    # table above; unit 2 gives 6 of 12, unit 6 none, unit 8 6 of 12, unit 11 2 of 2).
    assert before.percent_agreement == pytest.approx(86 / 110)


def test_none_counts_as_missing() -> None:
    as_objects = KRIPPENDORFF_4.astype(object).where(KRIPPENDORFF_4.notna(), None)
    assert reliability(as_objects, n_boot=0).alpha == pytest.approx(0.7434210526)


def test_flags_follow_krippendorffs_thresholds() -> None:
    assert reliability(KRIPPENDORFF_4, n_boot=0).flags == (TENTATIVE,)
    assert reliability(KRIPPENDORFF_BINARY, n_boot=0).flags == (UNACCEPTABLE,)
    perfect = pd.DataFrame({"A": [0, 1, 1, 0], "B": [0, 1, 1, 0]})
    assert reliability(perfect, n_boot=0).flags == ()


def test_prevalence_flag_when_agreement_is_high_but_alpha_low() -> None:
    # A rare code: 9 of 10 units agree on 0, one disagreement on the only 1.
    matrix = pd.DataFrame({"A": [0] * 9 + [1], "B": [0] * 10})
    result = reliability(matrix, n_boot=0)
    assert result.percent_agreement == pytest.approx(0.9)
    assert result.alpha == pytest.approx(0.0)
    assert result.ac1 == pytest.approx((0.9 - 0.095) / (1 - 0.095))
    assert result.flags == (UNACCEPTABLE, PREVALENCE)


def test_no_pairable_units() -> None:
    matrix = pd.DataFrame({"A": [1, 0, NA, NA], "B": [NA, NA, 1, 0]})
    result = reliability(matrix)
    assert np.isnan(result.alpha)
    assert np.isnan(result.ci_low) and np.isnan(result.ci_high)
    assert np.isnan(result.percent_agreement) and np.isnan(result.ac1)
    assert np.isnan(result.kappas[("A", "B")])
    assert (result.n_units, result.n_coders) == (0, 2)
    assert result.flags == (NO_PAIRABLE_UNITS,)


def test_no_variation_leaves_alpha_undefined() -> None:
    matrix = pd.DataFrame({"A": [0, 0, 0], "B": [0, 0, 0]})
    result = reliability(matrix)
    assert np.isnan(result.alpha) and np.isnan(result.ci_low)
    assert np.isnan(result.kappas[("A", "B")])
    assert result.percent_agreement == 1.0
    assert result.flags == (NO_VARIATION,)
    # AC1 needs the codebook's categories: with 0 and 1 possible, chance agreement is 0.
    assert np.isnan(result.ac1)
    assert reliability(matrix, categories=[0, 1], n_boot=0).ac1 == 1.0


def test_a_single_coder_is_an_error_naming_the_fix() -> None:
    with pytest.raises(ValueError, match=r"at least two coders.*second coder"):
        reliability(pd.DataFrame({"A": [0, 1, 1]}))


def test_values_outside_the_categories_are_an_error() -> None:
    with pytest.raises(ValueError, match="not one of the categories"):
        reliability(KRIPPENDORFF_BINARY.replace(1, 2), categories=[0, 1])


def simulated(n_units: int = 300, seed: int = 7) -> pd.DataFrame:
    """Three coders who each copy a true binary code 85% of the time, 10% of cells missing."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n_units) < 0.3
    codes = np.where(rng.random((n_units, 3)) < 0.85, truth[:, None], ~truth[:, None])
    matrix = pd.DataFrame(codes.astype(float), columns=["A", "B", "C"])
    return matrix.mask(rng.random(matrix.shape) < 0.1)


def test_bootstrap_interval_contains_alpha_and_is_reproducible() -> None:
    matrix = simulated()
    result = reliability(matrix, n_boot=500, seed=11)
    assert result.ci_low < result.alpha < result.ci_high
    assert result.ci_high - result.ci_low < 0.3
    again = reliability(matrix, n_boot=500, seed=11)
    assert (again.ci_low, again.ci_high) == (result.ci_low, result.ci_high)
    other_seed = reliability(matrix, n_boot=500, seed=12)
    assert (other_seed.ci_low, other_seed.ci_high) != (result.ci_low, result.ci_high)
    assert np.isnan(reliability(matrix, n_boot=0).ci_low)


def test_bootstrap_narrows_with_more_units() -> None:
    small = reliability(simulated(100), n_boot=1000)
    large = reliability(simulated(2000), n_boot=1000)
    assert large.ci_high - large.ci_low < (small.ci_high - small.ci_low) / 2


def test_matrix_from_long_rows() -> None:
    rows = [("p1", "ann", 1), ("p1", "bo", 1), ("p2", "ann", 0), ("p3", "bo", 1)]
    matrix = matrix_from_long(rows)
    assert list(matrix.columns) == ["ann", "bo"]
    assert list(matrix.index) == ["p1", "p2", "p3"]
    assert matrix.loc["p2", "ann"] == 0 and pd.isna(matrix.loc["p2", "bo"])
    with pytest.raises(ValueError, match=r"p1.*two values from coder 'ann'.*one value per"):
        matrix_from_long([*rows, ("p1", "ann", 0)])


def test_item_level() -> None:
    assert [item_level(item) for item in ["A1", "B10", "C6"]] == ["A", "B", "C"]


def long_from(matrix: pd.DataFrame, item: str) -> pd.DataFrame:
    frame = matrix.rename_axis(index="unit", columns="coder").stack().rename("value")
    return frame.reset_index().assign(item=item)


def test_reliability_table_per_item_and_pooled_per_level() -> None:
    b2, b10, c1 = simulated(seed=1), simulated(seed=2), simulated(seed=3)
    long = pd.concat([long_from(b10, "B10"), long_from(c1, "C1"), long_from(b2, "B2")])
    # B3: coder C never coded it, A and B coded different posts.
    b3 = pd.DataFrame({"unit": [1, 2], "coder": ["A", "B"], "item": "B3", "value": [1.0, 0.0]})
    long = pd.concat([long, b3], ignore_index=True)
    table = reliability_table(long, n_boot=200, seed=5).set_index("name")

    assert list(table.index) == ["B2", "B3", "B10", "C1", "B", "C"]
    assert list(table["scope"]) == ["item"] * 4 + ["level"] * 2
    assert list(table["level"]) == ["B", "B", "B", "C", "B", "C"]
    for name, matrix in [("B2", b2), ("B10", b10), ("C1", c1)]:
        alone = reliability(matrix, n_boot=200, seed=5)
        assert table.loc[name, "alpha"] == alone.alpha
        assert table.loc[name, "ci_low"] == alone.ci_low
        assert table.loc[name, "kappa A vs C"] == alone.kappas[("A", "C")]
    assert table.loc["B3", "flags"] == NO_PAIRABLE_UNITS
    assert table.loc["B3", "n_coders"] == 2

    # Level B pools (unit, subcategory) cells: the same as stacking the matrices.
    stacked = pd.concat([b2, b10], ignore_index=True)
    assert table.loc["B", "alpha"] == pytest.approx(reliability(stacked, n_boot=0).alpha)
    assert table.loc["B", "n_units"] == table.loc[["B2", "B10"], "n_units"].sum()
    assert table.loc["C", "alpha"] == table.loc["C1", "alpha"]


def test_reliability_table_uses_the_shared_scale_for_ac1() -> None:
    # One subcategory all 0, another with 1s: AC1 of the first still has q = 2 (0 and 1).
    always_zero = pd.DataFrame({"A": [0.0] * 5, "B": [0.0] * 5})
    table = reliability_table(
        pd.concat([long_from(always_zero, "B1"), long_from(KRIPPENDORFF_BINARY, "B2")]),
        level_of=None,
        n_boot=0,
    ).set_index("name")
    assert list(table.index) == ["B1", "B2"]
    assert table.loc["B1", "ac1"] == 1.0
    assert table.loc["B1", "flags"] == NO_VARIATION


def test_reliability_table_with_one_coder_is_an_error() -> None:
    long = long_from(KRIPPENDORFF_BINARY[["A"]], "B1")
    with pytest.raises(ValueError, match="at least two coders"):
        reliability_table(long)
