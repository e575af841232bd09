"""Inter-coder reliability of nominal codes: Krippendorff's alpha with a bootstrap interval,
percent agreement, Cohen's kappa for each pair of coders and Gwet's AC1, plus the flags a reader
of a content analysis looks for.

Reliability data are a units x coders matrix: a DataFrame whose index is the unit (a post),
whose columns are the coders and whose values are categories, NaN or None where a coder did not
code a unit. `matrix_from_long` builds one from (unit, coder, value) rows. `reliability` scores
one matrix; `reliability_table` scores every subcategory of a long frame, and every level of
the codebook; `reliability_data` reads that frame, of the people who coded, from the store.

Definitions. For unit u, m_u is the number of values it received and n_uk how many of them are
category k; a unit is pairable when m_u >= 2 (a post two or more coders coded: a shared post).
Every measure is computed on the pairable units only, and n counts them; a unit coded once (a
coder's own post) drops out of all of them, AC1's category shares pi_k included.

- Krippendorff's alpha, nominal metric (Krippendorff 2011, "Computing Krippendorff's
  Alpha-Reliability"): coincidences o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1) over
  pairable units, n_c = sum_k o_ck, n = sum_c n_c, and
  alpha = 1 - (n - 1) (n - sum_c o_cc) / (n^2 - sum_c n_c^2).
- Percent agreement: the share of agreeing pairs among all pairs of values within units, pooled
  over units, sum_u sum_k n_uk (n_uk - 1) / sum_u m_u (m_u - 1). With complete data this is the
  mean agreement of all coder pairs; with missing data a unit weighs by its number of pairs, so
  it differs from Gwet's p_a (a plain mean over units) and from Krippendorff's 1 - D_o.
- Cohen's kappa for each pair of coders over the units both coded: (p_o - p_e) / (1 - p_e), with
  p_e from each coder's own marginal distribution.
- Gwet's AC1 for several raters with missing ratings (Gwet 2008, Brit. J. Math. Stat. Psychol.
  61:29-48; Handbook of Inter-Rater Reliability, 4th ed., 2014; as irrCAC's gwet.ac1.raw):
  p_a = mean over units of sum_k n_uk (n_uk - 1) / (m_u (m_u - 1)),
  pi_k = mean over units of n_uk / m_u, p_e = sum_k pi_k (1 - pi_k) / (q - 1)
  with q the number of categories, AC1 = (p_a - p_e) / (1 - p_e), over the pairable units.
  (irrCAC takes pi_k over every unit with a value; given only the shared units, it agrees.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from coding.exchange import stored_codebook
from smcat.coders import DEFAULT_CODEBOOK, choose_machine, choose_people, is_machine
from smcat.store import Store

# Krippendorff's conventions: rely on variables with alpha >= .800, draw only tentative
# conclusions from .667 <= alpha < .800, and none below .667.
RELIABLE_ALPHA = 0.800
TENTATIVE_ALPHA = 0.667
# Agreement this high beside an unacceptable alpha means one category dominates the codes: the
# kappa paradox, common for rare subcategories.
HIGH_AGREEMENT = 0.90

TENTATIVE = "tentative conclusions only (alpha < .800)"
UNACCEPTABLE = "unacceptable (alpha < .667)"
PREVALENCE = "prevalence: agreement >= .90 but alpha < .667"
NO_PAIRABLE_UNITS = "no pairable units"
NO_VARIATION = "no variation: every value is the same, alpha undefined"

LONG_COLUMNS = ("unit", "coder", "value")


@dataclass(frozen=True)
class Reliability:
    """Reliability of one variable: the statistics, how much data they rest on, and flags.

    `kappas` maps each pair of coders (in column order) to Cohen's kappa over the units both
    coded. `n_units` counts pairable units; `n_coders` the coders with at least one value.
    `ci_low`/`ci_high` bound alpha (percentile bootstrap over units), NaN when not drawn.
    """

    alpha: float
    ci_low: float
    ci_high: float
    percent_agreement: float
    ac1: float
    kappas: dict[tuple[str, str], float]
    n_units: int
    n_coders: int
    flags: tuple[str, ...]


def matrix_from_long(
    rows: pd.DataFrame | Iterable[tuple[Hashable, Hashable, object]],
) -> pd.DataFrame:
    """The units x coders matrix from long rows (unit, coder, value), or from a DataFrame with
    columns unit, coder and value. A unit a coder did not code is NaN."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=LONG_COLUMNS)
    _require_columns(frame, LONG_COLUMNS)
    return _pivot(frame, ["unit"])


