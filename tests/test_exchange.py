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
    write_codes,
)
from coding.sheets import DONE_COLUMN, SheetError, read_sheet
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
    """Code every cell of an exported XLSX sheet at random, as a person would, and mark each
    row done; the codes."""
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
        if DONE_COLUMN in header:
            row[header.index(DONE_COLUMN)].value = 1
    book.save(path)
    return coded


def mark_done(path: Path) -> None:
    """Put 1 in every row's done column, as a coder who checked every suggestion would."""
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    for (cell,) in sheet.iter_rows(min_row=2, min_col=8, max_col=8):
        cell.value = 1
    book.save(path)


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
    assert header[:8] == ["platform", "post_id", "account", "created_at", "url", "text",
                          "machine_evidence", "done 完成"]  # fmt: skip
    assert "B3 抽奖福利" in header and header[-8:] == ["备注 notes", "post_check", "codebook",
                                                     "codebook_version", "coder", "coders",
                                                     "sample", "suggested"]  # fmt: skip
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
    assert not sheet.column_dimensions["AA"].hidden  # the coder's notes
    assert all(sheet.column_dimensions[c].hidden for c in ("AB", "AC", "AD", "AE", "AF", "AG"))
    choice, done = sheet.data_validations.dataValidation
    assert choice.formula1 == '"0,1"' and str(choice.sqref) == "I2:Z61"
    assert done.formula1 == '"1"' and str(done.sqref) == "H2:H61"
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
    sheet["M3"] = 2  # column M is B3
    sheet["N4"] = None
    sheet["B5"] = "9999"
    for (cell,) in sheet.iter_rows(min_row=2, min_col=8, max_col=8):
        cell.value = 1  # done
    sheet.append([cell.value for cell in sheet[2]])  # row 12: row 2 again
    book.save(path)
    with pytest.raises(SheetProblems) as caught:
        import_sheet(store, path, coder="alice")
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "row 3, column M (B3 抽奖福利): '2' is not 0 or 1",
        "row 4, column N (B4 品牌动态): empty: code 0 or 1 (or read empty cells as 0)",
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
    book["coding"]["M2"] = 1
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
    mark_done(tmp_path / "alice.xlsx")
    book = openpyxl.load_workbook(tmp_path / "alice.xlsx")
    book["coding"]["M2"] = "yes"
    book.save(tmp_path / "alice.xlsx")
    broken = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert broken.returncode == 1
    assert "row 2, column M (B3 抽奖福利): 'yes' is not 0 or 1" in broken.stdout
    assert "1 problem(s), listed above; nothing was imported" in broken.stderr
    assert "--blank-as-zero" not in broken.stderr  # reading empty cells as 0 would not help
    book["coding"]["M2"] = None
    book.save(tmp_path / "alice.xlsx")
    empty = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert empty.returncode == 1
    assert "row 2, column M (B3 抽奖福利): empty: code 0 or 1 (or read empty cells as 0)" in (
        empty.stdout
    )
    assert empty.stderr.rstrip().endswith("import the file again (--blank-as-zero)")
    book["coding"]["M2"] = 1
    book.save(tmp_path / "alice.xlsx")
    fixed = smcat("code", "import", "alice.xlsx", "--coder", "alice", *db)
    assert fixed.returncode == 0, fixed.stderr
    assert f"imported 12 posts ({12 * len(SUBS)} codes) of alice" in fixed.stdout
    again = smcat("code", "export", "--coder", "alice", "--sample", "12", "--seed", "3",
                  "-o", "alice.xlsx", *db)  # fmt: skip
    assert again.returncode == 1 and "or overwrite it (--force)" in again.stderr
    assert openpyxl.load_workbook(tmp_path / "alice.xlsx")["coding"]["M2"].value == 1
    lonely = smcat("code", "adjudicate", "export", "-o", "adj.xlsx", *db)
    assert lonely.returncode == 1 and "two coders" in lonely.stderr
    no_gold = smcat("code", "accuracy", *db)
    assert no_gold.returncode == 1 and "smcat code adjudicate" in no_gold.stderr


def excel_number(post_id: str) -> str:
    """An id as Excel saves it after reading it as a number: 15 significant digits."""
    return str(int(float(f"{float(post_id):.15g}")))


