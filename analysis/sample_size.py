"""How many posts to code: the prevalence of a subcategory within a margin (Cochran), the power
of NB2 to detect a binary content code's IRR on engagement by simulation from the data, and
the closed-form cases through statsmodels' power functions.

The simulation (`nb2_sample_size`) plans the model `analyze effects` fits: NB2 of engagement on
the code, SEs clustered by account. Its world is read from the current data (`fit_world`): an
NB2 of engagement on account intercepts gives each account's mean and the dispersion alpha. A
simulated study of n posts draws n posts of the frame with replacement (so accounts weigh as
they post), codes each 1 with the code's prevalence, multiplies its account's mean by the IRR
where coded, draws engagement from NB2 with that mean and alpha, and refits; the power at n is
the share of draws whose Wald test of the code rejects at the given level. The smallest n with
the power asked is found by doubling, then bisection, with common random numbers: the posts of
a draw at n are the first n posts of the same draw at any larger n, so the power curve does not
jitter between the sizes compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize
from statsmodels.stats.rates import power_negbin_ratio_2indep

from analysis.effects import ACCOUNT, INTERCEPT, EffectsError, fit_nb
from smcat.coders import DEFAULT_CODEBOOK, resolve_coder
from smcat.errors import SmcatError
from smcat.store import Store

CODE = "code"
OUTCOME = "y"
DRAWS = 200
START_N = 50
MAX_N = 50_000
_SE_WORDS = {"cluster": "clustered by account", "robust": "robust (HC1)", "model": "model-based"}


def cochran_n(
    prevalence: float = 0.5,
    margin: float = 0.05,
    confidence: float = 0.95,
    population: int | None = None,
) -> int:
    """Posts to code to estimate a proportion within +/- `margin` at `confidence` (Cochran 1977,
    Sampling Techniques, eq. 4.2): n0 = z^2 p (1 - p) / e^2, with the finite population
    correction n = n0 / (1 + (n0 - 1) / N) when the population N is known; rounded up. p = .5
    is the conservative guess (the largest n)."""
    if not 0 < prevalence < 1:
        raise SmcatError(f"the prevalence is a share between 0 and 1, not {prevalence}")
    if not 0 < margin < 1:
        raise SmcatError(f"the margin is a share between 0 and 1, not {margin}")
    if not 0 < confidence < 1:
        raise SmcatError(f"the confidence is between 0 and 1, not {confidence}")
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    n0 = z**2 * prevalence * (1 - prevalence) / margin**2
    if population is not None:
        if population < 1:
            raise SmcatError(f"the population has at least 1 post, not {population}")
        n0 = n0 / (1 + (n0 - 1) / population)
    # a hair under a whole number is that number: floating error, not a post more
    return math.ceil(n0 - 1e-9)


def two_proportions_n(
    p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> float:
    """Posts per group (the first group; the second has `ratio` times as many) for a two-sided
    test of two proportions, by Cohen's arcsine effect size h (statsmodels NormalIndPower)."""
    h = abs(float(proportion_effectsize(p1, p2)))
    if h == 0:
        raise SmcatError("the two proportions are equal: no sample detects no difference")
    return float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio))


def negbin_ratio_n(
    rate: float, irr: float, prevalence: float, dispersion: float, *, alpha: float = 0.05,
    power: float = 0.8,
) -> int:  # fmt: skip
    """Posts in all to detect a rate ratio `irr` between posts with a code (a share
    `prevalence`) and without, in NB2 counts of mean `rate` without the code and dispersion
    alpha, two-sided: statsmodels' power_negbin_ratio_2indep (Zhu & Lakkis 2014, variance under
    the alternative), no account structure. The smallest total n with the power asked."""
    if not 0 < prevalence < 1:
        raise SmcatError(f"the prevalence is a share between 0 and 1, not {prevalence}")
    ratio = (1 - prevalence) / prevalence  # uncoded posts per coded post

    def reached(coded: float) -> bool:
        achieved = power_negbin_ratio_2indep(
            rate * irr, rate, coded, nobs_ratio=ratio, alpha=alpha, dispersion=dispersion,
            return_results=False,
        )  # fmt: skip
        return float(achieved) >= power

    high = 1.0
    while not reached(high):
        high *= 2
        if high > MAX_N:
            raise SmcatError(f"more than {MAX_N:,} coded posts would be needed: plan a larger IRR")
    low = high / 2
    while high - low > 0.01:
        middle = (low + high) / 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return math.ceil(high * (1 + ratio))


