"""The machine coder: a codebook's rules applied to posts, each code with its evidence.

Multi-label: a post gets every coded subcategory one of whose rules matches, and the evidence
says which rules matched, on which terms, at which character offsets of the text. Cue words
of all subcategories are found in one pass of one compiled alternation; the text is segmented
(rjieba, HMM off, with the hot words, lexicon words and cues as user words) only when the
codebook has a hot-word rule or cues matched as whole tokens (`match: tokens`). Only the codes
that apply are returned; the caller records which posts were coded, so that no code means 0.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from coding.codebook import (
    Codebook,
    CueRule,
    HotWordsRule,
    MetadataRule,
    RegexRule,
    TopicsRule,
)
from coding.hot_words import HotWordIndex
from coding.tokenize import Tokenizer, read_word_list
from smcat.store import PostToCode, Store

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda value, allowed: value in allowed,
}
TOPIC_HOT_WINDOW_DAYS = 7  # a topic counts as hot if on the list within a week of the post
_Hit = Callable[[str, dict[str, Any]], None]


@dataclass
class Code:
    """A subcategory that applies to a post, and why: one evidence entry per matching rule."""

    subcategory: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


class Tagger:
    """Applies a codebook's coded subcategories to posts."""

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
        self._cue_owner: dict[str, list[tuple[str, str]]] = {}  # cue -> [(subcategory, rule)]
        self._token_cue_owner: dict[str, list[tuple[str, str]]] = {}  # the same, whole tokens
        self._regexes: list[tuple[str, str, re.Pattern[str]]] = []
        self._metadata: list[tuple[str, str, str, Callable[[Any, Any], bool], Any]] = []
        self._hot_rules: list[tuple[str, HotWordsRule, frozenset[str]]] = []
        self._topic_rules: list[tuple[str, TopicsRule]] = []
        for sub in codebook.coded():
            for rule in sub.rules:
                self._add(sub.id, rule)
        cues = sorted(self._cue_owner, key=len, reverse=True)  # longest first: 转发抽 before 转发
        self._cue_regex = re.compile("|".join(map(re.escape, cues))) if cues else None
        self._tokenizer: Tokenizer | None = None
        if self._hot_rules or self._token_cue_owner:
            lexicons = [word for _, _, words in self._hot_rules for word in words]
            self._tokenizer = Tokenizer(
                words=[*self.hot.words, *lexicons, *cues, *self._token_cue_owner],
                hmm=hmm,
                backend=tokenizer_backend,
            )

    def _add(self, subcategory: str, rule: Any) -> None:
        if isinstance(rule, CueRule):
            owners = self._token_cue_owner if rule.match == "tokens" else self._cue_owner
            for cue in rule.cues:
                owners.setdefault(cue, []).append((subcategory, rule.id))
        elif isinstance(rule, RegexRule):
            self._regexes.append((subcategory, rule.id, rule.pattern))
        elif isinstance(rule, MetadataRule):
            compare = _OPERATORS[rule.op]
            self._metadata.append((subcategory, rule.id, rule.field, compare, rule.value))
        elif isinstance(rule, HotWordsRule):
            lexicon = frozenset(read_word_list(rule.lexicon)) if rule.lexicon else frozenset()
            self._hot_rules.append((subcategory, rule, lexicon))
        else:
            self._topic_rules.append((subcategory, rule))

    def tag(self, post: PostToCode) -> list[Code]:
        """The codes that apply to a post, in codebook order of first match."""
        codes: dict[str, Code] = {}
        text = post.text

        def hit(subcategory: str, evidence: dict[str, Any]) -> None:
            codes.setdefault(subcategory, Code(subcategory)).evidence.append(evidence)

        if self._cue_regex is not None:
            found = [(m[0], m.start()) for m in self._cue_regex.finditer(text)]
            _hit_cues(found, self._cue_owner, hit)
        for subcategory, rule_id, pattern in self._regexes:
            matches = list(pattern.finditer(text))
            if matches:
                hit(subcategory, {
                    "rule": rule_id,
                    "terms": [m[0] for m in matches],
                    "offsets": [[m.start(), m.end()] for m in matches],
                })  # fmt: skip
        if self._metadata:
            fields = _fields(post)
            for subcategory, rule_id, name, compare, value in self._metadata:
                actual = fields[name]
                if actual is not None and compare(actual, value):
                    hit(subcategory, {"rule": rule_id, "field": name, "value": actual})
        if self._tokenizer is not None:
            tokens = _with_starts(self._tokenizer.cut(text))
            if self._token_cue_owner:
                owners = self._token_cue_owner
                _hit_cues([t for t in tokens if t[0] in owners], owners, hit)
            if self._hot_rules:
                self._tag_hot_words(tokens, post, hit)
        for subcategory, rule in self._topic_rules:
            if len(post.topics) >= rule.min_count:
                evidence: dict[str, Any] = {"rule": rule.id, "terms": list(post.topics)}
                evidence["count"] = len(post.topics)
                if rule.on_hot_list:
                    evidence["hot"] = self.hot.hot_near(
                        post.topics, post.created_at, TOPIC_HOT_WINDOW_DAYS
                    )
                hit(subcategory, evidence)
        return list(codes.values())

    def _tag_hot_words(self, tokens: list[tuple[str, int]], post: PostToCode, hit: _Hit) -> None:
        words = [token for token, _ in tokens]
        for subcategory, rule, lexicon in self._hot_rules:
            hot = set(self.hot.hot_near(words, post.created_at, rule.window_days))
            terms, offsets = [], []
            for token, start in tokens:
                if token in hot or token in lexicon:
                    terms.append(token)
                    offsets.append([start, start + len(token)])
            if terms:
                hit(subcategory, {
                    "rule": rule.id, "terms": terms, "offsets": offsets, "count": len(terms),
                })  # fmt: skip


