"""Effect models of engagement: fits that return result objects.

The models of the source literature for an over-dispersed count such as likes + comments:
NB2 with alpha by maximum likelihood (the primary model), Poisson QMLE, OLS on log(1+y), and a
zero-inflated NB on request. Account fixed effects go through pyfixest for OLS (demeaning)
and, for Poisson and NB2, through a Newton fit with the account intercepts concentrated out of
the linear algebra (`_fit_count_fe`): no dummy matrix is built, so a million posts over
hundreds of accounts fit in seconds.

Standard errors (`se`), the same three kinds for every model:
- "cluster" (the default): the sandwich clustered by `cluster` (default the account column),
  CRV1 with the small-sample factor G/(G-1) (N-1)/(N-K) of statsmodels, pyfixest and Stata's
  regress. Posts are nested in accounts, so model-based errors understate the uncertainty of
  account-level terms (log followers) badly; with fewer than 30 clusters the result carries a
  warning and, for OLS, wild cluster bootstrap p-values (pyfixest's `wildboottest`: Rademacher
  weights, null imposed, 999 draws; Cameron, Gelbach & Miller 2008). pyfixest offers no wild
  bootstrap for count models, and the note says so.
- "robust": heteroskedasticity-robust, HC1 (N/(N-K)) for the count models, HC3 for OLS without
  fixed effects (Long & Ervin 2000) and HC1 with them (HC3 is not defined after demeaning).
- "model": the inverse observed information (NB2, ZINB, Poisson) or the classical OLS errors.

Every fit drops the rows with a missing value in any model column (the cluster or fixed-effect
column included, so cluster ids stay aligned with the rows fitted), refuses an unknown column
or a DV without variance, and raises `ConvergenceError` rather than return a fit that did not
converge. Terms that cannot be estimated (a regressor with one value, a column collinear with
the ones before it, or with fixed effects a regressor constant within every group) are left out
with a note naming them, or, with `drop_collinear=False` (for terms a user asked for by name),
refused with an error naming them. Rendering (tables, plots) is in `analysis.report`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, sparse, special, stats
from statsmodels.base.model import LikelihoodModel, LikelihoodModelResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from smcat.errors import SettingError

MODELS = ("nb", "poisson", "ols", "zinb")
MODEL_LABELS = {"nb": "NB2", "poisson": "Poisson", "ols": "OLS log(1+y)", "zinb": "ZINB"}
INTERCEPT = "Intercept"
SE_TYPES = ("cluster", "robust", "model")
# the column of the model frame that names a post's account: the default cluster
ACCOUNT = "account"
# below this many clusters the sandwich's normal approximation is unreliable (Cameron & Miller
# 2015 put it at 20-50): the result carries a warning
FEW_CLUSTERS = 30
WILD_REPS = 999
WILD_SEED = 21
# a column whose squared residual on the columns before it (or, with fixed effects, whose
# within sum of squares) is below this share of its own sum of squares is not identified
RANK_TOLERANCE = 1e-9


class EffectsError(SettingError):
    """A model that cannot be fitted as asked; the message names the fix (`settings`: the
    parameters it changes, such as model or fe)."""


class ConvergenceError(EffectsError):
    """A fit that did not converge; its estimates are not returned."""


@dataclass(frozen=True)
class Design:
    """The rows and columns a model is fitted on, after missing values are dropped.

    `X` holds the intercept (first) and one column per identified term: numeric regressors as
    they are, a categorical one as 0/1 columns `name[level]` for each level but the reference.
    `clusters` and `fe_ids` are the cluster and fixed-effect ids of the same rows. `left_out`
    names the terms that could not be estimated, `notes` says why."""

    dv: str
    y: pd.Series
    X: pd.DataFrame
    clusters: pd.Series | None
    cluster_name: str | None
    fe_ids: pd.Series | None
    fe_name: str | None
    dropped: int
    references: dict[str, str]
    left_out: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


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
    1 + y, not of y; `pseudo_r2` is then the R² (`r2_kind` says which). `se_type` is one of
    SE_TYPES (`cov_type` describes it in words), `cluster` and `n_clusters` the clustering;
    `wild_bootstrap` holds wild cluster bootstrap p-values by term when there were fewer than
    FEW_CLUSTERS clusters and the model offers one; `left_out` names the terms that could not
    be estimated, and `notes` (warnings included) are for the report to print."""

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
    se_type: str = "model"
    cluster: str | None = None
    n_clusters: int | None = None
    wild_bootstrap: pd.Series | None = None
    left_out: tuple[str, ...] = ()

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
        clusters = f", {self.n_clusters:,} clusters" if self.n_clusters is not None else ""
        table = self.irr()
        if self.wild_bootstrap is not None:
            table["p (wild bootstrap)"] = self.wild_bootstrap
        lines = [
            f"{self.label} of {self.dv}: N = {self.nobs:,} ({self.dropped:,} rows dropped),"
            f" SE {self.cov_type}{clusters}",
            table.to_string(float_format=lambda v: f"{v:.4f}"),
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
    fe: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    count: bool = True,
    drop_collinear: bool = True,
) -> Design:
    """The model rows and design matrix of `dv` on `regressors`.

    Categorical regressors (text, category or boolean-as-text columns) become 0/1 columns for
    each observed level but the reference: `reference[name]`, else the first category of an
    ordered pandas Categorical, else the first level in sorted order. Rows with a missing value
    in the DV, a regressor, `fe` or `cluster` are dropped (counted in `dropped`). With `count`,
    the DV must be non-negative whole numbers. Terms that cannot be estimated (one value in
    the rows used, collinear with the terms before them, or with `fe` constant within every
    group) are left out with a note, or refused when not `drop_collinear`."""
    reference = dict(reference or {})
    named = [dv, *regressors, *([fe] if fe else [])]
    unknown = [name for name in dict.fromkeys(named) if name not in data.columns]
    if unknown:
        raise EffectsError(
            f"unknown column(s) {', '.join(map(repr, unknown))}: the data has "
            f"{', '.join(map(str, data.columns))}"
        )
    if cluster and cluster not in data.columns:
        raise EffectsError(
            f"no column {cluster!r} to cluster the standard errors by: name a column of the"
            " data to cluster by, or ask for robust standard errors",
            se="robust",
        )
    wanted = list(dict.fromkeys([dv, *regressors, *[c for c in (fe, cluster) if c]]))
    for name in reference:
        if name not in regressors:
            raise EffectsError(f"a reference level is given for {name!r}, which is no regressor")
    rows = data[wanted].dropna()
    dropped = len(data) - len(rows)
    if rows.empty:
        raise _nothing_complete(data, wanted, [dv, fe, cluster])
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
    unidentified: dict[str, str] = {}  # term: why
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
                unidentified[name] = f"has one level ({base!r}) in the rows used"
                continue
            references[name] = base
            for code, level in enumerate(names):
                if used[code] and level != base:
                    columns[f"{name}[{level}]"] = (codes == code).astype(float)
        else:
            numbers = values.astype(float).to_numpy()
            if np.ptp(numbers) == 0:
                unidentified[name] = f"has one value ({numbers[0]:g}) in the rows used"
                continue
            columns[name] = numbers
    X = pd.DataFrame(columns, index=rows.index)
    fe_ids = rows[fe] if fe else None
    unidentified |= _check_rank(X, fe_ids, fe)
    if unidentified and not drop_collinear:
        term, why = next(iter(unidentified.items()))
        raise EffectsError(f"{term} {why}: drop it")
    notes = tuple(f"Left out: {term} {why}." for term, why in unidentified.items())
    X = X.drop(columns=[t for t in unidentified if t in X.columns])
    # + 1: NB2's alpha, OLS's residual variance (Poisson is held to the same floor)
    _check_size(len(rows), X.shape[1] + (rows[fe].nunique() - 1 if fe else 0) + 1)
    if cluster and (groups := rows[cluster].nunique()) < 2:
        # the sandwich's small-sample factor G / (G - 1) has no value for one cluster
        raise EffectsError(
            f"standard errors clustered by {cluster!r} need two or more clusters and the rows"
            f" used have {groups}: add posts of other {cluster}s, or ask for robust standard"
            " errors",
            se="robust",
        )
    return Design(
        dv,
        y,
        X,
        rows[cluster] if cluster else None,
        cluster,
        fe_ids,
        fe,
        dropped,
        references,
        tuple(unidentified),
        notes,
    )