@dataclass(frozen=True)
class CodedShare:
    """A coder's share of posts coded 1 in a subcategory."""

    coder: str
    coded: int
    coded_1: int

    @property
    def share(self) -> float:
        """Posts coded 1 over posts coded."""
        return self.coded_1 / self.coded


def coded_share(
    store: Store, subcategory: str, *, codes: str = "auto", codebook: str = DEFAULT_CODEBOOK
) -> CodedShare:
    """How many of the posts a coder (auto, gold or a name) coded have `subcategory` 1."""
    coder = resolve_coder(store, codes, codebook)
    coded = store.coded_posts(codebook, coder)
    values = store.coder_codes(codebook, coder)
    ones = sum(1 for key in coded if values.get(key, {}).get(subcategory, (0, None))[0] == 1)
    if not ones or ones == len(coded):
        raise SmcatError(
            f"{coder} coded {subcategory} {'1' if ones else '0'} on every post: no prevalence to"
            " plan with; give the expected prevalence"
        )
    return CodedShare(coder, len(coded), ones)


@dataclass(frozen=True)
class World:
    """What a simulated study draws from: each post's account and its account's log mean of the
    outcome, and the NB2 dispersion alpha (variance mu + alpha mu^2) left within accounts."""

    accounts: np.ndarray
    log_means: np.ndarray
    dispersion: float

    @property
    def account_sd(self) -> float:
        """SD of the accounts' log means, weighted by their posts."""
        return float(np.std(self.log_means))


def fit_world(data: pd.DataFrame, dv: str = "engagement", account: str = ACCOUNT) -> World:
    """The simulation's world from a model frame: NB2 of `dv` on account intercepts (model SEs;
    only the means and alpha are used). The variance that content and controls explain is left
    in alpha, so the sample sizes are on the safe side."""
    rows = data[[dv, account]].dropna()
    if rows[account].nunique() < 2:
        raise SmcatError(f"the posts come from fewer than 2 accounts: no {account} structure")
    result = fit_nb(rows, dv, [account], se="model")
    if result.alpha is None:
        raise SmcatError("the NB2 fit gave no dispersion")  # NB2 always has one
    labels = rows[account].astype(str)
    effects = {
        name[len(account) + 1 : -1]: float(value)
        for name, value in result.params.items()
        if name.startswith(f"{account}[")
    }
    intercept = float(result.params[INTERCEPT])
    log_means = intercept + labels.map(lambda a: effects.get(a, 0.0)).to_numpy(dtype=float)
    return World(labels.to_numpy(), log_means, float(result.alpha))


@dataclass(frozen=True)
class PowerPoint:
    """The simulated power at one sample size: the share of `draws` that rejected, and how many
    fits failed (a failed fit counts as no rejection)."""

    n: int
    power: float
    draws: int
    failed: int


@dataclass(frozen=True)
class PowerResult:
    """The smallest n (None: not within `max_n`) at which NB2 detects the IRR in `power` of the
    draws, the curve of the sizes tried, and what was assumed."""

    n: int | None
    irr: float
    prevalence: float
    power: float
    alpha: float
    draws: int
    seed: int
    dispersion: float
    accounts: int
    account_sd: float
    se: str
    curve: list[PowerPoint] = field(default_factory=list)

    @property
    def achieved(self) -> float | None:
        """The simulated power at n."""
        return next((point.power for point in self.curve if point.n == self.n), None)

    def assumptions(self) -> list[str]:
        """The assumptions in words, for the printed answer."""
        return [
            f"NB2 of the outcome on the code, SEs {_SE_WORDS.get(self.se, self.se)}, Wald test"
            f" two-sided at {self.alpha:g}",
            f"planted IRR {self.irr:g}; code prevalence {self.prevalence:.3f}",
            f"dispersion alpha {self.dispersion:.3f} and {self.accounts} account means (SD of"
            f" log means {self.account_sd:.3f}) fitted on the current data; posts drawn from its"
            " accounts as they post",
            f"{self.draws} simulated studies per size, seed {self.seed}",
        ]


