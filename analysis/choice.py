"""Brand choice: multinomial and conditional logit, fitted on a training share, tested on the rest.

Two shapes of data. One row per choice (the brand chosen and the attributes of the situation or
chooser, which are the same for every brand) gives a multinomial logit (statsmodels MNLogit),
one coefficient per attribute and brand against a base brand. Several rows per choice (every
brand offered, each with its own attributes, one of them chosen) gives a conditional logit
(statsmodels ConditionalLogit) with brand constants and one coefficient per attribute.
Text attributes are coded as dummies against their first level; numbers are used as they are.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.base.model import LikelihoodModel, LikelihoodModelResults
from statsmodels.discrete.conditional_models import ConditionalLogit
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from analysis.bootstrap import percentile_interval, resample_counts, weighted_share
from analysis.formatting import format_p
from smcat.errors import SmcatError

MULTINOMIAL = "multinomial logit"
CONDITIONAL = "conditional logit"


@dataclass(frozen=True)
class ChoiceResult:
    """A fitted choice model: coefficients (one row per alternative and term; the alternative
    is empty for a conditional logit's attributes), the likelihood-ratio test against the null,
    and the hit rate on the held-out cases."""

    kind: str
    base: str
    alternatives: tuple[str, ...]
    coefficients: pd.DataFrame  # alternative, term, coef, se, z, p
    llf: float
    llnull: float
    df: int
    train_cases: int
    test_cases: int
    hit_rate: float | None  # share of held-out cases whose likeliest alternative was chosen
    base_rate: float | None  # the same for always guessing the most chosen training alternative
    hit_interval: tuple[float, float] | None  # 95% percentile bootstrap over the test cases
    base_interval: tuple[float, float] | None
    null_model: str  # what the likelihood-ratio test compares against
    split: str  # how cases were split: "choice" or "customer"
    fit_tests: pd.DataFrame  # Pearson and deviance goodness of fit over covariate patterns

    @property
    def lr_stat(self) -> float:
        """The likelihood-ratio statistic against the null model."""
        return 2 * (self.llf - self.llnull)

    @property
    def lr_pvalue(self) -> float:
        """The p-value of the likelihood-ratio test (chi-squared with `df` degrees)."""
        return float(stats.chi2.sf(self.lr_stat, self.df))

    def summary(self, goodness_of_fit: bool = False) -> pd.DataFrame:
        """The fit figures as a two-column table: the likelihood-ratio test against the null
        model it names, the hit rates with their 95% bootstrap intervals, and with
        `goodness_of_fit` the Pearson and deviance tests."""
        figures = {
            "model": self.kind,
            "base alternative": self.base,
            "split": f"by {self.split}",
            "training cases": f"{self.train_cases:,}",
            "test cases": f"{self.test_cases:,}",
            "log-likelihood": f"{self.llf:.3f}",
            f"null log-likelihood ({self.null_model})": f"{self.llnull:.3f}",
            "LR test against the null model: chi2 (df)": f"{self.lr_stat:.3f} ({self.df})",
            "LR test against the null model: p": format_p(self.lr_pvalue),
            "hit rate (test)": _rate(self.hit_rate, self.hit_interval),
            "hit rate of the most chosen (test)": _rate(self.base_rate, self.base_interval),
        }
        if goodness_of_fit:
            for test, row in self.fit_tests.iterrows():
                figures[f"{test} goodness of fit: chi2 (df)"] = (
                    f"{row['chi2']:.3f} ({int(row['df'])})"
                )
                figures[f"{test} goodness of fit: p"] = format_p(row["p"])
        return pd.DataFrame({"value": figures})


def _rate(rate: float | None, interval: tuple[float, float] | None) -> str:
    if rate is None or interval is None:
        return ""
    return f"{rate:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def goodness_of_fit(
    pattern: pd.Series, alternative: pd.Series, chosen: pd.Series, fitted: pd.Series, params: int
) -> pd.DataFrame:
    """Pearson's and the deviance chi-square test of a choice model's fit over covariate
    patterns, as SPSS's multinomial logistic regression prints them: one row per case and
    alternative, giving its covariate `pattern` (cases alike in every attribute share one),
    whether it was `chosen` and its `fitted` probability; observed and expected counts per
    pattern and alternative are compared on (alternatives - 1) per pattern, less `params`,
    degrees of freedom. The chi-square approximation needs few patterns and large expected
    counts (the table gives the share of cells expected below 5)."""
    frame = pd.DataFrame(
        {"pattern": pattern.to_numpy(), "alternative": alternative.to_numpy()}
    ).assign(observed=chosen.to_numpy().astype(float), expected=fitted.to_numpy())
    cells = frame.groupby(["pattern", "alternative"], sort=False)[["observed", "expected"]].sum()
    observed, expected = cells["observed"].to_numpy(), cells["expected"].to_numpy()
    pearson = float(((observed - expected) ** 2 / expected).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    deviance = float(2 * terms.sum())
    per_pattern = cells.groupby(level="pattern", sort=False).size()
    df = int((per_pattern - 1).sum()) - params
    small = float((expected < 5).mean())
    rows = {
        name: {
            "chi2": value,
            "df": df,
            "p": float(stats.chi2.sf(value, df)) if df > 0 else float("nan"),
            "patterns": len(per_pattern),
            "cells expected below 5": small,
        }
        for name, value in (("Pearson", pearson), ("deviance", deviance))
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("test")


def coded(frame: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """The attributes as model columns: numbers as they are, text as 0/1 dummies against the
    first level in sorted order."""
    columns = []
    for name in attributes:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.notna().sum() == frame[name].notna().sum():
            columns.append(numbers.astype(float).rename(name))
        else:
            levels = sorted(frame[name].dropna().astype(str).unique())
            text = frame[name].astype("string")
            columns += [
                (text == level).astype(float).rename(f"{name}={level}") for level in levels[1:]
            ]
    return pd.concat(columns, axis=1) if columns else pd.DataFrame(index=frame.index)


def _split(
    cases: pd.Index, test_share: float, seed: int, groups: pd.Series | None = None
) -> tuple[pd.Index, pd.Index]:
    """Cases for training and for testing, drawn at random with `seed`; with `groups` (each
    case's group, e.g. its customer), whole groups are drawn, so that a group's cases all fall
    on one side, until the test part holds about `test_share` of the cases."""
    if not 0 <= test_share < 1:
        raise SmcatError("the test share must be at least 0 and below 1, e.g. 0.3")
    rng = np.random.default_rng(seed)
    wanted = round(len(cases) * test_share)
    if groups is None:
        shuffled = cases[rng.permutation(len(cases))]
        return shuffled[: len(cases) - wanted], shuffled[len(cases) - wanted :]
    members = pd.Series(cases, index=cases).groupby(groups.reindex(cases).to_numpy(), sort=True)
    names = list(members.groups)
    test: list[object] = []
    for name in (names[i] for i in rng.permutation(len(names))):
        if len(test) >= wanted:
            break
        test += members.get_group(name).tolist()
    chosen = cases.isin(test)
    return cases[~chosen], cases[chosen]


def _case_groups(frame: pd.DataFrame, case: str | None, split_by: str) -> pd.Series | None:
    """Each case's group for the split: None to split by choice; the customer of each case
    (indexed by the case: the row, or the `case` column's value) to split by customer."""
    if split_by == "choice":
        return None
    if split_by != "customer":
        raise SmcatError(f"split by {split_by!r}: choose choice or customer")
    if "customer_id" not in frame.columns or frame["customer_id"].isna().any():
        raise SmcatError(
            "splitting by customer needs every choice's customer_id: import it, or split by choice"
        )
    if case is None:
        return frame["customer_id"]
    return frame.groupby(case)["customer_id"].first()


def _check_alternatives(chosen: pd.Series) -> None:
    if chosen.nunique() < 2:
        only = chosen.iloc[0] if len(chosen) else "none"
        raise SmcatError(
            f"only one alternative ({only}) is ever chosen: a choice model needs choices "
            "among at least two brands"
        )


def _check_varies(x: pd.DataFrame, within: pd.Series | None = None) -> None:
    """Refuse an attribute column the model cannot estimate: constant (within every case, for
    a conditional logit)."""
    spread = x.std() if within is None else x.groupby(within.to_numpy()).std().max()
    if flat := [name for name in x.columns if not spread[name] > 0]:
        where = "across cases" if within is None else "within any choice"
        raise SmcatError(f"attribute {flat[0]!r} never varies {where}: leave it out")


def _fitted(model: LikelihoodModel, **options: object) -> LikelihoodModelResults:
    """Fit, turning the failures of an unidentified model into one line naming the fix."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            return model.fit(disp=False, **options)
        except (np.linalg.LinAlgError, PerfectSeparationWarning, ConvergenceWarning) as error:
            raise SmcatError(
                f"the choice model cannot be estimated ({error}): use fewer attributes or "
                "more choices"
            ) from None


def fit_multinomial(
    cases: pd.DataFrame,
    outcome: str,
    attributes: Sequence[str],
    *,
    test_share: float = 0.3,
    seed: int = 0,
    split_by: str = "choice",
) -> ChoiceResult:
    """Multinomial logit of `outcome` (the alternative chosen, one row per case) on the case's
    attributes, with a constant; the first alternative in sorted order is the base. The test
    cases are drawn by case or, with `split_by` "customer", by customer_id."""
    data = cases.dropna(subset=[outcome, *attributes])
    _check_alternatives(data[outcome])
    alternatives = tuple(sorted(data[outcome].astype(str).unique()))
    code = {alternative: i for i, alternative in enumerate(alternatives)}
    y = data[outcome].astype(str).map(code)
    x = sm.add_constant(coded(data, attributes), prepend=True, has_constant="add")
    train, test = _split(data.index, test_share, seed, _case_groups(data, None, split_by))
    _check_alternatives(data.loc[train, outcome])
    _check_varies(x.loc[train].drop(columns="const"))
    fitted = _fitted(sm.MNLogit(y.loc[train], x.loc[train]), method="newton", maxiter=200)
    # params is terms x (alternatives but the base), in the order of the codes
    shown = alternatives[1:]
    coefficients = pd.concat(
        [
            pd.DataFrame(
                {
                    "alternative": name,
                    "term": x.columns,
                    "coef": fitted.params.iloc[:, j].to_numpy(),
                    "se": fitted.bse.iloc[:, j].to_numpy(),
                    "z": fitted.tvalues.iloc[:, j].to_numpy(),
                    "p": fitted.pvalues.iloc[:, j].to_numpy(),
                }
            )
            for j, name in enumerate(shown)
        ],
        ignore_index=True,
    )
    hits = guesses = None
    if len(test):
        predicted = np.asarray(fitted.predict(x.loc[test])).argmax(axis=1)
        hits = predicted == y.loc[test].to_numpy()
        guesses = (y.loc[test] == y.loc[train].mode().iloc[0]).to_numpy()
    # the training cases in long form: one row per case and alternative
    probabilities = np.asarray(fitted.predict(x.loc[train]))
    pattern = pd.util.hash_pandas_object(x.loc[train], index=False).to_numpy()
    J = len(alternatives)
    fit_tests = goodness_of_fit(
        pd.Series(np.repeat(pattern, J)),
        pd.Series(np.tile(np.arange(J), len(train))),
        pd.Series((y.loc[train].to_numpy()[:, None] == np.arange(J)).ravel()),
        pd.Series(probabilities.ravel()),
        params=x.shape[1] * (J - 1),
    )
    rates = _hit_rates(hits, guesses, seed)
    return ChoiceResult(
        kind=MULTINOMIAL,
        base=alternatives[0],
        alternatives=alternatives,
        coefficients=coefficients,
        llf=float(fitted.llf),
        llnull=float(fitted.llnull),
        df=int(fitted.df_model),
        train_cases=len(train),
        test_cases=len(test),
        hit_rate=rates[0],
        base_rate=rates[1],
        hit_interval=rates[2],
        base_interval=rates[3],
        null_model="constants only: each alternative's share of the choices",
        split=split_by,
        fit_tests=fit_tests,
    )


Rates = tuple[float | None, float | None, tuple[float, float] | None, tuple[float, float] | None]


def _hit_rates(hits: np.ndarray | None, guesses: np.ndarray | None, seed: int) -> Rates:
    """The hit rates of the model and of the most chosen alternative over the test cases, and
    their 95% percentile bootstrap intervals (the same resamples of test cases for both)."""
    if hits is None or guesses is None:
        return None, None, None, None
    counts = resample_counts(len(hits), seed=seed)
    return (
        float(hits.mean()),
        float(guesses.mean()),
        percentile_interval(weighted_share(hits, counts)),
        percentile_interval(weighted_share(guesses, counts)),
    )


def fit_conditional(
    long: pd.DataFrame,
    attributes: Sequence[str],
    *,
    case: str = "choice_id",
    alternative: str = "alternative",
    chosen: str = "chosen",
    base: str | None = None,
    test_share: float = 0.3,
    seed: int = 0,
    split_by: str = "choice",
) -> ChoiceResult:
    """Conditional logit of which alternative of each case is `chosen` (0/1, one row per case
    and alternative) on the alternatives' attributes and a constant per alternative but `base`
    (default: the first in sorted order). The null model gives every alternative of a case the
    same chance. The test cases are drawn by case or, with `split_by` "customer", by
    customer_id."""
    data = long.dropna(subset=[case, alternative, chosen, *attributes])
    data = data.assign(**{alternative: data[alternative].astype(str)})
    picked = data.groupby(case)[chosen].sum()
    if bad := picked.index[picked != 1].tolist():
        raise SmcatError(
            f"choice {bad[0]!r} has {int(picked[bad[0]])} alternatives chosen: mark exactly one "
            "alternative of each choice as chosen"
        )
    _check_alternatives(data.loc[data[chosen] == 1, alternative])
    alternatives = tuple(sorted(data[alternative].unique()))
    base = base or alternatives[0]
    if base not in alternatives:
        raise SmcatError(
            f"no alternative {base!r}: choose the base among {', '.join(alternatives)}"
        )
    constants = pd.DataFrame(
        {f"ASC {a}": (data[alternative] == a).astype(float) for a in alternatives if a != base},
        index=data.index,
    )
    x = pd.concat([constants, coded(data, attributes)], axis=1)
    groups = _case_groups(data, case, split_by)
    train_cases, test_cases = _split(pd.Index(picked.index), test_share, seed, groups)
    train = data[case].isin(train_cases).to_numpy()
    _check_varies(x.loc[train], data.loc[train, case])
    model = ConditionalLogit(data.loc[train, chosen], x.loc[train], groups=data.loc[train, case])
    fitted = _fitted(model, method="bfgs", maxiter=1000)
    coefficients = pd.DataFrame(
        {
            "alternative": "",
            "term": x.columns,
            "coef": fitted.params.to_numpy(),
            "se": fitted.bse.to_numpy(),
            "z": fitted.tvalues.to_numpy(),
            "p": fitted.pvalues.to_numpy(),
        }
    )
    offered = data.loc[train].groupby(case)[alternative].size()
    hits = guesses = None
    if len(test_cases):
        test = data.loc[~train].assign(score=x.loc[~train].to_numpy() @ fitted.params.to_numpy())
        best = test.loc[test.groupby(case)["score"].idxmax()]
        hits = best[chosen].to_numpy() == 1
        most = data.loc[train & (data[chosen] == 1).to_numpy(), alternative].mode().iloc[0]
        guesses = (test.loc[test[chosen] == 1, alternative] == most).to_numpy()
    fitting = data.loc[train, [case, alternative, chosen]].assign(
        utility=x.loc[train].to_numpy() @ fitted.params.to_numpy(),
        row=pd.util.hash_pandas_object(
            pd.concat([data.loc[train, alternative], x.loc[train]], axis=1), index=False
        ).to_numpy(),
    )
    # a case's pattern is its whole choice set: every alternative offered with its attributes
    pattern = fitting.groupby(case)["row"].transform(lambda rows: hash(tuple(sorted(rows))))
    weight = np.exp(fitting["utility"] - fitting.groupby(case)["utility"].transform("max"))
    fit_tests = goodness_of_fit(
        pattern,
        fitting[alternative],
        fitting[chosen],
        weight / weight.groupby(fitting[case]).transform("sum"),
        params=len(x.columns),
    )
    rates = _hit_rates(hits, guesses, seed)
    return ChoiceResult(
        kind=CONDITIONAL,
        base=base,
        alternatives=alternatives,
        coefficients=coefficients,
        llf=float(fitted.llf),
        llnull=float(-np.log(offered).sum()),
        df=len(x.columns),
        train_cases=len(train_cases),
        test_cases=len(test_cases),
        hit_rate=rates[0],
        base_rate=rates[1],
        hit_interval=rates[2],
        base_interval=rates[3],
        null_model="every alternative of a choice equally likely",
        split=split_by,
        fit_tests=fit_tests,
    )


def fit_choices(
    choices: pd.DataFrame, *, test_share: float = 0.3, seed: int = 0, split_by: str = "choice"
) -> ChoiceResult:
    """The choice model that the shape of stored choices asks for: a multinomial logit when each
    choice has one row (the alternative chosen), else a conditional logit. `choices` has
    choice_id, alternative, chosen, customer_id and one column per attribute; `split_by`
    "customer" keeps each customer's choices on one side of the split."""
    if choices.empty:
        raise SmcatError("there are no choices: import them with `smcat import choices FILE`")
    attributes = [
        c for c in choices.columns if c not in ("choice_id", "alternative", "chosen", "customer_id")
    ]
    if not attributes:
        raise SmcatError("the choices have no attribute columns: add the brands' attributes")
    if choices.groupby("choice_id").size().max() == 1:
        if (choices["chosen"] != 1).any():
            raise SmcatError(
                "a choice with one row must be the alternative chosen: set chosen to 1, or "
                "list every alternative offered"
            )
        return fit_multinomial(
            choices, "alternative", attributes, test_share=test_share, seed=seed, split_by=split_by
        )
    return fit_conditional(choices, attributes, test_share=test_share, seed=seed, split_by=split_by)