def _nothing_complete(
    data: pd.DataFrame, wanted: list[str], kept: list[str | None]
) -> EffectsError:
    """The error for data in which no row has every wanted value: the regressors missing in
    every row are named, and leaving them out is the fix (`drop`)."""
    empty = [name for name in wanted if data[name].isna().all()]
    if empty and not set(empty) & set(kept):
        return EffectsError(
            f"no row has every value the model needs: all {len(data):,} rows lack"
            f" {', '.join(empty)} (e.g. followers that imported data did not give): leave"
            f" {'them' if len(empty) > 1 else 'it'} out",
            drop=",".join(empty),
        )
    return EffectsError(f"no rows left once rows with missing values in {wanted} are dropped")


def _check_size(rows: int, parameters: int) -> None:
    """An EffectsError unless there are more rows than parameters to estimate (intercept,
    terms, fixed-effect levels and dispersion): with no residual degree of freedom nothing can
    be tested."""
    if rows <= parameters:
        raise EffectsError(
            f"{rows:,} rows for {parameters:,} parameters (intercept, terms, fixed effects,"
            " dispersion): too few posts to fit; crawl or import more posts, or use fewer"
            " regressors"
        )


def fit_nb(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    drop_collinear: bool = True,
    maxiter: int = 100,
) -> EffectResult:
    """NB2 (variance mu + alpha mu²) with alpha by maximum likelihood: statsmodels' discrete
    NegativeBinomial by Newton from the Poisson estimates, falling back to BFGS; a fit that does
    not converge raises ConvergenceError. `se` and `cluster` as in the module docstring (model
    SEs from the observed information including alpha, as Stata's nbreg). With `fe`, the
    unconditional fixed-effect NB2 (one intercept per group, Allison & Waterman 2002) by a
    Newton fit that concentrates the intercepts out (`_fit_count_fe`). The dispersion test is the
    LR test of alpha = 0 against the Poisson fit (chi-bar-squared)."""
    design = _model_design(
        data, dv, regressors, fe, se, cluster, reference=reference, drop_collinear=drop_collinear
    )
    if fe:
        return _fit_count_fe("nb", design, se, maxiter)
    steps = _newton_then_bfgs(maxiter)
    # build_design has checked the rank: statsmodels' own check is a QR of the whole design
    poisson = _fit_statsmodels(
        sm.Poisson(design.y, design.X, check_rank=False), "Poisson (NB2 start)", steps=steps
    )
    # alpha starts at its moment estimate from the Poisson fit (the slope of Cameron and
    # Trivedi's auxiliary regression), which saves Newton steps on large data
    y, mu = design.y.to_numpy(), np.asarray(poisson.predict())
    start = np.append(poisson.params.to_numpy(), _moment_alpha(y, mu))
    model = sm.NegativeBinomial(design.y, design.X, loglike_method="nb2", check_rank=False)
    result = _fit_statsmodels(
        model,
        "NB2",
        steps=steps,
        start_params=start,
        cov=_statsmodels_cov(se, design),
        hint="if the counts are not over-dispersed (alpha -> 0), fit the Poisson model instead; "
        "else ",
        fix={"model": "poisson"},
    )
    alpha = float(result.params["alpha"])
    _check_alpha(alpha)
    lr = max(2.0 * (result.llf - poisson.llf), 0.0)
    return _statsmodels_result(
        result,
        "nb",
        design,
        list(design.X.columns),
        se=se,
        alpha=True,
        dispersion=_lr_alpha(lr),
        llnull=nb2_null_llf(y),
    )