def test_ids_that_excel_shortened_are_refused_naming_the_rows(tmp_path: Path) -> None:
    # ids ending in 3 shorten to the id ending in 0, which is another stored post
    ids = [f"{5300000000001000 + 10 * j + r}" for j in range(40) for r in (0, 3)]
    with Store.open(tmp_path / "long.db") as store:
        store.upsert_posts(
            {"platform": "weibo", "post_id": post_id, "account_id": "5001000001",
             "created_at": "2025-10-01T10:00:00+08:00", "text": f"新品上市 第{at}款"}
            for at, post_id in enumerate(ids)
        )  # fmt: skip
        assert excel_number("5300000000001163") == "5300000000001160"
        chosen = [p for p in ids if p.endswith("3")][:20] + [p for p in ids if p.endswith("0")][30:]
        store.save_sample("chosen", purpose="test", seed=0, params={},
                          posts=[("weibo", p) for p in chosen])  # fmt: skip
        path = tmp_path / "alice.csv"
        export_for_coder(store, CODEBOOK, path, coder="alice", n=len(chosen), seed=1,
                         overlap=0, blind=True, within="chosen")  # fmt: skip
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        header, shortened = rows[0], []
        for number, row in enumerate(rows[1:], start=2):
            for at, name in enumerate(header):
                if name.split()[0] in SUBS:
                    row[at] = "0"
            if excel_number(row[1]) != row[1]:
                row[1] = excel_number(row[1])
                shortened.append(number)
        assert len(shortened) == 20
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)
        with pytest.raises(SheetError) as caught:
            import_sheet(store, path, coder="alice")
        message = str(caught.value)
        assert f"row(s) {', '.join(map(str, shortened))} name other posts" in message
        assert "nothing was imported" in message and "\n" not in message
        assert store.coded_posts(CODEBOOK.name, "alice") == {}
        # the XLSX sheet keeps ids as text cells, so Excel does not read them as numbers
        export_for_coder(store, CODEBOOK, tmp_path / "alice.xlsx", coder="alice",
                         n=len(chosen), seed=1, overlap=0, blind=True, within="chosen")  # fmt: skip
        sheet = openpyxl.load_workbook(tmp_path / "alice.xlsx")["coding"]
        assert all(c.data_type == "s" and c.number_format == "@" for c in sheet["B"][1:])


def test_a_row_outside_the_coders_sample_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=5, seed=1, overlap=0, blind=True)
    other = tmp_path / "bob.xlsx"
    export_for_coder(store, CODEBOOK, other, coder="bob", n=5, seed=1, overlap=0, blind=True)
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    bobs = openpyxl.load_workbook(other)["coding"]
    header = [cell.value for cell in sheet[1]]
    for name in ("post_id", "text", "post_check"):  # a whole post of bob's pasted in
        at = header.index(name) + 1
        sheet.cell(4, at).value = bobs.cell(2, at).value
    for row in sheet.iter_rows(min_row=2):
        for cell, name in zip(row, header, strict=True):
            if name.split()[0] in SUBS:
                cell.value = 0
    book.save(path)
    with pytest.raises(SheetError, match=r"row\(s\) 4 name other posts"):
        import_sheet(store, path, coder="alice")


def test_an_untouched_prefilled_sheet_stores_no_human_codes(store: Store, tmp_path) -> None:
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=20, seed=1, overlap=0.2, blind=False)
    result = import_sheet(store, path, coder="alice")
    assert (result.posts, result.codes, result.unconfirmed_rows) == (0, 0, 20)
    assert store.coded_posts(CODEBOOK.name, "alice") == {}
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    for number in (2, 5, 9):
        sheet[f"H{number}"] = 1  # done: the coder checked these suggestions
    book.save(path)
    result = import_sheet(store, path, coder="alice")
    assert (result.posts, result.unconfirmed_rows) == (3, 17)
    assert len(store.coded_posts(CODEBOOK.name, "alice")) == 3


