"""Coding sheets: the XLSX or CSV files that people code posts in, written and read back.

A sheet has one row per post: the post (platform, id, account, time, link, text), a note
column (the machine's evidence, or the coders' disagreements), a "done 完成" column where the
sheet is prefilled with the machine's suggestions (a row counts as the coder's work only when
marked done), one 0/1 column per coded subcategory headed "<id> <Chinese name>", a notes
column "备注 notes" for the coder's remarks (kept on import), and hidden
columns: a check of each row's post (a short hash of its platform, id and text, so that an id
a spreadsheet shortened is caught) and which sample, codebook version and coder the sheet is
for. Reading is checked cell by cell, and every problem names
its row and column as a spreadsheet shows them; nothing about the store is known here.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from coding.codebook import Subcategory
from smcat.errors import SettingError, SmcatError
from smcat.store import PostForCoder
from smcat.tables import TABLE_FORMATS, Table, TableError, read_table

POST_COLUMNS = ("platform", "post_id", "account", "created_at", "url", "text")
META_COLUMNS = ("codebook", "codebook_version", "coder", "coders", "sample", "suggested")
CHECK_COLUMN = "post_check"
DONE_COLUMN = "done 完成"
NOTES_COLUMN = "备注 notes"
EVIDENCE_COLUMN = "machine_evidence"
DISAGREEMENT_COLUMN = "disagreements"
FORMATS = TABLE_FORMATS
SHEET = "coding"
_WIDTHS = {
    "platform": 7,
    "post_id": 18,
    "account": 12,
    "created_at": 12,
    "url": 10,
    "text": 50,
    DONE_COLUMN: 7,
}
# a spreadsheet would run such a cell as a formula (tab and carriage return too: OWASP's list)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SheetError(SmcatError):
    """A coding sheet that cannot be read or is not one."""


@dataclass(frozen=True)
class SheetMeta:
    """Whose sheet it is: the codebook version, the coder, and (for adjudication) the coders
    whose disagreements it holds."""

    codebook: str
    version: str
    coder: str
    coders: tuple[str, ...] = ()
    sample: str = ""
    """The recorded sample the sheet's posts were drawn into ("" for adjudication)."""
    suggested: bool = False
    """Prefilled with the machine's codes: only rows marked done are the coder's."""


@dataclass(frozen=True)
class SheetRow:
    """A post, its prefilled values by subcategory id (None leaves the cell empty), the
    machine's or the coders' note on it, and the coder's notes."""

    post: PostForCoder
    values: dict[str, int | None]
    note: str = ""
    notes: str = ""
    """The coder's own notes (备注), as stored from an earlier import."""


@dataclass(frozen=True)
class SheetProblem:
    """A mistake in a sheet, where a spreadsheet shows it."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RawSheet(Table):
    """A coding sheet's header and rows as text, each row numbered as a spreadsheet counts it."""

    def column(self, index: int) -> str:
        """A column as a spreadsheet names it, with its header: "H (B3 抽奖福利)"."""
        return f"{get_column_letter(index + 1)} ({self.header[index]})"


@dataclass
class SheetCodes:
    """The codes read from a sheet: post -> {subcategory id: 0/1}, and what was wrong."""

    values: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # of the rows in values
    blank_rows: int = 0
    unconfirmed_rows: int = 0  # prefilled rows the coder did not mark done: not read
    empty_cells: int = 0  # in rows with other cells filled: each is also a problem
    problems: list[SheetProblem] = field(default_factory=list)


def post_check(post: PostForCoder) -> str:
    """A short hash of a post's platform, id and text, kept in a hidden column: a row whose id
    was changed (Excel keeps 15 significant digits of a number) no longer matches it. Starts
    with a letter so that no spreadsheet reads it as a number."""
    digest = hashlib.sha256(f"{post.platform}\x1f{post.post_id}\x1f{post.text}".encode())
    return "k" + digest.hexdigest()[:12]


def code_header(sub: Subcategory) -> str:
    """A subcategory's column header: its id (what is read back) and Chinese name."""
    return f"{sub.id} {sub.name_zh}"


