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

    @property
    def lr_stat(self) -> float:
        """The likelihood-ratio statistic against the null model."""
        return 2 * (self.llf - self.llnull)

    @property
    def lr_pvalue(self) -> float:
        """The p-value of the likelihood-ratio test (chi-squared with `df` degrees)."""
        return float(stats.chi2.sf(self.lr_stat, self.df))

    def summary(self) -> pd.DataFrame:
        """The fit figures as a two-column table."""
        figures = {
            "model": self.kind,
            "base alternative": self.base,
            "training cases": f"{self.train_cases:,}",
            "test cases": f"{self.test_cases:,}",
            "log-likelihood": f"{self.llf:.3f}",
            "null log-likelihood": f"{self.llnull:.3f}",
            "LR chi2 (df)": f"{self.lr_stat:.3f} ({self.df})",
            "LR p": f"{self.lr_pvalue:.3g}",
            "hit rate (test)": "" if self.hit_rate is None else f"{self.hit_rate:.3f}",
            "hit rate of the most chosen (test)": (
                "" if self.base_rate is None else f"{self.base_rate:.3f}"
            ),
        }
        return pd.DataFrame({"value": figures})


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


def _split(cases: pd.Index, test_share: float, seed: int) -> tuple[pd.Index, pd.Index]:
    """Cases for training and for testing, drawn at random with `seed`."""
    if not 0 <= test_share < 1:
        raise SmcatError("the test share must be at least 0 and below 1, e.g. 0.3")
    shuffled = cases[np.random.default_rng(seed).permutation(len(cases))]
    cut = len(cases) - round(len(cases) * test_share)
    return shuffled[:cut], shuffled[cut:]


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
) -> ChoiceResult:
    """Multinomial logit of `outcome` (the alternative chosen, one row per case) on the case's
    attributes, with a constant; the first alternative in sorted order is the base."""
    data = cases.dropna(subset=[outcome, *attributes])
    _check_alternatives(data[outcome])
    alternatives = tuple(sorted(data[outcome].astype(str).unique()))
    code = {alternative: i for i, alternative in enumerate(alternatives)}
    y = data[outcome].astype(str).map(code)
    x = sm.add_constant(coded(data, attributes), prepend=True, has_constant="add")
    train, test = _split(data.index, test_share, seed)
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
    hit = base_rate = None
    if len(test):
        predicted = np.asarray(fitted.predict(x.loc[test])).argmax(axis=1)
        hit = float((predicted == y.loc[test].to_numpy()).mean())
        base_rate = float((y.loc[test] == y.loc[train].mode().iloc[0]).mean())
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
        hit_rate=hit,
        base_rate=base_rate,
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
) -> ChoiceResult:
    """Conditional logit of which alternative of each case is `chosen` (0/1, one row per case
    and alternative) on the alternatives' attributes and a constant per alternative but `base`
    (default: the first in sorted order). The null model gives every alternative of a case the
    same chance."""
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
    train_cases, test_cases = _split(pd.Index(picked.index), test_share, seed)
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
    hit = base_rate = None
    if len(test_cases):
        test = data.loc[~train].assign(score=x.loc[~train].to_numpy() @ fitted.params.to_numpy())
        best = test.loc[test.groupby(case)["score"].idxmax()]
        hit = float(best[chosen].mean())
        most = data.loc[train & (data[chosen] == 1).to_numpy(), alternative].mode().iloc[0]
        base_rate = float((test.loc[test[chosen] == 1, alternative] == most).mean())
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
        hit_rate=hit,
        base_rate=base_rate,
    )


def fit_choices(choices: pd.DataFrame, *, test_share: float = 0.3, seed: int = 0) -> ChoiceResult:
    """The choice model that the shape of stored choices asks for: a multinomial logit when each
    choice has one row (the alternative chosen), else a conditional logit. `choices` has
    choice_id, alternative, chosen and one column per attribute."""
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
        return fit_multinomial(choices, "alternative", attributes, test_share=test_share, seed=seed)
    return fit_conditional(choices, attributes, test_share=test_share, seed=seed)
