"""Streamer sales levels: KMO and Bartlett against psych's bfi, the correlation tests against
published examples, the planted structure of the streamer fixture recovered, the feature table
from the store, and `smcat analyze streamers` with its errors.

References (see ../shared/reference/stats.md, section 3.3): psych's bfi, complete cases
(n = 2436): KMO 0.8486452, item MSA A1 0.754072 ... A5 0.903559, Bartlett chi-square 18146.066
on 300 df (factor_analyzer's figures); psych's own convention on the raw data, pairwise
correlations and n = all 2,800 rows: KMO 0.8459, Bartlett chi-square 20163.79 (issue #21).
Shapiro & Wilk (1965), Biometrika 52, section 5: the weights of 11 men, W = 0.79 (R's
shapiro.test: W = 0.78881, p = 0.006704). Anscombe (1973): r = 0.816 for data set I.
Spearman's rho of IQ against hours of television (the example of Wikipedia's "Spearman's rank
correlation coefficient"): -29/165, p = 0.627188.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from analysis.factors import (
    PAIRWISE,
    collinear_pairs,
    explained_variance,
    factors_for,
    sampling_adequacy,
)
from analysis.streamers import (
    ALL,
    DAILY,
    MONTH,
    PERSONAL,
    SINGLE,
    StreamerData,
    check_folds,
    correlations,
    factor_logit,
    feature_groups,
    importance,
    knn_table,
    prepared,
    read_features,
    sales_levels,
    store_features,
)
from smcat.errors import SettingError, SmcatError
from smcat.store import Store
from tests.conftest import FIXTURES

BFI = FIXTURES / "analysis" / "bfi.csv"
STREAMERS = FIXTURES / "streamers_analysis"
TRUTH = json.loads((STREAMERS / "truth.json").read_text(encoding="utf-8"))


# -- references ----------------------------------------------------------------------------


def test_kmo_and_bartlett_reproduce_psych_on_bfi() -> None:
    adequacy = sampling_adequacy(pd.read_csv(BFI))
    assert adequacy.n == 2436  # complete cases, as psych's published figures use
    assert adequacy.kmo == pytest.approx(0.8486452, abs=5e-7)
    msa = adequacy.msa[["A1", "A2", "A3", "A4", "A5"]].to_numpy()
    assert msa == pytest.approx([0.754072, 0.836432, 0.870202, 0.878042, 0.903559], abs=5e-6)
    assert adequacy.chi_square == pytest.approx(18146.066, abs=5e-3)
    assert adequacy.df == 300 and adequacy.p < 1e-300


def test_kmo_and_bartlett_in_psychs_pairwise_convention_on_bfi() -> None:
    adequacy = sampling_adequacy(pd.read_csv(BFI), PAIRWISE)
    assert adequacy.n == 2800 and adequacy.gaps == 364  # every row; 364 have a gap
    assert adequacy.kmo == pytest.approx(0.8459, abs=5e-5)
    assert adequacy.chi_square == pytest.approx(20163.79, abs=5e-3)
    assert adequacy.df == 300
    table = adequacy.table()
    assert list(table.columns) == ["pairwise, psych"]
    assert table.loc["rows (Bartlett n)", "pairwise, psych"] == "2,800"
    assert table.loc["rows with a gap", "pairwise, psych"] == "364"


def test_a_singular_correlation_matrix_names_the_collinear_columns() -> None:
    data = pd.DataFrame({"a": [1.0, 2, 3, 4, 6], "b": [2.0, 4, 6, 8, 12], "c": [1.0, 0, 2, 1, 3]})
    with pytest.raises(SettingError, match=r"singular \(a and b\).*drop one of each") as error:
        sampling_adequacy(data)
    assert "\n" not in str(error.value) and error.value.settings == {"drop": None}


def test_factors_are_counted_by_cumulative_variance() -> None:
    variance = explained_variance(pd.read_csv(BFI).dropna())
    assert variance["cumulative"].iloc[-1] == pytest.approx(1.0)
    # 25 items: the eigenvalues add up to 25, so each factor's share is its eigenvalue / 25
    assert variance["share"].iloc[0] == pytest.approx(variance["eigenvalue"].iloc[0] / 25)
    n = factors_for(variance, 0.8)
    assert variance["cumulative"].iloc[n - 1] >= 0.8 > variance["cumulative"].iloc[n - 2]
    assert factors_for(variance, 1.0) == 25
    with pytest.raises(SmcatError, match=r"e\.g\. 0\.8"):
        factors_for(variance, 80)


def _one_feature(feature: list[float], sales: list[float]) -> StreamerData:
    index = pd.RangeIndex(len(sales))
    return StreamerData(pd.DataFrame({"month_x": feature}, index), pd.Series(sales, index))


def test_non_normal_sales_take_spearman_as_shapiro_wilk_says() -> None:
    weights = [148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236]  # Shapiro & Wilk 1965
    result = correlations(_one_feature(list(range(11)), weights))
    assert result.shapiro_w == pytest.approx(0.78881, abs=5e-5)
    assert result.shapiro_p == pytest.approx(0.006704, abs=5e-6)
    assert result.method == "Spearman"
    assert result.table.loc["month_x", "coefficient"] == pytest.approx(1.0)  # sorted weights


def test_normal_sales_take_pearson_anscombe() -> None:
    x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
    y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]
    result = correlations(_one_feature(x, y))
    assert result.method == "Pearson"
    assert result.table.loc["month_x", "coefficient"] == pytest.approx(0.816, abs=5e-4)
    assert result.table.loc["month_x", "group"] == MONTH


def test_spearman_on_request_wikipedia_example() -> None:
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    table = correlations(_one_feature(iq, tv), "spearman").table
    assert table.loc["month_x", "coefficient"] == pytest.approx(-29 / 165)
    assert table.loc["month_x", "p"] == pytest.approx(0.627188, abs=5e-7)
    with pytest.raises(SmcatError, match="choose auto, spearman, pearson"):
        correlations(_one_feature(iq, tv), "kendall")


# -- levels and checks -----------------------------------------------------------------------


def test_sales_levels_split_above_the_median_and_at_quantiles() -> None:
    sales = pd.Series([1.0, 2, 3, 4, 5, 6])
    assert sales_levels(sales).tolist() == [0, 0, 0, 1, 1, 1]
    # a streamer at the median is not above it
    assert sales_levels(pd.Series([1.0, 2, 3, 4, 5])).tolist() == [0, 0, 0, 1, 1]
    assert sales_levels(sales, [1 / 3, 2 / 3]).tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(SmcatError, match="between 0 and 1"):
        sales_levels(sales, [50])


def test_too_few_streamers_for_the_folds_is_refused_with_the_fix() -> None:
    too_few = r"has 4 streamers, too few for 5-fold .*needs 5.*fewer folds"
    with pytest.raises(SettingError, match=too_few) as error:
        check_folds(pd.Series([0] * 4 + [1] * 9), 5)
    assert error.value.settings == {"quantiles": None, "folds": None}
    check_folds(pd.Series([0] * 5 + [1] * 5), 5)  # 4 of each level left to train on, 3 needed
    # 2 folds leave half to train on: 6 of a level are needed to keep 3 for the choice of k
    with pytest.raises(SmcatError, match=r"has 5 streamers, too few for 2-fold .*needs 6"):
        check_folds(pd.Series([0] * 5 + [1] * 5), 2)
    with pytest.raises(SmcatError, match="at least 2 folds"):
        check_folds(pd.Series([0] * 50 + [1] * 50), 1)


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "features.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_constant_feature_and_gaps_in_sales_are_refused(tmp_path: Path) -> None:
    constant = read_features(_table(tmp_path, "name,sales,month_a,personal_b\nx,1,3,1\ny,2,3,2\n"))
    with pytest.raises(SettingError, match=r"without variation: month_a: leave them out") as error:
        prepared(constant)
    assert error.value.settings == {"drop": ["month_a"]}
    assert list(prepared(constant, ["month_a"]).features.columns) == ["personal_b"]
    gaps = read_features(_table(tmp_path, "name,sales,month_a\nx,,3\ny,2,4\nz,,5\n"))
    with pytest.raises(SmcatError, match=r"missing for 2 streamers \(x, z\): fill them in"):
        prepared(gaps)


def test_gaps_in_a_feature_are_kept_for_the_folds_and_noted(tmp_path: Path) -> None:
    # the gap is filled inside each fold (see the fold test below), not here on all rows
    data = prepared(read_features(_table(tmp_path, "n,sales,month_a\nx,1,1\ny,2,\nz,3,5\n")))
    assert data.features["month_a"].tolist()[::2] == [1, 5]
    assert np.isnan(data.features["month_a"].iloc[1])
    assert data.notes == [
        "1 of 3 streamers have gaps, imputed with the training streamers' median inside each "
        "cross-validation fold: month_a (1)."
    ]


def test_a_feature_file_names_the_cell_that_is_no_number(tmp_path: Path) -> None:
    with pytest.raises(SmcatError, match=r"row 3, column 'month_a': '很多' is no number"):
        read_features(_table(tmp_path, "n,sales,month_a\nx,1,1\ny,2,很多\n"))
    missing = r"no column 'sales' \(the columns are gmv, month_a\): name the sales column"
    with pytest.raises(SettingError, match=missing) as error:
        read_features(_table(tmp_path, "n,gmv,month_a\nx,1,1\n"))
    assert error.value.settings == {"sales_column": None}


# -- the planted structure of the fixture ----------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_data() -> tuple[StreamerData, pd.Series]:
    data = prepared(read_features(STREAMERS / "streamers.csv"))
    return data, sales_levels(data.sales)


def test_the_fixture_is_100_streamers_with_55_features_in_the_study_groups(fixture_data):
    data, levels = fixture_data
    assert data.features.shape == (100, 55)
    groups = feature_groups(list(data.features.columns))
    assert {g: len(m) for g, m in groups.items()} == {
        PERSONAL: 12, DAILY: 18, MONTH: 25, SINGLE: 1, ALL: 55
    }  # fmt: skip
    assert levels.value_counts().tolist() == [50, 50]


def test_correlations_find_the_engagement_features(fixture_data):
    data, _ = fixture_data
    result = correlations(data)
    assert result.method == "Spearman" and result.shapiro_p < 0.001  # log-normal sales
    top = result.table["coefficient"].abs().sort_values(ascending=False).index[:9]
    assert set(top) == set(TRUTH["engagement"])
    personal = result.table[result.table["group"] == PERSONAL]
    # followers follow reach, not sales; at most a chance hit among 12 unrelated attributes
    assert (personal["p"] < 0.05).sum() <= 1


def test_correlation_stars_follow_adjusted_p_values_so_planted_noise_is_not_starred(
    fixture_data,
):
    data, _ = fixture_data
    noise = [name for name in data.features.columns if "_noise_" in name]
    raw = correlations(data).table
    # unadjusted, three of the 21 planted noise features pass 5% (issue #21)
    assert (raw.loc[noise, "p"] < 0.05).sum() == 3
    starred = {}
    for adjust, label in (("bh", "Benjamini-Hochberg"), ("holm", "Holm")):
        result = correlations(data, adjust=adjust)
        table = result.table
        assert result.adjustment == label
        assert (table[f"p ({label})"] >= table["p"]).all()
        assert (table.loc[TRUTH["engagement"], "sig."] != "").all()
        starred[adjust] = (table.loc[noise, "sig."] != "").sum()
    # BH bounds the share of false discoveries (2 of its 16 here), Holm the chance of any
    assert starred == {"bh": 2, "holm": 0}
    with pytest.raises(SettingError, match="choose bh or holm"):
        correlations(data, adjust="bonferroni")


def test_medians_and_the_factor_count_are_chosen_inside_each_fold(fixture_data):
    data, levels = fixture_data
    features = data.features.copy()
    rng = np.random.default_rng(1)
    for name in ("month_likes_per_video", "daily_videos", "personal_followers"):
        features.loc[rng.random(len(features)) < 0.05, name] = np.nan
    gappy = StreamerData(features, data.sales)
    result = factor_logit(gappy, levels, folds=5, seed=0)
    splits = StratifiedKFold(5, shuffle=True, random_state=0).split(features, levels)
    for (train, _), fold, count in zip(
        splits, result.evaluation.fitted, result.fold_factors, strict=True
    ):
        part = features.iloc[train]
        imputer = fold[0][0]
        assert imputer.statistics_ == pytest.approx(part.median().to_numpy())
        filled = part.fillna(part.median())
        assert count == factors_for(explained_variance(filled), 0.8)
        assert fold[0][-1].n_factors_ == count
    assert result.evaluation.scores["ROC AUC"] > 0.75


def test_knn_scores_the_marketing_month_above_personal_attributes(fixture_data):
    data, levels = fixture_data
    table = knn_table(data, levels, folds=5, seed=0)
    auc = {column.split(" (")[0]: table.loc["ROC AUC", column] for column in table}
    assert auc[PERSONAL] < 0.65  # no relation planted: chance
    assert auc[MONTH] > 0.75 and auc[SINGLE] > 0.7 and auc[ALL] > 0.75
    assert auc[MONTH] > auc[PERSONAL] + 0.15
    assert all(1 <= table.loc["k", c] <= 21 and table.loc["k", c] % 2 for c in table)


def test_factor_scores_predict_the_sales_level_and_collinear_pairs_are_listed(fixture_data):
    data, levels = fixture_data
    result = factor_logit(data, levels, folds=5, seed=0)
    assert [a.convention for a in result.adequacy] == ["pairwise, psych", "complete cases"]
    assert all(a.df == 55 * 54 // 2 and a.p < 1e-10 for a in result.adequacy)
    assert result.variance["cumulative"].iloc[result.n_factors - 1] >= 0.8
    assert result.loadings.shape == (55, result.n_factors)
    assert result.evaluation.scores["ROC AUC"] > 0.75
    planted = {tuple(sorted(pair)) for pair in TRUTH["collinear"]}
    listed = {tuple(sorted(p)) for p in result.collinear[["feature", "other feature"]].to_numpy()}
    assert planted <= listed
    auc = result.evaluation.scores["ROC AUC"]
    curve = result.evaluation.roc[f"high vs low (AUC {auc:.3f})"]  # the legend shows the AUC
    assert curve["fpr"].iloc[0] == 0 and curve["tpr"].iloc[-1] == 1
    low, high = result.evaluation.intervals["ROC AUC"]
    assert 0.5 < low < auc < high <= 1 and high - low < 0.3
    low, high = result.evaluation.intervals["F1"]
    assert low < result.evaluation.scores["F1"] < high


def test_permutation_importance_ranks_engagement_first(fixture_data):
    data, levels = fixture_data
    ranked = importance(data, levels, folds=5, seed=0)
    assert len(ranked) == 55
    assert set(ranked.index[:5]) <= set(TRUTH["engagement"])


def test_collinear_pairs_are_strongest_first() -> None:
    data = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 2, 3, 5], "c": [4.0, 3, 2, 1.5]})
    pairs = collinear_pairs(data)
    assert [tuple(p) for p in pairs[["feature", "other feature"]].to_numpy()] == [
        ("a", "c"), ("a", "b"), ("b", "c")
    ]  # fmt: skip
    assert (pairs["r"].abs().diff().dropna() <= 0).all()


# -- from the store --------------------------------------------------------------------------


def test_store_features_combine_profile_posts_lives_and_imported_sales(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        store.upsert_accounts(
            [
                {"platform": "douyin", "account_id": a, "screen_name": name, "verified": v,
                 "observed_at": "2025-10-01T00:00:00+08:00", "followers": followers}
                for a, name, v, followers in (("A", "兰蔻", 1, 1000), ("B", "小鱼", 0, 500),
                                              ("C", None, 0, 10))
            ]
            + [{"platform": "douyin", "account_id": "A", "observed_at": "2025-10-20T00:00:00Z",
                "followers": 2000}]
        )  # fmt: skip
        posts = [
            ("A", "a1", "2025-10-30T10:00:00+08:00", "video", 100, 10, 4),
            ("A", "a2", "2025-10-20T10:00:00+08:00", "video", 300, 30, 8),
            ("A", "a3", "2025-10-25T10:00:00+08:00", "image", 50, 5, 1),
            ("A", "a0", "2025-09-01T10:00:00+08:00", "video", 9999, 999, 99),  # before the window
            ("B", "b1", "2025-10-31T12:00:00+08:00", "video", 60, 6, 0),
        ]
        store.upsert_posts(
            {"platform": "douyin", "account_id": a, "post_id": p, "created_at": t,
             "media_type": m, "observed_at": "2025-11-01T00:00:00Z", "likes": likes,
             "comments": comments, "shares": shares}
            for a, p, t, m, likes, comments, shares in posts
        )  # fmt: skip
        store.upsert_live_rooms(
            {"platform": "douyin", "room_id": r, "account_id": "A", "started_at": start,
             "observed_at": seen, "viewers_now": now, "viewers_total": total, "likes": likes}
            for r, start, seen, now, total, likes in (
                ("r1", "2025-10-28T20:00:00+08:00", "2025-10-28T21:00:00+08:00", 50, 400, 10),
                ("r1", "2025-10-28T20:00:00+08:00", "2025-10-28T22:00:00+08:00", 30, 600, 20),
                ("r2", "2025-10-29T20:00:00+08:00", "2025-10-29T21:00:00+08:00", 90, 1000, 40),
            )
        )  # fmt: skip
        store.upsert_streamer_stats(
            [
                {"source": "chanmama", "account": "lankou", "period": "2025-10",
                 "platform": "douyin", "account_id": "A", "nickname": "兰蔻官方",
                 "sales_amount": 5000.0, "sales_amount_low": 5000.0,
                 "sales_amount_high": 5000.0},
                {"source": "chanmama", "account": "xiaoyu", "period": "2025-10",
                 "platform": "douyin", "account_id": "B", "sales_amount_low": 1000.0,
                 "sales_amount_high": 3000.0},
                {"source": "chanmama", "account": "nobody", "period": "2025-10",
                 "sales_amount": 7.0},  # linked to no crawled account
            ]
        )  # fmt: skip
        data = store_features(store, days=30)
    assert list(data.sales.index) == ["兰蔻", "小鱼"]
    assert data.sales.tolist() == [5000.0, 2000.0]  # B's range: its midpoint
    a, b = data.features.loc["兰蔻"], data.features.loc["小鱼"]
    assert a["personal_followers"] == 2000 and a["personal_verified"] == 1  # the latest snapshot
    assert (a["month_posts"], a["month_videos"], a["month_video_share"]) == (3, 2, 2 / 3)
    assert a["month_likes_per_video"] == 200 and a["month_comments_per_video"] == 20
    assert a["month_shares_per_video"] == 6 and a["month_likes_per_follower"] == 400 / 2000
    assert a["daily_videos_per_day"] == pytest.approx(2 / 30)
    assert (a["daily_live_sessions"], a["daily_live_peak_viewers"]) == (2, 70)
    assert (a["daily_live_viewers_total"], a["daily_live_likes"]) == (800, 30)
    assert b["daily_live_sessions"] == 0 and np.isnan(b["daily_live_peak_viewers"])
    assert b["month_likes_per_follower"] == 60 / 500
    assert any("midpoint" in note for note in data.notes)


def test_store_without_linked_sales_says_what_to_import(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "empty.db") as store,
        pytest.raises(SmcatError, match="smcat import streamers FILE"),
    ):
        store_features(store)


# -- the command -----------------------------------------------------------------------------------


def _small_table(tmp_path: Path, rows: int = 40) -> Path:
    """The fixture's first `rows` streamers and a handful of its features, for a quick run."""
    table = pd.read_csv(STREAMERS / "streamers.csv", index_col=0).iloc[:rows]
    columns = ["sales", "personal_age", "personal_followers", "daily_videos", "daily_noise_01",
               "month_likes_per_follower", "month_likes_per_video", "month_noise_01"]  # fmt: skip
    path = tmp_path / "small.csv"
    table[columns].to_csv(path)
    return path


