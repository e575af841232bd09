"""How many posts the coders must share for a reliability test: Krippendorff's minimum sample
sizes and, from the codes so far, the width of alpha's interval by the number of shared posts.

Krippendorff (2004, Content Analysis, 2nd ed., section 11.4.4 "Sampling considerations"; the
same table in the 3rd and 4th editions, 2013 and 2019) tabulates the minimum number of units
for a test that alpha exceeds the smallest acceptable alpha_min (.667, .800, .900) at a level
of significance p (.100, .050, .010, .005), by the smallest estimated proportion P_c of a
value of the variable (.5 for a binary variable coded half 1; 1/k for k equally used values),
after Bloch & Kraemer (1989, eq. 3.7), for two coders:

    N = 2 z^2 [ (1 + alpha_min)(3 - alpha_min) / (4 (1 - alpha_min) P_c (1 - P_c)) - alpha_min ]

with z the one-sided normal quantile of p; with m coders, m z^2 replaces 2 z^2. Its published
values include N = 139 for P_c = .25, alpha_min = .800, p = .05 and N = 81 for alpha_min = .667
(as reproduced in the ATLAS.ti inter-coder agreement manual, which quotes the 2019 table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from coding.reliability import alpha_draws, matrix_from_long, reliability
from smcat.errors import SmcatError

ALPHA_MINIMA = (0.667, 0.800, 0.900)
SIGNIFICANCE_LEVELS = (0.100, 0.050, 0.010, 0.005)
# the smallest proportions of Krippendorff's table: 1/2, 1/4, ... (1/k for k values)
SMALLEST_SHARES = (0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125)
SIZES = (25, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 5000)


def krippendorff_minimum(
    alpha_min: float = 0.800,
    significance: float = 0.050,
    smallest_share: float = 0.5,
    coders: int = 2,
) -> int:
    """The minimum number of units coded by every coder (see the module doc), rounded up."""
    if not 0 < alpha_min < 1:
        raise SmcatError(f"the smallest acceptable alpha is between 0 and 1, not {alpha_min}")
    if not 0 < significance < 1:
        raise SmcatError(f"the significance level is between 0 and 1, not {significance}")
    if not 0 < smallest_share <= 0.5:
        raise SmcatError(
            f"the smallest proportion of a value is above 0 and at most .5, not {smallest_share}"
        )
    if coders < 2:
        raise SmcatError(f"reliability needs at least 2 coders, not {coders}")
    z = stats.norm.ppf(1 - significance)
    share = smallest_share * (1 - smallest_share)
    inflation = (1 + alpha_min) * (3 - alpha_min) / (4 * (1 - alpha_min) * share)
    return math.ceil(coders * z**2 * (inflation - alpha_min) - 1e-9)


def krippendorff_table(
    smallest_shares: Sequence[float] = SMALLEST_SHARES, coders: int = 2
) -> pd.DataFrame:
    """Krippendorff's table: rows P_c, columns (alpha_min, p), cells the minimum units."""
    columns = pd.MultiIndex.from_product(
        [ALPHA_MINIMA, SIGNIFICANCE_LEVELS], names=["alpha_min", "p"]
    )
    rows = [
        [krippendorff_minimum(a, p, share, coders) for a, p in columns] for share in smallest_shares
    ]
    return pd.DataFrame(rows, index=pd.Index(smallest_shares, name="P_c"), columns=columns)


@dataclass(frozen=True)
class WidthBySize:
    """The bootstrap width of alpha's interval by number of shared posts, from the codes so
    far: alpha and its units now, the widths (index: units), the target and the first size
    that reaches it (None: none of the sizes tried)."""

    alpha: float
    units: int
    smallest_share: float
    widths: pd.Series
    target: float
    n: int | None


def width_by_size(
    long: pd.DataFrame,
    target: float,
    *,
    sizes: Sequence[int] = SIZES,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> WidthBySize:
    """Alpha's percentile interval width at each number of shared posts in `sizes`, drawing
    that many units with replacement from the units coded so far (long rows unit, coder, value;
    a unit "post" or, pooled over subcategories, "post/subcategory"): how many shared posts
    make the interval no wider than `target`. The draws assume the coming posts agree as the
    coded ones do."""
    if not 0 < target < 2:
        raise SmcatError(f"the interval width is between 0 and 2 (alpha's range), not {target}")
    matrix = matrix_from_long(long)
    values = long["value"].dropna()
    categories = sorted(values.unique())
    try:
        now = reliability(matrix, categories=categories, n_boot=0)
    except ValueError as error:
        raise SmcatError(str(error)) from error
    if not now.n_units:
        raise SmcatError("no post was coded by two coders yet: have the coders code shared posts")
    tail = (1 - confidence) / 2 * 100
    widths = {}
    for size in sizes:
        alphas = alpha_draws(matrix, size, categories=categories, n_boot=n_boot, seed=seed)
        low, high = np.percentile(alphas, [tail, 100 - tail]) if alphas.size else (np.nan,) * 2
        widths[size] = float(high - low)
    series = pd.Series(widths, name="width")
    series.index.name = "units"
    reached = series[series <= target]
    shares = values.value_counts(normalize=True)
    return WidthBySize(
        alpha=now.alpha,
        units=now.n_units,
        smallest_share=float(shares.min()) if len(shares) > 1 else 0.0,
        widths=series,
        target=target,
        n=int(reached.index[0]) if len(reached) else None,
    )