def fit_poisson(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    drop_collinear: bool = True,
    maxiter: int = 100,
) -> EffectResult:
    """Poisson QMLE, `se` and `cluster` as in the module docstring. With `fe`, the
    fixed-effect Poisson (PPML; Newton with the intercepts concentrated out, `_fit_count_fe`).
    The dispersion test is Cameron & Trivedi's (1990) auxiliary regression for NB2-type
    over-dispersion."""
    design = _model_design(
        data, dv, regressors, fe, se, cluster, reference=reference, drop_collinear=drop_collinear
    )
    if fe:
        return _fit_count_fe("poisson", design, se, maxiter)
    result = _fit_statsmodels(
        sm.Poisson(design.y, design.X, check_rank=False),
        "Poisson",
        steps=_newton_then_bfgs(maxiter),
        cov=_statsmodels_cov(se, design),
    )
    return _statsmodels_result(
        result,
        "poisson",
        design,
        list(design.X.columns),
        se=se,
        dispersion=cameron_trivedi(design.y.to_numpy(), result.predict()),
    )


def fit_ols(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    drop_collinear: bool = True,
) -> EffectResult:
    """OLS of log(1 + dv), `se` and `cluster` as in the module docstring (robust: HC3). With
    `fe`, pyfixest's within estimator (robust: HC1, since HC3 is not defined there). With
    fewer than FEW_CLUSTERS clusters, wild cluster bootstrap p-values come beside the
    analytic ones."""
    design = _model_design(
        data, dv, regressors, fe, se, cluster, reference=reference, drop_collinear=drop_collinear
    )
    if fe:
        return _fit_pyfixest_ols(design, se)
    y = np.log1p(design.y)
    model = sm.OLS(y, design.X)
    if se == "cluster":
        result = model.fit(cov_type="cluster", cov_kwds={"groups": _codes(design.clusters)})
    else:
        result = model.fit(cov_type="HC3" if se == "robust" else "nonrobust")
    return _result(
        "ols",
        design,
        params=result.params,
        bse=result.bse,
        pvalues=result.pvalues,
        conf=result.conf_int(),
        se=se,
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
    se: str = "cluster",
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    drop_collinear: bool = True,
    maxiter: int = 2000,
) -> EffectResult:
    """Zero-inflated NB2 with a logit inflation part on `inflate` (default: the same
    regressors), as pscl's zeroinfl(dist = "negbin"): statsmodels ZeroInflatedNegativeBinomialP
    (p = 2) by BFGS. `params` holds the count part; the inflation part is prefixed `inflate_`.
    `se` and `cluster` as in the module docstring."""
    inflate = list(regressors if inflate is None else inflate)
    wanted = list(dict.fromkeys([*regressors, *inflate]))
    design = _model_design(
        data, dv, wanted, None, se, cluster, reference=reference, drop_collinear=drop_collinear
    )
    count_X = _columns_of(design, regressors)
    infl_X = _columns_of(design, inflate)
    model = sm.ZeroInflatedNegativeBinomialP(
        design.y, count_X, exog_infl=infl_X, inflation="logit", p=2
    )
    cov = _statsmodels_cov(se, design)
    # BFGS finds the optimum; Newton from there polishes it to pscl's figures (bioChemists
    # inflation part: 5e-4 off after BFGS alone, 1e-4 after Newton)
    result = _fit_statsmodels(model, "ZINB", steps=(("bfgs", maxiter),), cov=cov)
    with suppress(ConvergenceError):  # if Newton fails, the BFGS optimum stands
        result = _fit_statsmodels(
            model, "ZINB", steps=(("newton", 100),), start_params=result.params, cov=cov
        )
    return _statsmodels_result(
        result,
        "zinb",
        design,
        [c for c in result.params.index if c != "alpha"],
        se=se,
        alpha=True,
        vif_of=count_X,
    )


