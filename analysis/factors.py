"""Factor analysis of a feature table: sampling adequacy (KMO), Bartlett's test of sphericity,
the number of factors by cumulative explained variance, varimax loadings, and collinear pairs.

KMO and Bartlett follow one of two conventions, labelled wherever shown: psych's (pairwise
correlations, n = all rows) or the complete cases' (rows with a gap dropped, as factor_analyzer
does). The models impute gaps with the training rows' medians and choose the number of factors
on the training rows, so that no held-out row shapes them.

KMO and Bartlett are computed here from the correlation matrix (the formulas of R's
psych::KMO and psych::cortest.bartlett) rather than taken from factor_analyzer, which is
GPL-licensed and whose model fitting breaks with scikit-learn 1.8; the factors themselves come
from scikit-learn's FactorAnalysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import FactorAnalysis
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from smcat.errors import SettingError, SmcatError

PAIRWISE = "pairwise, psych"
COMPLETE = "complete cases"
CONVENTIONS = (PAIRWISE, COMPLETE)


@dataclass(frozen=True)
class Adequacy:
    """Kaiser-Meyer-Olkin measure (overall and per variable, the MSA) and Bartlett's test that
    the correlation matrix is the identity, over `n` rows, by `convention` (PAIRWISE or
    COMPLETE); `gaps` rows have an empty cell (left out of the complete cases)."""

    kmo: float
    msa: pd.Series
    chi_square: float
    df: int
    p: float
    n: int
    convention: str
    gaps: int

    def table(self) -> pd.DataFrame:
        """The figures as a one-column table headed by the convention."""
        return pd.DataFrame(
            {
                self.convention: {
                    "rows (Bartlett n)": f"{self.n:,}",
                    "rows with a gap": f"{self.gaps:,}",
                    "KMO": f"{self.kmo:.4f}",
                    "Bartlett chi-square": f"{self.chi_square:.2f}",
                    "Bartlett df": str(self.df),
                    "Bartlett p": f"{self.p:.3g}",
                }
            }
        )


def sampling_adequacy(data: pd.DataFrame, convention: str = COMPLETE) -> Adequacy:
    """KMO and Bartlett's sphericity test of the columns of `data` with the formulas of psych's
    KMO and cortest.bartlett, either on pairwise correlations over all rows (PAIRWISE, what
    psych does given raw data: on psych's bfi KMO 0.8459, chi-square 20163.79 on 300 df) or on
    the complete rows (COMPLETE: KMO 0.8486, chi-square 18146.07); an error naming the fix for a
    singular correlation matrix."""
    if convention not in CONVENTIONS:
        raise SmcatError(f"KMO convention {convention!r}: choose {' or '.join(CONVENTIONS)}")
    complete = data.dropna()
    rows = data if convention == PAIRWISE else complete
    n, p = rows.shape
    if n <= p:
        raise SmcatError(
            f"KMO and Bartlett on {convention} need more rows than the {p} features, not {n}: "
            "use fewer features" + (" or the pairwise convention" if rows is complete else "")
        )
    # pandas correlates each pair over the rows where both are present
    corr = rows.corr().to_numpy()
    sign, logdet = np.linalg.slogdet(corr)
    # an eigenvalue of (numerically) zero: some column is a linear function of others
    if sign <= 0 or np.linalg.eigvalsh(corr)[0] < 1e-10:
        pairs = collinear_pairs(complete, 0.999)
        named = "; ".join(f"{a} and {b}" for a, b, _ in pairs.itertuples(index=False))
        named = named or "a column is a sum of others"
        raise SettingError(
            f"the features' correlation matrix is singular ({named}): drop one of each such group",
            drop=None,
        )
    inverse = np.linalg.inv(corr)
    scale = np.sqrt(np.diag(inverse))
    partial = -inverse / np.outer(scale, scale)
    off = ~np.eye(p, dtype=bool)
    r2 = np.where(off, corr**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    msa = pd.Series(r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0)), index=data.columns)
    chi_square = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return Adequacy(
        kmo=float(r2.sum() / (r2.sum() + q2.sum())),
        msa=msa.rename("MSA"),
        chi_square=float(chi_square),
        df=df,
        p=float(stats.chi2.sf(chi_square, df)),
        n=n,
        convention=convention,
        gaps=len(data) - len(complete),
    )


def explained_variance(data: pd.DataFrame) -> pd.DataFrame:
    """The eigenvalues of the correlation matrix, largest first, with the share of the total
    variance each explains and the cumulative share (rows numbered from 1)."""
    eigenvalues = np.sort(np.linalg.eigvalsh(data.corr().to_numpy()))[::-1]
    share = eigenvalues / eigenvalues.sum()
    return pd.DataFrame(
        {"eigenvalue": eigenvalues, "share": share, "cumulative": np.cumsum(share)},
        index=pd.RangeIndex(1, len(eigenvalues) + 1, name="factor"),
    )


def factors_for(variance: pd.DataFrame, share: float) -> int:
    """The fewest factors whose cumulative explained variance reaches `share` (0-1]."""
    if not 0 < share <= 1:
        raise SmcatError(f"explained variance {share} is no share: give one in (0, 1], e.g. 0.8")
    # a tolerance so that 100% is reached despite rounding of the eigenvalues' sum
    return int(np.argmax(variance["cumulative"].to_numpy() >= share - 1e-9)) + 1


def factor_model(n_factors: int, seed: int = 0) -> Pipeline:
    """Fill gaps with the column's median, standardise, then a maximum-likelihood factor
    analysis with varimax rotation: its transform gives the factor scores."""
    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        FactorAnalysis(n_components=n_factors, rotation="varimax", random_state=seed),
    )


class VarianceFactors(TransformerMixin, BaseEstimator):
    """Varimax factor scores of standardised data, as many factors as the rows it is fitted on
    need to reach `share` of the variance (`n_factors_` after fitting)."""

    def __init__(self, share: float = 0.8, seed: int = 0) -> None:
        self.share = share
        self.seed = seed

    def fit(self, x: np.ndarray, y: object = None) -> VarianceFactors:
        """Count the factors on these rows and fit them."""
        self.n_factors_ = factors_for(explained_variance(pd.DataFrame(x)), self.share)
        self.model_ = FactorAnalysis(
            n_components=self.n_factors_, rotation="varimax", random_state=self.seed
        ).fit(x)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """The factor scores of these rows."""
        return self.model_.transform(x)


def fold_factor_model(share: float, seed: int = 0) -> Pipeline:
    """Like `factor_model`, but the medians and the number of factors (reaching `share` of the
    variance) both come from the rows it is fitted on: for use inside cross-validation."""
    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), VarianceFactors(share, seed)
    )


def loadings(data: pd.DataFrame, n_factors: int, seed: int = 0) -> pd.DataFrame:
    """The varimax loadings of each column (rows) on each factor (F1, F2, ...), from the
    standardised data."""
    model = factor_model(n_factors, seed).fit(data)
    components = model[-1].components_
    return pd.DataFrame(
        components.T, index=data.columns, columns=[f"F{i}" for i in range(1, n_factors + 1)]
    )


def collinear_pairs(data: pd.DataFrame, threshold: float = 0.8) -> pd.DataFrame:
    """Pairs of columns whose Pearson |r| exceeds `threshold`, strongest first."""
    corr = data.corr()
    columns = list(corr.columns)
    pairs = [
        (a, b, corr.iloc[i, j])
        for i, a in enumerate(columns)
        for j, b in enumerate(columns[i + 1 :], start=i + 1)
        if abs(corr.iloc[i, j]) > threshold
    ]
    table = pd.DataFrame(pairs, columns=["feature", "other feature", "r"])
    return table.reindex(table["r"].abs().sort_values(ascending=False).index).reset_index(drop=True)