def sheet_format(path: Path) -> str:
    """The sheet format a file name asks for, or a SheetError naming the ones there are."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise SheetError(f"{path}: name the file .xlsx or .csv (the coding sheet formats)")
    return suffix


class SheetExists(SheetError, SettingError):
    """A sheet would replace a file that exists, which may hold a coder's work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        SettingError.__init__(
            self,
            f"{path} exists and may hold coded work: name another file, or overwrite it",
            overwrite=True,
        )


def check_new_sheet(path: Path, *, overwrite: bool) -> None:
    """Refuse a sheet name of another format, or of a file that exists (SheetExists) unless
    overwriting was asked for."""
    sheet_format(path)
    if path.exists() and not overwrite:
        raise SheetExists(path)


def write_sheet(
    path: Path,
    meta: SheetMeta,
    subcategories: Sequence[Subcategory],
    rows: Iterable[SheetRow],
    *,
    note_column: str | None,
) -> int:
    """Write a coding sheet as XLSX (0/1 drop-downs, the codebook on a second sheet) or CSV
    (UTF-8 with a byte-order mark, which Excel needs to show Chinese). Returns the rows."""
    done = [DONE_COLUMN] if meta.suggested else []
    header = [*POST_COLUMNS, *([note_column] if note_column else []), *done]
    header += [code_header(sub) for sub in subcategories]
    header += [NOTES_COLUMN, CHECK_COLUMN, *META_COLUMNS]
    meta_cells = [meta.codebook, meta.version, meta.coder, " ".join(meta.coders), meta.sample,
                  "1" if meta.suggested else ""]  # fmt: skip
    table = [
        [*_post_cells(row.post), *([row.note] if note_column else []), *([None] * len(done)),
         *(row.values.get(sub.id) for sub in subcategories), row.notes, post_check(row.post),
         *meta_cells]
        for row in rows
    ]  # fmt: skip
    if sheet_format(path) == ".csv":
        _write_csv(path, header, table)
    else:
        _write_xlsx(path, header, table, subcategories)
    return len(table)


def _post_cells(post: PostForCoder) -> list[str]:
    return [post.platform, post.post_id, post.account or "", post.created_at, post.url or "",
            post.text]  # fmt: skip