def fit(
    model: str,
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    *,
    fe: str | None = None,
    se: str = "cluster",
    cluster: str | None = None,
    reference: Mapping[str, str] | None = None,
    drop_collinear: bool = True,
) -> EffectResult:
    """Fit one of MODELS by name (nb, poisson, ols, zinb); `se`, `cluster` and
    `drop_collinear` as in the module docstring."""
    fitters: dict[str, Callable[..., EffectResult]] = {
        "nb": fit_nb,
        "poisson": fit_poisson,
        "ols": fit_ols,
    }
    options: dict[str, Any] = {
        "se": se,
        "cluster": cluster,
        "reference": reference,
        "drop_collinear": drop_collinear,
    }
    if model == "zinb":
        if fe:
            raise EffectsError(
                "ZINB takes no fixed effects: fit it without them or choose another model",
                fe=None,
                model=None,
            )
        return fit_zinb(data, dv, regressors, **options)
    if model not in fitters:
        raise EffectsError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    return fitters[model](data, dv, regressors, fe=fe, **options)


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
    cov: Mapping[str, Any] | None = None,
    hint: str = "",
    fix: Mapping[str, object] | None = None,
) -> LikelihoodModelResults:
    """Fit by each (method, maxiter) step in turn, each from where the last stopped, with the
    covariance options `cov`, and return the first fit that converged with finite standard
    errors; raise if none did, with the `hint` and the settings that `fix` it."""
    tried = []
    for method, limit in steps:
        with _quiet():
            try:
                result = model.fit(
                    start_params=start_params, method=method, maxiter=limit, disp=0, **(cov or {})
                )
            except (np.linalg.LinAlgError, ValueError) as error:
                tried.append(f"{method}: {error}")
                continue
        converged = bool(result.mle_retvals.get("converged", False))
        if converged and np.isfinite(result.bse).all() and np.isfinite(result.llf):
            result.fit_method = method
            return result
        tried.append(f"{method}: not converged after {limit} iterations")
        # the next method starts where this one stopped, unless it ran off (Newton's step in
        # NB2's alpha can overshoot to a negative alpha and NaN)
        if np.isfinite(result.params).all():
            start_params = result.params.to_numpy()
    raise ConvergenceError(
        f"{label} did not converge ({'; '.join(tried)}): {hint}check for a regressor that "
        "separates zero from positive counts, rescale large regressors, or choose a simpler model",
        **(fix or {}),
    )


def _statsmodels_cov(se: str, design: Design) -> dict[str, Any]:
    """statsmodels' covariance options for `se` (robust: HC0, scaled to HC1 afterwards, since
    statsmodels' count models give HC1 without its factor)."""
    if se == "cluster":
        return {"cov_type": "cluster", "cov_kwds": {"groups": _codes(design.clusters)}}
    return {"cov_type": "HC0"} if se == "robust" else {}


def _statsmodels_result(
    result: LikelihoodModelResults,
    model: str,
    design: Design,
    terms: list[str],
    *,
    se: str,
    alpha: bool = False,
    dispersion: DispersionTest | None = None,
    vif_of: pd.DataFrame | None = None,
    llnull: float | None = None,
) -> EffectResult:
    """The EffectResult of a statsmodels count fit (normal-theory Wald inference); McFadden's
    pseudo-R² against `llnull`, else against the null model statsmodels fits. With `alpha`,
    the fit's "alpha" parameter is the NB2 dispersion."""
    if llnull is None:
        with _quiet():  # llnull fits the null model
            llnull = float(result.llnull)
    n, k = len(design.y), len(result.params)
    cov = np.asarray(result.cov_params()) * (n / (n - k) if se == "robust" else 1.0)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=result.params.index)
    return _result(
        model,
        design,
        **_wald(result.params[terms], bse[terms]),
        se=se,
        llf=float(result.llf),
        k=k,
        pseudo_r2=(1.0 - float(result.llf) / llnull, "McFadden pseudo-R²"),
        method=result.fit_method,
        iterations=result.mle_retvals.get("iterations"),
        alpha=(float(result.params["alpha"]), float(bse["alpha"])) if alpha else None,
        dispersion=dispersion,
        vif_of=vif_of,
    )


def _wald(params: pd.Series, bse: pd.Series) -> dict[str, Any]:
    """Normal-theory p-values and 95% intervals of estimates with these standard errors."""
    z = stats.norm.ppf(0.975)
    return {
        "params": params,
        "bse": bse,
        "pvalues": pd.Series(2.0 * stats.norm.sf(np.abs(params / bse)), index=params.index),
        "conf": pd.DataFrame({"lower": params - z * bse, "upper": params + z * bse}),
    }


def _result(
    model: str,
    design: Design,
    *,
    params: pd.Series,
    bse: pd.Series,
    pvalues: pd.Series,
    conf: pd.DataFrame,
    se: str,
    llf: float,
    k: int,
    pseudo_r2: tuple[float, str],
    method: str,
    iterations: int | None,
    alpha: tuple[float, float] | None = None,
    dispersion: DispersionTest | None = None,
    vif_of: pd.DataFrame | None = None,
    nobs: int | None = None,
    notes: tuple[str, ...] = (),
) -> EffectResult:
    n = len(design.y) if nobs is None else nobs
    fe = design.fe_name
    label = model_label(model, fe)
    conf = pd.DataFrame(np.asarray(conf), index=params.index, columns=["lower", "upper"])
    n_clusters = None
    wild = None
    if se == "cluster" and design.clusters is not None:
        n_clusters = int(design.clusters.nunique())
        if n_clusters < FEW_CLUSTERS:
            if model == "ols":
                wild = _wild_bootstrap(design, list(params.index))
            notes += (_few_clusters_note(n_clusters, design.cluster_name, label, wild),)
    return EffectResult(
        model=model,
        label=label,
        dv=design.dv,
        params=params.astype(float).rename_axis(None),
        bse=bse.astype(float).rename_axis(None),
        pvalues=pvalues.astype(float).rename_axis(None),
        conf_int=conf,
        cov_type=_cov_label(se, design.cluster_name, model, fe),
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
        notes=design.notes + notes,
        se_type=se,
        cluster=design.cluster_name if se == "cluster" else None,
        n_clusters=n_clusters,
        wild_bootstrap=wild,
        left_out=design.left_out,
    )


