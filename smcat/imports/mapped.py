"""Files whose headers name smcat's fields, in smcat's own names, in common Chinese headers, or
as a mapping file says (`--map mapping.toml`, a `[columns]` table of header = field)."""

from __future__ import annotations

from pathlib import Path

from smcat.imports.commerce import ROW, CommerceImportError, check_header
from smcat.imports.streamers import read_mapping
from smcat.tables import read_records


def read_mapped(
    path: Path,
    fields: tuple[str, ...],
    required: tuple[str, ...],
    aliases: dict[str, str],
    mapping: Path | None,
    what: str,
) -> list[dict[str, object]]:
    """The rows of a CSV, XLSX or JSONL file as dicts of field to text (None for an empty
    cell), each with its row number under ROW. Headers are read through `aliases` (other
    names of the fields), or only through the mapping file if one is given (then the file's
    other columns are left out); the header is checked (commerce.check_header) first."""
    table = read_records(path)
    if mapping:
        names, _ = read_mapping(mapping, fields)
        header = [names.get(name, "") for name in table.header]
        if not any(header):
            raise CommerceImportError(f"{mapping}: it maps none of the headers of {path}: fix it")
    else:
        header = [aliases.get(name, name) for name in table.header]
        check_header(path, header, fields, required, what)
    if missing := [name for name in required if name not in header]:
        raise CommerceImportError(f"{path}: no column for {missing[0]!r}: {what} needs one")
    if not table.rows:
        raise CommerceImportError(f"{path}: the file has a header but no rows: fill it in")
    at = {name: index for index, name in enumerate(header) if name}
    return [
        {**{name: cells[at[name]] or None for name in fields if name in at}, ROW: number}
        for number, cells in table.rows
    ]