@dataclass(frozen=True)
class AutoCodeResult:
    """What a machine-coding run did: its coder name, the posts it coded and codes it wrote."""

    coder: str
    posts: int
    codes: int


def auto_code(
    store: Store,
    codebook: Codebook,
    *,
    batch: int = 10_000,
    on_batch: Callable[[int], None] | None = None,
) -> AutoCodeResult:
    """Code every post the codebook's machine coder has not coded yet, batch by batch; each
    batch's codes and its posts' coded marks are stored together. `on_batch` gets the number
    of posts of each batch (for progress)."""
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    tagger = Tagger(codebook, HotWordIndex(store.hot_words()))
    coder, posts, written = codebook.coder, 0, 0
    common = {"codebook": codebook.name, "coder": coder, "codebook_version": codebook.version}
    for chunk in store.posts_to_code(codebook.name, coder, batch=batch):
        coded_at = datetime.now(UTC).isoformat()
        rows, coded = [], []
        for post in chunk:
            where = {"platform": post.platform, "post_id": post.post_id}
            for code in tagger.tag(post):
                rows.append({**where, **common, "subcategory": code.subcategory, "value": 1,
                             "evidence": code.evidence, "coded_at": coded_at})  # fmt: skip
            coded.append({**where, **common, "coded_at": coded_at})
        store.add_coded(rows, coded)
        posts, written = posts + len(chunk), written + len(rows)
        if on_batch is not None:
            on_batch(len(chunk))
    return AutoCodeResult(coder, posts, written)


def _with_starts(tokens: list[str]) -> list[tuple[str, int]]:
    """Each token with its character offset in the text it was cut from."""
    starts, start = [], 0
    for token in tokens:
        starts.append((token, start))
        start += len(token)
    return starts


def _hit_cues(
    found: list[tuple[str, int]], owners: dict[str, list[tuple[str, str]]], hit: _Hit
) -> None:
    """One evidence entry per (subcategory, rule) for the cues found at their offsets."""
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for cue, start in found:
        for owner in owners[cue]:
            entry = entries.setdefault(owner, {"rule": owner[1], "terms": [], "offsets": []})
            entry["terms"].append(cue)
            entry["offsets"].append([start, start + len(cue)])
    for (subcategory, _), entry in entries.items():
        hit(subcategory, entry)


def _fields(post: PostToCode) -> dict[str, Any]:
    """The post fields a metadata rule can test (see coding.codebook.METADATA_FIELDS)."""
    created = datetime.fromisoformat(post.created_at)  # in the post's own (China) offset
    return {
        "media_type": post.media_type,
        "pic_count": post.pic_count or 0,
        "video_seconds": post.video_seconds,
        "is_repost": post.is_repost,
        "text_length": len(post.text),
        "topic_count": len(post.topics),
        "mention_count": post.mention_count,
        "created_hour": created.hour,
        "created_weekday": created.weekday(),
    }