def _few_clusters_note(
    n_clusters: int, cluster: str | None, label: str, wild: pd.Series | None
) -> str:
    warning = (
        f"Warning: only {n_clusters} clusters of {cluster}; clustered standard errors are"
        f" unreliable with fewer than about {FEW_CLUSTERS}."
    )
    if wild is not None:
        return (
            f"{warning} Wild cluster bootstrap p-values (Rademacher weights, null imposed,"
            f" {WILD_REPS} draws) are given beside the analytic ones."
        )
    return f"{warning} No wild cluster bootstrap is offered for {label} (pyfixest has one for OLS)."


def _wild_bootstrap(design: Design, terms: list[str]) -> pd.Series:
    """Wild cluster bootstrap p-values (WCR11, Rademacher) of each slope of OLS of log(1 + y),
    with the design's fixed effects, through pyfixest's `wildboottest`."""
    import pyfixest as pf  # heavy: only the few-cluster OLS fits need it

    slopes = [t for t in terms if t != INTERCEPT]
    frame, formula = _pyfixest_frame(design, np.log1p(design.y), slopes)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="pyfixest")
        fitted = pf.feols(formula, data=frame, vcov={"CRV1": "cl"}, copy_data=False)
        pvalues = {
            term: float(
                fitted.wildboottest(reps=WILD_REPS, param=f"x{i}", seed=WILD_SEED)["Pr(>|t|)"]
            )
            for i, term in enumerate(slopes)
        }
    return pd.Series(pvalues, dtype=float)


# -- pyfixest --------------------------------------------------------------------------------


def _pyfixest_frame(design: Design, y: pd.Series, terms: list[str]) -> tuple[pd.DataFrame, str]:
    """The design's `terms` as columns x0, x1, ... (pyfixest's formulas take no brackets), the
    outcome `y`, the fixed-effect codes `fe` and cluster codes `cl`; and the formula."""
    frame = pd.DataFrame(design.X[terms].to_numpy(), columns=[f"x{i}" for i in range(len(terms))])
    frame["y"] = np.asarray(y)
    formula = f"y ~ {' + '.join(frame.columns[: len(terms)])}"
    if design.fe_ids is not None:
        frame["fe"] = _codes(design.fe_ids)
        formula += " | fe"
    if design.clusters is not None:
        frame["cl"] = _codes(design.clusters)
    return frame, formula


def _fit_pyfixest_ols(design: Design, se: str) -> EffectResult:
    """OLS of log(1 + y) with the design's fixed effects through pyfixest (the within
    estimator), on our design matrix (so terms are named and coded as in the other fits)."""
    import pyfixest as pf  # imported here: it is heavy and only the fixed-effect fits need it

    terms = [c for c in design.X.columns if c != INTERCEPT]
    frame, formula = _pyfixest_frame(design, np.log1p(design.y), terms)
    vcov: dict[str, str] | str = {"CRV1": "cl"} if se == "cluster" else "iid"
    if se == "robust":
        vcov = "hetero"
    with warnings.catch_warnings():
        # pyfixest's own deprecation notices (pandas inplace=) and notes are no user's concern
        warnings.filterwarnings("ignore", module="pyfixest")
        try:
            fitted = pf.feols(formula, data=frame, vcov=vcov, fixef_rm="none", copy_data=False)
        except ValueError as error:
            raise EffectsError(f"the fixed-effect OLS fit failed: {error}") from None
    back = {f"x{i}": term for i, term in enumerate(terms)}
    # build_design has left out what the fixed effects absorb; this is pyfixest's own check
    collinear = [back.get(v, v) for v in fitted._collin_vars]
    if collinear:
        raise EffectsError(
            f"{', '.join(collinear)} is collinear with the {design.fe_name} fixed effects: drop it"
        )
    params = fitted.coef().rename(index=back).rename_axis(None)
    n = int(fitted._N)
    resid = np.asarray(fitted.resid())
    sigma2 = float(resid @ resid) / n
    return _result(
        "ols",
        design,
        params=params,
        bse=fitted.se().rename(index=back),
        pvalues=fitted.pvalue().rename(index=back),
        conf=fitted.confint().rename(index=back),
        se=se,
        llf=-0.5 * n * (math.log(2 * math.pi * sigma2) + 1),
        # the slopes, the fixed effects and the error variance
        k=len(params) + int(frame["fe"].nunique()) + 1,
        pseudo_r2=(float(fitted._r2_within), "within R²"),
        method="least squares, within",
        iterations=None,
        nobs=n,
    )