def simulated_power(
    world: World,
    n: int,
    *,
    irr: float,
    prevalence: float,
    alpha: float = 0.05,
    draws: int = DRAWS,
    seed: int = 0,
    se: str = "cluster",
) -> PowerPoint:
    """The share of `draws` simulated studies of n posts whose NB2 rejects IRR = 1 (see the
    module doc); draw i is the same at every n (common random numbers)."""
    rejected = failed = 0
    for draw in range(draws):
        rows, coded, gamma, counts = (
            np.random.default_rng(s) for s in np.random.SeedSequence([seed, draw]).spawn(4)
        )
        picked = rows.integers(0, len(world.accounts), size=n)
        code = (coded.random(n) < prevalence).astype(float)
        mu = np.exp(world.log_means[picked] + math.log(irr) * code)
        shape = 1 / world.dispersion
        y = counts.poisson(mu * gamma.gamma(shape, 1 / shape, size=n))
        data = pd.DataFrame({OUTCOME: y, CODE: code, ACCOUNT: world.accounts[picked]})
        try:
            result = fit_nb(data, OUTCOME, [CODE], se=se)
        except EffectsError:
            failed += 1
            continue
        if CODE not in result.pvalues:
            failed += 1  # one value of the code in the draw: nothing to test
        elif result.pvalues[CODE] < alpha:
            rejected += 1
    return PowerPoint(n, rejected / draws, draws, failed)


def nb2_sample_size(
    world: World,
    *,
    irr: float,
    prevalence: float,
    power: float = 0.8,
    alpha: float = 0.05,
    draws: int = DRAWS,
    seed: int = 0,
    se: str = "cluster",
    start: int = START_N,
    max_n: int = MAX_N,
    on_size: Callable[[PowerPoint], None] | None = None,
) -> PowerResult:
    """The smallest n at which the simulated power reaches `power`: n doubles from `start`
    until it does, then bisection narrows the step to 5% of n (at least 1 post): finer steps
    would be finer than the draws' own noise. `on_size` is called with each size tried, for
    progress."""
    if irr <= 0 or irr == 1:
        raise SmcatError(f"the IRR to detect is positive and not 1, not {irr}")
    if not 0 < prevalence < 1:
        raise SmcatError(f"the prevalence is a share between 0 and 1, not {prevalence}")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise SmcatError("the power and the level alpha are shares between 0 and 1")
    curve: list[PowerPoint] = []

    def at(n: int) -> bool:
        point = simulated_power(
            world, n, irr=irr, prevalence=prevalence, alpha=alpha, draws=draws, seed=seed, se=se
        )
        curve.append(point)
        if on_size is not None:
            on_size(point)
        return point.power >= power

    low, high = 0, max(start, 2)
    while not at(high):
        low, high = high, high * 2
        if high > max_n:
            high = 0
            break
    while high and high - low > max(1, round(0.05 * high)):
        middle = (low + high) // 2
        low, high = (low, middle) if at(middle) else (middle, high)
    return PowerResult(
        n=high or None,
        irr=irr,
        prevalence=prevalence,
        power=power,
        alpha=alpha,
        draws=draws,
        seed=seed,
        dispersion=world.dispersion,
        accounts=len(set(world.accounts)),
        account_sd=world.account_sd,
        se=se,
        curve=sorted(curve, key=lambda point: point.n),
    )
