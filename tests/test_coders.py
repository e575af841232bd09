"""Who coded: choosing the people to compare and the machine to score, and the codes that
reliability is measured on, as `smcat code` and a Python user both get them."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding.codebook import default_codebook_path, load_codebook
from coding.reliability import reliability_data, reliability_table
from smcat.coders import (
    GOLD,
    SeveralMachines,
    choose_machine,
    choose_people,
    is_machine,
    is_person,
    machine_name,
    people,
)
from smcat.errors import SmcatError
from smcat.store import Store

CODED_AT = "2025-12-01T10:00:00+08:00"
# B3 of four posts by two people, gold and two versions of the machine
VALUES = {
    "ann": [1, 1, 0, 0],
    "bo": [1, 0, 0, 0],
    GOLD: [1, 1, 0, 0],
    "auto:brand_posts@1": [1, 0, 0, 0],
    "auto:brand_posts@2": [1, 1, 0, 0],
}


def code(store: Store, coder: str, values: list[int], version: str = "1") -> None:
    common = {"platform": "weibo", "codebook": "brand_posts", "coder": coder,
              "codebook_version": version, "coded_at": CODED_AT}  # fmt: skip
    marks = [{**common, "post_id": str(i)} for i in range(len(values))]
    # the machine stores only its 1s; a person every value
    codes = [{**mark, "subcategory": "B3", "value": value}
             for mark, value in zip(marks, values, strict=True)
             if value or not is_machine(coder)]  # fmt: skip
    assert store.add_coded(codes, marks).stored


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "coders.db") as store:
        codebook = load_codebook(default_codebook_path())
        store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
        for coder, values in VALUES.items():
            code(store, coder, values, coder.rpartition("@")[2] if is_machine(coder) else "1")
        yield store


def test_coder_names_say_who_coded() -> None:
    assert machine_name("brand_posts", "1") == "auto:brand_posts@1"
    assert is_machine("auto:brand_posts@1") and not is_machine("ann")
    assert is_person("ann") and not is_person(GOLD) and not is_person("auto:brand_posts@1")


def test_people_are_the_coders_that_are_not_gold_or_a_machine(store: Store) -> None:
    assert people(store, "brand_posts") == ["ann", "bo"]
    assert choose_people(store, "brand_posts") == ["ann", "bo"]
    assert choose_people(store, "brand_posts", [GOLD, "ann"]) == [GOLD, "ann"]  # named: any coder
    with pytest.raises(SmcatError, match=r"no codes of coder 'cy'.*coders are .*ann, auto:"):
        choose_people(store, "brand_posts", ["ann", "cy"])
    with pytest.raises(SmcatError, match="needs two coders"):
        choose_people(store, "brand_posts", ["ann"])
    with pytest.raises(SmcatError, match="needs two coders"):
        choose_people(store, "other_book")


def test_the_machine_is_the_one_named_or_the_only_one(store: Store, tmp_path: Path) -> None:
    assert choose_machine(store, "brand_posts", "auto:brand_posts@2") == "auto:brand_posts@2"
    with pytest.raises(SeveralMachines) as several:
        choose_machine(store, "brand_posts")
    assert several.value.machines == ["auto:brand_posts@1", "auto:brand_posts@2"]
    assert "--" not in str(several.value)  # the library speaks of the problem, not of options
    assert several.value.settings == {"machine": None}  # the parameter that names the one
    with pytest.raises(SmcatError, match="no codes of coder 'auto:brand_posts@9'"):
        choose_machine(store, "brand_posts", "auto:brand_posts@9")
    with Store.open(tmp_path / "one.db") as one:
        code(one, "auto:brand_posts@1", [0, 0])  # coded posts without a single 1 count too
        assert choose_machine(one, "brand_posts") == "auto:brand_posts@1"
        with pytest.raises(SmcatError, match="run `smcat code auto`"):
            choose_machine(one, "other_book")


def test_reliability_data_are_the_peoples_codes_by_post(store: Store) -> None:
    data = reliability_data(store)
    assert data.coders == ["ann", "bo"]
    assert sorted(data.codes.itertuples(index=False)) == sorted(
        (f"weibo:{i}", coder, "B3", VALUES[coder][i]) for coder in ("ann", "bo") for i in range(4)
    )
    table = reliability_table(data.codes, n_boot=0).set_index("name")
    assert table.loc["B3", "percent_agreement"] == pytest.approx(3 / 4)
    assert reliability_data(store, coders=["ann", GOLD]).coders == ["ann", GOLD]


def test_the_accuracy_command_names_its_option_for_the_machine(smcat, store: Store) -> None:
    several = smcat("code", "accuracy", "--db", str(store.path))
    assert several.returncode == 1
    assert "several machine coders coded brand_posts" in several.stderr
    assert "name the one to use (--machine)" in several.stderr
    chosen = smcat("code", "accuracy", "--db", str(store.path), "--machine", "auto:brand_posts@1")
    assert chosen.returncode == 0, chosen.stderr
    assert "auto:brand_posts@1 vs gold: 4 posts" in chosen.stdout
