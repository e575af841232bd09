"""`Store`: one open smcat database, with the reads and writes of every area."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smcat.store.captured import Captured
from smcat.store.cluster import ClusterBatches
from smcat.store.coding import Coding
from smcat.store.commerce import Commerce
from smcat.store.crawls import CrawlRecord, Crawls
from smcat.store.export import Export
from smcat.store.frames import Frames
from smcat.store.linkage import Linkage
from smcat.store.people import People
from smcat.store.schema import (
    TABLES,
    StoreError,
    StoreFull,
    check_database_file,
    connect_read_only,
    migrate,
)
from smcat.store.streamers import Streamers

_PAGE_SIZE = 16384  # bytes, for new databases


@dataclass(frozen=True)
class StoreInfo:
    """A summary of a store: path, schema version, row counts per table, the latest crawls."""

    path: Path
    schema_version: int
    row_counts: dict[str, int]
    crawls: list[CrawlRecord]


class Store(
    Crawls, Captured, Streamers, Commerce, People, Coding, Frames, Export, ClusterBatches, Linkage
):
    """A connection to one smcat database, with the named reads and writes the toolkit uses.

    Each area's reads and writes are defined in its own module (crawls, captured, streamers,
    commerce, people, coding, frames, export, cluster, linkage), all over the one connection and row
    engine."""

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False, checked: bool = False) -> Store:
        """Open (and create or upgrade) the database at `path`.

        With `readonly`, the file must exist and is neither migrated nor written. With
        `checked`, SQLite first reads every page of it (PRAGMA quick_check, a few seconds a
        GB), and a damaged file is refused before anything is written into it.
        """
        path = Path(path)
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            check_database_file(path, whole=checked)
        elif readonly:
            raise StoreError(
                f"no database at {path}: run a crawl or `smcat demo` first, or name another file",
                db=None,
            )
        if readonly:
            connection = connect_read_only(path, _Connection)
        else:
            _check_writable(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"cannot make the folder of {path} ({error.strerror}): name a database in a"
                    " folder you can write to",
                    db=None,
                ) from None
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, factory=_Connection
            )
        # first: another process creating or writing the same file may hold it for a moment
        connection.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            if not exists:
                # bigger pages than SQLite's 4 KiB: 6-8% more posts/s on bench/bench_ingest.py,
                # and fewer pages to read in the analysts' full-table scans
                connection.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
            _use_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
            migrate(connection, path)
        return cls(connection, path)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def info(self, crawls: int = 5) -> StoreInfo:
        """Schema version, row counts of every table, and the latest crawls."""
        present = self.present_tables()
        counts = {t: self.count(t) if t in present else 0 for t in TABLES}
        recent = self.crawls(crawls) if "crawls" in present else []
        return StoreInfo(self.path, self.schema_version, counts, recent)


def _check_writable(path: Path) -> None:
    """StoreError if the database or its folder cannot be written (SQLite makes its -wal and
    -shm files in the folder): refused before anything is done, not at the first write."""
    for what, target in (("file", path), ("folder", path.parent)):
        if target.exists() and not os.access(target, os.W_OK, effective_ids=_EFFECTIVE_IDS):
            raise StoreError(
                f"{path} is read-only (its {what}): make it writable, or write to a copy in a"
                " folder of your own; commands that only read it work as it is",
                db=None,
            )


_EFFECTIVE_IDS = os.access in os.supports_effective_ids


class _Connection(sqlite3.Connection):
    """A connection whose statements fail as StoreFull when the disk is full: a user can fix
    that (and a crawl must stop at once on it), unlike the other errors of SQLite."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as error:
            raise _full(error) from None

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as error:
            raise _full(error) from None


def _full(error: sqlite3.OperationalError) -> Exception:
    """StoreFull for SQLite's "database or disk is full", else the error itself."""
    if error.sqlite_errorcode != sqlite3.SQLITE_FULL:
        return error
    return StoreFull(
        f"the disk holding the database is full ({error}): free space on it, then run the"
        " command again"
    )


def _use_wal(connection: sqlite3.Connection, patience: float = 10.0) -> None:
    """Put the database in WAL mode. Switching takes the file for itself and SQLite does not
    wait for it (busy_timeout does not apply), so while another process is creating or
    switching the same file, try again for up to `patience` seconds."""
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
