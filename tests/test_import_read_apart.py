"""A big plain table is read in a second process while the first writes
(`smcat.imports.reader_process`): it must store exactly what one process stores, and a
failure on either side must store nothing and leave no process behind."""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from datetime import datetime
from pathlib import Path

import pytest

import smcat.imports.formats.table as table_format
import smcat.imports.posts as posts_module
from crawler.parsers.common import CHINA, PostTime
from smcat.errors import SmcatError
from smcat.imports.formats.base import Context, Reader, post_row
from smcat.imports.posts import import_posts
from smcat.imports.reader_process import POST_ROW_FIELDS, Chunk
from smcat.imports.sources import ImportFileError
from smcat.store import Store
from smcat.units import SECOND
from tests.test_import_fast_path import HEADER, ROWS, stored

COPIES = 40  # of the fast path's rows: 480 rows, each kind of value and reject many times


def copies(count: int) -> Iterator[list[str]]:
    """The fast path's rows again and again, new ids each time (but the bid, repeated across
    chunks), accounts shared between copies."""
    for copy in range(count):
        for row in ROWS:
            cells = list(row)
            if cells[1].isdigit():
                cells[1] = str(int(cells[1]) + 100 * copy)
            if cells[2].isdigit():
                cells[2] = str(int(cells[2]) + copy % 3)
            yield cells


def write(path: Path, rows: Iterator[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def read_apart(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """From here on every table is read apart, in chunks of 7 records (so that chunks and the
    places of rejects and accounts among their rows fall anywhere); the list of the files
    read apart."""
    monkeypatch.setattr(posts_module, "READ_APART_BYTES", 0)
    monkeypatch.setattr(posts_module, "PROGRESS_EVERY", 7)
    read: list[Path] = []
    real = posts_module.read_apart

    def spied(reader: Reader, context: Context, size: int) -> ContextManager[Iterator[Chunk]]:
        read.append(context.path)
        return real(reader, context, size)

    monkeypatch.setattr(posts_module, "read_apart", spied)
    return read


def nothing_stored(store: Store) -> None:
    for table in ("crawls", "posts", "post_observations", "accounts", "rejects"):
        assert store.connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_a_post_row_tuple_holds_the_fields_of_a_post_row_in_their_order() -> None:
    row = post_row("weibo", "1", PostTime("2025-10-08T20:15:00+08:00", SECOND),
                   datetime(2025, 11, 25, 9, tzinfo=CHINA), "正文", {}, [])  # fmt: skip
    assert tuple(row) == POST_ROW_FIELDS


def test_reading_apart_stores_exactly_what_one_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = write(tmp_path / "posts.csv", copies(COPIES))
    monkeypatch.setattr(posts_module, "WRITE_BATCH", 50)  # batches end anywhere in chunks too
    with Store.open(tmp_path / "one.db") as store:
        [here] = import_posts(store, [table], "table")
        one_process = stored(store)
    read = read_apart(monkeypatch)
    progress: list[int] = []
    with Store.open(tmp_path / "two.db") as store:
        [there] = import_posts(store, [table], "table", on_progress=progress.append)
        two_processes = stored(store)
    assert read == [table]
    assert two_processes == one_process
    assert (there.stored, there.accounts, there.rejected, there.refused) == (
        here.stored,
        here.accounts,
        here.rejected,
        here.refused,
    )
    assert sum(progress) == COPIES * len(ROWS)
    # the file holds what it is meant to: many posts, rejects and accounts, a repeated post
    assert len(one_process["posts"]) == COPIES * 4 + 1
    assert len(here.rejected) + len(here.refused) == COPIES * 6
    assert len(here.accounts) == 4 + 1  # Weibo accounts of stored posts, one Douyin
    assert not multiprocessing.active_children()


def test_a_small_file_is_read_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[Path] = []
    monkeypatch.setattr(posts_module, "read_apart", lambda *args: read.append(args[1].path))
    with Store.open(tmp_path / "smcat.db") as store:
        import_posts(store, [write(tmp_path / "posts.csv", copies(2))], "table")
    assert read == []


def test_a_file_found_broken_midway_apart_stores_nothing_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = list(copies(COPIES))
    rows[300][1] += ".0"  # an id a spreadsheet damaged, after many chunks were written
    table = write(tmp_path / "posts.csv", iter(rows))
    read = read_apart(monkeypatch)
    with Store.open(tmp_path / "smcat.db") as store:
        with pytest.raises(SmcatError) as raised:
            import_posts(store, [table], "table")
        nothing_stored(store)
    assert read == [table]
    assert "was turned into a number by a spreadsheet" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not multiprocessing.active_children()


def test_the_readers_error_reaches_the_importing_process_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = write(tmp_path / "posts.csv", copies(COPIES))
    read_apart(monkeypatch)
    real = table_format._post_id

    def refusing(value: object, platform: str, context: Context) -> str:
        if value == "5210003412802001":
            error = ImportFileError(f"{context.path}: line 241 is not utf-8 text: import it as gbk")
            vars(error)["settings"] = {"encoding": "gbk"}  # what the CLI names the fix by
            raise error
        return real(value, platform, context)

    monkeypatch.setattr(table_format, "_post_id", refusing)
    with Store.open(tmp_path / "smcat.db") as store:
        with pytest.raises(ImportFileError) as raised:
            import_posts(store, [table], "table")
        nothing_stored(store)
    assert str(raised.value).endswith("line 241 is not utf-8 text: import it as gbk")
    assert vars(raised.value)["settings"] == {"encoding": "gbk"}
    assert not multiprocessing.active_children()


def test_a_reader_that_dies_midway_gives_one_line_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = write(tmp_path / "posts.csv", copies(COPIES))
    read_apart(monkeypatch)
    real = table_format.post_row

    def dying(*args: object, **kwargs: object) -> object:
        if args[1] == "5210003412802001":  # the 21st copy's first post: the process is killed
            os._exit(9)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(table_format, "post_row", dying)
    with Store.open(tmp_path / "smcat.db") as store:
        with pytest.raises(SmcatError, match=r"process reading the file stopped \(exit code 9\)"):
            import_posts(store, [table], "table")
        nothing_stored(store)
    assert not multiprocessing.active_children()


def test_an_interrupt_while_writing_ends_the_reader_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # more rows than the pipe holds: the reader is still at work when Ctrl-C comes
    table = write(tmp_path / "posts.csv", copies(5 * COPIES))
    read_apart(monkeypatch)
    reading: list[int] = []

    def interrupted(count: int) -> None:
        reading.append(len(multiprocessing.active_children()))
        raise KeyboardInterrupt  # Ctrl-C after the first chunk was written

    with Store.open(tmp_path / "smcat.db") as store:
        with pytest.raises(KeyboardInterrupt):
            import_posts(store, [table], "table", on_progress=interrupted)
        nothing_stored(store)
    assert reading == [1]
    assert not multiprocessing.active_children()
