"""Screening the regressors: VIFs against Longley's published values, Spearman pairs flagged,
caret's near-zero-variance rule, and `analyze screen` on the analyst fixture, which the
effects report points at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from analysis.effects import fit_nb
from analysis.report import SCREEN_LINE, write_report
from analysis.results import Column, Report
from analysis.screen import near_zero_variance, screen, screen_columns

# VIFs of Longley's (1967) regressors (lm(Employed ~ ., longley) in R, car::vif; the values
# quoted in regression texts for this classic of collinearity)
LONGLEY_VIF = {
    "GNPDEFL": 135.53244,
    "GNP": 1788.51348,
    "UNEMP": 33.61889,
    "ARMED": 3.58893,
    "POP": 399.15102,
    "YEAR": 758.98060,
}


def test_vifs_match_the_published_longley_values() -> None:
    longley = sm.datasets.longley.load_pandas().data
    columns = longley[list(LONGLEY_VIF)].astype(float)
    result = screen_columns(columns)
    for name, published in LONGLEY_VIF.items():
        assert result.vif[name] == pytest.approx(published, rel=1e-5)
    # and statsmodels' variance_inflation_factor with a constant agrees
    exog = sm.add_constant(columns).to_numpy()
    for position, name in enumerate(LONGLEY_VIF, start=1):
        assert variance_inflation_factor(exog, position) == pytest.approx(result.vif[name])
    # Longley's regressors are the textbook case: GNP, its deflator, population and year move
    # together (rank correlations near 1)
    pairs = zip(result.flagged["a"], result.flagged["b"], strict=True)
    flagged = {frozenset(pair) for pair in pairs}
    assert frozenset(("GNP", "YEAR")) in flagged
    assert all(abs(rho) >= 0.7 for rho in result.flagged["rho"])


def test_pairs_at_or_above_the_threshold_are_flagged_with_spearmans_rho() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=400)
    columns = pd.DataFrame(
        {
            "x": x,
            "near_x": np.exp(x) + rng.normal(scale=0.3, size=400),  # monotone: rank-correlated
            "other": rng.normal(size=400),
        }
    )
    result = screen_columns(columns, threshold=0.7)
    rho = stats.spearmanr(columns["x"], columns["near_x"]).statistic
    assert result.correlations.loc["x", "near_x"] == pytest.approx(rho)
    assert list(zip(result.flagged["a"], result.flagged["b"], strict=True)) == [("x", "near_x")]
    assert screen_columns(columns, threshold=0.99).flagged.empty


def test_near_zero_variance_is_carets_rule() -> None:
    # 990 zeros and 10 ones: frequency ratio 99 > 95/5, 2 values in 1,000 rows = 0.2% < 10%
    rare = pd.Series([0] * 990 + [1] * 10)
    assert near_zero_variance(rare) == (99.0, 0.2, True)
    # 950 and 50: ratio exactly 19 is not above 95/5
    assert near_zero_variance(pd.Series([0] * 950 + [1] * 50))[2] is False
    # many distinct values: not flagged however skewed the most common one
    skewed = pd.Series([0.0] * 900 + list(np.arange(1, 101) / 7))
    ratio, unique, flag = near_zero_variance(skewed)
    assert ratio == 900.0 and unique == pytest.approx(10.1) and not flag
    assert near_zero_variance(pd.Series([3, 3, 3]))[2] is True


def test_screen_reads_the_design_of_the_models(analyst_db: Path) -> None:
    from analysis.frame import DEFAULT_REGRESSORS, model_frame
    from smcat.store import Store

    with Store.open(analyst_db, readonly=True) as store:
        frame = model_frame(store, codes="gold", at_age_days=30)
    result = screen(frame.data, "engagement", list(DEFAULT_REGRESSORS))
    assert result.n == 6000
    assert "giveaway" in result.vif.index and "media_type[video]" in result.vif.index
    # the fixture's regressors were drawn independently: nothing near collinear
    assert result.flagged.empty and result.vif.max() < 5
    # night posts (00-06) are rare in it: caret flags the column
    assert result.variance.loc["hour_band[00-06]", "near_zero"]


def test_analyze_screen_writes_the_page_the_effects_report_points_at(
    smcat, analyst_db: Path, tmp_path: Path
) -> None:
    done = smcat("analyze", "screen", "--db", str(analyst_db), "--codes", "gold", "-o", "out",
                 "--threshold", "0.5")  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out" / "screen.html").read_text(encoding="utf-8")
    assert "Spearman" in page and "near-zero" in page
    columns = pd.read_csv(tmp_path / "out" / "screen-columns.csv", index_col=0)
    assert {"vif", "freq_ratio", "percent_unique", "near_zero"} <= set(columns.columns)
    # the effects report, written into the same folder, links to it
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"x": rng.binomial(1, 0.4, 300)})
    data["y"] = rng.negative_binomial(2, 1 / (1 + 10 * np.exp(0.4 * data["x"]) / 2))
    fitted = Column(fit_nb(data, "y", ["x"], se="model"), "gold")
    write_report(Report(title="t", dv="y", columns=[fitted]), tmp_path / "out")
    assert SCREEN_LINE in (tmp_path / "out" / "effects.md").read_text(encoding="utf-8")
    assert 'href="screen.html"' in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
