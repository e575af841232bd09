"""Coder exchange: coding samples out to people as sheets, their codes back in, and their
disagreements out to an adjudicator, whose decisions become the gold standard.

People code every coded subcategory of a post, 0 or 1, and the import stores all of them with
the post's coded mark; the machine stores only its 1s, and its mark says the rest are 0.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coding.codebook import Codebook, parse_codebook
from coding.sheets import (
    DISAGREEMENT_COLUMN,
    EVIDENCE_COLUMN,
    RawSheet,
    SheetError,
    SheetMeta,
    SheetProblem,
    SheetRow,
    check_new_sheet,
    post_check,
    read_sheet,
    row_checks,
    sheet_codes,
    sheet_meta,
    write_sheet,
)
from smcat.coders import GOLD, is_person
from smcat.errors import SettingError, SmcatError
from smcat.sampling import coding_sample
from smcat.store import Store

_CODER_NAME = re.compile(r"[^\W_][\w.@-]*")
_TERMS_SHOWN = 5


class SheetProblems(SheetError, SettingError):
    """A sheet with mistakes in its cells: all of them, so that they are fixed in one go.
    `settings` has blank_as_zero where reading empty cells as 0 would settle some."""

    def __init__(self, path: Path, problems: Sequence[SheetProblem], **settings: object) -> None:
        self.problems = list(problems)
        SettingError.__init__(
            self,
            f"{path}: {len(self.problems)} problem(s), listed above; nothing was imported: "
            "fix them and import the file again",
            **settings,
        )


@dataclass(frozen=True)
class ExportResult:
    """A coding sheet written for a coder."""

    path: Path
    sample_id: str
    shared: int
    own: int
    blind: bool


@dataclass(frozen=True)
class ImportResult:
    """Codes imported from a sheet."""

    coder: str
    codebook: str
    version: str
    posts: int
    codes: int
    blank_rows: int
    consensus: int = 0
    unconfirmed_rows: int = 0
    """Rows prefilled with the machine's suggestions that the coder did not mark done."""


def check_coder_name(name: str) -> None:
    """A person's coder name: letters, digits and . @ - _, not one smcat writes itself."""
    if not is_person(name):
        raise SmcatError(
            f"coder name {name!r} is smcat's own (gold comes from `smcat code adjudicate`, "
            "auto: from `smcat code auto`): pick a person's name"
        )
    if not _CODER_NAME.fullmatch(name):
        raise SmcatError(
            f"coder name {name!r}: use letters, digits, '.', '@', '-' or '_', starting with a "
            "letter or digit"
        )


