"""Machine accuracy against gold: published worked examples, and the command on a store."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from coding.accuracy import accuracy_table
from coding.codebook import default_codebook_path, load_codebook
from smcat.store import Store

CODEBOOK = load_codebook(default_codebook_path())
SUBS = [sub.id for sub in CODEBOOK.coded()]


def pairs(item: str, gold: list[int], machine: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"unit": range(len(gold)), "item": item, "gold": gold, "machine": machine})


def test_wikipedias_dog_recogniser() -> None:
    # Wikipedia, "Precision and recall": a program identifies 8 dogs in a picture of 12 dogs
    # and 10 cats; 5 of the 8 are dogs. Precision 5/8, recall 5/12.
    gold = [1] * 12 + [0] * 10
    machine = [1] * 5 + [0] * 7 + [1] * 3 + [0] * 7
    row = accuracy_table(pairs("B1", gold, machine)).iloc[0]
    assert (row["tp"], row["fp"], row["fn"], row["tn"], row["support"]) == (5, 3, 7, 7, 12)
    assert row["precision"] == pytest.approx(5 / 8) and row["recall"] == pytest.approx(5 / 12)
    assert row["f1"] == pytest.approx(0.5)


def test_scikit_learns_documented_averages() -> None:
    # scikit-learn's precision_recall_fscore_support documentation: y_true = [cat, dog, pig,
    # cat, dog, pig], y_pred = [cat, pig, dog, cat, cat, dog]; one-vs-rest per class gives
    # macro (0.22, 0.33, 0.26) and micro (0.33, 0.33, 0.33).
    true = ["cat", "dog", "pig", "cat", "dog", "pig"]
    pred = ["cat", "pig", "dog", "cat", "cat", "dog"]
    frame = pd.concat(
        pairs(label, [int(t == label) for t in true], [int(p == label) for p in pred])
        for label in ("cat", "dog", "pig")
    )
    table = accuracy_table(frame).set_index("name")
    macro, micro = table.loc["macro"], table.loc["micro"]
    assert (macro["precision"], macro["recall"], macro["f1"]) == pytest.approx(
        (0.2222, 0.3333, 0.2667), abs=5e-5
    )
    assert (micro["precision"], micro["recall"], micro["f1"]) == pytest.approx((1 / 3,) * 3)
    assert table.loc["cat", "f1"] == pytest.approx(0.8) and table.loc["dog", "f1"] == 0


def test_undefined_scores_and_the_macro_mean() -> None:
    frame = pd.concat([
        pairs("B1", [1, 0], [1, 0]),  # perfect
        pairs("B2", [1, 1], [0, 0]),  # never predicted: precision undefined, recall 0
        pairs("B3", [0, 0], [0, 0]),  # nobody codes it: no evidence either way
    ])  # fmt: skip
    table = accuracy_table(frame).set_index("name")
    assert pd.isna(table.loc["B2", "precision"]) and table.loc["B2", "recall"] == 0
    assert table.loc["B3", ["precision", "recall", "f1"]].isna().all()
    assert table.loc["macro", "n"] == 2  # B1 and B2
    assert table.loc["macro", "precision"] == pytest.approx(0.5)  # (1 + 0) / 2


def test_the_accuracy_command_scores_the_machine_against_gold(smcat, tmp_path: Path) -> None:
    coded_at = "2025-12-01T10:00:00+08:00"
    gold = [1] * 12 + [0] * 10  # the dog recogniser again, on B3 of 22 posts
    machine = [1] * 5 + [0] * 7 + [1] * 3 + [0] * 7
    with Store.open(tmp_path / "study.db") as store:
        store.upsert_posts(
            {"platform": "weibo", "post_id": str(i), "created_at": coded_at} for i in range(22)
        )
        store.save_codebook(CODEBOOK.name, CODEBOOK.version, CODEBOOK.yaml_text)
        common = {"platform": "weibo", "codebook": "brand_posts", "codebook_version": "1",
                  "coded_at": coded_at}  # fmt: skip
        marks = [{**common, "post_id": str(i)} for i in range(22)]
        store.add_coded(
            [{**common, "post_id": str(i), "coder": "gold", "subcategory": sub,
              "value": int(sub == "B3" and gold[i])} for i in range(22) for sub in SUBS],
            [{**mark, "coder": "gold"} for mark in marks],
        )  # fmt: skip
        store.add_coded(
            [{**common, "post_id": str(i), "coder": "auto:brand_posts@1", "subcategory": "B3",
              "value": 1} for i in range(22) if machine[i]],
            [{**mark, "coder": "auto:brand_posts@1"} for mark in marks],
        )  # fmt: skip
    result = smcat("code", "accuracy", "--db", "study.db", "--csv", "acc.csv")
    assert result.returncode == 0, result.stderr
    assert "auto:brand_posts@1 vs gold: 22 posts" in result.stdout
    with open(tmp_path / "acc.csv", encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert float(rows["B3"]["precision"]) == pytest.approx(5 / 8)
    assert float(rows["B3"]["recall"]) == pytest.approx(5 / 12)
    assert rows["B1"]["precision"] == "" and int(rows["B1"]["tn"]) == 22
    assert float(rows["macro"]["f1"]) == pytest.approx(0.5)  # only B3 was ever coded 1
