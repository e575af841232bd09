"""The machine coder: a codebook's rules applied to posts, each code with its evidence.

Multi-label: a post gets every coded subcategory one of whose rules matches, and the evidence
says which rules matched, on which terms, at which character offsets of the text. Cue words
of all subcategories are found in one pass of one Aho-Corasick automaton (`coding.automaton`,
leftmost-longest: what the longest-first alternation of the cues finds, at a third of the
cost of Python's `re` on our brand texts); the text is segmented (rjieba, HMM off, with the
hot words, lexicon words and cues as user words) only when the codebook has a hot-word rule
or cues matched as whole tokens (`match: tokens`). Cue and hot-word rules read the text with
@user names, [emoticon] codes and the repost chain blanked out (the codebook's `masking`), as a
coder skips them. Only the codes that apply are returned; the caller records which posts were
coded, so that no code means 0.

The evidence is written as JSON text as it is found (`Tagger.tag_json`), each rule's constant
parts encoded once: the store keeps it as it is, and the text is what `json.dumps` with
`ensure_ascii=False` gives for the evidence list (tests/test_tagger.py checks that).

The tagger is pure: a post in, its codes out, no store and no processes. Running it over the
stored posts, with worker processes, is `coding.autocode`'s.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coding.automaton import WordFinder
from coding.codebook import (
    Codebook,
    CueRule,
    HotWordsRule,
    Masking,
    MetadataRule,
    RegexRule,
)
from coding.prefilter import Prefilter
from coding.tokenize import Tokenizer, UserWord, read_user_dict, read_word_list
from smcat.hot_words import TOPIC_HOT_WINDOW_DAYS, HotWordIndex, china_day
from smcat.units import hour_known

if TYPE_CHECKING:  # a type only: tagging needs no store
    from smcat.store import PostToCode

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
_encode: Callable[[str], str] = json.encoder.encode_basestring
_Owners = dict[str, list[tuple[str, str]]]  # cue -> [(subcategory, start of its evidence)]
_Found = dict[str, list[str]]  # subcategory -> its evidence entries as JSON text
# a cue's JSON text and owners, by its pattern id in an automaton or by the cue itself
_Cues = Sequence[tuple[str, list[tuple[str, str]]]] | dict[str, tuple[str, list[tuple[str, str]]]]
# a period lexicon: its first and last China day (ordinals) and its words
_Period = tuple[int, int, frozenset[str]]
# What cue and hot-word rules do not read (coding.codebook.Masking). The repost chain runs from
# the first `//@` to the end, the colon after the name or not; a Weibo user name is at most 30
# letters, digits, CJK characters, _ or -; an emoticon code is a short bracketed name.
MASKS = {
    "repost_chain": r"//@.*",
    "mentions": r"@[\w-]{1,30}",
    "emoticons": r"\[[^\[\]\s]{1,10}\]",
}


@dataclass
class Code:
    """A subcategory that applies to a post, and why: one evidence entry per matching rule."""

    subcategory: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


class Tagger:
    """Applies a codebook's coded subcategories to posts.

    `tokenizer` is the segmenter the rules use (the researcher's `user_dicts` and `user_words`,
    entries already read from such files (a trained model's), then the hot
    words, lexicon words and cues as user words), or None when no rule needs tokens. Cue and
    hot-word rules read the text with the codebook's masks blanked (`masked`); regex, metadata
    and topic rules read it as posted."""

    def __init__(
        self,
        codebook: Codebook,
        hot: HotWordIndex | None = None,
        *,
        tokenizer_backend: str = "rjieba",
        hmm: bool = False,
        user_dicts: Sequence[str | Path] = (),
        user_words: Sequence[UserWord] = (),
    ) -> None:
        self.codebook = codebook
        self.hot = hot or HotWordIndex(())
        self._cue_owner: _Owners = {}
        self._token_cue_owner: _Owners = {}  # the same, for cues matched as whole tokens
        self._regexes: list[tuple[re.Pattern[str], tuple[str, str, re.Pattern[str]]]] = []
        self._metadata: list[tuple[str, str, Callable[[PostToCode], Any], Callable, Any]] = []
        self._hot_rules: list[tuple[str, str, int, frozenset[str], tuple[_Period, ...]]] = []
        self._topic_rules: list[tuple[str, str, int, bool]] = []
        for sub in codebook.coded():
            for rule in sub.rules:
                self._add(sub.id, rule)
        # most texts hold none of the strings most patterns need (coding.prefilter)
        self._regex_filter = Prefilter(self._regexes)
        # a cue's evidence term and owners, by its pattern id in the cue finder
        self._cues = [(_encode(cue), owners) for cue, owners in self._cue_owner.items()]
        cue_words = list(self._cue_owner)
        # a cue written as a bracket code ([图片]) is the codebook's to find: never masked
        self._mask = _mask_pattern(codebook.masking)
        self._unmasked = frozenset([*self._cue_owner, *self._token_cue_owner])
        self._cue_finder = WordFinder(cue_words, longest=True) if cue_words else None
        self.tokenizer: Tokenizer | None = None
        self._located: frozenset[str] = frozenset()  # the tokens whose offsets are needed
        self._token_cues = {
            cue: (_encode(cue), owners) for cue, owners in self._token_cue_owner.items()
        }
        if self._hot_rules or self._token_cue_owner:
            lexicons = [
                word
                for *_, words, periods in self._hot_rules
                for lexicon in (words, *(period[2] for period in periods))
                for word in sorted(lexicon)
            ]
            # a user word's frequency depends on the words added before it: keep this order
            cues = sorted(self._cue_owner, key=len, reverse=True)
            self.tokenizer = Tokenizer(
                user_dicts=user_dicts,
                words=[*user_words, *self.hot.words, *lexicons, *cues, *self._token_cue_owner],
                hmm=hmm,
                backend=tokenizer_backend,
            )
            self._located = frozenset([*self.hot.words, *lexicons, *self._token_cue_owner])
        else:
            for path in user_dicts:  # unused by these rules, but a bad one is still an error
                read_user_dict(path)

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
            periods = tuple(
                (
                    period.valid_from.toordinal() if period.valid_from else 0,
                    period.valid_to.toordinal() if period.valid_to else date.max.toordinal(),
                    frozenset(read_word_list(period.path)),
                )
                for period in rule.lexicons
            )
            start += ', "terms": ['
            self._hot_rules.append((subcategory, start, rule.window_days, lexicon, periods))
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
        seen = self.masked(text)
        found: _Found = {}  # subcategory -> its evidence entries (JSON), in order of match
        if self._cue_finder is not None and (cues := self._cue_finder.find(seen)):
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
            tokens = self.tokenizer.cut(seen)
            # a token that is no hot word, lexicon word or token cue matters to no rule
            if not self._located.isdisjoint(tokens):
                located = _locate(tokens, self._located)
                if self._token_cues:
                    owned = self._token_cues
                    tokens_found = [
                        (at, at + len(token), token) for token, at in located if token in owned
                    ]
                    if tokens_found:
                        _add_cues(tokens_found, owned, found)
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

    def masked(self, text: str) -> str:
        """The text as cue and hot-word rules read it: the codebook's masks (@user names,
        [emoticon] codes, the repost chain) blanked with as many spaces, so that offsets into
        it are offsets into the text."""
        mask = self._mask
        if mask is None or ("@" not in text and "[" not in text):
            return text
        unmasked = self._unmasked
        return mask.sub(lambda m: m[0] if m[0] in unmasked else " " * len(m[0]), text)

    def _add_hot_words(self, located: list[tuple[str, int]], day: int, found: _Found) -> None:
        for subcategory, start, window_days, lexicon, periods in self._hot_rules:
            hot = self.hot.hot_around(day, window_days)
            lists = [lexicon, *(words for first, last, words in periods if first <= day <= last)]
            used = [
                (token, at)
                for token, at in located
                if token in hot or any(token in words for words in lists)
            ]
            if used:
                terms = ", ".join([_encode(token) for token, _ in used])
                offsets = ", ".join([f"[{at}, {at + len(token)}]" for token, at in used])
                found.setdefault(subcategory, []).append(
                    f'{start}{terms}], "offsets": [{offsets}], "count": {len(used)}}}'
                )


def _mask_pattern(masking: Masking) -> re.Pattern[str] | None:
    """One pattern for the masks the codebook keeps on (the chain first: it holds @names), or
    None when all are off."""
    chosen = [pattern for name, pattern in MASKS.items() if getattr(masking, name)]
    return re.compile("|".join(chosen), re.DOTALL) if chosen else None


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


# an @name that is no repost-chain credit (//@name)
_MENTION = re.compile(r"(?<!//)@([\w-]{1,30})")


def _mention_count(post: PostToCode) -> int:
    """The accounts the post mentions. The crawler counts every @name of the text, the
    repost chain's credits (//@name) too; those name earlier posters, not mentions (the
    codebook's C5), so a text with a chain has its mentions counted again without them."""
    if "//@" not in post.text:
        return post.mention_count
    return len(set(_MENTION.findall(post.text)))


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
    "mention_count": _mention_count,
    # a date-only time is its midnight: its hour is unknown, not 0
    "created_hour": lambda post: (
        _created(post).hour if hour_known(post.created_at_precision) else None
    ),
    "created_weekday": lambda post: _created(post).weekday(),
}