def test_analyze_streamers_writes_tables_plots_and_page(smcat, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = smcat("analyze", "streamers", "--features", str(_small_table(tmp_path)),
                   "--folds", "3", "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "K-nearest neighbours per feature group" in result.stdout
    for key in ("correlation", "knn", "adequacy", "variance", "loadings", "factor-logit",
                "collinear", "importance"):  # fmt: skip
        assert (out / f"streamers-{key}.md").is_file() and (out / f"streamers-{key}.csv").is_file()
    assert (out / "streamers-roc.png").stat().st_size > 0
    page = (out / "streamers.html").read_text(encoding="utf-8")
    assert "Shapiro-Wilk on sales" in page and "streamers-importance.png" in page
    knn = pd.read_csv(out / "streamers-knn.csv", index_col=0)
    assert list(knn.columns) == [f"{PERSONAL} (2)", f"{DAILY} (2)", f"{MONTH} (3)",
                                 f"{SINGLE} (1)", f"{ALL} (7)"]  # fmt: skip
    assert {"F1 95% CI", "ROC AUC 95% CI"} <= set(knn.index)
    correlation = pd.read_csv(out / "streamers-correlation.csv", index_col=0)
    assert "p (Benjamini-Hochberg)" in correlation.columns
    adequacy = pd.read_csv(out / "streamers-adequacy.csv", index_col=0)
    assert list(adequacy.columns) == ["pairwise, psych", "complete cases"]
    assert "rows with a gap" in adequacy.index and "rows (complete)" not in adequacy.index
    assert "95% CI" in pd.read_csv(out / "streamers-factor-logit.csv", index_col=0).columns
    assert "adjusted for 7 tests by Benjamini-Hochberg" in page
    holm = smcat("analyze", "streamers", "--features", str(_small_table(tmp_path)),
                 "--folds", "3", "--adjust", "holm", "-o", str(tmp_path / "holm"))  # fmt: skip
    assert holm.returncode == 0, holm.stderr
    assert "p (Holm)" in (tmp_path / "holm" / "streamers-correlation.csv").read_text("utf-8")


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (lambda t: t.assign(month_noise_01=1.0), (), "--drop month_noise_01"),
        (lambda t: t.assign(sales=t["sales"].mask(t.index == t.index[3])), (),
         "sales are missing for 1 streamers"),
        (lambda t: t.iloc[:8], ("--folds", "5"), "too few for 5-fold"),
        (lambda t: t, ("--folds", "1"), "at least 2 folds (--folds)"),
        (lambda t: t, ("--adjust", "fdr"), "choose bh or holm (--adjust)"),
    ],
)  # fmt: skip
def test_analyze_streamers_errors_are_one_line_with_the_fix(smcat, tmp_path, edit, args, message):
    path = _small_table(tmp_path)
    edit(pd.read_csv(path, index_col=0)).to_csv(path)
    result = smcat("analyze", "streamers", "--features", str(path), *args,
                   "-o", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
