"""Commerce imports and analyses: the fixture's planted structure recovered, small hand-checked
cases, and the CLI end to end."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.commerce import order_lines
from analysis.lifecycle import churn_models, rfm, silent_customers
from analysis.pricing import parse_bands, price_bands, price_sensitivity
from analysis.recommend import holdout_hit_rate, item_similarity, purchase_matrix, recommend
from analysis.segments import kmeans_segments, shopper_features
from smcat.errors import SmcatError
from smcat.imports.commerce import CommerceImportError, import_commerce
from smcat.store import Store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "commerce"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The fixture's order lines, imported into a store and read back."""
    with Store.open(tmp_path_factory.mktemp("commerce") / "c.db") as store:
        import_commerce(store, "products", FIXTURE / "products.csv")
        import_commerce(store, "orders", FIXTURE / "orders.csv")
        return order_lines(store)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(FIXTURE / "customers_truth.csv").set_index("customer_id")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- imports ---------------------------------------------------------------------------------


def test_import_stores_good_rows_and_names_rejects_by_row(tmp_path: Path) -> None:
    orders = write_csv(
        tmp_path / "orders.csv",
        "order_id,customer_id,product_id,ordered_at,quantity,price\n"
        "1,c1,p1,2024-03-01 10:00:00,2,9.9\n"
        "2,c1,p2,yesterday,1,5\n"  # row 3: no time
        "3,c2,p1,2024-03-02T10:00:00+00:00,1,-1\n"  # row 4: refused by the CHECK
        "4,c2,,2024-03-02 11:00,1,5\n"  # row 5: no product
        "5,c3,p3,2024-03-03,,12\n",
    )
    with Store.open(tmp_path / "s.db") as store:
        report = import_commerce(store, "orders", orders)
        assert report.stored == 2
        assert [row for row, _ in report.rejects] == [3, 4, 5]
        assert "ordered_at" in report.rejects[0][1]
        assert "price" in report.rejects[1][1]
        assert "product_id is missing" in report.rejects[2][1]
        assert store.count("rejects") == 3
        stored = order_lines(store)
    assert stored["order_id"].tolist() == ["1", "5"]
    assert stored["quantity"].tolist() == [2, 1]  # a missing quantity is one
    # a time without an offset is China time
    assert stored["ordered_at"].iloc[0] == pd.Timestamp("2024-03-01 02:00:00", tz="UTC")
    assert stored["amount"].tolist() == pytest.approx([19.8, 12])


def test_products_from_xlsx_keep_their_attributes(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["product_id", "name", "list_price", "free_shipping", "colour"])
    sheet.append(["p1", "lipstick", 99, 1, "red"])
    sheet.append(["p2", "mascara", 59.5, 0, None])
    book.save(tmp_path / "products.xlsx")
    with Store.open(tmp_path / "s.db") as store:
        report = import_commerce(store, "products", tmp_path / "products.xlsx")
        rows = store.products().rows
    assert report.attributes == ("free_shipping", "colour")
    assert rows == [
        ("p1", "lipstick", None, None, 99.0, {"free_shipping": "1", "colour": "red"}),
        ("p2", "mascara", None, None, 59.5, {"free_shipping": "0"}),
    ]


@pytest.mark.parametrize(
    ("kind", "header", "message"),
    [
        (
            "orders",
            "order_id,customer_id,product_id,ordered_at,price,coupon",
            "unknown column 'coupon'",
        ),
        ("orders", "order_id,customer_id,product_id,price", "no column 'ordered_at'"),
        ("products", "product_id,brnad", "'brnad' looks like 'brand'"),
        ("choices", "choice_id,alternative,chosen,chosen", "'chosen' appears twice"),
    ],
)
def test_bad_headers_name_the_fix(tmp_path: Path, kind: str, header: str, message: str) -> None:
    path = write_csv(tmp_path / "f.csv", header + "\n" + ",".join("1" * len(header.split(","))))
    with Store.open(tmp_path / "s.db") as store, pytest.raises(CommerceImportError, match=message):
        import_commerce(store, kind, path)


