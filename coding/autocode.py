"""The machine-coding run: a codebook's tagger, or a trained model, over the stored posts it
has not coded yet, batch by batch, with the codes and the posts' coded marks written back to
the store.

The tagging itself is `coding.tagger.Tagger` (text in, codes out) or `coding.train.Coder`;
this module reads and writes the store, and spreads the coding over forked worker processes.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from coding.codebook import Codebook
from coding.tagger import Tagger
from coding.train import Coder, TrainedCoder
from smcat.errors import SmcatError
from smcat.hot_words import HotWordIndex
from smcat.store import Store, post_to_code


@dataclass(frozen=True)
class AutoCodeResult:
    """What a machine-coding run did: its coder name, the posts it coded and codes it wrote."""

    coder: str
    posts: int
    codes: int


def default_workers() -> int:
    """How many tagging workers `auto_code` starts unless told: two where there are two CPUs
    or more (the parent reads and writes SQLite meanwhile), none on one CPU or where processes
    cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 0 if (cpus or 1) < 2 else 2


def auto_code(
    store: Store,
    codebook: Codebook,
    *,
    batch: int = 10_000,
    on_batch: Callable[[int], None] | None = None,
    workers: int | None = None,
    user_dicts: Sequence[str | Path] = (),
    model: TrainedCoder | None = None,
) -> AutoCodeResult:
    """Code every post the codebook's machine coder has not coded yet, batch by batch; each
    batch's codes and its posts' coded marks are stored together. `on_batch` gets the number
    of posts of each batch (for progress).

    With `workers` (default: `default_workers()`), forked processes tag the batches while this
    one reads the next batches and writes the tagged ones, in order; 0 tags here. The codes are
    the same either way. `user_dicts` (jieba's format) add brand and product names to the
    segmenter that hot-word and token-cue rules read.

    With a trained `model` (`coding.train.load_model`), the model codes as its own coder: the
    subcategories it learnt by model, the others by the codebook's rules; it segments with the
    user dictionaries it was trained with, not `user_dicts`."""
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    hot = HotWordIndex(store.hot_words())
    if model is None:
        tagger = Tagger(codebook, hot, user_dicts=user_dicts)
        code: RowCoder = functools.partial(_tag_rows, tagger)
        coder = codebook.coder
    else:
        code, coder = Coder(model, codebook, hot).code_rows, model.coder
    workers = default_workers() if workers is None else workers
    posts, written = 0, 0
    with contextlib.ExitStack() as stack:
        chunks = store.post_rows_to_code(codebook.name, coder, batch=batch)
        if workers > 0:
            pool = stack.enter_context(_tagging_pool(code, workers))
            tagged = _tagged_by_workers(pool, chunks, ahead=workers + 1)
        else:
            tagged = ((rows, code(rows)) for rows in chunks)
        for rows, found in tagged:
            codes = [
                (row[0], row[1], subcategory, evidence)
                for row, post_codes in zip(rows, found, strict=True)
                for subcategory, evidence in post_codes
            ]
            store.add_coded_batch(
                codes,
                [row[:2] for row in rows],  # (platform, post_id)
                codebook=codebook.name,
                coder=coder,
                codebook_version=codebook.version,
                coded_at=datetime.now(UTC).isoformat(),
            )
            posts, written = posts + len(rows), written + len(codes)
            if on_batch is not None:
                on_batch(len(rows))
    return AutoCodeResult(coder, posts, written)


# -- tagging workers ---------------------------------------------------------------------------

RowCoder = Callable[[list[tuple]], list[list[tuple[str, str]]]]
"""Codes posts given as rows of `Store.post_rows_to_code`: (subcategory, evidence JSON) each."""
_worker_code: RowCoder | None = None  # set before the fork: the workers inherit it


def _tag_rows(tagger: Tagger, rows: list[tuple]) -> list[list[tuple[str, str]]]:
    """`tag_json` of each post, given as a row of `Store.post_rows_to_code`."""
    tag = tagger.tag_json
    return [tag(post_to_code(row)) for row in rows]


@contextlib.contextmanager
def _tagging_pool(code: RowCoder, workers: int) -> Iterator[ProcessPoolExecutor]:
    """Forked processes that code with `code`; shut down (running batches finished, waiting
    ones dropped) on leaving, whatever happened."""
    global _worker_code
    if "fork" not in multiprocessing.get_all_start_methods():
        raise SmcatError(
            "tagging workers need processes that fork, which this system cannot start: "
            "tag in this process (0 workers)"
        )
    _worker_code = code
    # Frozen, the objects the workers inherit (the tagger, the modules) are no longer walked
    # by the collector, which writes to each object it walks: their pages stay shared with
    # this process instead of being copied into each worker.
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker_code = None
        if not frozen_before:
            gc.unfreeze()


def _start_worker() -> None:
    """The first thing a worker does: drop the signal handlers it inherited. After a crawl in
    the same process (`smcat demo`), SIGTERM's handler is Scrapy's, which only asks a reactor
    that is not running to stop: a worker that kept it would outlive SIGTERM, and whatever
    waits for the terminated worker (a broken pool, `smcat demo`) would wait forever. Ctrl-C
    is the parent's to act on: it shuts the pool down."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tag_in_worker(rows: list[tuple]) -> list[list[tuple[str, str]]]:
    """The coding of a batch in a worker, with the coder it inherited."""
    assert _worker_code is not None, "run only in a worker forked by _tagging_pool"
    return _worker_code(rows)


def _tagged_by_workers(
    pool: ProcessPoolExecutor, chunks: Iterable[list[tuple]], ahead: int
) -> Iterator[tuple[list[tuple], list[list[tuple[str, str]]]]]:
    """Each chunk of post rows with its posts' codes, in order, while up to `ahead` more
    chunks are read and tagged. The rows travel as SQLite gave them: building and pickling
    PostToCode dataclasses cost this process about a fifth of its time."""
    pending: collections.deque[tuple[list[tuple], Future]] = collections.deque()
    for rows in chunks:
        pending.append((rows, pool.submit(_tag_in_worker, rows)))
        if len(pending) > ahead:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()