# -- Poisson and NB2 with fixed effects -----------------------------------------------------


@dataclass(frozen=True)
class _FeFit:
    """A fixed-effect count fit: slopes `b` (and NB2's alpha) with the group intercepts `a`
    concentrated out, the Schur complement `schur` of the Hessian in (b[, alpha]) and each
    row's score in (b[, alpha]) net of its intercept's (`scores`): the influence of the row."""

    b: np.ndarray
    a: np.ndarray
    alpha: float | None
    llf: float
    iterations: int
    schur: np.ndarray
    scores: np.ndarray


def _fit_count_fe(model: str, design: Design, se: str, maxiter: int) -> EffectResult:
    """Poisson or NB2 with one intercept per fixed-effect group, by Newton on all parameters
    at once without a dummy matrix: the intercepts' Hessian block is diagonal, so each step
    solves the small (slopes[, alpha]) system of its Schur complement and updates the
    intercepts in closed form. For NB2 the Poisson fit gives the start and the LR test of
    alpha = 0. Groups whose counts are all zero are left out (their intercept goes to minus
    infinity and they carry no information on the slopes), as fixest and Stata do."""
    assert design.fe_ids is not None
    ids = _codes(design.fe_ids)
    y_all = design.y.to_numpy()
    positive = np.bincount(ids, weights=y_all) > 0
    keep = positive[ids]
    notes: tuple[str, ...] = ()
    if not keep.all():
        notes = (
            f"Left out: {int((~keep).sum()):,} posts of {int((~positive).sum()):,}"
            f" {design.fe_name} group(s) whose {design.dv} is zero in every post (they carry no"
            " information on the slopes under fixed effects).",
        )
    terms = [c for c in design.X.columns if c != INTERCEPT]
    # rows sorted by group, so that sums within groups are sums of contiguous slices; X
    # column-major, the layout of the BLAS products and of the slice sums
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(ids[rows], kind="stable")]
    X = np.asfortranarray(design.X[terms].to_numpy()[rows])
    y = y_all[rows]
    ids = _codes(pd.Series(ids[rows]))
    groups = int(ids[-1]) + 1
    sizes = np.bincount(ids, minlength=groups)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    mean = np.add.reduceat(y, starts) / sizes
    poisson = _fe_newton(y, X, ids, starts, np.zeros(len(terms)), np.log(mean), None, maxiter)
    mu = np.exp(poisson.a[ids] + X @ poisson.b)
    fitted = poisson
    if model == "nb":
        fitted = _fe_newton(y, X, ids, starts, poisson.b, poisson.a, _moment_alpha(y, mu), maxiter)
        assert fitted.alpha is not None
        _check_alpha(fitted.alpha)
    n, p = len(y), len(fitted.schur)
    inverse = np.linalg.inv(fitted.schur)
    if se == "model":
        cov = -inverse
    else:
        if se == "cluster":
            clusters = _codes(design.clusters)[rows]
            summed = _onehot(clusters, int(clusters.max()) + 1) @ fitted.scores
            g = len(summed)
            # the intercepts count as parameters unless nested in the clusters (pyfixest's
            # and fixest's default)
            nested = len(np.unique(np.c_[ids, clusters], axis=0)) == groups
            k = p + (0 if nested else groups)
            factor = g / (g - 1) * (n - 1) / (n - k)
        else:
            summed = fitted.scores
            factor = n / (n - p - groups)
        cov = factor * inverse @ (summed.T @ summed) @ inverse
    bse = np.sqrt(np.diag(cov))
    params = pd.Series(fitted.b, index=terms)
    reduced = replace(
        design,
        y=design.y[keep],
        X=design.X[keep],
        clusters=None if design.clusters is None else design.clusters[keep],
        fe_ids=design.fe_ids[keep],
        dropped=design.dropped + int((~keep).sum()),
    )
    slopes = {"params": params, "bse": pd.Series(bse[: len(terms)], index=terms)}
    common: dict[str, Any] = {
        "se": se,
        "llf": fitted.llf,
        "k": p + groups,
        "method": "Newton, intercepts concentrated",
        "iterations": fitted.iterations,
        "notes": notes,
    }
    if model == "poisson":
        null = float(np.sum(y * math.log(y.mean()) - y.mean() - special.gammaln(y + 1)))
        return _result(
            "poisson",
            reduced,
            **_wald(**slopes),
            pseudo_r2=(1.0 - fitted.llf / null, "McFadden pseudo-R²"),
            dispersion=cameron_trivedi(y, mu),
            **common,
        )
    assert fitted.alpha is not None
    return _result(
        "nb",
        reduced,
        **_wald(**slopes),
        pseudo_r2=(1.0 - fitted.llf / nb2_null_llf(y), "McFadden pseudo-R²"),
        alpha=(fitted.alpha, float(bse[-1])),
        dispersion=_lr_alpha(max(2.0 * (fitted.llf - poisson.llf), 0.0)),
        **common,
    )


