"""How many posts to code: Cochran's n, Krippendorff's minimum units, alpha's interval width by
size, the closed-form power of statsmodels, and the NB2 power simulation on the analyst
fixture, each against a published value or a known simulation truth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.frame import model_frame
from analysis.sample_size import (
    World,
    cochran_n,
    fit_world,
    nb2_sample_size,
    negbin_ratio_n,
    simulated_power,
    two_proportions_n,
)
from coding.reliability_size import krippendorff_minimum, krippendorff_table, width_by_size
from smcat.errors import SmcatError
from smcat.store import Store


def test_cochran_reproduces_the_published_sample_sizes() -> None:
    # p = .5, e = .05, 95%: 384.16, the textbook 385
    assert cochran_n(0.5, 0.05, 0.95) == 385
    # with the finite population correction: Krejcie & Morgan (1970), Table 1
    assert cochran_n(0.5, 0.05, 0.95, population=1000) == 278
    assert cochran_n(0.5, 0.05, 0.95, population=100) == 80
    assert cochran_n(0.1, 0.05, 0.95) == 139  # 1.96^2 x .09 / .0025 = 138.3
    with pytest.raises(SmcatError, match="margin"):
        cochran_n(0.5, 0)


def test_krippendorffs_minimum_units_match_his_table() -> None:
    # Krippendorff (2019) as quoted by the ATLAS.ti manual: P_c = .25, p = .05
    assert krippendorff_minimum(0.800, 0.050, 0.25) == 139
    assert krippendorff_minimum(0.667, 0.050, 0.25) == 81
    table = krippendorff_table()
    assert table.loc[0.25, (0.800, 0.050)] == 139
    # rarer values, stricter alpha and smaller p all need more units
    assert (table.diff().dropna() > 0).all().all()
    assert table.loc[0.5, (0.900, 0.050)] > table.loc[0.5, (0.800, 0.050)]
    # m coders: m z^2 for 2 z^2
    assert krippendorff_minimum(0.8, 0.05, 0.25, coders=3) == math.ceil(139 * 3 / 2 - 0.5)


def test_alpha_interval_narrows_with_more_shared_posts() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for unit in range(120):
        truth = int(rng.random() < 0.3)
        rows += [(f"weibo:{unit}", coder, truth if rng.random() < 0.92 else 1 - truth)
                 for coder in ("ann", "bo")]  # fmt: skip
    long = pd.DataFrame(rows, columns=["unit", "coder", "value"])
    result = width_by_size(long, 0.2, seed=1)
    assert result.units == 120
    widths = result.widths
    assert (widths.diff().dropna() < 0.02).all()  # narrower with size, up to draw noise
    assert widths.iloc[-1] < 0.1 < 0.5 < widths.iloc[0]
    assert result.n is not None and widths[result.n] <= 0.2
    earlier = widths[widths.index < result.n]
    assert (earlier > 0.2).all()
    # the width at the current number of shared posts is the bootstrap of the data as coded,
    # about 2 x 1.96 x the SE of alpha: here wider than .2
    assert widths[100] > 0.2


def test_cohens_table_for_two_proportions() -> None:
    # Cohen (1992), A power primer, Table 2, row 5 (h = 2 asin sqrt p1 - 2 asin sqrt p2):
    # 392, 63 and 25 per group for h = .2, .5, .8 at alpha .05 and power .80
    for h, published in ((0.2, 392), (0.5, 63), (0.8, 25)):
        p2 = 0.5
        p1 = math.sin(math.asin(math.sqrt(p2)) + h / 2) ** 2
        assert two_proportions_n(p1, p2) == pytest.approx(published, abs=0.5)


def test_the_simulation_agrees_with_the_closed_form_without_account_structure() -> None:
    # one account, model SEs: the NB2 Wald test of a rate ratio, whose power Zhu & Lakkis
    # (2014) give in closed form (statsmodels' power_negbin_ratio_2indep)
    rate, irr, prevalence, dispersion = 20.0, 1.5, 0.3, 0.8
    n = negbin_ratio_n(rate, irr, prevalence, dispersion)
    world = World(np.array(["a"] * 500), np.full(500, math.log(rate)), dispersion)
    point = simulated_power(world, n, irr=irr, prevalence=prevalence, draws=300, seed=5, se="model")
    assert point.failed == 0
    assert point.power == pytest.approx(0.8, abs=0.07)


@pytest.fixture(scope="module")
def fixture_world(analyst_db: Path) -> tuple[World, float]:
    with Store.open(analyst_db, readonly=True) as store:
        frame = model_frame(store, codes="gold", at_age_days=30)
    return fit_world(frame.data), float(frame.data["giveaway"].mean())


def test_nb2_power_recovers_a_size_that_detects_the_planted_irr(fixture_world) -> None:
    world, prevalence = fixture_world
    # the fixture's world: 36 accounts, NB2 alpha 0.9 planted (content left in alpha: a bit more)
    assert len(set(world.accounts)) == 36
    assert 0.85 < world.dispersion < 1.2
    planted = 1.8  # the giveaway IRR planted in the fixture
    found = nb2_sample_size(world, irr=planted, prevalence=prevalence, power=0.8, draws=100,
                            seed=1)  # fmt: skip
    assert found.n is not None and 200 < found.n < 1200
    assert found.curve[-1].power >= 0.8
    # fresh draws at that size detect the IRR in about 80% of studies; half the size does not
    again = simulated_power(world, found.n, irr=planted, prevalence=prevalence, draws=150, seed=2)
    assert again.power == pytest.approx(0.8, abs=0.1)
    half = simulated_power(world, found.n // 2, irr=planted, prevalence=prevalence, draws=150,
                           seed=2)  # fmt: skip
    assert half.power < 0.7
    assert any("IRR 1.8" in line for line in found.assumptions())
