"""Effect models of engagement: fits that return result objects.

The models of the source literature for an over-dispersed count such as likes + comments:
NB2 with alpha by maximum likelihood (the primary model), Poisson QMLE with account-clustered
errors, OLS on log(1+y) with HC3 errors, and a zero-inflated NB on request. Account fixed
effects go through pyfixest for Poisson and OLS (demeaning, so a million posts over hundreds
of accounts fit in seconds) and through account dummies for NB2, which pyfixest does not fit.

Every fit drops the rows with a missing value in any model column (the cluster or fixed-effect
column included, so cluster ids stay aligned with the rows fitted), refuses an unknown column
or a DV without variance, and raises `ConvergenceError` rather than return a fit that did not
converge. Rendering (tables, plots) is in `analysis.report`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special, stats
from statsmodels.base.model import LikelihoodModel, LikelihoodModelResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from smcat.errors import SettingError

MODELS = ("nb", "poisson", "ols", "zinb")
MODEL_LABELS = {"nb": "NB2", "poisson": "Poisson", "ols": "OLS log(1+y)", "zinb": "ZINB"}
INTERCEPT = "Intercept"
# NB2 with fixed effects builds a dense dummy matrix; past this many cells (8 bytes each) it is
# refused with a pointer to the Poisson fixed-effect fit, which demeans instead.
MAX_DUMMY_CELLS = 60_000_000


class EffectsError(SettingError):
    """A model that cannot be fitted as asked; the message names the fix (`settings`: the
    parameters it changes, such as model or fe)."""


class ConvergenceError(EffectsError):
    """A fit that did not converge; its estimates are not returned."""


@dataclass(frozen=True)
class Design:
    """The rows and columns a model is fitted on, after missing values are dropped.

    `X` holds the intercept (first) and one column per term: numeric regressors as they are,
    a categorical one as 0/1 columns `name[level]` for each level but the reference. `groups`
    are the cluster or fixed-effect ids of the same rows."""

    dv: str
    y: pd.Series
    X: pd.DataFrame
    groups: pd.Series | None
    group_name: str | None
    dropped: int
    references: dict[str, str]


@dataclass(frozen=True)
class DispersionTest:
    """A test of over-dispersion: its name, statistic and p-value (H1: over-dispersed)."""

    name: str
    statistic: float
    pvalue: float


@dataclass(frozen=True)
class EffectResult:
    """One fitted model: coefficients on the link scale with their inference, and fit figures.

    `params`, `bse`, `pvalues` and `conf_int` (columns lower, upper: the 95% interval) are
    indexed by term; `irr()` gives exp of them. For OLS on log(1+y), exp(b) is the ratio of
    1 + y, not of y; `pseudo_r2` is then the R² (`r2_kind` says which)."""

    model: str
    label: str
    dv: str
    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    conf_int: pd.DataFrame
    cov_type: str
    nobs: int
    dropped: int
    llf: float
    aic: float
    bic: float
    pseudo_r2: float
    r2_kind: str
    method: str
    converged: bool
    iterations: int | None
    fixed_effects: str | None = None
    alpha: float | None = None
    alpha_se: float | None = None
    dispersion: DispersionTest | None = None
    vif: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    notes: tuple[str, ...] = ()

    def irr(self) -> pd.DataFrame:
        """exp(b) with its 95% interval and p-value, by term: incidence-rate ratios for the
        count models."""
        return pd.DataFrame(
            {
                "irr": np.exp(self.params),
                "lower": np.exp(self.conf_int["lower"]),
                "upper": np.exp(self.conf_int["upper"]),
                "p": self.pvalues,
            }
        )

    def summary(self) -> str:
        """A plain-text summary: the IRR table and the fit figures."""
        lines = [
            f"{self.label} of {self.dv}: N = {self.nobs:,} ({self.dropped:,} dropped for"
            f" missing values), SE {self.cov_type}",
            self.irr().to_string(float_format=lambda v: f"{v:.4f}"),
            f"log-likelihood {self.llf:.3f}  AIC {self.aic:.1f}  BIC {self.bic:.1f}"
            f"  {self.r2_kind} {self.pseudo_r2:.4f}",
        ]
        if self.alpha is not None:
            lines.append(f"alpha {self.alpha:.4f} (SE {self.alpha_se:.4f})")
        if self.dispersion is not None:
            d = self.dispersion
            lines.append(f"{d.name}: {d.statistic:.3f}, p = {d.pvalue:.3g}")
        lines.extend(self.notes)
        return "\n".join(lines)


def build_design(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    group: str | None = None,
    reference: Mapping[str, str] | None = None,
    count: bool = True,
) -> Design:
    """The model rows and design matrix of `dv` on `regressors`.

    Categorical regressors (text, category or boolean-as-text columns) become 0/1 columns for
    each observed level but the reference: `reference[name]`, else the first category of an
    ordered pandas Categorical, else the first level in sorted order. Rows with a missing value
    in the DV, a regressor or `group` are dropped (counted in `dropped`). With `count`, the DV
    must be non-negative whole numbers."""
    reference = dict(reference or {})
    wanted = [dv, *regressors, *([group] if group else [])]
    unknown = [name for name in dict.fromkeys(wanted) if name not in data.columns]
    if unknown:
        raise EffectsError(
            f"unknown column(s) {', '.join(map(repr, unknown))}: the data has "
            f"{', '.join(map(str, data.columns))}"
        )
    for name in reference:
        if name not in regressors:
            raise EffectsError(f"a reference level is given for {name!r}, which is no regressor")
    rows = data[list(dict.fromkeys(wanted))].dropna()
    dropped = len(data) - len(rows)
    if rows.empty:
        raise EffectsError(f"no rows left once rows with missing values in {wanted} are dropped")
    y = rows[dv]
    if not pd.api.types.is_numeric_dtype(y):
        raise EffectsError(f"the DV {dv!r} is not numeric")
    y = y.astype(float)
    if y.nunique() < 2:
        raise EffectsError(
            f"the DV {dv!r} has no variance (every one of the {len(y):,} rows is {y.iloc[0]:g}):"
            " choose another DV or more posts"
        )
    if count and ((y < 0).any() or (y != np.floor(y)).any()):
        raise EffectsError(f"the DV {dv!r} is not a count (negative or fractional values)")
    columns: dict[str, np.ndarray] = {INTERCEPT: np.ones(len(rows))}
    references: dict[str, str] = {}
    for name in regressors:
        values = rows[name]
        if _is_categorical(values):
            # integer codes, not text: comparing a million strings per level is slow
            codes, names = _factor(values)
            used = np.bincount(codes, minlength=len(names)) > 0
            levels = [level for level, present in zip(names, used, strict=True) if present]
            base = reference.get(name, levels[0])
            if base not in levels:
                raise EffectsError(
                    f"reference level {base!r} of {name!r} is not among its levels {levels}"
                )
            if len(levels) < 2:
                raise EffectsError(
                    f"regressor {name!r} has one level ({base!r}) in the rows used: drop it"
                )
            references[name] = base
            for code, level in enumerate(names):
                if used[code] and level != base:
                    columns[f"{name}[{level}]"] = (codes == code).astype(float)
        else:
            numbers = values.astype(float).to_numpy()
            if np.ptp(numbers) == 0:
                raise EffectsError(
                    f"regressor {name!r} has one value ({numbers[0]:g}) in the rows used: drop it"
                )
            columns[name] = numbers
    X = pd.DataFrame(columns, index=rows.index)
    _check_rank(X)
    groups = rows[group] if group else None
    return Design(dv, y, X, groups, group, dropped, references)


def fit_nb(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    maxiter: int = 100,
) -> EffectResult:
    """NB2 (variance mu + alpha mu²) with alpha by maximum likelihood: statsmodels' discrete
    NegativeBinomial by Newton from the Poisson estimates, falling back to BFGS; a fit that does
    not converge raises ConvergenceError. SEs from the observed information (including alpha,
    as Stata's nbreg), or clustered by `cluster`. `fe` adds dummies of that column. The
    dispersion test is the LR test of alpha = 0 against the Poisson fit (chi-bar-squared)."""
    design = build_design(data, dv, regressors, group=fe or cluster, reference=reference)
    if fe and cluster and cluster != fe:
        raise EffectsError("NB2 clusters by its fixed-effect column only: give the same column")
    X = design.X
    if fe:
        X = _with_dummies(design, "NB2")
    groups = design.groups if cluster else None
    steps = _newton_then_bfgs(maxiter)
    # build_design has checked the rank without the dummies; statsmodels' own check (a QR of
    # the whole design, seconds on a million rows) is kept for the dummies
    check_rank = bool(fe)
    poisson = _fit_statsmodels(
        sm.Poisson(design.y, X, check_rank=check_rank), "Poisson (NB2 start)", steps=steps
    )
    # alpha starts at its moment estimate from the Poisson fit (the slope of Cameron and
    # Trivedi's auxiliary regression), which saves Newton steps on large data
    y, mu = design.y.to_numpy(), np.asarray(poisson.predict())
    alpha_start = max(float(((y - mu) ** 2 - y).sum() / (mu**2).sum()), 0.01)
    start = np.append(poisson.params.to_numpy(), alpha_start)
    model = sm.NegativeBinomial(design.y, X, loglike_method="nb2", check_rank=check_rank)
    result = _fit_statsmodels(
        model,
        "NB2",
        steps=steps,
        start_params=start,
        groups=groups,
        hint="if the counts are not over-dispersed (alpha -> 0), fit the Poisson model instead; "
        "else ",
        fix={"model": "poisson"},
    )
    alpha = float(result.params["alpha"])
    if alpha < 1e-8:
        raise ConvergenceError(
            "NB2 went to alpha = 0 (no over-dispersion given the regressors): fit the Poisson "
            "model instead",
            model="poisson",
        )
    lr = max(2.0 * (result.llf - poisson.llf), 0.0)
    # with fixed effects the intercept is the first level's effect: not reported, as in the
    # demeaned fits
    terms = [c for c in design.X.columns if not (fe and c == INTERCEPT)]
    return _statsmodels_result(
        result,
        "nb",
        design,
        terms,
        cov_type=_cov_label(cluster, "observed information"),
        fe=fe,
        alpha=(alpha, float(result.bse["alpha"])),
        dispersion=DispersionTest(
            "LR test of alpha = 0 (chi-bar-squared)", lr, 0.5 * stats.chi2.sf(lr, 1)
        ),
        llnull=nb2_null_llf(y),
    )


def fit_poisson(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    maxiter: int = 100,
) -> EffectResult:
    """Poisson QMLE: SEs clustered by `cluster` (CRV1), else heteroskedasticity-robust (HC0).
    With `fe`, the fixed-effect Poisson of pyfixest (PPML with demeaning). The dispersion test is
    Cameron & Trivedi's (1990) auxiliary regression for NB2-type over-dispersion."""
    if fe:
        return _fit_pyfixest("poisson", data, dv, regressors, fe, cluster, reference)
    design = build_design(data, dv, regressors, group=cluster, reference=reference)
    groups = design.groups if cluster else None
    result = _fit_statsmodels(
        sm.Poisson(design.y, design.X),
        "Poisson",
        steps=_newton_then_bfgs(maxiter),
        groups=groups,
        robust=True,
    )
    return _statsmodels_result(
        result,
        "poisson",
        design,
        list(design.X.columns),
        cov_type=_cov_label(cluster, "robust (HC0)"),
        dispersion=cameron_trivedi(design.y.to_numpy(), result.predict()),
    )


def fit_ols(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
) -> EffectResult:
    """OLS of log(1 + dv): HC3 SEs, or clustered by `cluster`. With `fe`, pyfixest's
    within estimator, clustered by `cluster` (default: the fixed-effect column), since HC3 is
    not defined there."""
    if fe:
        return _fit_pyfixest("ols", data, dv, regressors, fe, cluster or fe, reference)
    design = build_design(data, dv, regressors, group=cluster, reference=reference)
    y = np.log1p(design.y)
    if cluster:
        result = sm.OLS(y, design.X).fit(cov_type="cluster", cov_kwds={"groups": design.groups})
    else:
        result = sm.OLS(y, design.X).fit(cov_type="HC3")
    return _result(
        "ols",
        design,
        params=result.params,
        bse=result.bse,
        pvalues=result.pvalues,
        conf=result.conf_int(),
        cov_type=_cov_label(cluster, "HC3"),
        llf=float(result.llf),
        k=len(result.params) + 1,  # the error variance is a parameter of the likelihood
        pseudo_r2=(float(result.rsquared), "R²"),
        method="least squares",
        iterations=None,
    )


def fit_zinb(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    inflate: Sequence[str] | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    maxiter: int = 2000,
) -> EffectResult:
    """Zero-inflated NB2 with a logit inflation part on `inflate` (default: the same
    regressors), as pscl's zeroinfl(dist = "negbin"): statsmodels ZeroInflatedNegativeBinomialP
    (p = 2) by BFGS. `params` holds the count part; the inflation part is prefixed `inflate_`."""
    inflate = list(regressors if inflate is None else inflate)
    wanted = list(dict.fromkeys([*regressors, *inflate]))
    design = build_design(data, dv, wanted, group=cluster, reference=reference)
    count_X = _columns_of(design, regressors)
    infl_X = _columns_of(design, inflate)
    model = sm.ZeroInflatedNegativeBinomialP(
        design.y, count_X, exog_infl=infl_X, inflation="logit", p=2
    )
    groups = design.groups if cluster else None
    # BFGS finds the optimum; Newton from there polishes it to pscl's figures (bioChemists
    # inflation part: 5e-4 off after BFGS alone, 1e-4 after Newton)
    result = _fit_statsmodels(model, "ZINB", steps=(("bfgs", maxiter),), groups=groups)
    with suppress(ConvergenceError):  # if Newton fails, the BFGS optimum stands
        result = _fit_statsmodels(
            model, "ZINB", steps=(("newton", 100),), start_params=result.params, groups=groups
        )
    return _statsmodels_result(
        result,
        "zinb",
        design,
        [c for c in result.params.index if c != "alpha"],
        cov_type=_cov_label(cluster, "observed information"),
        alpha=(float(result.params["alpha"]), float(result.bse["alpha"])),
        vif_of=count_X,
    )


def fit(
    model: str,
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
) -> EffectResult:
    """Fit one of MODELS by name (nb, poisson, ols, zinb)."""
    fitters: dict[str, Callable[..., EffectResult]] = {
        "nb": fit_nb,
        "poisson": fit_poisson,
        "ols": fit_ols,
    }
    if model == "zinb":
        if fe:
            raise EffectsError(
                "ZINB takes no fixed effects: fit it without them or choose another model",
                fe=None,
                model=None,
            )
        return fit_zinb(data, dv, regressors, cluster=cluster, reference=reference)
    if model not in fitters:
        raise EffectsError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    return fitters[model](data, dv, regressors, fe=fe, cluster=cluster, reference=reference)


def model_label(model: str, fe: str | None = None) -> str:
    """How a model is named in tables: "NB2", "Poisson, account FE" and so on."""
    return MODEL_LABELS.get(model, model) + (f", {fe} FE" if fe else "")


def vif(X: pd.DataFrame) -> pd.Series:
    """Variance inflation factors of the columns of a design with an intercept column.

    VIF_j = 1 / (1 - R²_j) of regressing column j on the others and the intercept, i.e. the
    diagonal of the inverse correlation matrix: computed on the centred columns, so it does not
    depend on statsmodels' changing `variance_inflation_factor` (stats.md section 2)."""
    terms = X.drop(columns=[INTERCEPT], errors="ignore")
    if terms.shape[1] == 0:
        return pd.Series(dtype=float)
    if terms.shape[1] == 1:
        return pd.Series(1.0, index=terms.columns)
    corr = np.corrcoef(terms.to_numpy(), rowvar=False)
    return pd.Series(np.diag(np.linalg.pinv(corr)), index=terms.columns)


def nb2_null_llf(y: np.ndarray) -> float:
    """The log-likelihood of the intercept-only NB2 at its maximum: the mean is the sample mean
    exactly (the intercept's score), so only alpha is searched, on the distinct counts weighted
    by their frequency, which is fast on millions of rows. The Poisson limit (alpha -> 0)
    bounds it from below."""
    values, freq = np.unique(y, return_counts=True)
    mu = float(y.mean())

    def minus_llf(log_alpha: float) -> float:
        r = math.exp(-log_alpha)  # 1 / alpha
        terms = (
            special.gammaln(values + r)
            - special.gammaln(r)
            - special.gammaln(values + 1)
            + r * math.log(r / (r + mu))
            + values * math.log(mu / (r + mu))
        )
        return -float(freq @ terms)

    best = optimize.minimize_scalar(
        minus_llf, bounds=(-25.0, 10.0), method="bounded", options={"xatol": 1e-10}
    )
    poisson = float(freq @ (values * math.log(mu) - mu - special.gammaln(values + 1)))
    return max(-float(best.fun), poisson)


def cameron_trivedi(y: np.ndarray, mu: np.ndarray) -> DispersionTest:
    """Cameron & Trivedi's (1990) test of Poisson against NB2-type over-dispersion: the t of
    alpha in the no-intercept OLS of ((y - mu)² - y) / mu on mu; one-sided p."""
    z = ((y - mu) ** 2 - y) / mu
    aux = sm.OLS(z, mu).fit()
    t = float(aux.tvalues[0])
    return DispersionTest("Cameron-Trivedi auxiliary regression (t)", t, stats.norm.sf(t))


# -- statsmodels -----------------------------------------------------------------------------


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence statsmodels' numerical warnings: convergence is judged from `mle_retvals` and
    finite standard errors instead, and a failure raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", HessianInversionWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _newton_then_bfgs(maxiter: int) -> tuple[tuple[str, int], ...]:
    """The steps of a count model's fit: Newton for up to `maxiter` iterations, then, if it did
    not converge, BFGS for at least 1,000."""
    return (("newton", maxiter), ("bfgs", max(maxiter, 1000)))


def _fit_statsmodels(
    model: LikelihoodModel,
    label: str,
    *,
    steps: Sequence[tuple[str, int]],
    start_params: np.ndarray | None = None,
    groups: pd.Series | None = None,
    robust: bool = False,
    hint: str = "",
    fix: Mapping[str, object] | None = None,
) -> LikelihoodModelResults:
    """Fit by each (method, maxiter) step in turn, each from where the last stopped, and return
    the first fit that converged with finite standard errors; raise if none did, with the
    `hint` and the settings that `fix` it."""
    if groups is not None:
        cov: dict[str, Any] = {"cov_type": "cluster", "cov_kwds": {"groups": np.asarray(groups)}}
    else:
        cov = {"cov_type": "HC0"} if robust else {}
    tried = []
    for method, limit in steps:
        with _quiet():
            try:
                result = model.fit(
                    start_params=start_params, method=method, maxiter=limit, disp=0, **cov
                )
            except (np.linalg.LinAlgError, ValueError) as error:
                tried.append(f"{method}: {error}")
                continue
        converged = bool(result.mle_retvals.get("converged", False))
        if converged and np.isfinite(result.bse).all() and np.isfinite(result.llf):
            result.fit_method = method
            return result
        tried.append(f"{method}: not converged after {limit} iterations")
        start_params = result.params.to_numpy()
    raise ConvergenceError(
        f"{label} did not converge ({'; '.join(tried)}): {hint}check for a regressor that "
        "separates zero from positive counts, rescale large regressors, or choose a simpler model",
        **(fix or {}),
    )


def _statsmodels_result(
    result: LikelihoodModelResults,
    model: str,
    design: Design,
    terms: list[str],
    *,
    cov_type: str,
    fe: str | None = None,
    alpha: tuple[float, float] | None = None,
    dispersion: DispersionTest | None = None,
    vif_of: pd.DataFrame | None = None,
    llnull: float | None = None,
) -> EffectResult:
    """The EffectResult of a statsmodels fit; McFadden's pseudo-R² against `llnull`, else
    against the null model statsmodels fits."""
    conf = result.conf_int()
    if llnull is None:
        with _quiet():  # llnull fits the null model
            llnull = float(result.llnull)
    pseudo_r2 = 1.0 - float(result.llf) / llnull
    return _result(
        model,
        design,
        params=result.params[terms],
        bse=result.bse[terms],
        pvalues=result.pvalues[terms],
        conf=conf.loc[terms],
        cov_type=cov_type,
        llf=float(result.llf),
        k=len(result.params),
        pseudo_r2=(pseudo_r2, "McFadden pseudo-R²"),
        method=result.fit_method,
        iterations=result.mle_retvals.get("iterations"),
        fe=fe,
        alpha=alpha,
        dispersion=dispersion,
        vif_of=vif_of,
    )


def _result(
    model: str,
    design: Design,
    *,
    params: pd.Series,
    bse: pd.Series,
    pvalues: pd.Series,
    conf: pd.DataFrame,
    cov_type: str,
    llf: float,
    k: int,
    pseudo_r2: tuple[float, str],
    method: str,
    iterations: int | None,
    fe: str | None = None,
    alpha: tuple[float, float] | None = None,
    dispersion: DispersionTest | None = None,
    vif_of: pd.DataFrame | None = None,
    nobs: int | None = None,
    notes: tuple[str, ...] = (),
) -> EffectResult:
    n = len(design.y) if nobs is None else nobs
    conf = pd.DataFrame(np.asarray(conf), index=params.index, columns=["lower", "upper"])
    return EffectResult(
        model=model,
        label=model_label(model, fe),
        dv=design.dv,
        params=params.astype(float).rename_axis(None),
        bse=bse.astype(float).rename_axis(None),
        pvalues=pvalues.astype(float).rename_axis(None),
        conf_int=conf,
        cov_type=cov_type,
        nobs=n,
        dropped=design.dropped + len(design.y) - n,
        llf=llf,
        aic=-2.0 * llf + 2.0 * k,
        bic=-2.0 * llf + math.log(n) * k,
        pseudo_r2=pseudo_r2[0],
        r2_kind=pseudo_r2[1],
        method=method,
        converged=True,
        iterations=iterations,
        fixed_effects=fe,
        alpha=None if alpha is None else alpha[0],
        alpha_se=None if alpha is None else alpha[1],
        dispersion=dispersion,
        vif=vif(design.X if vif_of is None else vif_of),
        notes=notes,
    )


# -- pyfixest --------------------------------------------------------------------------------


def _fit_pyfixest(
    model: str,
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    fe: str,
    cluster: str | None,
    reference: Mapping[str, str] | None,
) -> EffectResult:
    """Poisson or OLS of log(1 + y) with `fe` fixed effects through pyfixest, on our design
    matrix (so terms are named and coded as in the other fits); SEs clustered by `cluster`,
    else heteroskedasticity-robust."""
    import pyfixest as pf  # imported here: it is heavy and only the fixed-effect fits need it

    if cluster and cluster != fe:
        raise EffectsError("fixed-effect fits cluster by the fixed-effect column only")
    design = build_design(data, dv, regressors, group=fe, reference=reference)
    terms = [c for c in design.X.columns if c != INTERCEPT]
    safe = {term: f"x{i}" for i, term in enumerate(terms)}
    frame = design.X[terms].rename(columns=safe)
    frame["y"] = np.log1p(design.y) if model == "ols" else design.y
    frame["fe"] = pd.factorize(design.groups)[0]
    formula = f"y ~ {' + '.join(safe.values())} | fe"
    vcov: dict[str, str] | str = {"CRV1": "fe"} if cluster else "hetero"
    with warnings.catch_warnings():
        # pyfixest's own deprecation notices (pandas inplace=) and notes are no user's concern
        warnings.filterwarnings("ignore", module="pyfixest")
        try:
            if model == "ols":
                fitted = pf.feols(formula, data=frame, vcov=vcov, fixef_rm="none", copy_data=False)
            else:
                fitted = pf.fepois(formula, data=frame, vcov=vcov, fixef_rm="none", copy_data=False)
        except ValueError as error:
            raise EffectsError(f"the fixed-effect {model} fit failed: {error}") from None
    if model == "poisson" and not getattr(fitted, "_convergence", True):
        raise ConvergenceError(
            "the fixed-effect Poisson fit did not converge: rescale large regressors or drop"
            " one that separates zero from positive counts"
        )
    back = {v: k for k, v in safe.items()}
    collinear = [back.get(v, v) for v in fitted._collin_vars]
    if collinear:
        raise EffectsError(
            f"{', '.join(collinear)} is collinear with the {fe} fixed effects: drop it"
        )
    params = fitted.coef().rename(index=back).rename_axis(None)
    n = int(fitted._N)
    levels = int(pd.Series(frame["fe"]).nunique())
    k = len(params) + levels
    if model == "ols":
        resid = np.asarray(fitted.resid())
        sigma2 = float(resid @ resid) / n
        llf = -0.5 * n * (math.log(2 * math.pi * sigma2) + 1)
        k += 1  # the error variance
        fit_figure = (float(fitted._r2_within), "within R²")
        dispersion = None
        method = "least squares, within"
    else:
        llf = float(fitted._loglik)
        fit_figure = (float(fitted._pseudo_r2), "McFadden pseudo-R²")
        y_used = np.asarray(fitted._Y).ravel()
        dispersion = cameron_trivedi(y_used, np.asarray(fitted.predict()).ravel())
        method = "IRLS, within (pyfixest)"
    return _result(
        model,
        design,
        params=params,
        bse=fitted.se().rename(index=back),
        pvalues=fitted.pvalue().rename(index=back),
        conf=fitted.confint().rename(index=back),
        cov_type=_cov_label(cluster, "robust (HC1)"),
        llf=llf,
        k=k,
        pseudo_r2=fit_figure,
        method=method,
        iterations=None,
        fe=fe,
        dispersion=dispersion,
        nobs=n,
    )


# -- helpers ---------------------------------------------------------------------------------


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or isinstance(
        values.dtype, pd.CategoricalDtype
    )


def _factor(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a categorical column (no missing values) and the level each code
    stands for: in category order for a Categorical, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), [str(c) for c in values.cat.categories]
    codes, uniques = pd.factorize(values, sort=True)
    return codes, [str(u) for u in uniques]


def _check_rank(X: pd.DataFrame) -> None:
    """Refuse a design whose columns are linearly dependent, naming a column to drop."""
    gram = X.to_numpy().T @ X.to_numpy()
    if np.linalg.matrix_rank(gram) == X.shape[1]:
        return
    for j in range(1, X.shape[1]):
        part = gram[: j + 1, : j + 1]
        if np.linalg.matrix_rank(part) <= j:
            raise EffectsError(
                f"{X.columns[j]} is collinear with the columns before it: drop a regressor"
            )


def _with_dummies(design: Design, label: str) -> pd.DataFrame:
    """The design with 0/1 columns for each fixed-effect level but the first."""
    levels = pd.Series(design.groups).astype(str)
    count = levels.nunique()
    if len(levels) * count > MAX_DUMMY_CELLS:
        raise EffectsError(
            f"{label} with {count:,} {design.group_name} dummies on {len(levels):,} rows is too"
            f" large: fit the Poisson or OLS model with fixed effects of {design.group_name},"
            " which absorb them",
            model=None,
            fe=design.group_name,
        )
    dummies = pd.get_dummies(levels, prefix=design.group_name, drop_first=True, dtype=float)
    return pd.concat([design.X, dummies], axis=1)


def _columns_of(design: Design, regressors: Sequence[str]) -> pd.DataFrame:
    """The intercept and the design columns that belong to these regressors."""
    keep = [INTERCEPT]
    for name in regressors:
        pattern = re.compile(rf"{re.escape(name)}(\[.*\])?$")
        keep += [c for c in design.X.columns if pattern.fullmatch(c)]
    return design.X[keep]


def _cov_label(cluster: str | None, otherwise: str) -> str:
    return f"clustered by {cluster} (CRV1)" if cluster else otherwise
