"""`smcat code reliability` on codes in the store: the published worked examples end to end."""

from __future__ import annotations

import csv

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from coding.codebook import default_codebook_path
from smcat.store import Store
from tests.test_reliability import KRIPPENDORFF_4, KRIPPENDORFF_BINARY

CODED_AT = "2025-12-01T10:00:00+08:00"


def store_codes(db, item: str, matrix: pd.DataFrame) -> None:
    rows = [
        {"platform": "weibo", "post_id": f"{item}-{unit}", "codebook": "brand_posts",
         "subcategory": item, "coder": coder, "codebook_version": "1", "value": int(value),
         "coded_at": CODED_AT}
        for unit, row in matrix.iterrows() for coder, value in row.items() if pd.notna(value)
    ]  # fmt: skip
    with Store.open(db) as store:
        assert store.upsert_codes(rows).stored == len(rows)


def test_reliability_reproduces_krippendorffs_examples(smcat, tmp_path):
    db = tmp_path / "codes.db"
    store_codes(db, "B1", KRIPPENDORFF_4)
    store_codes(db, "B2", KRIPPENDORFF_BINARY)
    store_codes(db, "X1", KRIPPENDORFF_BINARY.rename(columns={"A": "auto:brand_posts@1"}))
    out = tmp_path / "reliability.csv"
    result = smcat("code", "reliability", "--db", str(db), "--csv", str(out), "--boot", "200")
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert round(float(rows["B1"]["alpha"]), 3) == 0.743  # Krippendorff 2011, section C
    assert round(float(rows["B2"]["alpha"]), 3) == 0.095  # section A
    assert "unacceptable" in rows["B2"]["flags"] and "tentative" in rows["B1"]["flags"]
    assert rows["B"]["scope"] == "level" and int(rows["B"]["n_units"]) == 11 + 10
    # the machine's codes are not a coder's: X1 has only B's codes, so nothing to compare
    assert rows["X1"]["flags"] == "no pairable units"
    assert "B1" in result.stdout and "0.743" in result.stdout


def test_reliability_says_what_is_missing(smcat, tmp_path):
    db = tmp_path / "one.db"
    store_codes(db, "B2", KRIPPENDORFF_BINARY[["A"]])
    alone = smcat("code", "reliability", "--db", str(db))
    assert alone.returncode == 1 and "two coders" in alone.stderr
    unknown = smcat("code", "reliability", "--db", str(db), "--coder", "A", "--coder", "Z")
    assert unknown.returncode == 1 and "'Z'" in unknown.stderr and "coders are A" in unknown.stderr


def test_codebook_validate_lists_every_problem_by_line(smcat, tmp_path):
    bundled = smcat("code", "codebook", "validate")
    assert bundled.returncode == 0, bundled.stderr
    assert "codebook brand_posts version 1 is valid: 21 subcategories (18 coded)" in bundled.stdout
    text = default_codebook_path().read_text(encoding="utf-8")
    broken = text.replace('version: "1"', "version: 1").replace("field: pic_count", "field: pics")
    path = tmp_path / "mine.yaml"
    path.write_text(broken, encoding="utf-8")
    (tmp_path / "hot_words_lexicon.txt").write_text("yyds\n", encoding="utf-8")
    (tmp_path / "hot_words_2010_2013.txt").write_text("给力\n", encoding="utf-8")
    result = smcat("code", "codebook", "validate", str(path))
    assert result.returncode == 1 and "2 problem(s)" in result.stderr
    lines = result.stdout.splitlines()
    version_line = broken.splitlines().index("version: 1") + 1
    assert lines[0].startswith(f"{path}:{version_line}:") and 'quote it: "1"' in lines[0]
    assert "unknown field 'pics'" in lines[1]


def test_code_auto_codes_every_post_with_or_without_workers(smcat, tmp_path):
    when = "2025-03-05T10:00:00+08:00"
    for workers in ("0", "2"):
        db = tmp_path / f"auto{workers}.db"
        with Store.open(db) as store:
            store.upsert_posts([
                {"platform": "weibo", "post_id": str(i), "account_id": "a", "created_at": when,
                 "observed_at": when, "text": text}
                for i, text in enumerate(["今天抽奖啦", "今天天气不错", "新品上市"] * 5)
            ])  # fmt: skip
        result = smcat("code", "auto", "--db", str(db), "--workers", workers, "--batch", "4")
        assert result.returncode == 0, result.stderr
        assert "auto:brand_posts@1: coded 15 new posts (0 before), 10 codes" in result.stdout
    bad = smcat("code", "auto", "--db", str(db), "--workers", "-1")
    assert bad.returncode == 2 and "workers" in bad.stderr


def test_reliability_with_the_machine_takes_its_missing_codes_as_0s(smcat, tmp_path):
    # two people code C5 of 200 posts (0s and 1s); the machine coded all 200 and stored its 1s
    rng = np.random.default_rng(20)
    person_a = rng.random(200) < 0.3
    person_b = np.where(rng.random(200) < 0.9, person_a, ~person_a)
    machine = np.where(person_a, rng.random(200) < 0.5, rng.random(200) < 0.1)
    db, machine_coder = tmp_path / "machine.db", "auto:brand_posts@1"
    people = pd.DataFrame({"A": person_a.astype(int), "B": person_b.astype(int)})
    store_codes(db, "C5", people)
    posts = [("weibo", f"C5-{unit}") for unit in range(200)]
    with Store.open(db) as store:
        store.save_codebook("brand_posts", "1", default_codebook_path().read_text("utf-8"))
        store.add_coded_batch(
            [(*post, "C5", "[]") for post, coded in zip(posts, machine, strict=True) if coded],
            posts, codebook="brand_posts", coder=machine_coder, codebook_version="1",
            coded_at=CODED_AT,
        )  # fmt: skip
    out = tmp_path / "machine.csv"
    result = smcat("code", "reliability", "--db", str(db), "--csv", str(out), "--boot", "0",
                   "--coder", "A", "--coder", "B", "--coder", "auto")  # fmt: skip
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    matrix = np.vstack([person_a, person_b, machine]).astype(int)  # coders x units
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert int(rows["C5"]["n_units"]) == 200
    assert float(rows["C5"]["alpha"]) == pytest.approx(expected, abs=1e-9)
    assert float(rows["C5"]["kappa A vs auto:brand_posts@1"]) == pytest.approx(
        cohen_kappa_score(person_a, machine), abs=1e-9
    )


def test_reliability_says_it_uses_the_shared_posts_and_warns_when_few(smcat, tmp_path):
    db = tmp_path / "codes.db"
    store_codes(db, "B2", KRIPPENDORFF_BINARY)
    few = smcat("code", "reliability", "--db", str(db), "--boot", "0")
    assert few.returncode == 0, few.stderr
    assert "computed on the posts two or more of the coders coded (10 at most" in few.stdout
    assert "warning: only 10 shared posts (under 50)" in few.stderr
    many = pd.concat([KRIPPENDORFF_BINARY] * 5, ignore_index=True)
    store_codes(db, "B3", many)
    enough = smcat("code", "reliability", "--db", str(db), "--boot", "0")
    assert enough.returncode == 0 and "warning" not in enough.stderr
