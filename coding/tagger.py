"""The machine coder: a codebook's rules applied to posts, each code with its evidence.

Multi-label: a post gets every coded subcategory one of whose rules matches, and the evidence
says which rules matched, on which terms, at which character offsets of the text. Cue words
of all subcategories are found in one pass of one Aho-Corasick automaton (`coding.automaton`,
leftmost-longest: what the longest-first alternation of the cues finds, at a third of the
cost of Python's `re` on our brand texts); the text is segmented (rjieba, HMM off, with the
hot words, lexicon words and cues as user words) only when the codebook has a hot-word rule
or cues matched as whole tokens (`match: tokens`). Only the codes that apply are
returned; the caller records which posts were coded, so that no code means 0.

The evidence is written as JSON text as it is found (`Tagger.tag_json`), each rule's constant
parts encoded once: the store keeps it as it is, and the text is what `json.dumps` with
`ensure_ascii=False` gives for the evidence list (tests/test_tagger.py checks that).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import json
import multiprocessing
import operator
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from coding.automaton import WordFinder
from coding.codebook import (
    Codebook,
    CueRule,
    HotWordsRule,
    MetadataRule,
    RegexRule,
)
from coding.prefilter import Prefilter
from coding.tokenize import Tokenizer, read_word_list
from smcat.errors import SmcatError
from smcat.hot_words import TOPIC_HOT_WINDOW_DAYS, HotWordIndex, china_day
from smcat.store import PostToCode, Store, post_to_code

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda value, allowed: value in allowed,
}
# a JSON string exactly as json.dumps(..., ensure_ascii=False) writes it
_encode: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
_Owners = dict[str, list[tuple[str, str]]]  # cue -> [(subcategory, start of its evidence)]
_Found = dict[str, list[str]]  # subcategory -> its evidence entries as JSON text
# a cue's JSON text and owners, by its pattern id in an automaton or by the cue itself
_Cues = Sequence[tuple[str, list[tuple[str, str]]]] | dict[str, tuple[str, list[tuple[str, str]]]]


@dataclass
class Code:
    """A subcategory that applies to a post, and why: one evidence entry per matching rule."""

    subcategory: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


class Tagger:
    """Applies a codebook's coded subcategories to posts.

    `tokenizer` is the segmenter the rules use (the hot words, lexicon words and cues as user
    words), or None when no rule needs tokens."""

    def __init__(
        self,
        codebook: Codebook,
        hot: HotWordIndex | None = None,
        *,
        tokenizer_backend: str = "rjieba",
        hmm: bool = False,
    ) -> None:
        self.codebook = codebook
        self.hot = hot or HotWordIndex(())
        self._cue_owner: _Owners = {}
        self._token_cue_owner: _Owners = {}  # the same, for cues matched as whole tokens
        self._regexes: list[tuple[re.Pattern[str], tuple[str, str, re.Pattern[str]]]] = []
        self._metadata: list[tuple[str, str, Callable[[PostToCode], Any], Callable, Any]] = []
        self._hot_rules: list[tuple[str, str, int, frozenset[str]]] = []
        self._topic_rules: list[tuple[str, str, int, bool]] = []
        for sub in codebook.coded():
            for rule in sub.rules:
                self._add(sub.id, rule)
        # most texts hold none of the strings most patterns need (coding.prefilter)
        self._regex_filter = Prefilter(self._regexes)
        # a cue's evidence term and owners, by its pattern id in the cue finder
        self._cues = [(_encode(cue), owners) for cue, owners in self._cue_owner.items()]
        cue_words = list(self._cue_owner)
        self._cue_finder = WordFinder(cue_words, longest=True) if cue_words else None
        self.tokenizer: Tokenizer | None = None
        self._located: frozenset[str] = frozenset()  # the tokens whose offsets are needed
        self._token_cues = {
            cue: (_encode(cue), owners) for cue, owners in self._token_cue_owner.items()
        }
        if self._hot_rules or self._token_cue_owner:
            lexicons = [word for *_, words in self._hot_rules for word in words]
            # a user word's frequency depends on the words added before it: keep this order
            cues = sorted(self._cue_owner, key=len, reverse=True)
            self.tokenizer = Tokenizer(
                words=[*self.hot.words, *lexicons, *cues, *self._token_cue_owner],
                hmm=hmm,
                backend=tokenizer_backend,
            )
            self._located = frozenset([*self.hot.words, *lexicons, *self._token_cue_owner])

    def _add(self, subcategory: str, rule: Any) -> None:
        start = '{"rule": ' + _encode(rule.id)
        if isinstance(rule, CueRule):
            owners = self._token_cue_owner if rule.match == "tokens" else self._cue_owner
            for cue in rule.cues:
                owners.setdefault(cue, []).append((subcategory, start + ', "terms": ['))
        elif isinstance(rule, RegexRule):
            rule_start = start + ', "terms": ['
            self._regexes.append((rule.pattern, (subcategory, rule_start, rule.pattern)))
        elif isinstance(rule, MetadataRule):
            start += ', "field": ' + _encode(rule.field) + ', "value": '
            compare = _OPERATORS[rule.op]
            self._metadata.append((subcategory, start, _FIELDS[rule.field], compare, rule.value))
        elif isinstance(rule, HotWordsRule):
            lexicon = frozenset(read_word_list(rule.lexicon)) if rule.lexicon else frozenset()
            start += ', "terms": ['
            self._hot_rules.append((subcategory, start, rule.window_days, lexicon))
        else:
            start += ', "terms": ['
            self._topic_rules.append((subcategory, start, rule.min_count, rule.on_hot_list))

    def tag(self, post: PostToCode) -> list[Code]:
        """The codes that apply to a post, in order of first match, with their evidence."""
        return [Code(sub, json.loads(evidence)) for sub, evidence in self.tag_json(post)]

    def tag_json(self, post: PostToCode) -> list[tuple[str, str]]:
        """The codes that apply to a post, in order of first match, as (subcategory, evidence)
        with the evidence list as JSON text: the store's form, written without building it."""
        text = post.text
        found: _Found = {}  # subcategory -> its evidence entries (JSON), in order of match
        if self._cue_finder is not None and (cues := self._cue_finder.find(text)):
            _add_cues(cues, self._cues, found)
        for subcategory, start, pattern in self._regex_filter.candidates(text):
            # most texts match no rule's pattern, and search() says so at less than half the
            # cost of a finditer() that finds nothing
            first = pattern.search(text)
            if first is None:
                continue
            begin, end = first.span()
            second = pattern.search(text, end) if begin < end else None
            # one non-empty match, the common case, costs no list and no joins
            if second is None and begin < end:
                terms, offsets = _encode(first[0]), f"[{begin}, {end}]"
            else:
                matches = _all_matches(pattern, text, first, second)
                terms = ", ".join([_encode(m[0]) for m in matches])
                offsets = ", ".join([f"[{m.start()}, {m.end()}]" for m in matches])
            found.setdefault(subcategory, []).append(f'{start}{terms}], "offsets": [{offsets}]}}')
        for subcategory, start, get, compare, value in self._metadata:
            actual = get(post)
            if actual is not None and compare(actual, value):
                found.setdefault(subcategory, []).append(f"{start}{_json_value(actual)}}}")
        day = None
        if self.tokenizer is not None:
            tokens = self.tokenizer.cut(text)
            # a token that is no hot word, lexicon word or token cue matters to no rule
            if not self._located.isdisjoint(tokens):
                located = _locate(tokens, self._located)
                if self._token_cues:
                    owned = self._token_cues
                    cues = [(at, at + len(token), token) for token, at in located if token in owned]
                    if cues:
                        _add_cues(cues, owned, found)
                if self._hot_rules:
                    day = china_day(post.created_at)
                    self._add_hot_words(located, day, found)
        for subcategory, start, min_count, on_hot_list in self._topic_rules:
            topics = post.topics
            if len(topics) < min_count:
                continue
            terms = ", ".join(map(_encode, topics))
            entry = f'{start}{terms}], "count": {len(topics)}'
            if on_hot_list:
                if day is None:
                    day = china_day(post.created_at)
                hot = self.hot.hot_around(day, TOPIC_HOT_WINDOW_DAYS)
                noted = ", ".join([_encode(t) for t in dict.fromkeys(topics) if t in hot])
                entry += f', "hot": [{noted}]'
            found.setdefault(subcategory, []).append(entry + "}")
        return [(subcategory, f"[{', '.join(entries)}]") for subcategory, entries in found.items()]

    def _add_hot_words(self, located: list[tuple[str, int]], day: int, found: _Found) -> None:
        for subcategory, start, window_days, lexicon in self._hot_rules:
            hot = self.hot.hot_around(day, window_days)
            used = [(token, at) for token, at in located if token in hot or token in lexicon]
            if used:
                terms = ", ".join([_encode(token) for token, _ in used])
                offsets = ", ".join([f"[{at}, {at + len(token)}]" for token, at in used])
                found.setdefault(subcategory, []).append(
                    f'{start}{terms}], "offsets": [{offsets}], "count": {len(used)}}}'
                )


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
) -> AutoCodeResult:
    """Code every post the codebook's machine coder has not coded yet, batch by batch; each
    batch's codes and its posts' coded marks are stored together. `on_batch` gets the number
    of posts of each batch (for progress).

    With `workers` (default: `default_workers()`), forked processes tag the batches while this
    one reads the next batches and writes the tagged ones, in order; 0 tags here. The codes are
    the same either way."""
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    tagger = Tagger(codebook, HotWordIndex(store.hot_words()))
    workers = default_workers() if workers is None else workers
    coder, posts, written = codebook.coder, 0, 0
    with contextlib.ExitStack() as stack:
        chunks = store.post_rows_to_code(codebook.name, coder, batch=batch)
        if workers > 0:
            pool = stack.enter_context(_tagging_pool(tagger, workers))
            tagged = _tagged_by_workers(pool, chunks, ahead=workers + 1)
        else:
            tagged = ((rows, _tag_rows(tagger, rows)) for rows in chunks)
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