# -- lifecycle -------------------------------------------------------------------------------


def test_rfm_scores_by_hand() -> None:
    day = pd.Timestamp("2024-01-01", tz="UTC")
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c", "d", "e"],
            "order_id": ["1", "2", "3", "4", "5", "6", "7", "8"],
            "ordered_at": [day + pd.Timedelta(days=d) for d in (0, 50, 99, 10, 60, 90, 30, 95)],
            "amount": [100.0, 100, 100, 5, 20, 20, 50, 500],
        }
    )
    table = rfm(lines)  # as of just after day 99
    # recency a 0 days, e 4, c 9, d 69, b 89 -> R 5, 4, 3, 2, 1
    assert table["r"].to_dict() == {"a": 5, "b": 1, "c": 3, "d": 2, "e": 4}
    # orders a 3, c 2, then b, d, e 1 each (ties in order of appearance) -> F 5, 4, 1, 2, 3
    assert table["f"].to_dict() == {"a": 5, "b": 1, "c": 4, "d": 2, "e": 3}
    # spent e 500, a 300, d 50, c 40, b 5
    assert table["m"].to_dict() == {"a": 4, "b": 1, "c": 2, "d": 3, "e": 5}
    assert table.loc["a", "segment"] == "champions"
    assert table.loc["b", "segment"] == "hibernating"
    assert table.loc["e", "rfm"] == "435"


def test_rfm_frequency_follows_planted_segments(lines: pd.DataFrame, truth: pd.DataFrame) -> None:
    f = rfm(lines)["f"].groupby(truth["segment"]).mean()
    assert f["premium"] > f["deal"] > f["occasional"]


def test_silent_customers_are_the_ones_who_stopped(lines: pd.DataFrame, truth) -> None:
    silent = silent_customers(lines)
    stopped = truth["stopped_at"].notna()
    assert len(silent) > 50
    assert stopped[silent.index].mean() > 0.75


def test_churn_models_separate_churners(lines: pd.DataFrame) -> None:
    result = churn_models(lines, horizon_days=90)
    assert result.test_cutoff - result.train_cutoff == pd.Timedelta(days=90)
    for model in result.models:
        assert model.auc > 0.8, model.name
        assert model.lift_top_decile > 1.5, model.name
        assert model.calibration["predicted"].between(0, 1).all()


def test_lift_at_top_decile_by_hand() -> None:
    from analysis.lifecycle import lift_at

    y = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0] * 2)  # 20% churn
    scores = np.linspace(1, 0, 20)  # the first two scored highest: y 1 and 0
    assert lift_at(y, scores) == pytest.approx(0.5 / 0.2)


# -- segments and prices ---------------------------------------------------------------------


def test_kmeans_recovers_the_three_planted_segments(lines: pd.DataFrame, truth) -> None:
    segments = kmeans_segments(shopper_features(lines))
    assert segments.k == 3
    assert adjusted_rand_score(truth.loc[segments.labels.index, "segment"], segments.labels) > 0.85
    assert segments.profile["customers"].sum() == len(segments.labels)


def test_price_sensitivity_segments(lines: pd.DataFrame, truth: pd.DataFrame) -> None:
    table = price_sensitivity(lines)
    planted = truth.loc[table.index, "segment"]
    assert (table.loc[planted == "deal", "segment"] == "discount seekers").mean() > 0.9
    assert (table.loc[planted == "premium", "segment"] == "premium buyers").all()
    assert not (table.loc[planted == "occasional", "segment"] == "discount seekers").any()


def test_price_bands_by_hand() -> None:
    lines = pd.DataFrame({"price": [10, 49.9, 50, 120, 800], "quantity": [1, 2, 1, 1, 1]})
    lines["amount"] = lines["price"] * lines["quantity"]
    table = price_bands(lines, parse_bands("0,50,100"))
    assert table.index.tolist() == ["0-50", "50-100", "100+"]
    assert table["units"].tolist() == [3, 1, 2]
    # amounts 10 + 99.8, 50, 120 + 800 of 1079.8
    assert table["amount share"].tolist() == pytest.approx(
        [109.8 / 1079.8, 50 / 1079.8, 920 / 1079.8]
    )
    with pytest.raises(SmcatError, match="start the bands lower"):
        price_bands(lines, [20, 100])
    with pytest.raises(SmcatError, match="rising"):
        parse_bands("100,50")


