"""Live-room audience tiers: each viewer's interaction, tiers by quartile, a random forest that
tells the tier from behaviour, the session's retention and conversion, and a regression of
purchases on interaction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from smcat.errors import SettingError, SmcatError

BEHAVIOUR = ("watch_seconds", "comments", "likes", "shares")
INTERACTIONS = ("comments", "likes", "shares")
TIERS = ("low", "medium", "high", "very high")


@dataclass(frozen=True)
class Audience:
    """The analysis of one session's viewers."""

    viewers: pd.DataFrame  # viewer -> behaviour, interaction, tier
    rule: pd.DataFrame  # tier -> the interaction range that defines it, viewers
    accuracy: float
    confusion: pd.DataFrame  # true tier (rows) x predicted tier
    rates: pd.DataFrame  # retention and conversion
    regression: pd.DataFrame  # term -> coef, se, p (and R² in the notes of the caller)
    r_squared: float


def interaction_tiers(viewers: pd.DataFrame) -> pd.DataFrame:
    """The viewers with `interaction` (comments + likes + shares) and `tier`, its quartile
    (low, medium, high, very high): cut at the 25th, 50th and 75th percentiles of interaction,
    a viewer at a cut in the tier below it. Viewers of equal interaction share a tier, so the
    tiers need not be equal in size and do not depend on the order of the rows."""
    missing = [c for c in BEHAVIOUR if c not in viewers.columns]
    if missing:
        raise SmcatError(
            f"the viewer table lacks {', '.join(missing)}: give one column each of "
            f"{', '.join(BEHAVIOUR)}"
        )
    if viewers[list(BEHAVIOUR)].isna().any().any():
        raise SmcatError(f"the viewer table has empty {'/'.join(BEHAVIOUR)} cells: write 0 there")
    if len(viewers) < 4 * 5:
        raise SmcatError(f"{len(viewers)} viewers are too few for quartile tiers: give 20 or more")
    table = viewers.copy()
    table["interaction"] = table[list(INTERACTIONS)].sum(axis=1)
    cuts = np.quantile(table["interaction"].to_numpy(), [0.25, 0.5, 0.75])
    coded = np.searchsorted(cuts, table["interaction"].to_numpy(), side="left")
    table["tier"] = pd.Categorical.from_codes(coded, categories=list(TIERS), ordered=True)
    return table


def tier_rule(tiers: pd.DataFrame) -> pd.DataFrame:
    """The plain cut-off rule the tiers of `interaction_tiers` follow: per tier, the lowest and
    highest interaction of its viewers and how many they are."""
    rule = tiers.groupby("tier", observed=False)["interaction"].agg(["min", "max", "size"])
    return rule.set_axis(["lowest interaction", "highest interaction", "viewers"], axis=1)


def audience(
    viewers: pd.DataFrame,
    *,
    outcome: str = "purchases",
    retained_seconds: float = 60,
    folds: int = 5,
    seed: int = 0,
) -> Audience:
    """Tiers, a random forest's cross-validated accuracy and confusion matrix (tier from watch
    time, comments, likes and shares), retention (watched at least `retained_seconds`),
    conversion (an `outcome` above 0) and OLS of `outcome` on interaction (HC3 errors)."""
    if outcome not in viewers.columns:
        raise SettingError(
            f"the viewer table has no {outcome!r} column: name the outcome column", outcome=None
        )
    table = interaction_tiers(viewers)
    y = table["tier"].cat.codes.to_numpy()
    forest = RandomForestClassifier(n_estimators=200, random_state=seed)
    predicted = cross_val_predict(
        forest,
        table[list(BEHAVIOUR)],
        y,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
    )
    confusion = pd.DataFrame(
        confusion_matrix(y, predicted, labels=range(len(TIERS))),
        index=pd.Index(TIERS, name="tier"),
        columns=[f"predicted {t}" for t in TIERS],
    )
    bought = table[outcome].fillna(0)
    rates = pd.DataFrame(
        {
            "share": {
                f"retention (watched {retained_seconds:g}s or more)": float(
                    (table["watch_seconds"] >= retained_seconds).mean()
                ),
                f"conversion ({outcome} above 0)": float((bought > 0).mean()),
            }
        }
    )
    fit = sm.OLS(bought, sm.add_constant(table["interaction"])).fit(cov_type="HC3")
    regression = pd.DataFrame({"coef": fit.params, "se": fit.bse, "p": fit.pvalues})
    return Audience(
        viewers=table.assign(predicted_tier=np.asarray(TIERS)[predicted]),
        rule=tier_rule(table),
        accuracy=float(accuracy_score(y, predicted)),
        confusion=confusion,
        rates=rates,
        regression=regression,
        r_squared=float(fit.rsquared),
    )
