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

from analysis.choice import (
    CONDITIONAL,
    MULTINOMIAL,
    _case_groups,
    _split,
    fit_choices,
    fit_conditional,
    fit_multinomial,
)
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


# -- the report's tests, the goodness of fit, the split by customer ------------------------------


def test_the_summary_names_the_lr_tests_null_model_and_gives_hit_rate_intervals() -> None:
    choices = pd.read_csv(FIXTURE / "choices.csv", dtype={"choice_id": str})
    result = fit_choices(choices)
    summary = result.summary()["value"]
    null = "null log-likelihood (every alternative of a choice equally likely)"
    assert float(summary[null]) == pytest.approx(result.llnull, abs=1e-3)
    assert summary["LR test against the null model: chi2 (df)"].endswith("(6)")
    assert summary["LR test against the null model: p"] == "<0.001"  # p = 1.8e-102, never 0.000
    hit = summary["hit rate (test)"]  # "0.606 [0.533, 0.678]"
    rate, low, high = (float(part.strip("[],")) for part in hit.split())
    assert low < rate < high
    assert "goodness of fit" not in " ".join(summary.index)
    anes = fit_multinomial(sm.datasets.anes96.load_pandas().data, "PID", ANES_TERMS[:-1])
    assert anes.null_model == "constants only: each alternative's share of the choices"


def _two_attribute_choices(rng: np.random.Generator, n: int, interaction: float) -> pd.DataFrame:
    """One choice per row among A, B, C from 6 covariate patterns (city x member); the log odds
    of B and C against A are linear in the dummies, plus `interaction` for tier3 members."""
    city = rng.choice(["tier1", "tier2", "tier3"], size=n)
    member = rng.integers(0, 2, n)
    utility_b = 0.3 + 0.8 * (city == "tier2") - 0.5 * member
    utility_c = -0.2 + 0.6 * (city == "tier3") + 0.7 * member
    utility_c = utility_c + interaction * ((city == "tier3") & (member == 1))
    weights = np.exp(np.column_stack([np.zeros(n), utility_b, utility_c]))
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    picked = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    return pd.DataFrame(
        {"brand": np.array(["A", "B", "C"])[picked], "city": city, "member": member.astype(float)}
    )


def test_goodness_of_fit_holds_its_size_and_finds_an_omitted_interaction() -> None:
    rng = np.random.default_rng(20261205)
    rejected = 0
    for _ in range(100):
        data = _two_attribute_choices(rng, 600, 0.0)
        tests = fit_multinomial(data, "brand", ["city", "member"], test_share=0).fit_tests
        # 6 patterns x (3 - 1) cells less 2 x 4 parameters
        assert tests["df"].tolist() == [4, 4] and tests["patterns"].iloc[0] == 6
        rejected += tests.loc["Pearson", "p"] < 0.05
    assert rejected <= 12  # about 5 of 100 when the model is right
    wrong = _two_attribute_choices(rng, 3000, 2.5)
    tests = fit_multinomial(wrong, "brand", ["city", "member"], test_share=0).fit_tests
    assert (tests["p"] < 1e-6).all()


def test_the_deviance_is_twice_the_log_likelihood_short_of_the_saturated_model() -> None:
    data = _two_attribute_choices(np.random.default_rng(5), 600, 0.0)
    result = fit_multinomial(data, "brand", ["city", "member"], test_share=0)
    # the saturated model fits each pattern's observed shares, by hand
    counts = data.groupby(["city", "member"])["brand"].value_counts().unstack(fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    saturated = float((counts * np.log(shares.where(shares > 0, 1))).to_numpy().sum())
    deviance = result.fit_tests.loc["deviance", "chi2"]
    assert deviance == pytest.approx(2 * (saturated - result.llf), rel=1e-6)


def test_split_by_customer_keeps_each_customers_choices_on_one_side() -> None:
    choices = pd.read_csv(FIXTURE / "choices.csv", dtype={"choice_id": str})
    by_choice = fit_choices(choices)
    assert by_choice.split == "choice"
    result = fit_choices(choices, split_by="customer")
    assert result.split == "customer"
    assert result.train_cases + result.test_cases == 600
    assert abs(result.test_cases - 180) <= 3  # whole customers of 2 or 3 choices
    # the same draw as the model's, made again: no customer on both sides
    cases = pd.Index(choices["choice_id"].unique())
    groups = _case_groups(choices, "choice_id", "customer")
    train, test = _split(cases, 0.3, 0, groups)
    assert len(test) == result.test_cases
    assert not set(groups[train]) & set(groups[test])
    # split by choice, customers do straddle the two sides
    train, test = _split(cases, 0.3, 0)
    assert set(groups[train]) & set(groups[test])
    with pytest.raises(SmcatError, match="needs every choice's customer_id: import it"):
        fit_choices(choices.drop(columns="customer_id"), split_by="customer")


def test_analyze_choice_splits_by_customer_and_shows_the_goodness_of_fit(smcat, tmp_path) -> None:
    db = tmp_path / "c.db"
    assert smcat("import", "choices", str(FIXTURE / "choices.csv"), db=db).returncode == 0
    run = smcat("analyze", "choice", "--split-by", "customer", "--goodness-of-fit", "-o", "out",
                db=db)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "| split | by customer |" in run.stdout
    assert "LR test against the null model: chi2 (df)" in run.stdout
    assert "Pearson goodness of fit: chi2 (df)" in run.stdout
    page = (tmp_path / "out" / "choice.html").read_text(encoding="utf-8")
    assert "every alternative of a choice equally likely" in page
    assert (
        "goodness-of-fit p-values, which assume a chi-square distribution, are unreliable" in page
    )
    wrong = smcat("analyze", "choice", "--split-by", "shopper", db=db)
    assert wrong.returncode != 0 and "choose choice or customer" in wrong.stderr