# -- recommendations -------------------------------------------------------------------------


def test_cosine_similarity_and_top_n_by_hand() -> None:
    lines = pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u2", "u2", "u3", "u3"],
            "item": ["a", "b", "a", "b", "a", "c"],
        }
    )
    matrix = purchase_matrix(lines)
    similarity = item_similarity(matrix)
    # a by u1,u2,u3; b by u1,u2; c by u3: cos(a,b) = 2/(sqrt3 sqrt2), cos(a,c) = 1/sqrt3
    assert similarity.loc["a", "b"] == pytest.approx(2 / np.sqrt(6))
    assert similarity.loc["a", "c"] == pytest.approx(1 / np.sqrt(3))
    assert similarity.loc["b", "c"] == 0
    top = recommend(matrix, similarity, top_n=1)
    # u1 (a, b) gets c: sim(a,c) + sim(b,c); u3 (a, c) gets b: 2/sqrt6 + 0
    assert top.set_index("customer_id")["item"].to_dict() == {"u1": "c", "u2": "c", "u3": "b"}


def test_collaborative_filtering_beats_popularity_on_held_out(lines: pd.DataFrame) -> None:
    result = holdout_hit_rate(lines, top_n=5)
    assert result.customers > 200
    # customers buy within a favourite category 9 times in 10
    assert result.hit_rate > 0.7
    assert result.hit_rate > result.popular_hit_rate + 0.3


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_six_baskets_prints_both_tables(smcat: Run, tmp_path: Path) -> None:
    imported = smcat("import", "orders", str(FIXTURE / "six_baskets.csv"), db=tmp_path / "b.db")
    assert imported.returncode == 0, imported.stderr
    assert "stored 15 orders rows" in imported.stdout
    run = smcat("analyze", "basket", "-o", "out", db=tmp_path / "b.db")
    assert run.returncode == 0, run.stderr
    assert "| shampoo | 1 | 1 | 1 | 4 | 3 |" in run.stdout
    assert "| shower gel | 0.333 | 0.333 | 0.333 | 1.000 |  |" in run.stdout
    out = tmp_path / "out"
    for name in (
        "basket.html",
        "basket-pairs.csv",
        "basket-confidence.md",
        "basket-rules.csv",
        "basket-confidence.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert 'src="basket-confidence.png"' in (out / "basket.html").read_text(encoding="utf-8")


def test_cli_imports_and_every_analysis(smcat: Run, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    for kind in ("products", "orders", "choices"):
        run = smcat("import", kind, str(FIXTURE / f"{kind}.csv"), db=db)
        assert run.returncode == 0, run.stderr
    for command in ("choice", "segments", "rfm", "churn", "recommend", "price-bands"):
        run = smcat("analyze", command, "-o", "out", db=db)
        assert run.returncode == 0, (command, run.stderr)
        assert (tmp_path / "out" / f"{command}.html").exists()
    assert list((tmp_path / "out").glob("*.png"))
    listed = smcat("analyze", "--help").stdout
    for command in (
        "effects",
        "basket",
        "choice",
        "segments",
        "rfm",
        "churn",
        "recommend",
        "price-bands",
    ):
        assert command in listed


def test_cli_rejects_exit_1_naming_rows(smcat: Run, tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path / "c.csv", "choice_id,alternative,chosen,price\n1,A,1,10\n1,B,maybe,12\n"
    )
    run = smcat("import", "choices", str(bad), db=tmp_path / "c.db")
    assert run.returncode == 1
    assert "row 3 rejected: chosen: not a yes/no flag: 'maybe'" in run.stdout
    assert "1 rows of" in run.stderr
    empty = smcat("analyze", "basket", db=tmp_path / "c.db")
    assert empty.returncode == 1
    assert "import them with `smcat import orders FILE`" in empty.stderr
