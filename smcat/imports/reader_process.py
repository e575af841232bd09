"""Reading a file of posts on a second core: a forked process reads the records and turns them
into post rows while the importing process writes the rows before them
(`smcat.imports.posts`, bench/bench_import_posts.py).

The rows cross in chunks of tuples in one column order (`POST_ROW_FIELDS`): a pickled item or
dict a row cost the writer nearly what reading the row had. What a record gives that is not a
post row (an account, a record that could not be read) goes with its place among the chunk's
rows, so that the writer takes everything in the file's order, as one process would. A file
that turns out broken midway (ImportFileError in the reader) is raised in the importing
process, whose transaction then stores nothing; the reading process never outlives the
import, whatever stops it.
"""

from __future__ import annotations

import multiprocessing
import operator
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from typing import Any

from crawler.items import Item
from smcat.errors import SmcatError
from smcat.imports.formats.base import Context, Reader
from smcat.imports.sources import ImportFileError, Record

CHUNK = 10_000  # records a message: big enough that a message costs little, small enough to overlap
POST_ROW_FIELDS = (
    "platform", "post_id", "created_at", "created_at_precision", "observed_at", "account_id",
    "text", "is_repost", "origin_post_id", "media_type", "pic_count", "video_seconds", "source",
    "region", "url", "is_long_text", "is_pinned", "likes", "comments", "reposts", "shares",
    "collects", "plays", "topics", "mentions", "extra",
)  # fmt: skip
"""A post row's fields (`formats.base.post_row`) in the order its tuple holds them."""

Unread = tuple[int, Record, str, str]
"""A record that could not be read: its number, the record, the error with its type, and the
error alone."""
Other = tuple[int, Item | Unread]
"""An item or an unread record, after how many of its chunk's post rows it came."""
Chunk = tuple[list[tuple[Any, ...]], list[Other], int]
"""Post rows as tuples, the rest in its places among them, and how many records were read."""

_CHUNK, _DONE, _FILE_ERROR, _FAILED = "chunk", "done", "file error", "failed"


def can_read_apart() -> bool:
    """Whether this machine has a second core and processes can be forked (the reader holds
    open files and generators that a fresh process could not be given)."""
    return (multiprocessing.cpu_count() > 1) and "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def read_apart(reader: Reader, context: Context, size: int = CHUNK) -> Iterator[Iterator[Chunk]]:
    """The reader's records read in a forked process, as chunks. The process is ended when
    the block is left, however it is left; ImportFileError for a file found broken there."""
    forking = multiprocessing.get_context("fork")
    receiving, sending = forking.Pipe(duplex=False)
    child = forking.Process(
        target=_read, args=(reader, context, sending, size), name="smcat import reader", daemon=True
    )
    child.start()
    sending.close()  # so that a reader that dies is an end of file here
    try:
        yield _chunks(receiving, context, child)
    finally:
        receiving.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _chunks(
    receiving: Connection, context: Context, child: multiprocessing.process.BaseProcess
) -> Iterator[Chunk]:
    while True:
        try:
            kind, value = receiving.recv()
        except EOFError:
            child.join()
            raise SmcatError(
                f"{context.path}: the process reading the file stopped (exit code "
                f"{child.exitcode}): import the file again"
            ) from None
        if kind == _CHUNK:
            yield value
        elif kind == _DONE:
            return
        elif kind == _FILE_ERROR:
            raise value from None  # the reader's own error, what it says the fix is included
        else:
            raise SmcatError(f"{context.path}: reading it failed ({value}): report this as a bug")


def _read(reader: Reader, context: Context, sending: Connection, size: int) -> None:
    """The reading process: every record converted, sent in chunks, then done or the error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importing process's to handle
    row_of = operator.itemgetter(*POST_ROW_FIELDS)
    posts: list[tuple[Any, ...]] = []
    others: list[Other] = []
    records = 0
    try:
        for number, record in reader.records:
            records += 1
            try:
                items = reader.convert(record, context)
            except ImportFileError:
                raise
            except Exception as error:  # one record that breaks its reader costs itself only
                others.append((len(posts), (number, record, f"{type(error).__name__}: {error}",
                                            f"{error}")))  # fmt: skip
            else:
                for item in items:
                    if isinstance(item, dict):
                        posts.append(row_of(item))
                    else:
                        others.append((len(posts), item))
            if records == size:
                sending.send((_CHUNK, (posts, others, records)))
                posts, others, records = [], [], 0
        sending.send((_CHUNK, (posts, others, records)))
        sending.send((_DONE, None))
    except ImportFileError as error:
        with suppress(OSError):  # the importing process may have gone already
            sending.send((_FILE_ERROR, error))
    except Exception as error:
        with suppress(OSError):
            sending.send((_FAILED, f"{type(error).__name__}: {error}"))
    finally:
        sending.close()
