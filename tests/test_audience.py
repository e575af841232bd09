"""Live-audience tiers on the planted viewer fixture, and `smcat analyze audience`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.audience import TIERS, audience, interaction_tiers, tier_rule
from analysis.streamers import read_numbers
from smcat.errors import SettingError, SmcatError
from tests.conftest import FIXTURES

VIEWERS = FIXTURES / "audience" / "viewers.csv"


@pytest.fixture(scope="module")
def viewers() -> pd.DataFrame:
    return read_numbers(VIEWERS, "viewer")


def test_tiers_are_quartiles_of_interaction(viewers: pd.DataFrame) -> None:
    table = interaction_tiers(viewers)
    assert table["interaction"].iloc[0] == 1 + 6 + 0  # the first viewer's comments+likes+shares
    # quartiles 4, 7 and 13; a viewer at a cut is in the tier below; ties make sizes unequal
    assert table["tier"].value_counts(sort=False).to_dict() == {
        "low": 298, "medium": 207, "high": 256, "very high": 239
    }  # fmt: skip
    lowest = table.groupby("tier", observed=True)["interaction"].agg(["min", "max"])
    # tiers do not overlap: each starts above where the one below ends
    assert (lowest["min"].iloc[1:].to_numpy() > lowest["max"].iloc[:-1].to_numpy()).all()


def test_tiers_do_not_depend_on_the_order_of_the_rows(viewers: pd.DataFrame) -> None:
    tiers = interaction_tiers(viewers)["tier"]
    for seed in range(3):
        shuffled = interaction_tiers(viewers.sample(frac=1, random_state=seed))["tier"]
        assert shuffled.reindex(tiers.index).equals(tiers)


def test_the_cut_off_rule_states_each_tiers_interaction_range(viewers: pd.DataFrame) -> None:
    rule = tier_rule(interaction_tiers(viewers))
    assert rule.index.tolist() == list(TIERS)
    assert rule["lowest interaction"].tolist() == [0, 5, 8, 14]
    assert rule["highest interaction"].tolist() == [4, 7, 13, 88]
    assert rule["viewers"].sum() == 1000


def test_the_planted_slope_retention_and_conversion_are_found(viewers: pd.DataFrame) -> None:
    result = audience(viewers)
    slope = result.regression.loc["interaction"]
    assert abs(slope["coef"] - 0.02) < 2 * slope["se"] and slope["p"] < 1e-6
    assert result.accuracy > 0.8  # tiers follow from the counts the forest sees
    assert result.confusion.to_numpy().sum() == 1000
    assert result.confusion.loc["low", "predicted very high"] == 0
    rates = result.rates["share"]
    assert rates.iloc[0] == (viewers["watch_seconds"] >= 60).mean()
    assert rates.iloc[1] == (viewers["purchases"] > 0).mean()


def test_a_viewer_table_without_the_behaviour_columns_is_refused(viewers) -> None:
    with pytest.raises(SmcatError, match="lacks shares: give one column each of"):
        interaction_tiers(viewers.drop(columns="shares"))
    with pytest.raises(SettingError, match="no 'sales' column: name the outcome column") as error:
        audience(viewers, outcome="sales")
    assert error.value.settings == {"outcome": None}


def test_analyze_audience_writes_tables_plot_and_page(smcat, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = smcat("analyze", "audience", str(VIEWERS), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "Retention and conversion" in result.stdout
    assert "accuracy is circular" in result.stdout
    page = (out / "audience.html").read_text(encoding="utf-8")
    assert "accuracy is circular" in page and "cut-off rule that defines the tiers" in page
    assert (out / "audience-confusion.csv").is_file() and (out / "audience-tiers.png").is_file()
    assert (
        "audience-regression" in (out / "audience.html").read_text(encoding="utf-8")
        or (out / "audience-regression.md").is_file()
    )
    unknown = smcat("analyze", "audience", str(VIEWERS), "--outcome", "sales", "-o", str(out))
    assert unknown.returncode == 1
    assert "name the outcome column (--outcome)" in unknown.stderr
