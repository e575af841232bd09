"""Brand choice models, checked against published reference values through our own code:
anes96 (Stata 11, checked against R nnet by statsmodels) for the multinomial logit, and
Greene's travel-mode conditional logit (Econometric Analysis, Table 21.11); then the planted
tastes of the choices fixture and the refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.choice import CONDITIONAL, MULTINOMIAL, fit_choices, fit_conditional, fit_multinomial
from smcat.errors import SmcatError

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "commerce"

# Stata 11 `mlogit PID logpopul selfLR age educ income, baseoutcome(0)` on anes96 (944 voters),
# as statsmodels' results_discrete.Anes.mnlogit_basezero records them: per outcome 1-6 the
# coefficients of logpopul, selfLR, age, educ, income, constant, and their standard errors.
ANES_TERMS = ["logpopul", "selfLR", "age", "educ", "income", "const"]
ANES_PARAMS = [
    [-0.01153598, 0.29771435, -0.024945, 0.08249144, 0.00519655, -0.37340167],
    [-0.08875065, 0.39166864, -0.02289784, 0.18104276, 0.04787398, -2.2509132],
    [-0.1059667, 0.57345051, -0.01485121, -0.00715242, 0.05757516, -3.6655835],
    [-0.0915567, 1.2787718, -0.00868135, 0.19982796, 0.08449838, -7.6138431],
    [-0.0932846, 1.3469616, -0.01790407, 0.21693885, 0.08095841, -7.0604782],
    [-0.14088069, 2.0700801, -0.00943265, 0.3219257, 0.10889408, -12.105751],
]
ANES_BSE = [
    [0.0342823657, 0.093626795, 0.0065248584, 0.0735865799, 0.0176336937, 0.6298376313],
    [0.0391615553, 0.1082386919, 0.0079144618, 0.0852893563, 0.0222809297, 0.7631899491],
    [0.0570382292, 0.1585481337, 0.0113313133, 0.1262913234, 0.0336142088, 1.156541492],
    [0.0437902764, 0.1288965854, 0.0084187486, 0.0941250559, 0.0261963632, 0.9575809602],
    [0.0393516553, 0.1171860107, 0.0076110152, 0.0850070091, 0.0229760791, 0.8443638283],
    [0.042138047, 0.1434089089, 0.0081338625, 0.0910979921, 0.025300888, 1.059954821],
]


def test_multinomial_logit_reproduces_stata_on_anes96() -> None:
    data = sm.datasets.anes96.load_pandas().data
    result = fit_multinomial(data, "PID", ANES_TERMS[:-1], test_share=0)
    assert result.kind == MULTINOMIAL
    assert result.base == "0.0"
    table = result.coefficients.set_index(["alternative", "term"])
    for outcome in range(1, 7):
        for k, term in enumerate(ANES_TERMS):
            cell = table.loc[(f"{outcome}.0", term)]
            assert cell["coef"] == pytest.approx(ANES_PARAMS[outcome - 1][k], abs=1e-6)
            assert cell["se"] == pytest.approx(ANES_BSE[outcome - 1][k], abs=1e-6)
    # Stata: ll -1461.922747312, ll_0 -1750.34670999, LR chi2(30) 576.8479253554
    assert result.llf == pytest.approx(-1461.922747312, abs=1e-5)
    assert result.llnull == pytest.approx(-1750.34670999, abs=1e-5)
    assert result.lr_stat == pytest.approx(576.8479253554, abs=1e-4)
    assert result.df == 30
    assert result.lr_pvalue == pytest.approx(1.8223179e-102, rel=1e-4)
    assert result.hit_rate is None  # nothing held out


def travel_mode() -> pd.DataFrame:
    data = sm.datasets.modechoice.load_pandas().data
    data["mode"] = data["mode"].map({1: "air", 2: "train", 3: "bus", 4: "car"})
    # household income enters the air alternative only, as in Greene's model
    data["hinc_air"] = data["hinc"] * (data["mode"] == "air")
    return data


def test_conditional_logit_reproduces_greene_travel_mode() -> None:
    result = fit_conditional(
        travel_mode(),
        ["gc", "ttme", "hinc_air"],
        case="individual",
        alternative="mode",
        chosen="choice",
        base="car",
        test_share=0,
    )
    assert result.kind == CONDITIONAL
    table = result.coefficients.set_index("term")
    # Greene (2003) Table 21.11 as reproduced in stats.md 3.4: estimate (SE)
    published = {
        "ASC air": (5.2074, 0.77905),
        "ASC train": (3.8690, 0.44313),
        "ASC bus": (3.1632, 0.45027),
        "gc": (-0.01550, 0.00441),
        "ttme": (-0.09612, 0.01044),
        "hinc_air": (0.01329, 0.01026),
    }
    for term, (coef, se) in published.items():
        assert table.loc[term, "coef"] == pytest.approx(coef, abs=1e-4), term
        assert table.loc[term, "se"] == pytest.approx(se, abs=1e-4), term
    assert result.llf == pytest.approx(-199.128, abs=1e-3)
    # the null gives each of the 4 modes of 210 travellers the same chance: 210 log(1/4)
    assert result.llnull == pytest.approx(210 * np.log(0.25))


def test_choices_fixture_recovers_planted_tastes() -> None:
    choices = pd.read_csv(FIXTURE / "choices.csv", dtype={"choice_id": str})
    result = fit_choices(choices)
    assert result.kind == CONDITIONAL
    assert (result.train_cases, result.test_cases) == (420, 180)
    table = result.coefficients.set_index("term")
    planted = {
        "ASC Meiyu": 0.5,
        "ASC Qingshan": -0.3,
        "free_shipping": 0.8,
        "returns_7d": 0.5,
        "genuine_guarantee": 1.2,
        "price": -0.02,
    }
    for term, value in planted.items():
        # within three standard errors of what make_commerce.py planted
        assert abs(table.loc[term, "coef"] - value) < 3 * table.loc[term, "se"], term
    assert result.lr_pvalue < 1e-10
    assert result.hit_rate > result.base_rate + 0.1


def test_one_row_per_choice_is_a_multinomial_logit_with_dummies() -> None:
    rng = np.random.default_rng(1)
    n = 900
    city = rng.choice(["tier1", "tier2", "tier3"], size=n)
    # tier-1 shoppers lean to Meiyu, the rest to Lanxi
    p_meiyu = np.where(city == "tier1", 0.7, 0.2)
    brand = np.where(rng.random(n) < p_meiyu, "Meiyu", "Lanxi")
    cases = pd.DataFrame(
        {"choice_id": [str(i) for i in range(n)], "alternative": brand, "chosen": 1, "city": city}
    )
    result = fit_choices(cases)
    assert result.kind == MULTINOMIAL
    table = result.coefficients.set_index(["alternative", "term"])
    # against tier1 (the first level): log odds of Meiyu fall by about log(.7/.3) - log(.2/.8)
    drop = np.log(0.7 / 0.3) - np.log(0.2 / 0.8)
    for level in ("tier2", "tier3"):
        cell = table.loc[("Meiyu", f"city={level}")]
        assert abs(cell["coef"] + drop) < 3 * cell["se"]
    assert 0.6 < result.hit_rate < 0.85


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame(
                {"choice_id": ["1", "2"], "alternative": "Lanxi", "chosen": 1, "x": [0, 1]}
            ),
            "only one alternative",
        ),
        (
            pd.DataFrame(
                {
                    "choice_id": ["1", "1", "2", "2"],
                    "alternative": ["A", "B"] * 2,
                    "chosen": [1, 1, 0, 1],
                    "x": [0, 1, 1, 0],
                }
            ),
            "choice '1' has 2 alternatives chosen",
        ),
        (pd.DataFrame(columns=["choice_id", "alternative", "chosen"]), "no choices"),
        (
            pd.DataFrame({"choice_id": ["1", "2"], "alternative": ["A", "B"], "chosen": 1}),
            "no attribute columns",
        ),
    ],
)
def test_refusals_name_the_fix(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(SmcatError, match=message):
        fit_choices(frame)


def test_an_attribute_that_never_varies_within_a_choice_is_refused() -> None:
    data = travel_mode()
    with pytest.raises(SmcatError, match="'hinc' never varies within any choice"):
        fit_conditional(
            data, ["gc", "hinc"], case="individual", alternative="mode", chosen="choice"
        )
