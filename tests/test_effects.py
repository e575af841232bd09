"""The effect models against published figures, fitted through analysis.effects.

References (see ../shared/reference/stats.md, section 3): Long's bioChemists data (pscl; Long
1997, Table 8.2), with R MASS::glm.nb / pscl::zeroinfl and Stata nbreg figures; the RAND health
insurance data shipped with statsmodels, with the R and Stata figures of Cameron & Trivedi's
example. The expected numbers are typed in from those sources, never computed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special

from analysis.effects import (
    ConvergenceError,
    EffectsError,
    cameron_trivedi,
    fit,
    fit_nb,
    fit_ols,
    fit_poisson,
    fit_zinb,
    nb2_null_llf,
    vif,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "analysis"
LONG_REGRESSORS = ["fem", "mar", "kid5", "phd", "ment"]
LONG_REFERENCE = {"fem": "Men", "mar": "Single"}
TERMS = ["Intercept", "fem[Women]", "mar[Married]", "kid5", "phd", "ment"]


@pytest.fixture(scope="module")
def biochemists() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "bioChemists.csv")


def test_biochemists_fixture_is_longs_data(biochemists: pd.DataFrame) -> None:
    # Long (1990): 915 students; 275 of them with no article; mean articles 1.69
    assert len(biochemists) == 915
    assert (biochemists["art"] == 0).sum() == 275
    assert biochemists["art"].mean() == pytest.approx(1.6929, abs=1e-4)


def test_nb2_reproduces_long_biochemists(biochemists: pd.DataFrame) -> None:
    result = fit_nb(biochemists, "art", LONG_REGRESSORS, reference=LONG_REFERENCE, se="model")
    published = [0.256144, -0.216418, 0.150489, -0.176415, 0.015271, 0.029082]
    np.testing.assert_allclose(result.params[TERMS], published, atol=1e-4)
    # discrete NB2 SEs (observed information with alpha, as Stata's nbreg)
    np.testing.assert_allclose(
        result.bse[TERMS], [0.138560, 0.072672, 0.082106, 0.053060, 0.036040, 0.003470], atol=1e-4
    )
    assert result.llf == pytest.approx(-1560.958, abs=1e-3)
    assert result.alpha == pytest.approx(0.441620, abs=1e-4)  # R: theta 2.264388
    assert result.alpha_se == pytest.approx(0.052967, abs=1e-4)
    assert result.nobs == 915 and result.dropped == 0 and result.converged
    irr = result.irr()
    np.testing.assert_allclose(
        irr.loc[TERMS, "irr"], [1.2919, 0.8054, 1.1624, 0.8383, 1.0154, 1.0295], atol=1e-4
    )
    assert (irr["lower"] < irr["irr"]).all() and (irr["irr"] < irr["upper"]).all()
    # AIC of R's glm.nb: -2 llf + 2 * 7 parameters = 3135.917
    assert result.aic == pytest.approx(3135.917, abs=1e-2)
    # LR test of alpha = 0 from the published NB2 and Poisson log-likelihoods
    assert result.dispersion.statistic == pytest.approx(2 * (1651.056 - 1560.958), abs=2e-3)
    assert result.dispersion.pvalue < 1e-30


def test_poisson_reproduces_long_biochemists(biochemists: pd.DataFrame) -> None:
    result = fit_poisson(biochemists, "art", LONG_REGRESSORS, reference=LONG_REFERENCE, se="robust")
    published = [0.304617, -0.224594, 0.155243, -0.184883, 0.012823, 0.025543]
    np.testing.assert_allclose(result.params[TERMS], published, atol=1e-4)
    assert result.llf == pytest.approx(-1651.056, abs=1e-3)
    assert result.cov_type == "robust (HC1)"
    assert result.dispersion.statistic > 3  # the data are over-dispersed: NB2 is the model


def test_zinb_reproduces_pscl_zeroinfl(biochemists: pd.DataFrame) -> None:
    result = fit_zinb(biochemists, "art", LONG_REGRESSORS, reference=LONG_REFERENCE, se="model")
    count = [0.416747, -0.195508, 0.097583, -0.151732, -0.000700, 0.024786]
    zero = [-0.191606, 0.635870, -1.499437, 0.628409, -0.037733, -0.882274]
    np.testing.assert_allclose(result.params[TERMS], count, atol=1e-4)
    np.testing.assert_allclose(result.params[[f"inflate_{t}" for t in TERMS]], zero, atol=2e-4)
    assert result.llf == pytest.approx(-1549.991, abs=1e-3)
    assert result.alpha == pytest.approx(1 / 2.654769, abs=1e-4)


@pytest.fixture(scope="module")
def randhie() -> pd.DataFrame:
    return sm.datasets.randhie.load_pandas().data


RANDHIE_X = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]


def test_nb2_reproduces_randhie_stata_and_r(randhie: pd.DataFrame) -> None:
    # statsmodels' RandHIE.negativebinomial_nb2_bfgs: R MASS::glm.nb and Stata nbreg
    result = fit_nb(randhie, "mdvis", RANDHIE_X, se="model")
    published = [-0.0579470, -0.2677877, 0.0412061, -0.0381377, 0.2689158, 0.0381637,
                 -0.0441339, 0.0172522, 0.1779608]  # fmt: skip
    np.testing.assert_allclose(result.params[RANDHIE_X], published, atol=1e-4)
    assert result.params["Intercept"] == pytest.approx(0.6635561, abs=1e-4)
    assert result.alpha == pytest.approx(1.2929533, abs=1e-4)
    assert result.llf == pytest.approx(-43383.662, abs=1e-3)
    assert result.aic == pytest.approx(86789.324, abs=1e-2)


def test_poisson_reproduces_randhie_stata(randhie: pd.DataFrame) -> None:
    result = fit_poisson(randhie, "mdvis", RANDHIE_X, se="model")
    assert result.llf == pytest.approx(-62419.5885, abs=1e-3)


def test_missing_values_are_dropped_with_their_cluster_ids(biochemists: pd.DataFrame) -> None:
    data = biochemists.assign(group=np.arange(len(biochemists)) % 25)
    holed = data.astype({"kid5": float, "group": float})
    holed.loc[[3, 10], "kid5"] = np.nan
    holed.loc[[50], "group"] = np.nan
    result = fit_poisson(holed, "art", LONG_REGRESSORS, cluster="group", reference=LONG_REFERENCE)
    clean = data.drop(index=[3, 10, 50])
    expected = fit_poisson(clean, "art", LONG_REGRESSORS, cluster="group", reference=LONG_REFERENCE)
    assert result.nobs == 912 and result.dropped == 3
    np.testing.assert_allclose(result.bse, expected.bse, rtol=1e-10)
    assert result.cov_type == "clustered by group (CRV1)"


def test_fixed_effect_fits_equal_dummy_fits(biochemists: pd.DataFrame) -> None:
    # pyfixest's demeaned fits against the same models with explicit dummies in statsmodels:
    # Poisson and OLS have no incidental-parameter bias, so the slopes are the same MLE / LS
    data = biochemists.assign(lab=[f"L{i % 12}" for i in range(len(biochemists))])
    slopes = TERMS[1:]
    for model in ("poisson", "ols"):
        within = fit(
            model, data, "art", LONG_REGRESSORS, fe="lab", se="robust", reference=LONG_REFERENCE
        )
        dummies = fit(
            model, data, "art", [*LONG_REGRESSORS, "lab"], se="robust", reference=LONG_REFERENCE
        )
        np.testing.assert_allclose(within.params[slopes], dummies.params[slopes], atol=1e-6)
        assert within.fixed_effects == "lab" and within.nobs == 915
    nb = fit_nb(data, "art", LONG_REGRESSORS, fe="lab", se="robust", reference=LONG_REFERENCE)
    assert list(nb.params.index) == slopes  # the dummies and intercept are not reported


def test_vif_is_one_over_one_minus_r2() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=400)
    b = 0.8 * a + rng.normal(size=400)
    c = rng.normal(size=400) + 0.3 * b
    X = pd.DataFrame({"Intercept": 1.0, "a": a, "b": b, "c": c})
    for column in ("a", "b", "c"):
        others = X.drop(columns=column)
        r2 = sm.OLS(X[column], others).fit().rsquared
        assert vif(X)[column] == pytest.approx(1 / (1 - r2), rel=1e-9)


def test_cameron_trivedi_agrees_with_statsmodels_diagnostic(biochemists: pd.DataFrame) -> None:
    from statsmodels.discrete.diagnostic import PoissonDiagnostic

    X = sm.add_constant(biochemists[["kid5", "phd", "ment"]])
    poisson = sm.Poisson(biochemists["art"], X).fit(disp=0)
    ours = cameron_trivedi(biochemists["art"].to_numpy(), np.asarray(poisson.predict()))
    table = PoissonDiagnostic(poisson).test_dispersion().summary_frame()
    theirs = table.loc[table["method"] == "CT nb2", "statistic"]
    assert ours.statistic == pytest.approx(float(theirs.iloc[0]), rel=1e-6)
    assert ours.statistic > 5  # bioChemists are over-dispersed


def test_unknown_column_is_named(biochemists: pd.DataFrame) -> None:
    with pytest.raises(EffectsError, match=r"unknown column.*'mentor'"):
        fit_nb(biochemists, "art", ["kid5", "mentor"])


def test_dv_without_variance_is_refused(biochemists: pd.DataFrame) -> None:
    with pytest.raises(EffectsError, match="no variance"):
        fit_poisson(biochemists.assign(art=3), "art", ["kid5"], se="robust")


def test_collinear_regressor_is_named(biochemists: pd.DataFrame) -> None:
    with pytest.raises(EffectsError, match="twice_kid5 is collinear"):
        fit_ols(biochemists.assign(twice_kid5=2 * biochemists["kid5"]), "art",
                ["kid5", "twice_kid5"], se="robust", drop_collinear=False)  # fmt: skip


def test_nb2_on_under_dispersed_counts_raises_rather_than_returns() -> None:
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.normal(size=500), "y": rng.binomial(4, 0.5, 500)})
    with pytest.raises(ConvergenceError, match=r"not over-dispersed.*Poisson model") as error:
        fit_nb(data, "y", ["x"], se="model")
    assert error.value.settings == {"model": "poisson"}


def test_unknown_model_is_named(biochemists: pd.DataFrame) -> None:
    with pytest.raises(EffectsError, match="unknown model 'logit'"):
        fit("logit", biochemists, "art", ["kid5"])


def test_nb2_pseudo_r2_uses_the_null_nb2_maximum(biochemists: pd.DataFrame) -> None:
    # the intercept-only NB2 is fitted on the distinct counts; statsmodels' own null fit
    # (Nelder-Mead, then its optimum) is the independent check. LR chi2 = 97.96 and pseudo-R²
    # 0.0304 are Stata nbreg's figures for this model (Long & Freese)
    from statsmodels.discrete.discrete_model import NegativeBinomial

    result = fit_nb(biochemists, "art", LONG_REGRESSORS, reference=LONG_REFERENCE, se="model")
    null = NegativeBinomial(biochemists["art"], np.ones(len(biochemists))).fit(
        method="newton", disp=0
    )
    assert nb2_null_llf(biochemists["art"].to_numpy(float)) == pytest.approx(null.llf, abs=1e-6)
    assert result.pseudo_r2 == pytest.approx(1 - result.llf / null.llf, abs=1e-9)
    assert 2 * (result.llf - null.llf) == pytest.approx(97.96, abs=5e-3)
    assert result.pseudo_r2 == pytest.approx(0.0304, abs=5e-5)


def test_nb2_null_of_equidispersed_counts_is_the_poisson_null() -> None:
    y = np.array([2, 2, 2, 3, 3, 1])  # variance below the mean: alpha at its lower bound
    mu = y.mean()
    poisson = float(np.sum(y * np.log(mu) - mu - special.gammaln(y + 1)))
    assert nb2_null_llf(y) == pytest.approx(poisson, abs=1e-6)
