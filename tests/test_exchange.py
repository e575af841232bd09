"""Coder exchange: coding sheets out, codes back in (all or nothing), adjudication to gold."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import openpyxl
import pytest

from coding.autocode import auto_code
from coding.codebook import default_codebook_path, load_codebook
from coding.exchange import (
    GOLD,
    SheetProblems,
    compare_coders,
    export_disagreements,
    export_for_coder,
    import_decisions,
    import_sheet,
)
from coding.sheets import SheetError, read_sheet
from smcat.errors import SettingError, SmcatError
from smcat.sampling import coding_sample
from smcat.store import Store
from tests.conftest import FIXTURES

CODEBOOK = load_codebook(default_codebook_path())
SUBS = [sub.id for sub in CODEBOOK.coded()]
FORMULA = '=HYPERLINK("http://example.invalid")  新品上市'


def make_posts(db: Path, n: int = 60) -> Store:
    """N brand posts (one whose text looks like a formula, one with a control character),
    machine-coded."""
    texts = [line for line in (FIXTURES / "coding" / "brand_texts.txt").read_text(
        encoding="utf-8").splitlines() if line and not line.startswith("#")]  # fmt: skip
    texts[0], texts[1] = FORMULA, "抽奖\x07啦 转发抽一位"
    store = Store.open(db)
    store.upsert_posts(
        {"platform": "weibo", "post_id": f"52100{i:06d}", "account_id": "5001000001",
         "created_at": f"2025-10-{i % 28 + 1:02d}T10:00:00+08:00",
         "observed_at": "2025-11-01T00:00:00+08:00", "text": texts[i % len(texts)],
         "pic_count": i % 4}
        for i in range(n)
    )  # fmt: skip
    auto_code(store, CODEBOOK)
    return store


@pytest.fixture
def store(tmp_path: Path):
    with make_posts(tmp_path / "codes.db") as store:
        yield store


def fill_cells(path: Path, rng: random.Random) -> dict[tuple[str, str], dict[str, int]]:
    """Code every cell of an exported XLSX sheet at random, as a person would; the codes."""
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    header = [cell.value for cell in sheet[1]]
    columns = {name.split()[0]: at for at, name in enumerate(header) if name.split()[0] in SUBS}
    coded = {}
    for row in sheet.iter_rows(min_row=2):
        key = (row[0].value, row[1].value)
        coded[key] = {sub: rng.randrange(2) for sub in SUBS}
        for sub, value in coded[key].items():
            row[columns[sub]].value = value
    book.save(path)
    return coded


def test_an_xlsx_round_trip_keeps_every_code(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.xlsx"
    result = export_for_coder(store, CODEBOOK, path, coder="alice", n=40, seed=1, overlap=0.25,
                              blind=False)  # fmt: skip
    assert (result.shared, result.own) == (10, 30)
    coded = fill_cells(path, random.Random(5))
    assert len(coded) == 40 and len({v for codes in coded.values() for v in codes.values()}) == 2
    imported = import_sheet(store, path, coder="alice")
    assert (imported.posts, imported.codes) == (40, 40 * len(SUBS))
    stored = store.coder_codes(CODEBOOK.name, "alice")
    assert {
        key: {sub: v for sub, (v, _) in codes.items()} for key, codes in stored.items()
    } == coded
    assert set(store.coded_posts(CODEBOOK.name, "alice")) == set(coded)


def test_the_sheet_suggests_the_machines_codes_with_their_evidence(store: Store, tmp_path):
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=60, seed=1, overlap=0.2, blind=False)
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    header = [cell.value for cell in sheet[1]]
    assert header[:7] == ["platform", "post_id", "account", "created_at", "url", "text",
                          "machine_evidence"]  # fmt: skip
    assert "B3 抽奖福利" in header and header[-4:] == ["codebook", "codebook_version", "coder",
                                                     "coders"]  # fmt: skip
    machine = store.coder_codes(CODEBOOK.name, CODEBOOK.coder)
    b3 = header.index("B3 抽奖福利")
    for row in sheet.iter_rows(min_row=2, values_only=True):
        expected = machine.get((row[0], row[1]), {})
        assert [row[header.index(s)] for s in header if s.split()[0] in SUBS] == [
            expected[sub][0] if sub in expected else 0 for sub in SUBS
        ]
        noted = [line.split("=")[0] for line in (row[6] or "").splitlines()]
        assert noted == [sub for sub in SUBS if sub in expected]
        if row[b3]:
            (line,) = [line for line in row[6].splitlines() if line.startswith("B3=1: ")]
            assert "(B3." in line
    texts = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert FORMULA in texts and "抽奖啦 转发抽一位" in texts  # text, not a formula; \x07 dropped
    assert all(sheet.column_dimensions[c].hidden for c in ("Z", "AA", "AB", "AC"))
    (choice,) = sheet.data_validations.dataValidation
    assert choice.formula1 == '"0,1"' and str(choice.sqref) == "H2:Y61"
    assert [row[0].value for row in book["codebook"].iter_rows(min_row=2)] == SUBS


def test_a_blind_csv_sheet_has_empty_cells_and_no_machine_column(store: Store, tmp_path):
    path = tmp_path / "bob.csv"
    export_for_coder(store, CODEBOOK, path, coder="bob", n=10, seed=1, overlap=0.2, blind=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a BOM
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "machine_evidence" not in rows[0]
    assert all(row[name] == "" for row in rows for name in row if name.split()[0] in SUBS)
    assert {row["coder"] for row in rows} == {"bob"}
    formula = [row["text"] for row in rows if "HYPERLINK" in row["text"]]
    assert formula in ([], ["'" + FORMULA])  # quoted, so a spreadsheet shows it as text


def test_every_coder_of_a_seed_shares_the_overlap_and_nothing_else(store: Store) -> None:
    draw = dict(codebook="brand_posts", n=20, seed=9, overlap=0.2)
    alice, bob = (coding_sample(store, coder=c, **draw) for c in ("alice", "bob"))
    assert alice.shared == bob.shared and len(alice.shared) == 4
    assert not set(alice.own) & set(bob.own) and not set(alice.own) & set(alice.shared)
    assert len(set(alice.posts)) == len(set(bob.posts)) == 20
    assert coding_sample(store, coder="alice", **draw) == alice  # drawn again: the same posts
    assert store.sample_posts(alice.sample_id) == sorted(alice.posts)
    other = coding_sample(store, coder="alice", **{**draw, "seed": 10})
    assert other.posts != alice.posts
    # of 60 posts, 40 wanted: 8 shared, and 24 of the other 52 are not alice's or bob's own
    with pytest.raises(SmcatError, match="only 32 posts are left"):
        coding_sample(store, coder="carol", **{**draw, "n": 40})


def test_a_broken_sheet_imports_nothing_and_says_where(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=10, seed=1, overlap=0.2, blind=False)
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    sheet["L3"] = 2  # column L is B3
    sheet["M4"] = None
    sheet["B5"] = "9999"
    sheet.append([cell.value for cell in sheet[2]])  # row 12: row 2 again
    book.save(path)
    with pytest.raises(SheetProblems) as caught:
        import_sheet(store, path, coder="alice")
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "row 3, column L (B3 抽奖福利): '2' is not 0 or 1",
        "row 4, column M (B4 品牌动态): empty: code 0 or 1 (or read empty cells as 0)",
        "row 5, column B (post_id): no post 9999 on weibo in this database: import into the "
        "database the sheet was exported from, and keep post_id as text",
        f"row 12, column B (post_id): post {sheet['B2'].value} is also on row 2: keep one row "
        "per post",
    ]
    assert "nothing was imported" in str(caught.value)
    assert caught.value.settings == {"blank_as_zero": True}  # it would settle the empty cell
    assert store.coded_posts(CODEBOOK.name, "alice") == {}
    assert store.coder_codes(CODEBOOK.name, "alice") == {}


def test_blank_rows_wait_and_blank_as_zero_codes_them(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "carol.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="carol", n=5, seed=1, overlap=0, blind=True)
    book = openpyxl.load_workbook(path)
    book["coding"]["L2"] = 1
    book.save(path)
    with pytest.raises(SheetProblems) as caught:
        import_sheet(store, path, coder="carol")
    assert len(caught.value.problems) == len(SUBS) - 1  # row 2's other cells are empty
    result = import_sheet(store, path, coder="carol", blank_as_zero=True)
    assert (result.posts, result.blank_rows) == (5, 0)
    codes = store.coder_codes(CODEBOOK.name, "carol")
    assert sum(v for post in codes.values() for v, _ in post.values()) == 1


def test_sheets_that_are_not_this_coders_are_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.csv"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=5, seed=1, overlap=0, blind=False)
    with pytest.raises(SheetError, match="exported for coder 'alice', not 'bob'"):
        import_sheet(store, path, coder="bob")
    for name in (GOLD, "auto:brand_posts@1", "-x"):
        with pytest.raises(SmcatError, match="coder name"):
            import_sheet(store, path, coder=name)
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(SheetError, match=r"name the file \.xlsx or \.csv"):
        read_sheet(tmp_path / "notes.txt")
    (tmp_path / "fake.xlsx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(SheetError, match="not a readable XLSX workbook"):
        read_sheet(tmp_path / "fake.xlsx")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SheetError, match="no column 'platform'"):
        import_sheet(store, tmp_path / "other.csv", coder="alice")


def test_a_suggested_sheet_needs_the_machine_codes_first(tmp_path: Path) -> None:
    with Store.open(tmp_path / "raw.db") as store:
        store.upsert_posts([{"platform": "weibo", "post_id": "1", "created_at":
                             "2025-10-01T10:00:00+08:00", "text": "新品"}])  # fmt: skip
        with pytest.raises(SettingError, match="run `smcat code auto` first, or export blind") as e:
            export_for_coder(store, CODEBOOK, tmp_path / "a.xlsx", coder="alice", n=1, seed=1,
                             overlap=0, blind=False)  # fmt: skip
    assert e.value.settings == {"blind": True}


def code_sheet(store: Store, coder: str, values: dict[tuple[str, str], dict[str, int]], tmp_path):
    """Export a blind sheet for a coder and import it with the given codes."""
    path = tmp_path / f"{coder}.csv"
    export_for_coder(store, CODEBOOK, path, coder=coder, n=10, seed=4, overlap=1.0, blind=True)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        for at, name in enumerate(header):
            if name.split()[0] in SUBS:
                row[at] = str(values[(row[0], row[1])][name.split()[0]])
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    import_sheet(store, path, coder=coder)


def test_adjudication_exports_the_disagreements_and_imports_gold(store: Store, tmp_path):
    posts = coding_sample(store, codebook="brand_posts", coder="x", n=10, seed=4, overlap=1.0)
    alice = {key: {sub: 0 for sub in SUBS} for key in posts.posts}
    bob = {key: dict(codes) for key, codes in alice.items()}
    first, second = posts.posts[0], posts.posts[1]
    bob[first]["B3"] = bob[first]["C1"] = bob[second]["B7"] = 1
    code_sheet(store, "alice", alice, tmp_path)
    code_sheet(store, "bob", bob, tmp_path)
    comparison = compare_coders(store, "brand_posts", ["alice", "bob"])
    assert len(comparison.consensus) == 8
    path = tmp_path / "adjudicate.xlsx"
    assert export_disagreements(store, comparison, path) == 2
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    disputed = rows[first[1]]
    assert disputed[header.index("disagreements")].value == "B3: alice=0, bob=1; C1: alice=0, bob=1"
    assert disputed[header.index("B3 抽奖福利")].value is None
    assert disputed[header.index("B4 品牌动态")].value == 0  # agreed: filled
    with pytest.raises(SheetProblems, match="3 problem"):
        import_decisions(store, path)
    disputed[header.index("B3 抽奖福利")].value = 1
    disputed[header.index("C1 图片")].value = 0
    rows[second[1]][header.index("B7 情感诉求")].value = 1
    book.save(path)
    result = import_decisions(store, path)
    assert (result.posts, result.consensus, result.codes) == (2, 8, 10 * len(SUBS))
    gold = store.coder_codes("brand_posts", GOLD)
    assert gold[first]["B3"][0] == 1 and gold[first]["C1"][0] == 0 and gold[second]["B7"][0] == 1
    assert sum(v for post in gold.values() for v, _ in post.values()) == 2


def test_the_code_commands_end_to_end(smcat, tmp_path: Path) -> None:
    make_posts(tmp_path / "study.db").close()
    db = ("--db", "study.db")
    exported = smcat("code", "export", "--coder", "alice", "--sample", "12", "--seed", "3",
                     "-o", "alice.xlsx", *db)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "12 posts for alice (2 shared with every coder of seed 3, 10 their own)" in (
        exported.stdout
    )
    book = openpyxl.load_workbook(tmp_path / "alice.xlsx")
    book["coding"]["L2"] = "yes"
    book.save(tmp_path / "alice.xlsx")
    broken = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert broken.returncode == 1
    assert "row 2, column L (B3 抽奖福利): 'yes' is not 0 or 1" in broken.stdout
    assert "1 problem(s), listed above; nothing was imported" in broken.stderr
    assert "--blank-as-zero" not in broken.stderr  # reading empty cells as 0 would not help
    book["coding"]["L2"] = None
    book.save(tmp_path / "alice.xlsx")
    empty = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert empty.returncode == 1
    assert "row 2, column L (B3 抽奖福利): empty: code 0 or 1 (or read empty cells as 0)" in (
        empty.stdout
    )
    assert empty.stderr.rstrip().endswith("import the file again (--blank-as-zero)")
    book["coding"]["L2"] = 1
    book.save(tmp_path / "alice.xlsx")
    fixed = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert fixed.returncode == 0, fixed.stderr
    assert f"imported 12 posts ({12 * len(SUBS)} codes) of alice" in fixed.stdout
    again = smcat("code", "export", "--coder", "alice", "--sample", "12", "--seed", "3",
                  "-o", "alice.xlsx", *db)  # fmt: skip
    assert again.returncode == 1 and "or overwrite it (--force)" in again.stderr
    assert openpyxl.load_workbook(tmp_path / "alice.xlsx")["coding"]["L2"].value == 1
    lonely = smcat("code", "adjudicate", "export", "-o", "adj.xlsx", *db)
    assert lonely.returncode == 1 and "two coders" in lonely.stderr
    no_gold = smcat("code", "accuracy", *db)
    assert no_gold.returncode == 1 and "smcat code adjudicate" in no_gold.stderr