_worker_tagger: Tagger | None = None  # set before the fork: the workers inherit it


def _tag_rows(tagger: Tagger, rows: list[tuple]) -> list[list[tuple[str, str]]]:
    """`tag_json` of each post, given as a row of `Store.post_rows_to_code`."""
    tag = tagger.tag_json
    return [tag(post_to_code(row)) for row in rows]


@contextlib.contextmanager
def _tagging_pool(tagger: Tagger, workers: int) -> Iterator[ProcessPoolExecutor]:
    """Forked processes that tag with `tagger`; shut down (running batches finished, waiting
    ones dropped) on leaving, whatever happened."""
    global _worker_tagger
    if "fork" not in multiprocessing.get_all_start_methods():
        raise SmcatError("tagging workers need processes that fork: pass --workers 0")
    _worker_tagger = tagger
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
        _worker_tagger = None
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
    """`_tag_rows` in a worker, with the tagger it inherited."""
    assert _worker_tagger is not None, "run only in a worker forked by _tagging_pool"
    return _tag_rows(_worker_tagger, rows)


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


def _locate(tokens: list[str], wanted: frozenset[str]) -> list[tuple[str, int]]:
    """The wanted tokens with their character offsets in the text they were cut from."""
    located, start = [], 0
    for token in tokens:
        if token in wanted:
            located.append((token, start))
        start += len(token)
    return located