def coincidence_matrix(
    matrix: pd.DataFrame, categories: Sequence[Hashable] | None = None
) -> pd.DataFrame:
    """Krippendorff's coincidence matrix o_ck (categories x categories) over pairable units;
    row sums are n_c, the grand total n. Categories default to the values observed."""
    codes, labels = _encode(matrix, categories)
    pairable = _pairable(_counts(codes, len(labels)))
    weights = 1.0 / (pairable.sum(axis=1) - 1)
    coincidences = (pairable.T * weights) @ pairable - np.diag(weights @ pairable)
    return pd.DataFrame(coincidences, index=labels, columns=labels)


def reliability(
    matrix: pd.DataFrame,
    *,
    categories: Sequence[Hashable] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Reliability:
    """Score a units x coders matrix of nominal codes (NaN or None = not coded).

    `categories` is the codebook's value set; it defaults to the values observed, and matters
    only for AC1 (q) and the order of categories. The interval for alpha is a percentile
    bootstrap over units: the pairable units are drawn with replacement `n_boot` times (seeded
    by `seed`) and alpha recomputed; draws whose values all fall in one category leave alpha
    undefined and are left out. This is not the bootstrap of Hayes & Krippendorff's KALPHA
    macro, which resamples pairs of values rather than units. `n_boot=0` skips it.

    Raises ValueError when the matrix has fewer than two coders.
    """
    if n_boot < 0:
        raise ValueError(f"n_boot must be 0 or more, not {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    codes, labels = _encode(matrix, categories)
    counts = _counts(codes, len(labels))
    pairable = _pairable(counts)
    values, matches = _unit_terms(pairable)
    alpha = float(_alpha(values.sum(), matches.sum(), pairable.sum(axis=0)))
    ci_low = ci_high = float("nan")
    if n_boot and not np.isnan(alpha):
        ci_low, ci_high = _bootstrap_interval(pairable, n_boot, seed, confidence)
    agreement = _percent_agreement(pairable)
    return Reliability(
        alpha=alpha,
        ci_low=ci_low,
        ci_high=ci_high,
        percent_agreement=agreement,
        ac1=_ac1(pairable, len(labels)),
        kappas=_kappas(codes, [str(coder) for coder in matrix.columns], len(labels)),
        n_units=len(pairable),
        n_coders=int((codes >= 0).any(axis=0).sum()),
        flags=_flags(alpha, agreement, len(pairable)),
    )


def item_level(item: str) -> str:
    """The codebook level of a subcategory id: its leading letters ("B3" -> "B")."""
    match = re.match(r"[A-Za-z]+", item)
    return match.group() if match else item


def reliability_table(
    long: pd.DataFrame,
    *,
    level_of: Callable[[str], str] | None = item_level,
    categories: Sequence[Hashable] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per subcategory, then one per level, from a long frame with columns unit, coder,
    item (the subcategory, e.g. "B3") and value.

    Every matrix has all coders of the frame as columns, so a subcategory one coder never coded
    reports "no pairable units" rather than failing. A level row pools its subcategories: each
    (unit, subcategory) cell counts as one unit, so a level's alpha weighs subcategories by how
    much they were coded, and its bootstrap treats the cells of one post as independent (a
    narrower interval than resampling posts would give). `level_of` maps an item to its level
    (default: the id's leading letters); None leaves the level rows out. `categories` defaults
    to every value in the frame, the codebook's shared scale (0/1), so AC1 uses the same q for
    all subcategories. Each row is bootstrapped with the same seed, so a row does not change
    when other subcategories are added.

    Columns: scope ("item" or "level"), name, level, alpha, ci_low, ci_high, percent_agreement,
    ac1, n_units, n_coders, flags (joined by "; "), and "kappa A vs B" for each coder pair.
    """
    _require_columns(long, (*LONG_COLUMNS, "item"))
    coders = sorted(long["coder"].unique(), key=str)
    if categories is None:
        categories = sorted(long["value"].dropna().unique())

    def score(frame: pd.DataFrame, index: list[str]) -> Reliability:
        matrix = _pivot(frame, index).reindex(columns=coders)
        return reliability(
            matrix, categories=categories, n_boot=n_boot, seed=seed, confidence=confidence
        )

    rows = []
    for item, frame in sorted(long.groupby("item"), key=lambda group: natural_order(group[0])):
        level = level_of(item) if level_of else None
        rows.append(_table_row("item", item, level, score(frame, ["unit"])))
    if level_of:
        levels = long["item"].map(level_of)
        for level, frame in sorted(long.groupby(levels), key=lambda group: natural_order(group[0])):
            rows.append(_table_row("level", level, level, score(frame, ["unit", "item"])))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ReliabilityData:
    """What reliability is measured on: the coders compared, and their codes as the long frame
    `reliability_table` takes (unit "platform:post_id", coder, item, value)."""

    coders: list[str]
    codes: pd.DataFrame


def reliability_data(
    store: Store, codebook: str = DEFAULT_CODEBOOK, coders: Sequence[str] | None = None
) -> ReliabilityData:
    """The codes of the coders named, or of every person who coded with the codebook (not gold,
    not a machine): at least two coders, each with codes (smcat.coders.choose_people). "auto"
    names the codebook's machine coder.

    A machine coder codes every subcategory of every post it tags and stores only its 1s: a
    code it did not give a post it coded is its 0, not a missing value."""
    named = [choose_machine(store, codebook) if c == "auto" else c for c in coders or ()]
    chosen = choose_people(store, codebook, named or None)
    columns = ["platform", "post_id", "item", "coder", "value"]
    rows = pd.DataFrame(store.code_rows(codebook, chosen), columns=columns)
    zeros = [_machine_zeros(store, codebook, coder) for coder in chosen if is_machine(coder)]
    if zeros:
        # a stored code comes first, so that it wins over the 0 of the same cell
        rows = pd.concat([rows, *zeros], ignore_index=True)
        rows = rows.drop_duplicates(["platform", "post_id", "item", "coder"], keep="first")
    rows["unit"] = rows["platform"] + ":" + rows["post_id"]
    return ReliabilityData(chosen, rows[["unit", "coder", "item", "value"]])


def _machine_zeros(store: Store, codebook: str, machine: str) -> pd.DataFrame:
    """A 0 of the machine coder for every post it coded and every subcategory its codebook
    version codes (platform, post_id, item, coder, value)."""
    marks = store.coded_posts(codebook, machine)
    items: dict[str, list[str]] = {}  # codebook version -> its coded subcategories
    rows = []
    for (platform, post_id), version in marks.items():
        if version not in items:
            items[version] = [s.id for s in stored_codebook(store, codebook, version).coded()]
        rows += [(platform, post_id, item, machine, 0) for item in items[version]]
    return pd.DataFrame(rows, columns=["platform", "post_id", "item", "coder", "value"])


def _table_row(scope: str, name: str, level: str | None, result: Reliability) -> dict:
    row = {
        "scope": scope,
        "name": name,
        "level": level,
        "alpha": result.alpha,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "percent_agreement": result.percent_agreement,
        "ac1": result.ac1,
        "n_units": result.n_units,
        "n_coders": result.n_coders,
        "flags": "; ".join(result.flags),
    }
    row.update({f"kappa {a} vs {b}": kappa for (a, b), kappa in result.kappas.items()})
    return row


def natural_order(name: str) -> list[str | int]:
    """A sort key that puts "B2" before "B10"."""
    # "B2" before "B10"; re.split alternates text and digits, so lists compare element-wise.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(name))]


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"reliability data lack column(s) {', '.join(missing)}; add them")


def _pivot(frame: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    duplicated = frame.duplicated([*index, "coder"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        where = ", ".join(f"{name} {first[name]!r}" for name in index)
        raise ValueError(
            f"{where} has two values from coder {first['coder']!r}; "
            "keep one value per unit and coder"
        )
    return frame.pivot(index=index, columns="coder", values="value")


def _encode(
    matrix: pd.DataFrame, categories: Sequence[Hashable] | None
) -> tuple[np.ndarray, pd.Index]:
    """Category indices (units x coders, -1 where not coded) and the category labels."""
    if matrix.shape[1] < 2:
        coders = ", ".join(map(str, matrix.columns)) or "none"
        raise ValueError(
            f"reliability needs at least two coders (found: {coders}); "
            "have a second coder code the same units"
        )
    flat = matrix.to_numpy(dtype=object).ravel()
    if categories is None:
        codes, labels = pd.factorize(flat, sort=True)
        labels = pd.Index(labels)
    else:
        labels = pd.Index(categories)
        codes = labels.get_indexer(flat)
        unknown = (codes < 0) & pd.notna(flat)
        if unknown.any():
            raise ValueError(
                f"value {flat[unknown][0]!r} is not one of the categories {list(labels)}; "
                "fix the code or add it to the categories"
            )
    return codes.reshape(matrix.shape), labels


def _counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """n_uk: how many coders put unit u in category k (units x categories)."""
    return (codes[:, :, None] == np.arange(n_categories)).sum(axis=1)


def _pairable(counts: np.ndarray) -> np.ndarray:
    return counts[counts.sum(axis=1) >= 2]


def _unit_terms(pairable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pairable unit: m_u, and its share of the coincidence matrix's diagonal,
    sum_k n_uk (n_uk - 1) / (m_u - 1)."""
    values = pairable.sum(axis=1)
    return values, (pairable * (pairable - 1)).sum(axis=1) / (values - 1)


def _alpha(n: np.ndarray, matches: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    """Nominal alpha from n, the diagonal's sum and n_c; vectorised over bootstrap draws
    (leading axis). n and n_c stay integer counts, so "no variation" is an exact zero."""
    expected = n * n - (n_c * n_c).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * (n - matches) / expected, np.nan)


def alpha_draws(
    matrix: pd.DataFrame,
    units: int,
    *,
    categories: Sequence[Hashable] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Alpha of `n_boot` samples of `units` pairable units drawn with replacement from the
    matrix's pairable units (the bootstrap of `reliability`, at another number of units: what
    the interval would be with that many shared posts); draws with alpha undefined left out."""
    codes, labels = _encode(matrix, categories)
    pairable = _pairable(_counts(codes, len(labels)))
    if not len(pairable):
        raise ValueError("no unit was coded by two coders: code shared posts first")
    return _bootstrap_alphas(pairable, n_boot, seed, units)


def _bootstrap_alphas(pairable: np.ndarray, n_boot: int, seed: int, units: int) -> np.ndarray:
    # A unit enters alpha only through its count vector, so drawing units with replacement is
    # drawing how often each distinct count vector occurs: a multinomial over a handful of
    # patterns (binary codes, 3 coders: at most 7), whatever the number of units.
    patterns, frequency = np.unique(pairable, axis=0, return_counts=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(units, frequency / len(pairable), size=n_boot)
    values, matches = _unit_terms(patterns)
    alphas = _alpha(draws @ values, draws @ matches, draws @ patterns)
    return alphas[~np.isnan(alphas)]


def _bootstrap_interval(
    pairable: np.ndarray, n_boot: int, seed: int, confidence: float
) -> tuple[float, float]:
    alphas = _bootstrap_alphas(pairable, n_boot, seed, len(pairable))
    if not alphas.size:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return float(low), float(high)


def _percent_agreement(pairable: np.ndarray) -> float:
    values = pairable.sum(axis=1)
    pairs = (values * (values - 1)).sum()
    if not pairs:
        return float("nan")
    return float((pairable * (pairable - 1)).sum() / pairs)


def _ac1(pairable: np.ndarray, n_categories: int) -> float:
    """Gwet's AC1 of the pairable units' category counts (units x categories)."""
    if not len(pairable) or n_categories < 2:
        return float("nan")
    values = pairable.sum(axis=1)
    agreement = (pairable * (pairable - 1)).sum(axis=1) / (values * (values - 1))
    shares = (pairable / values[:, None]).mean(axis=0)
    chance = (shares * (1 - shares)).sum() / (n_categories - 1)
    return float((agreement.mean() - chance) / (1 - chance))


def _kappas(
    codes: np.ndarray, coders: list[str], n_categories: int
) -> dict[tuple[str, str], float]:
    kappas = {}
    for i, j in combinations(range(len(coders)), 2):
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        kappas[(coders[i], coders[j])] = _kappa(codes[both, i], codes[both, j], n_categories)
    return kappas


def _kappa(a: np.ndarray, b: np.ndarray, n_categories: int) -> float:
    n = len(a)
    # Integer marginals keep p_e exactly 1 when both coders used a single category.
    expected = np.bincount(a, minlength=n_categories) @ np.bincount(b, minlength=n_categories)
    if not n or expected == n * n:
        return float("nan")
    observed = np.count_nonzero(a == b) / n
    chance = expected / (n * n)
    return float((observed - chance) / (1 - chance))


def _flags(alpha: float, agreement: float, n_units: int) -> tuple[str, ...]:
    if not n_units:
        return (NO_PAIRABLE_UNITS,)
    if np.isnan(alpha):
        return (NO_VARIATION,)
    flags = []
    if alpha < TENTATIVE_ALPHA:
        flags.append(UNACCEPTABLE)
        if agreement >= HIGH_AGREEMENT:
            flags.append(PREVALENCE)
    elif alpha < RELIABLE_ALPHA:
        flags.append(TENTATIVE)
    return tuple(flags)
