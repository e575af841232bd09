"""`smcat import posts` and `smcat import comments`: other crawlers' output into the store.

Each file is read by its format (`smcat.imports.formats`) record by record into the crawler's
own items (a plain table's posts into store rows of the same fields, `formats.base.post_row`:
no item a row), and written by the crawl's own writer (`crawler.writer.ItemWriter`), so upserts,
observations and rejects behave as after a crawl: the same post crawled and imported is one
row, importing a file again adds nothing, and a newer file of the same posts adds an
observation. Each import is recorded as a crawl named "import posts" or "import comments"
whose arguments name the format and file, and its rows carry that crawl's id: that is where a
row's source is kept (`posts.source` is the client a post was sent from).

A big plain table is read in a second process while this one writes (`reader_process`); what
is stored is the same. A file is checked before anything of it is written (its encoding, the
columns its format needs, the crawl time) and written in one transaction, so that a file found
broken halfway (a truncated JSON Lines file, ids a spreadsheet damaged) stores nothing. A record
that cannot be read goes to `rejects` with its row number and why; every other record is
stored.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.items import AccountItem, CommentItem, Item, PostItem
from crawler.pseudonyms import PREFIX as PSEUDONYM_PREFIX
from crawler.pseudonyms import Pseudonymizer
from crawler.writer import ItemWriter
from smcat.errors import SettingError
from smcat.imports.formats import FORMATS, table
from smcat.imports.formats.base import (
    COMMENTS,
    POSTS,
    Context,
    Format,
    PostRow,
    Reader,
    require_time,
)
from smcat.imports.reader_process import POST_ROW_FIELDS, can_read_apart, read_apart
from smcat.imports.sources import ImportFileError, Record, observed_time
from smcat.store import FINISHED, FINISHED_WITH_REJECTS, Store

PROGRESS_EVERY = 10_000  # records between calls of on_progress
# rows the writer buffers between store writes: an import is one transaction anyway, and each
# batch costs a savepoint and a scan of its columns (a tenth of the store's time at the
# crawl's 500, bench/bench_import_posts.py)
WRITE_BATCH = 10_000
# a file this big (about 20,000 rows of a plain table) is read in a second process while this
# one writes; near it both ways take the same (25,000 rows: 0.6 to 0.8 s either way), far above
# it the second process pays (bench/bench_import_posts.py), below it a fork is not worth it
READ_APART_BYTES = 4_000_000


@dataclass
class FileImport:
    """What importing one file did: the ids of the posts (or comments) and accounts stored,
    the records that could not be read (row number and why), the rows the store refused, and
    the import's crawl record."""

    path: Path
    format: str
    kind: str
    crawl_id: int = 0
    stored: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_posts(
    store: Store,
    paths: Sequence[Path],
    format: str,
    *,
    observed_at: str | datetime | None = None,
    encoding: str | None = None,
    mapping: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[FileImport]:
    """Import files of posts written by another tool (`format`, a name in FORMATS).

    `observed_at` is when the files were crawled, for formats that do not record it (an ISO
    time; China time if it names no offset). `encoding` reads text files in another encoding
    than UTF-8 (gbk); `mapping` describes a plain table's columns (format "table")."""
    return _import(store, paths, format, POSTS, observed_at, encoding, mapping, on_progress)


def import_comments(
    store: Store,
    paths: Sequence[Path],
    format: str,
    *,
    observed_at: str | datetime | None = None,
    encoding: str | None = None,
    mapping: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> list[FileImport]:
    """Import files of comments written by another tool; as `import_posts`. With a
    `pseudonymizer`, commenters are stored as a pseudonymised crawl stores them (keyed hashes,
    no names) and a rejected row keeps only its file and row number. A database holds one kind
    of commenter ids: real ones and pseudonyms are not mixed."""
    if format in FORMATS:
        _check_one_mode(store, FORMATS[format].platform, pseudonymizer is not None)
    return _import(
        store, paths, format, COMMENTS, observed_at, encoding, mapping, on_progress, pseudonymizer
    )


def _import(
    store: Store,
    paths: Sequence[Path],
    name: str,
    kind: str,
    observed_at: str | datetime | None,
    encoding: str | None,
    mapping: Path | None,
    on_progress: Callable[[int], None] | None,
    pseudonymizer: Pseudonymizer | None = None,
) -> list[FileImport]:
    chosen = _format(name, kind)
    at = _observed_at(observed_at)
    # every file is opened and checked before the first is written
    opened = []
    for path in paths:
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file: check the path")
        reader = chosen.open(path, kind, encoding, mapping)
        require_time(reader, Context(path, at))
        opened.append((path, reader))
    return [
        _import_file(
            store, path, reader, chosen, kind, Context(path, at), on_progress, pseudonymizer
        )
        for path, reader in opened
    ]


def _format(name: str, kind: str) -> Format:
    if name not in FORMATS:
        raise SettingError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}", format=None)
    chosen = FORMATS[name]
    if kind not in chosen.kinds:
        raise SettingError(
            f"{name} exports no {kind}: formats with {kind} are "
            f"{', '.join(f.name for f in FORMATS.values() if kind in f.kinds)}",
            format=None,
        )
    return chosen


def _observed_at(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return observed_time(value)
    except ValueError:
        raise SettingError(
            f"crawl time {value!r} is no time: give it as e.g. 2025-11-20T18:00+08:00",
            observed_at=None,
        ) from None


def _import_file(
    store: Store,
    path: Path,
    reader: Reader,
    chosen: Format,
    kind: str,
    context: Context,
    on_progress: Callable[[int], None] | None,
    pseudonymizer: Pseudonymizer | None,
) -> FileImport:
    spider = f"import {kind}"
    args = {"format": chosen.name, "file": path.name, "sha256": _digest(path)}
    result = FileImport(path, chosen.name, kind, notes=list(reader.notes))
    with store.transaction(), _collector_paused():
        earlier = store.crawl_with(spider, args)
        crawl_id = earlier.crawl_id if earlier else store.start_crawl(spider, args)
        intake = _Intake(store, crawl_id, path, kind, pseudonymizer, result)
        if _read_apart(path, chosen, kind, pseudonymizer):
            _import_read_apart(reader, context, intake, on_progress)
        else:
            _import_here(reader, context, intake, on_progress)
        intake.writer.flush()
        result.refused = intake.writer.written.reasons
        counts = {
            "items": len(result.stored),
            "rejected": len(result.rejected) + len(result.refused),
        }
        status = FINISHED_WITH_REJECTS if counts["rejected"] else FINISHED
        store.finish_crawl(crawl_id, status, f"imported {path.name}", counts)
    result.crawl_id = crawl_id
    return result


def _read_apart(path: Path, chosen: Format, kind: str, pseudonymizer: Pseudonymizer | None) -> bool:
    """Whether to read the file in a second process: a plain table's posts (rows, not items,
    cross cheaply) in a file big enough to pay for the process (bench/bench_import_posts.py)."""
    return (
        chosen.name == table.NAME
        and kind == POSTS
        and pseudonymizer is None
        and path.stat().st_size >= READ_APART_BYTES
        and can_read_apart()
    )


def _import_here(
    reader: Reader,
    context: Context,
    intake: _Intake,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Read and write the records in this process."""
    for count, (number, record) in enumerate(reader.records, start=1):
        if on_progress is not None and count % PROGRESS_EVERY == 0:
            on_progress(PROGRESS_EVERY)
        try:
            items = reader.convert(record, context)
        except ImportFileError:
            raise
        except Exception as error:  # one record that breaks its reader costs itself only
            intake.unread(number, record, f"{type(error).__name__}: {error}", f"{error}")
            continue
        intake.take(items)


def _import_read_apart(
    reader: Reader,
    context: Context,
    intake: _Intake,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Read the records in a second process (`reader_process`) and write them here, in the
    file's order."""
    with read_apart(reader, context, PROGRESS_EVERY) as chunks:
        for rows, others, records in chunks:
            done = 0
            for place, other in others:
                intake.take_rows(rows[done:place])
                done = place
                if isinstance(other, tuple):
                    intake.unread(*other)
                else:
                    intake.take([other])
            intake.take_rows(rows[done:])
            if on_progress is not None:
                on_progress(records)


class _Intake:
    """Where an import's converted records go: items and post rows to the writer, records
    that could not be read to `rejects`, and what was done to the import's result."""

    def __init__(
        self,
        store: Store,
        crawl_id: int,
        path: Path,
        kind: str,
        pseudonymizer: Pseudonymizer | None,
        result: FileImport,
    ) -> None:
        self.store = store
        self.crawl_id = crawl_id
        self.path = path
        self.kind = kind
        self.pseudonymised = pseudonymizer is not None
        self.result = result
        self.kept = store.stored_rejects(crawl_id, f"import {kind}")
        self.writer = ItemWriter(store, crawl_id, pseudonymizer, WRITE_BATCH)

    def unread(self, number: int, record: Record, described: str, error: str) -> None:
        """A record that could not be read (`described`: the error with its type)."""
        reason = f"row {number}: {described}"
        payload: dict[str, object] = {"file": self.path.name, "row": number}
        if not self.pseudonymised:  # a pseudonymised import keeps no names or ids
            payload["record"] = record
        if self.store.reject_key(f"{self.kind}_import", reason, payload) not in self.kept:
            self.store.reject(f"{self.kind}_import", reason, payload, crawl_id=self.crawl_id)
        self.result.rejected.append((number, error))

    def take(self, items: Iterable[Item | PostRow]) -> None:
        """A record's items (and post rows)."""
        for item in items:
            if isinstance(item, dict):  # a post as a store row (formats.base.post_row)
                self.result.stored.add(item["post_id"])
                self.writer.add_post_row(item)
                continue
            if isinstance(item, PostItem):
                self.result.stored.add(item.post_id)
            elif isinstance(item, CommentItem):
                self.result.stored.add(item.comment_id)
            elif isinstance(item, AccountItem):
                if item.account_id in self.result.accounts:
                    continue  # a file names its accounts again on every row: once is all
                self.result.accounts.add(item.account_id)
            self.writer.add(_extra_unknown(item, self.pseudonymised))

    def take_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Post rows as tuples of `POST_ROW_FIELDS`, as `take` takes them as dicts."""
        stored, add = self.result.stored.add, self.writer.add_post_row
        for row in rows:
            stored(row[1])
            add(dict(zip(POST_ROW_FIELDS, row, strict=True)))


def _digest(path: Path) -> str:
    """The file's SHA-256: the same file imported again is the same import."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during an import, as the store does during a
    batch: the writer's record of the posts it has seen grows by a tuple per post, and full
    collections walked all of them again and again (bench/bench_import_posts.py). The items
    made hold no cycles; whether the collector was on is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _extra_unknown(item: Item, pseudonymised: bool) -> Item:
    """The item with no `extra` where it has nothing to say there: the store writes {} over
    what a crawl kept (a post's pictures, a Douyin account's uid) and keeps it for None. The
    writer reads an item's fields as they stand; a comment it pseudonymises needs a dict."""
    if pseudonymised and isinstance(item, CommentItem):
        return item
    if isinstance(item, PostItem | AccountItem | CommentItem) and not item.extra:
        vars(item)["extra"] = None
    return item


def _check_one_mode(store: Store, platform: str, pseudonymize: bool) -> None:
    """Refuse comments that would mix commenters under real ids and under pseudonyms in one
    database, as a comment crawl refuses them (a comment stored both ways ties a pseudonym to
    its person)."""
    for each in (platform,) if platform else ("weibo", "douyin"):
        pseudonymous, real = store.comment_authors(each, PSEUDONYM_PREFIX)
        if pseudonymize and real:
            raise SettingError(
                f"the database holds {real:,} {each} comments under their authors' real ids: "
                "pseudonymised comments go into a database of their own",
                db=None,
            )
        if not pseudonymize and pseudonymous:
            raise SettingError(
                f"the database holds {pseudonymous:,} {each} comments under pseudonyms: import "
                "these pseudonymised too, or into another database",
                pseudonymize=True,
                db=None,
            )