def _all_matches(
    pattern: re.Pattern[str], text: str, first: re.Match[str], second: re.Match[str] | None
) -> list[re.Match[str]]:
    """What `pattern.finditer(text)` gives, continuing from its first two matches, found
    already (`second` None: the first is empty). After a non-empty match, the next is the
    first match from where it ended; from an empty match on, finditer's own rules (no empty
    match right after a match) apply, and finditer is asked."""
    if second is None:
        return list(pattern.finditer(text))
    matches = [first]
    match: re.Match[str] | None = second
    while match is not None:
        if match.start() == match.end():
            return list(pattern.finditer(text))
        matches.append(match)
        match = pattern.search(text, match.end())
    return matches


def _add_cues(cues: list[tuple[int, int, Any]], words: _Cues, found: _Found) -> None:
    """One evidence entry per (subcategory, rule) for the cues found, each as (begin, end, key)
    with `words[key]` its JSON text and owners."""
    entries: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for begin, end, index in cues:
        term, owners = words[index]
        offset = f"[{begin}, {end}]"
        for owner in owners:
            entry = entries.get(owner)
            if entry is None:
                entries[owner] = entry = ([], [])
            entry[0].append(term)
            entry[1].append(offset)
    for (subcategory, start), (terms, offsets) in entries.items():
        terms_json, offsets_json = ", ".join(terms), ", ".join(offsets)
        found.setdefault(subcategory, []).append(
            f'{start}{terms_json}], "offsets": [{offsets_json}]}}'
        )


def _json_value(value: object) -> str:
    """A field's value as json.dumps(ensure_ascii=False) writes it."""
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return _encode(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _created(post: PostToCode) -> datetime:
    return datetime.fromisoformat(post.created_at)  # in the post's own (China) offset


# the post fields a metadata rule can test (see coding.codebook.METADATA_FIELDS)
_FIELDS: dict[str, Callable[[PostToCode], Any]] = {
    "media_type": operator.attrgetter("media_type"),
    "pic_count": lambda post: post.pic_count or 0,
    "video_seconds": operator.attrgetter("video_seconds"),
    "is_repost": operator.attrgetter("is_repost"),
    "text_length": lambda post: len(post.text),
    "topic_count": lambda post: len(post.topics),
    "mention_count": operator.attrgetter("mention_count"),
    "created_hour": lambda post: _created(post).hour,
    "created_weekday": lambda post: _created(post).weekday(),
}