def _fe_newton(
    y: np.ndarray,
    X: np.ndarray,
    ids: np.ndarray,
    starts: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    alpha: float | None,
    maxiter: int,
) -> _FeFit:
    """Newton with step halving on the slopes `b`, the group intercepts `a` and, unless
    `alpha` is None (Poisson), NB2's alpha, from the values given. The rows are sorted by
    group `ids`, each group starting at its row in `starts`; X is column-major. Each step
    costs one product X'WX: the Hessian's intercept block is diagonal, so the step solves the
    Schur complement of the (slopes, alpha) block."""
    k = X.shape[1]
    theta = b if alpha is None else np.append(b, alpha)
    weighted = np.empty_like(X, order="F")  # reused: a new one per step costs page faults
    counts = np.unique(y, return_inverse=True)

    def within(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts, axis=0)

    def parts(theta: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, ...]:
        eta = a[ids] + X @ theta[:k]
        if alpha is None:
            return _poisson_parts(y, eta)
        return _nb2_parts(y, eta, float(theta[k]), counts)

    def blocks(parts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """Gradient and Hessian blocks: t = (slopes[, alpha]), a = the intercepts."""
        s_eta, h_ee = parts[1], parts[2]
        np.multiply(X, h_ee[:, None], out=weighted)
        g_t, h_tt, cross = X.T @ s_eta, X.T @ weighted, within(weighted).T
        if alpha is not None:
            s_al, h_ea, h_aa = parts[3], parts[4], parts[5]
            xe = X.T @ h_ea
            g_t = np.append(g_t, s_al.sum())
            h_tt = np.block([[h_tt, xe[:, None]], [xe[None, :], np.array([[h_aa.sum()]])]])
            cross = np.vstack([cross, within(h_ea)])
        return g_t, within(s_eta), h_tt, cross, within(h_ee)

    current = parts(theta, a)
    iterations = 0
    for _ in range(maxiter):
        iterations += 1
        g_t, g_a, h_tt, cross, diagonal = blocks(current)
        scaled = cross / diagonal
        schur = h_tt - scaled @ cross.T
        rhs = -g_t + scaled @ g_a
        try:
            np.linalg.cholesky(-schur)
            d_t = np.linalg.solve(schur, rhs)
        except np.linalg.LinAlgError:
            # not concave in alpha this far from the optimum: a step in the slopes given
            # alpha (where the likelihood is concave), and alpha moved along its score
            d_t = np.append(np.linalg.solve(schur[:k, :k], rhs[:k]), 0.0)
            d_t[k] = theta[k] * (0.5 if g_t[k] > 0 else -0.5)
        d_a = (-g_a - cross.T @ d_t) / diagonal
        step = 1.0
        while True:
            new_theta, new_a = theta + step * d_t, a + step * d_a
            if alpha is None or new_theta[k] > 0:
                new = parts(new_theta, new_a)
                if np.isfinite(new[0]) and new[0] >= current[0] - 1e-10 * abs(current[0]):
                    break
            step /= 2
            if step < 1e-12:
                raise ConvergenceError(
                    "NB2 with fixed effects did not converge (no step improves the likelihood):"
                    " rescale large regressors or fit the Poisson model with fixed effects",
                    model="poisson",
                )
        theta, a, current = new_theta, new_a, new
        if max(np.abs(step * d_t).max(initial=0), np.abs(step * d_a).max()) < 1e-9:
            break
    else:
        raise ConvergenceError(
            f"NB2 with fixed effects did not converge in {maxiter} Newton steps: fit the Poisson"
            " model with fixed effects",
            model="poisson",
        )
    g_t, g_a, h_tt, cross, diagonal = blocks(current)
    scaled = cross / diagonal
    s_eta = current[1]
    # each row's score net of its intercept's share, a column at a time (no N x p temporaries)
    scores = np.empty((len(y), len(theta)), order="F")
    for j in range(k):
        np.multiply(X[:, j] - scaled[j][ids], s_eta, out=scores[:, j])
    if alpha is not None:
        scores[:, k] = current[3] - scaled[k][ids] * s_eta
    return _FeFit(
        b=theta[:k],
        a=a,
        alpha=None if alpha is None else float(theta[k]),
        llf=float(current[0]),
        iterations=iterations,
        schur=h_tt - scaled @ cross.T,
        scores=scores,
    )


def _poisson_parts(y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Poisson log-likelihood (summed) and its first and second derivatives in the linear
    predictor, per row."""
    mu = np.exp(eta)
    llf = np.sum(y * eta - mu - special.gammaln(y + 1))
    return np.asarray(llf), y - mu, -mu


def _nb2_parts(
    y: np.ndarray, eta: np.ndarray, alpha: float, counts: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, ...]:
    """The NB2 log-likelihood (summed) and, per row, its derivatives: in the linear predictor
    eta (first, second), in alpha (first), the cross one and the second in alpha. With
    r = 1/alpha: l = lnG(y+r) - lnG(r) - lnG(y+1) - (r+y) ln(1 + alpha mu) + y ln(alpha) + y eta.
    `counts` are the distinct values of y and each row's index among them: the gamma-family
    functions of y + r are computed once per distinct count."""
    values, inverse = counts
    r = 1.0 / alpha
    mu = np.exp(eta)
    d = 1.0 + alpha * mu
    log_d = np.log1p(alpha * mu)
    by_count = special.gammaln(values + r) - special.gammaln(values + 1) - special.gammaln(r)
    llf = np.sum(by_count[inverse] - (r + y) * log_d + y * math.log(alpha) + y * eta)
    resid = y - mu
    s_eta = resid / d
    h_ee = -mu * (1.0 + alpha * y) / d**2
    gap = log_d - (special.digamma(values + r) - special.digamma(r))[inverse]
    trigamma = (special.polygamma(1, values + r) - special.polygamma(1, r))[inverse]
    s_al = r**2 * gap + r * resid / d
    h_ea = -resid * mu / d**2
    h_aa = (
        -2.0 * r**3 * gap
        + r**2 * (mu / d + r**2 * trigamma)
        - r**2 * resid / d
        - r * resid * mu / d**2
    )
    return np.asarray(llf), s_eta, h_ee, s_al, h_ea, h_aa


def _onehot(ids: np.ndarray, groups: int) -> sparse.csr_matrix:
    """The sparse groups x rows indicator matrix: `onehot @ v` sums v within each group."""
    return sparse.csr_matrix(
        (np.ones(len(ids)), (ids, np.arange(len(ids)))), shape=(groups, len(ids))
    )


def _moment_alpha(y: np.ndarray, mu: np.ndarray) -> float:
    """NB2's alpha by moments from Poisson means (the slope of Cameron and Trivedi's auxiliary
    regression), a start that saves Newton steps; at least 0.01."""
    return max(float(((y - mu) ** 2 - y).sum() / (mu**2).sum()), 0.01)


def _check_alpha(alpha: float) -> None:
    if alpha < 1e-8:
        raise ConvergenceError(
            "NB2 went to alpha = 0 (no over-dispersion given the regressors): fit the Poisson "
            "model instead",
            model="poisson",
        )


def _lr_alpha(lr: float) -> DispersionTest:
    """The LR test of alpha = 0 on the boundary: half a chi-squared(1)."""
    return DispersionTest("LR test of alpha = 0 (chi-bar-squared)", lr, 0.5 * stats.chi2.sf(lr, 1))


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


def _check_rank(X: pd.DataFrame, fe_ids: pd.Series | None, fe: str | None) -> dict[str, str]:
    """The columns of X that cannot be estimated, each with why: in column order, a column
    whose residual on the identified columns before it is nil. With fixed effects the check
    is on the within-transformed columns (the group means subtracted), without the intercept,
    so a column constant within every group is named as such."""
    names = list(X.columns)
    Z = X.to_numpy()
    own = np.einsum("ij,ij->j", Z, Z)
    if fe_ids is not None:
        ids = _codes(fe_ids)
        sizes = np.bincount(ids)
        means = np.column_stack([np.bincount(ids, weights=z) / sizes for z in Z.T])
        Z = Z - means[ids]
        Z[:, names.index(INTERCEPT)] = 0.0
    gram = Z.T @ Z
    kept: list[int] = []
    unidentified: dict[str, str] = {}
    for j, name in enumerate(names):
        if name == INTERCEPT and fe_ids is not None:
            continue
        if gram[j, j] <= RANK_TOLERANCE * own[j]:
            unidentified[name] = (
                f"is constant within every {fe}: not identified with {fe} fixed effects"
            )
            continue
        residual = gram[j, j]
        if kept:
            coef = np.linalg.lstsq(gram[np.ix_(kept, kept)], gram[kept, j], rcond=None)[0]
            residual -= gram[kept, j] @ coef
        if residual <= RANK_TOLERANCE * own[j]:
            given = f" and the {fe} fixed effects" if fe else ""
            unidentified[name] = f"is collinear with the terms before it{given}"
        else:
            kept.append(j)
    return unidentified


def _codes(values: pd.Series | None) -> np.ndarray:
    """Integer codes 0..G-1 of a column of group ids."""
    assert values is not None
    return pd.factorize(values)[0]


def _columns_of(design: Design, regressors: Sequence[str]) -> pd.DataFrame:
    """The intercept and the design columns that belong to these regressors."""
    keep = [INTERCEPT]
    for name in regressors:
        pattern = re.compile(rf"{re.escape(name)}(\[.*\])?$")
        keep += [c for c in design.X.columns if pattern.fullmatch(c)]
    return design.X[keep]


def _cov_label(se: str, cluster: str | None, model: str, fe: str | None) -> str:
    """The standard errors in words, as the tables print them."""
    if se == "cluster":
        return f"clustered by {cluster} (CRV1)"
    if se == "robust":
        return "robust (HC3)" if model == "ols" and not fe else "robust (HC1)"
    return "classical (OLS)" if model == "ols" else "model-based (observed information)"


def _model_design(
    data: pd.DataFrame,
    dv: str,
    regressors: Sequence[str],
    fe: str | None,
    se: str,
    cluster: str | None,
    *,
    reference: Mapping[str, str] | None,
    drop_collinear: bool,
) -> Design:
    """The design a fit_* function fits: `build_design` with the cluster column its `se` asks
    for (`_cluster_column`)."""
    return build_design(
        data,
        dv,
        regressors,
        fe=fe,
        cluster=_cluster_column(se, cluster),
        reference=reference,
        drop_collinear=drop_collinear,
    )


def _cluster_column(se: str, cluster: str | None) -> str | None:
    """The column to cluster by: `cluster`, default ACCOUNT, with se "cluster"; None else."""
    if se not in SE_TYPES:
        raise EffectsError(f"unknown standard errors {se!r}: choose one of {', '.join(SE_TYPES)}")
    if se == "cluster":
        return cluster or ACCOUNT
    if cluster:
        raise EffectsError(
            f"a cluster column is given with {se} standard errors: cluster by it or name none",
            se="cluster",
        )
    return None