def test_the_sheet_is_comfortable_to_code_in(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=30, seed=1, overlap=0.2, blind=False)
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    header = [cell.value for cell in sheet[1]]
    text_at = header.index("text") + 1
    assert sheet.freeze_panes == "G2"  # the post's text stays beside the code columns
    assert sheet.auto_filter.ref == "A1:AA31"
    assert sheet.cell(1, header.index("B3 抽奖福利") + 1).alignment.wrap_text
    assert sheet.row_dimensions[1].height >= 30  # a code header on two lines
    for number in range(2, 32):
        text = sheet.cell(number, text_at).value or ""
        assert sheet.cell(number, text_at).alignment.wrap_text
        units = sum(2 if ord(c) >= 0x2E80 else 1 for c in text)
        lines = max(1, -(-units // sheet.column_dimensions["F"].width))
        assert sheet.row_dimensions[number].height >= min(409, 15 * lines)
    choice = sheet.data_validations.dataValidation[0]
    assert choice.showInputMessage and "适用" in choice.prompt and "applies" in choice.prompt
    assert "请填" in choice.error and "Code 1" in choice.error
    guide = book["codebook"]
    assert [c.value for c in guide[1]] == ["id", "name_zh", "name_en", "definition",
                                           "examples 例子"]  # fmt: skip
    b3 = next(row for row in guide.iter_rows(min_row=2) if row[0].value == "B3")
    (sub,) = [s for s in CODEBOOK.coded() if s.id == "B3"]
    assert b3[4].value.split("\n") == list(sub.examples) and b3[3].alignment.wrap_text


def test_cells_starting_with_tab_or_return_are_kept_as_text_in_csv(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.db") as store:
        store.upsert_posts(
            {"platform": "weibo", "post_id": str(i), "created_at": "2025-10-01T10:00:00+08:00",
             "text": text}
            for i, text in enumerate(["\t=1+1 新品", "\r=cmd 抽奖", "普通"])
        )  # fmt: skip
        path = tmp_path / "a.csv"
        export_for_coder(store, CODEBOOK, path, coder="alice", n=3, seed=1, overlap=0, blind=True)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        texts = sorted(row["text"] for row in csv.DictReader(handle))
    assert texts == sorted(["'\t=1+1 新品", "'\r=cmd 抽奖", "普通"])


def test_shared_posts_are_shuffled_in_among_the_coders_own(store: Store, tmp_path) -> None:
    path = tmp_path / "alice.csv"
    result = export_for_coder(store, CODEBOOK, path, coder="alice", n=40, seed=2, overlap=0.25,
                              blind=True)  # fmt: skip
    shared = set(coding_sample(store, codebook="brand_posts", coder="alice", n=40, seed=2,
                               overlap=0.25).shared)  # fmt: skip
    with open(path, encoding="utf-8-sig", newline="") as handle:
        order = [(row["platform"], row["post_id"]) for row in csv.DictReader(handle)]
    at = [i for i, key in enumerate(order) if key in shared]
    assert len(at) == result.shared == 10 and at != list(range(10)) and max(at) > 20
    again = tmp_path / "again.csv"
    export_for_coder(store, CODEBOOK, again, coder="alice", n=40, seed=2, overlap=0.25, blind=True)
    with open(again, encoding="utf-8-sig", newline="") as handle:
        assert [(row["platform"], row["post_id"]) for row in csv.DictReader(handle)] == order


def test_another_sample_size_does_not_replace_the_coders_sample(store: Store, tmp_path) -> None:
    export_for_coder(store, CODEBOOK, tmp_path / "a.xlsx", coder="alice", n=10, seed=1,
                     overlap=0.2, blind=True)  # fmt: skip
    before = store.sample_posts("coding-brand_posts-seed1-alice")
    with pytest.raises(SmcatError) as caught:
        export_for_coder(store, CODEBOOK, tmp_path / "b.xlsx", coder="alice", n=20, seed=1,
                         overlap=0.2, blind=True)  # fmt: skip
    assert "alice already has a sample of 10 posts with seed 1" in str(caught.value)
    assert "or use another seed" in str(caught.value) and "\n" not in str(caught.value)
    assert store.sample_posts("coding-brand_posts-seed1-alice") == before
    assert not (tmp_path / "b.xlsx").exists()
    with pytest.raises(SmcatError, match="no such sample 'nope'"):
        export_for_coder(store, CODEBOOK, tmp_path / "c.xlsx", coder="bob", n=5, seed=1,
                         overlap=0.2, blind=True, within="nope")  # fmt: skip


def test_notes_are_kept_on_import_and_exported_again(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alice.xlsx"
    export_for_coder(store, CODEBOOK, path, coder="alice", n=6, seed=1, overlap=0, blind=False)
    book = openpyxl.load_workbook(path)
    sheet = book["coding"]
    header = [cell.value for cell in sheet[1]]
    notes_at = header.index("备注 notes") + 1
    sheet.cell(2, notes_at).value = "是否算抽奖？问老师"
    sheet.cell(3, notes_at).value = "图片里有二维码"
    book.save(path)
    mark_done(path)
    keys = [(row[0].value, row[1].value) for row in sheet.iter_rows(min_row=2, max_row=3)]
    assert import_sheet(store, path, coder="alice").posts == 6
    assert store.coder_notes(CODEBOOK.name, "alice") == {
        keys[0]: "是否算抽奖？问老师",
        keys[1]: "图片里有二维码",
    }
    store.save_notes(CODEBOOK.name, "alice", {keys[1]: "=问老师"}, "2025-12-01T10:00:00+08:00")
    again = tmp_path / "again.xlsx"
    export_for_coder(store, CODEBOOK, again, coder="alice", n=6, seed=1, overlap=0, blind=False)
    sheet = openpyxl.load_workbook(again)["coding"]
    exported = {(r[0].value, r[1].value): r[notes_at - 1] for r in sheet.iter_rows(min_row=2)}
    assert exported[keys[0]].value == "是否算抽奖？问老师"
    assert exported[keys[1]].value == "=问老师" and exported[keys[1]].data_type == "s"  # text


def test_a_memo_on_the_screen_and_a_note_on_a_sheet_are_one_note(store: Store) -> None:
    first, second = store.post_keys()[:2]
    # a memo typed on the review screen, with the post flagged for discussion
    store.save_note(first, CODEBOOK.name, "alice", "二维码算不算外链？", True)
    assert store.coder_notes(CODEBOOK.name, "alice") == {first: "二维码算不算外链？"}
    # the sheet's 备注 replaces the text and keeps the flag; emptied, the flag still holds
    store.save_notes(CODEBOOK.name, "alice", {first: "算C6"}, "2025-12-01T10:00:00+08:00")
    assert store.notes(CODEBOOK.name, "alice") == {first: ("算C6", True)}
    store.save_notes(CODEBOOK.name, "alice", {first: "", second: ""}, "2025-12-01T11:00:00+08:00")
    assert store.notes(CODEBOOK.name, "alice") == {first: ("", True)}
    assert store.coder_notes(CODEBOOK.name, "alice") == {}  # no empty 备注 on the next sheet
    store.save_note(first, CODEBOOK.name, "alice", "", False)  # unflagged, nothing is kept
    assert store.notes(CODEBOOK.name, "alice") == {}


def test_export_decisions_gives_a_coders_browser_codes_back_as_a_sheet(smcat, tmp_path) -> None:
    with make_posts(tmp_path / "study.db") as store:
        keys = store.post_keys()[:4]
        decided = {key: {sub: int(i == at) for at, sub in enumerate(SUBS)}
                   for i, key in enumerate(keys)}  # fmt: skip
        write_codes(store, CODEBOOK, "alice", decided)  # as the review screen stores answers
        store.save_notes(CODEBOOK.name, "alice", {keys[0]: "问老师"}, "2025-12-01T10:00:00+08:00")
    db = ("--db", "study.db")
    neither = smcat("code", "export", "--coder", "alice", "-o", "x.xlsx", *db)
    assert neither.returncode == 1 and "--sample N" in neither.stderr
    result = smcat("code", "export", "--coder", "alice", "--decisions", "-o", "dec.xlsx", *db)
    assert result.returncode == 0, result.stderr
    assert "4 posts alice coded" in result.stdout
    sheet = openpyxl.load_workbook(tmp_path / "dec.xlsx")["coding"]
    header = [cell.value for cell in sheet[1]]
    columns = {name.split()[0]: at for at, name in enumerate(header) if name.split()[0] in SUBS}
    read = {
        (row[0], row[1]): {sub: row[at] for sub, at in columns.items()}
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert read == decided
    assert sheet.cell(2, header.index("备注 notes") + 1).value == "问老师"
    with Store.open(tmp_path / "study.db") as store:
        assert import_sheet(store, tmp_path / "dec.xlsx", coder="alice").posts == 4
    nobody = smcat("code", "export", "--coder", "bob", "--decisions", "-o", "bob.xlsx", *db)
    assert nobody.returncode == 1 and "bob has coded no posts" in nobody.stderr


def test_an_unknown_sample_is_named(smcat, tmp_path: Path) -> None:
    make_posts(tmp_path / "study.db", n=5).close()
    for command in (
        ("export", "--coder", "ann", "--sample", "3", "--within", "nope", "-o", "a.xlsx"),
        ("review", "--coder", "ann", "--sample", "nope", "--port", "8799"),
    ):
        result = smcat("code", *command, "--db", "study.db")
        assert result.returncode == 1
        assert "no such sample 'nope': name a recorded sample" in result.stderr