def export_for_coder(
    store: Store,
    codebook: Codebook,
    path: Path,
    *,
    coder: str,
    n: int,
    seed: int,
    overlap: float,
    blind: bool,
    within: str | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Draw a coder's sample (see smcat.sampling.coding_sample) and write it as a sheet,
    prefilled with the machine's codes and their evidence unless blind (then a row counts as
    the coder's work only once marked done). The shared posts are shuffled in among the
    coder's own, in an order seeded by the seed and the coder."""
    check_coder_name(coder)
    check_new_sheet(path, overwrite=overwrite)
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    sample = coding_sample(
        store, codebook=codebook.name, coder=coder, n=n, seed=seed, overlap=overlap, within=within
    )
    order = list(sample.posts)
    # coders should not meet the reliability posts as a block at the top of the sheet
    random.Random(f"sheet:{seed}:{coder}").shuffle(order)
    posts = store.posts_for_coders(order)
    notes = store.coder_notes(codebook.name, coder)
    subcategories = codebook.coded()
    if blind:
        rows = [SheetRow(posts[key], {}, notes=notes.get(key, "")) for key in order]
    else:
        coded = store.coded_posts(codebook.name, codebook.coder)
        uncoded = sum(key not in coded for key in sample.posts)
        if uncoded:
            raise SettingError(
                f"{uncoded} of the {len(sample.posts)} posts have no machine codes of "
                f"{codebook.coder} to suggest: run `smcat code auto` first, or export blind",
                blind=True,
            )
        machine = store.coder_codes(codebook.name, codebook.coder)
        rows = []
        for key in order:
            codes = machine.get(key, {})
            values: dict[str, int | None] = {
                sub.id: codes[sub.id][0] if sub.id in codes else 0 for sub in subcategories
            }
            note = "\n".join(
                _evidence_note(sub.id, *codes[sub.id]) for sub in subcategories if sub.id in codes
            )
            rows.append(SheetRow(posts[key], values, note, notes.get(key, "")))
    meta = SheetMeta(codebook.name, codebook.version, coder, sample=sample.sample_id,
                     suggested=not blind)  # fmt: skip
    write_sheet(path, meta, subcategories, rows, note_column=None if blind else EVIDENCE_COLUMN)
    return ExportResult(path, sample.sample_id, len(sample.shared), len(sample.own), blind)


def export_decisions(
    store: Store, codebook: str, path: Path, *, coder: str, overwrite: bool = False
) -> int:
    """Write the posts a person has coded (in the browser or from sheets) with their codes and
    notes, as a sheet they can read, correct and import again. Returns the rows written."""
    check_coder_name(coder)
    check_new_sheet(path, overwrite=overwrite)
    marks = store.coded_posts(codebook, coder)
    versions = set(marks.values())
    if not versions:
        raise SmcatError(f"{coder} has coded no posts with codebook {codebook}: check the coder "
                         "name (`smcat code reliability` lists the coders)")  # fmt: skip
    if len(versions) > 1:
        raise SmcatError(
            f"{coder} coded with versions {', '.join(sorted(versions))} of codebook {codebook}: "
            "code the posts of the older version again with the newer one first"
        )
    book = stored_codebook(store, codebook, versions.pop())
    codes, notes = store.coder_codes(codebook, coder), store.coder_notes(codebook, coder)
    posts = store.posts_for_coders(sorted(marks))
    rows = [
        SheetRow(
            post,
            {sub.id: codes.get(key, {}).get(sub.id, (0, None))[0] for sub in book.coded()},
            notes=notes.get(key, ""),
        )
        for key, post in posts.items()
    ]
    meta = SheetMeta(book.name, book.version, coder)
    return write_sheet(path, meta, book.coded(), rows, note_column=None)


def matched(entry: dict[str, Any], most: int | None = None) -> str:
    """What one evidence entry matched: its terms (the first `most`, then …), or field = value
    for a metadata rule."""
    if "terms" not in entry:
        return f"{entry.get('field')} = {entry.get('value')}"
    terms = list(dict.fromkeys(entry["terms"]))
    more = " …" if most is not None and len(terms) > most else ""
    return ", ".join(terms[:most]) + more


def _evidence_note(subcategory: str, value: int, evidence: str | None) -> str:
    """The machine's reasons for a code, readable in a cell: "B3 抽奖, 转发抽 (B3.cues)"."""
    reasons = [
        f"{matched(entry, _TERMS_SHOWN)} ({entry.get('rule')})"
        for entry in json.loads(evidence or "[]")
    ]
    return f"{subcategory}={value}: " + "; ".join(reasons) if reasons else f"{subcategory}={value}"


def import_sheet(
    store: Store, path: Path, *, coder: str, blank_as_zero: bool = False
) -> ImportResult:
    """Check a coder's sheet cell by cell and store its codes, or nothing if anything is wrong
    (SheetProblems lists every mistake by row and column)."""
    check_coder_name(coder)
    raw = read_sheet(path)
    meta = sheet_meta(raw)
    if meta.coder == GOLD:
        raise SheetError(f"{path} is an adjudication sheet: import it with "
                         "`smcat code adjudicate import`")  # fmt: skip
    if meta.coder != coder:
        raise SheetError(
            f"{path} was exported for coder {meta.coder!r}, not {coder!r}: import it as "
            f"{meta.coder}'s codes, or export a sheet for {coder}"
        )
    return _store_sheet(
        store, raw, meta, blank_as_zero, " (or read empty cells as 0)", zero_settles=True
    )


def _store_sheet(
    store: Store,
    raw: RawSheet,
    meta: SheetMeta,
    blank_as_zero: bool,
    blank_hint: str,
    *,
    zero_settles: bool = False,
) -> ImportResult:
    codebook = stored_codebook(store, meta.codebook, meta.version)
    subcategories = [sub.id for sub in codebook.coded()]
    _check_posts(store, raw, meta)
    read = sheet_codes(raw, subcategories, blank_as_zero=blank_as_zero, blank_hint=blank_hint,
                       confirmed_only=meta.suggested)  # fmt: skip
    problems = list(read.problems)
    missing = set(store.missing_posts(read.values))
    platform_at, post_at = raw.header.index("platform"), raw.header.index("post_id")
    for number, cells in raw.rows:
        if (cells[platform_at], cells[post_at]) in missing:
            problems.append(SheetProblem(
                number, raw.column(post_at),
                f"no post {cells[post_at]} on {cells[platform_at]} in this database: import "
                "into the database the sheet was exported from, and keep post_id as text",
            ))  # fmt: skip
    if problems:
        # where empty cells may be read as 0, the error names that setting
        settle = {"blank_as_zero": True} if read.empty_cells and zero_settles else {}
        raise SheetProblems(raw.path, sorted(problems, key=lambda p: p.row), **settle)
    with store.transaction():
        written = write_codes(store, codebook, meta.coder, read.values)
        store.save_notes(meta.codebook, meta.coder, read.notes, datetime.now(UTC).isoformat())
    return ImportResult(
        meta.coder, meta.codebook, meta.version, len(read.values), written, read.blank_rows,
        unconfirmed_rows=read.unconfirmed_rows,
    )  # fmt: skip


def _check_posts(store: Store, raw: RawSheet, meta: SheetMeta) -> None:
    """Refuse, naming the rows, a sheet whose rows name stored posts other than those they were
    written for: not in the coder's recorded sample, or not matching the row's post check (as
    when Excel shortened an id to 15 significant digits, 5300000000001163 -> ...160)."""
    checks = row_checks(raw)
    members = set(store.sample_posts(meta.sample)) if meta.sample else None
    # a missing post is a problem of its own, reported with the cells' problems
    stored = store.posts_for_coders({key for _, key, _ in checks})
    wrong = sorted(
        number
        for number, key, check in checks
        if key in stored and (post_check(stored[key]) != check or
                              (members is not None and key not in members))
    )  # fmt: skip
    if wrong:
        rows = ", ".join(map(str, wrong))
        raise SheetError(
            f"{raw.path}: row(s) {rows} name other posts than they were exported for (a "
            "spreadsheet that keeps 15 digits shortens long ids), or posts whose text was "
            "crawled again since; nothing was imported: restore post_id from the exported file "
            "(the .xlsx sheet keeps ids as text), or copy the codes into a new export"
        )


def stored_codebook(store: Store, name: str, version: str) -> Codebook:
    """A codebook version kept in the store, as the codes that name it were made with."""
    text = store.codebook_text(name, version)
    if text is None:
        raise SmcatError(
            f"codebook {name} version {version} is not in this database: import into the "
            "database the sheet was exported from"
        )
    return parse_codebook(text, f"{name} version {version} (stored)")


def write_codes(
    store: Store, codebook: Codebook, coder: str, values: dict[tuple[str, str], dict[str, int]]
) -> int:
    """Store a person's 0/1 codes of whole posts, with the posts' coded marks, all or none.
    Replaces the coder's earlier codes of the same posts."""
    coded_at = datetime.now(UTC).isoformat()
    common = {"codebook": codebook.name, "coder": coder, "codebook_version": codebook.version,
              "coded_at": coded_at}  # fmt: skip
    codes, marks = [], []
    for (platform, post_id), by_sub in values.items():
        where = {"platform": platform, "post_id": post_id, **common}
        codes += [{**where, "subcategory": sub, "value": value} for sub, value in by_sub.items()]
        marks.append(where)
    with store.transaction():
        result = store.add_coded(codes, marks)
        if result.rejected:
            raise SmcatError(f"the store refused {result.rejected} code(s) ({result.reasons[0]}): "
                             "nothing was imported")  # fmt: skip
    return len(codes)


@dataclass(frozen=True)
class Disagreement:
    """A post the coders coded differently: the values they agree on, and per disputed
    subcategory what each coder gave."""

    key: tuple[str, str]
    agreed: dict[str, int]
    disputed: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Comparison:
    """The posts that two or more coders coded with one codebook version."""

    codebook: Codebook
    coders: tuple[str, ...]
    consensus: dict[tuple[str, str], dict[str, int]]
    disagreements: list[Disagreement]


def compare_coders(store: Store, codebook: str, coders: Sequence[str]) -> Comparison:
    """Every post coded by at least two of the coders: where they all agree, and where not."""
    marks = {coder: store.coded_posts(codebook, coder) for coder in coders}
    versions = {version for coded in marks.values() for version in coded.values()}
    if len(versions) > 1:
        raise SmcatError(
            f"the coders used versions {', '.join(sorted(versions))} of codebook {codebook}: "
            "adjudicate codes of one version (have everyone code with the same one)"
        )
    if not versions:
        raise SmcatError(f"no coded posts of {', '.join(coders)} with codebook {codebook}")
    book = stored_codebook(store, codebook, versions.pop())
    codes = {coder: store.coder_codes(codebook, coder) for coder in coders}
    by_post: dict[tuple[str, str], list[str]] = {}
    for coder in coders:
        for key in marks[coder]:
            by_post.setdefault(key, []).append(coder)
    consensus, disagreements = {}, []
    for key in sorted(k for k, who in by_post.items() if len(who) > 1):
        agreed, disputed = {}, {}
        for sub in book.coded():
            given = {c: codes[c].get(key, {}).get(sub.id, (0, None))[0] for c in by_post[key]}
            if len(set(given.values())) == 1:
                agreed[sub.id] = next(iter(given.values()))
            else:
                disputed[sub.id] = given
        if disputed:
            disagreements.append(Disagreement(key, agreed, disputed))
        else:
            consensus[key] = agreed
    return Comparison(book, tuple(coders), consensus, disagreements)


def export_disagreements(
    store: Store, comparison: Comparison, path: Path, *, overwrite: bool = False
) -> int:
    """Write the posts the coders disagree on for an adjudicator: agreed cells filled, disputed
    cells empty, and a column saying who gave what. Returns the rows written."""
    check_new_sheet(path, overwrite=overwrite)
    posts = store.posts_for_coders(d.key for d in comparison.disagreements)
    notes = store.coder_notes(comparison.codebook.name, GOLD)
    rows = []
    for item in comparison.disagreements:
        note = "; ".join(
            f"{sub}: " + ", ".join(f"{coder}={value}" for coder, value in given.items())
            for sub, given in item.disputed.items()
        )
        rows.append(SheetRow(posts[item.key], dict(item.agreed), note, notes.get(item.key, "")))
    book = comparison.codebook
    meta = SheetMeta(book.name, book.version, GOLD, comparison.coders)
    return write_sheet(path, meta, book.coded(), rows, note_column=DISAGREEMENT_COLUMN)


def import_decisions(store: Store, path: Path) -> ImportResult:
    """Store an adjudicator's decisions as coder gold, and with them as gold every post the
    sheet's coders all agree on, so that gold covers every post two or more of them coded."""
    raw = read_sheet(path)
    meta = sheet_meta(raw)
    if meta.coder != GOLD or len(meta.coders) < 2:
        raise SheetError(
            f"{path} is not an adjudication sheet: import a coder's sheet with "
            "`smcat code import`, and adjudicate with a sheet from `smcat code adjudicate export`"
        )
    comparison = compare_coders(store, meta.codebook, meta.coders)
    if comparison.codebook.version != meta.version:
        raise SheetError(
            f"{path} holds codes of version {meta.version}, but the coders' codes are now of "
            f"version {comparison.codebook.version}: export the disagreements again"
        )
    with store.transaction():
        decided = _store_sheet(store, raw, meta, False, ": decide every disputed cell")
        agreed = write_codes(store, comparison.codebook, GOLD, comparison.consensus)
    return ImportResult(
        GOLD, meta.codebook, meta.version, decided.posts, decided.codes + agreed,
        decided.blank_rows, consensus=len(comparison.consensus),
    )  # fmt: skip