def _write_csv(path: Path, header: list[str], table: list[list]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for cells in table:
            writer.writerow(["" if c is None else _inert(c) for c in cells])


def _inert(cell: object) -> object:
    """A text cell that a spreadsheet would take for a formula, quoted so it stays text."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _write_xlsx(
    path: Path,
    header: list[str],
    table: list[list],
    subcategories: Sequence[Subcategory],
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(header)
    for cells in table:
        sheet.append([_xlsx_text(c) for c in cells])
    wrapped = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = wrapped  # "B3 抽奖福利" in a narrow code column, on two lines
    sheet.row_dimensions[1].height = 45
    first_code = header.index(NOTES_COLUMN) - len(subcategories) + 1
    last_code = first_code + len(subcategories) - 1
    shown = first_code - 1 - (DONE_COLUMN in header)  # the post and the note on it
    for index, name in enumerate(header, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = _WIDTHS.get(name, 9 if first_code <= index <= last_code else 30)
        dimension.hidden = name in (CHECK_COLUMN, *META_COLUMNS)
    for row in sheet.iter_rows(min_row=2):
        for cell in (*row[:shown], *row[last_code:]):  # the notes and the hidden columns
            cell.data_type = "s"  # a text that starts with "=" is text, not a formula
            cell.number_format = "@"  # and an id stays text when edited: Excel keeps 15 digits
        for cell in row[: first_code - 1]:
            cell.alignment = wrapped
        sheet.row_dimensions[row[0].row].height = _row_height(row[: first_code - 1], header)
    last = get_column_letter(last_code)
    if subcategories and table:
        choice = DataValidation(
            type="list", formula1='"0,1"', allow_blank=True, showErrorMessage=True,
            showInputMessage=True, errorTitle="0 或 1 / 0 or 1",
            error="请填 1（适用）或 0（不适用）。Code 1 if the subcategory applies, else 0.",
            promptTitle="0 或 1 / 0 or 1", prompt="1 = 适用 applies, 0 = 不适用 does not apply",
        )  # fmt: skip
        choice.add(f"{get_column_letter(first_code)}2:{last}{len(table) + 1}")
        sheet.add_data_validation(choice)
    if DONE_COLUMN in header and table:
        done = DataValidation(
            type="list", formula1='"1"', allow_blank=True, showErrorMessage=True,
            showInputMessage=True, errorTitle="1 = 完成 done",
            error="核对完这一行的编码后填 1。Put 1 once you have checked this row's codes.",
            promptTitle="完成 done", prompt="核对后填 1：只有标为完成的行才会导入。Put 1 once "
            "checked: only rows marked done are imported as your codes.",
        )  # fmt: skip
        column = get_column_letter(header.index(DONE_COLUMN) + 1)
        done.add(f"{column}2:{column}{len(table) + 1}")
        sheet.add_data_validation(done)
    # the post's text stays in view beside the code columns as they scroll
    sheet.freeze_panes = sheet.cell(row=2, column=POST_COLUMNS.index("text") + 2)
    sheet.auto_filter.ref = f"A1:{get_column_letter(last_code + 1)}{len(table) + 1}"
    _write_guide(book, subcategories)
    book.save(path)


def _row_height(cells: Sequence[Cell], header: list[str]) -> float:
    """Points that show a row's longest wrapped cell whole (Excel does not grow rows itself)."""
    lines = 1
    for cell, name in zip(cells, header, strict=False):
        width = _WIDTHS.get(name, 30)
        needed = sum(
            max(1, -(-_width_units(line) // width)) for line in str(cell.value or "").split("\n")
        )
        lines = max(lines, needed)
    return min(409.0, 15.0 * lines)  # 409 points: Excel's tallest row


def _width_units(line: str) -> int:
    # a Chinese character takes about two column-width units, a Latin one about one
    return sum(2 if ord(char) >= 0x2E80 else 1 for char in line)


def _write_guide(book: openpyxl.Workbook, subcategories: Sequence[Subcategory]) -> None:
    """The codebook beside the sheet: each subcategory's names, definition and examples."""
    guide = book.create_sheet("codebook")
    guide.append(["id", "name_zh", "name_en", "definition", "examples 例子"])
    wrapped = Alignment(wrap_text=True, vertical="top")
    for sub in subcategories:
        guide.append([sub.id, sub.name_zh, sub.name_en, sub.definition,
                      _xlsx_text("\n".join(sub.examples))])  # fmt: skip
    for letter, width in zip("ABCDE", (6, 14, 24, 60, 60), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = wrapped
            cell.data_type = "s"
    guide["A1"].font = Font(bold=True)
    guide.freeze_panes = "B2"


def _xlsx_text(cell: object) -> object:
    if isinstance(cell, str):
        return ILLEGAL_CHARACTERS_RE.sub("", cell)  # control characters that XLSX cannot hold
    return cell


def read_sheet(path: Path) -> RawSheet:
    """A coding sheet's cells as text; a SheetError if the file cannot be read as one."""
    sheet_format(path)
    try:
        table = read_table(path, SHEET)
    except TableError as error:
        raise SheetError(str(error)) from None
    return RawSheet(table.path, table.header, table.rows)


def sheet_meta(raw: RawSheet) -> SheetMeta:
    """Whose sheet it is, from its hidden columns; a SheetError if it is not an smcat sheet or
    its rows disagree."""
    missing = [name for name in (*POST_COLUMNS[:2], *META_COLUMNS[:3]) if name not in raw.header]
    if missing:
        raise SheetError(
            f"{raw.path}: not a coding sheet of smcat (no column {missing[0]!r}): code in a "
            "sheet written by `smcat code export`"
        )
    if not raw.rows:
        raise SheetError(f"{raw.path}: the sheet has no posts")
    at = {name: raw.header.index(name) for name in META_COLUMNS if name in raw.header}
    seen = {tuple(cells[at[name]] for name in at) for _, cells in raw.rows}
    if len(seen) > 1:
        raise SheetError(
            f"{raw.path}: rows of different sheets ({', '.join(sorted(s[2] for s in seen))}) "
            "are mixed: import each coder's sheet on its own"
        )
    values = dict(zip(at, seen.pop(), strict=True))
    if not values["codebook"] or not values["codebook_version"] or not values["coder"]:
        raise SheetError(f"{raw.path}: the hidden codebook and coder columns were emptied: "
                         "export the sheet again")  # fmt: skip
    return SheetMeta(
        values["codebook"], values["codebook_version"], values["coder"],
        tuple(values.get("coders", "").split()), values.get("sample", ""),
        bool(values.get("suggested")),
    )  # fmt: skip


def row_checks(raw: RawSheet) -> list[tuple[int, tuple[str, str], str]]:
    """Each row's number, post (platform, post_id) and post check (see post_check); a
    SheetError if the sheet has no check column (written by an older smcat, or deleted)."""
    if CHECK_COLUMN not in raw.header:
        raise SheetError(
            f"{raw.path}: no hidden column {CHECK_COLUMN!r}, which proves each row's post: "
            "export the sheet again and code in the new one"
        )
    platform, post_id, check = (raw.header.index(n) for n in ("platform", "post_id", CHECK_COLUMN))
    return [(number, (cells[platform], cells[post_id]), cells[check]) for number, cells in raw.rows]


_CODE_ID = re.compile(r"\S+")


def sheet_codes(
    raw: RawSheet,
    subcategories: Sequence[str],
    *,
    blank_as_zero: bool,
    blank_hint: str = "",
    confirmed_only: bool = False,
) -> SheetCodes:
    """Read the 0/1 cells of the subcategories' columns, checking every cell.

    A row whose code cells are all empty has not been coded yet and is counted, not read
    (unless blank_as_zero, which makes every empty cell a 0). With `confirmed_only` (a sheet
    prefilled with suggestions) a row is read only if its done column holds 1; the others are
    counted as unconfirmed. Problems: a missing column, a post named twice, an empty post id,
    a done cell that is not empty, 0 or 1, a cell that is not 0 or 1, an empty cell in a row
    that has other cells filled (its message ends with `blank_hint`).
    """
    result = SheetCodes()
    if confirmed_only and DONE_COLUMN not in raw.header:
        message = f"no column {DONE_COLUMN!r}: keep it, and put 1 in it for each row you checked"
        result.problems.append(SheetProblem(1, "", message))
    columns: dict[str, int] = {}
    for index, name in enumerate(raw.header):
        found = _CODE_ID.match(name)
        if found and found.group() in subcategories:
            columns.setdefault(found.group(), index)
    for sub in subcategories:
        if sub not in columns:
            message = f"no column for subcategory {sub}: keep every code column of the export"
            result.problems.append(SheetProblem(1, "", message))
    if result.problems:
        return result
    platform_at, post_at = raw.header.index("platform"), raw.header.index("post_id")
    first_row: dict[tuple[str, str], int] = {}
    for number, cells in raw.rows:
        key = (cells[platform_at], cells[post_at])
        if not all(key):
            message = "platform and post_id must not be empty"
            result.problems.append(SheetProblem(number, raw.column(post_at), message))
            continue
        if key in first_row:
            message = f"post {key[1]} is also on row {first_row[key]}: keep one row per post"
            result.problems.append(SheetProblem(number, raw.column(post_at), message))
            continue
        first_row[key] = number
        if confirmed_only:
            done = cells[raw.header.index(DONE_COLUMN)]
            if done not in ("", "0", "1"):
                message = f"{done!r}: put 1 once the row is checked, or leave it empty"
                column = raw.column(raw.header.index(DONE_COLUMN))
                result.problems.append(SheetProblem(number, column, message))
                continue
            if done != "1":
                result.unconfirmed_rows += 1
                continue
        cells_of = {sub: cells[at] for sub, at in columns.items()}
        if not blank_as_zero and not any(cells_of.values()):
            result.blank_rows += 1
            continue
        values = {}
        for sub, text in cells_of.items():
            value = _zero_one(text, blank_as_zero)
            if value is None:
                result.empty_cells += not text
                message = (
                    f"empty: code 0 or 1{blank_hint}" if not text else f"{text!r} is not 0 or 1"
                )
                result.problems.append(SheetProblem(number, raw.column(columns[sub]), message))
            else:
                values[sub] = value
        if len(values) == len(columns):
            result.values[key] = values
            if NOTES_COLUMN in raw.header:
                result.notes[key] = cells[raw.header.index(NOTES_COLUMN)]
    return result


def _zero_one(text: str, blank_as_zero: bool) -> int | None:
    if text in ("0", "1"):
        return int(text)
    if not text and blank_as_zero:
        return 0
    return None
