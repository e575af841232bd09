"""Tests for coding.prefilter: the strings every match of a pattern holds, and that a text
the filter turns away is one the pattern cannot match."""

from __future__ import annotations

import random
import re

import pytest

from coding.codebook import RegexRule
from coding.prefilter import Prefilter, required_strings
from coding.tagger import Tagger
from smcat.hot_words import HotWordIndex
from tests.test_tagger import AWKWARD, BRAND_TEXTS, CODEBOOK, a_post


@pytest.mark.parametrize(
    ("pattern", "strings"),
    [
        # the codebook's price and giveaway patterns, the dear ones
        (r"(\d+(\.\d+)?\s*元|[¥￥]\s*\d+|[一二三四五六七八九\d]\s*折)", {"元", "¥", "￥", "折"}),
        (
            r"(关注|转发|评论|留言)[^。！？\n]{0,15}[抽揪][一二三四五六七八九十\d]*(位|名|个)",
            {"抽", "揪"},
        ),
        (r"https?://\S+", {"http"}),  # a run of literals is one string
        (r"a?b", {"b"}),  # optional parts need nothing
        (r"x{0,3}y+", {"y"}),
        (r"(foo|bar\d)", {"foo", "bar"}),  # every branch needs one of its own
        (r"(?:ab)+c*", {"ab"}),
        (r"(?=abc)d", {"d"}),  # a lookahead says nothing, the literal after it does
        (r"(?>ab)c", {"ab"}),  # an atomic group must match
        (r"(a|\d)", None),  # one branch needs nothing that can be named
        (r"\d+", None),  # a category: too many characters
        (r"[a-z]+", None),  # a range: the same
        (r"[^abc]", None),  # a negated class
        (r"[abcdefghij]", None),  # a class too wide to filter on
        (r"(?i)abc", None),  # case-insensitive: "ABC" matches and holds no "abc"
        (r"x(?i:abc)", {"x"}),
        (r"(a)\1", {"a"}),
        (r"", None),
    ],
)
def test_the_strings_every_match_holds(pattern: str, strings: set[str] | None):
    found = required_strings(re.compile(pattern))
    assert found == (None if strings is None else frozenset(strings))


def test_ignorecase_given_as_a_flag_gives_no_strings():
    assert required_strings(re.compile("abc", re.IGNORECASE)) is None


@pytest.mark.parametrize(
    "pattern",
    [
        r"(\d+(\.\d+)?\s*元|[¥￥]\s*\d+|[一二三四五六七八九\d]\s*折)",
        r"(关注|转发)[^。]{0,3}[抽揪]\d*(位|名)",
        r"a?b(c|de)+",
        r"(?:xy|z)q?",
        r"(?=ab)a\w",
    ],
)
def test_texts_turned_away_are_texts_the_pattern_cannot_match(pattern: str):
    compiled = re.compile(pattern)
    rules = Prefilter([(compiled, "rule")])
    alphabet = sorted(set(re.sub(r"[\\()\[\]{}?+*|^:=.,0-9sdw]", "", pattern)) | set("0123 .。"))
    rng = random.Random(11)
    turned_away = matched = 0
    for _ in range(20_000):
        text = "".join(rng.choices(alphabet, k=rng.randrange(1, 12)))
        if compiled.search(text) is not None:
            matched += 1
            assert rules.candidates(text) == ("rule",), text
        elif not rules.candidates(text):
            turned_away += 1
    assert matched >= 20 and turned_away >= 100  # both sides were tried


def test_the_rules_a_text_could_match_come_in_their_order():
    rules = Prefilter(
        [(re.compile(pattern), name) for name, pattern in
         [("topic", r"#[^#\s]{1,40}#"), ("any digit", r"\d+"), ("price", r"\d+元|[¥￥]\d+"),
          ("question", r"[？?]"), ("link", r"https?://\S+")]]
    )  # fmt: skip
    assert rules.candidates("今天") == ("any digit",)  # nothing named: always tried
    assert rules.candidates("#新品# 99元？") == ("topic", "any digit", "price", "question")
    assert rules.candidates("见 https://t.cn/x ￥") == ("any digit", "price", "link")
    # the second time, the combination is remembered
    assert rules.candidates("#春日# 5元?") == ("topic", "any digit", "price", "question")


def test_a_rule_that_needs_a_lone_surrogate_is_always_tried():
    # the automaton cannot hold one; a truncated emoji is half of a UTF-16 pair
    rules = Prefilter([(re.compile("\ud83d"), "half"), (re.compile("#[^#]+#"), "topic")])
    assert rules.candidates("今天") == ("half",)
    assert rules.candidates("#新品#\ud83d") == ("half", "topic")


def test_the_codebook_gets_the_same_codes_with_and_without_filters(monkeypatch):
    hot = HotWordIndex([("澜蔻新品", "2025-03-02T12:00:00+08:00")])
    posts = [
        a_post(text, topics=("澜蔻新品",)[: i % 2]) for i, text in enumerate(BRAND_TEXTS + AWKWARD)
    ]
    filtered = Tagger(CODEBOOK, hot)
    assert sum(not filtered._regex_filter.candidates(p.text) for p in posts) >= 10
    monkeypatch.setattr("coding.prefilter.required_strings", lambda pattern: None)
    unfiltered = Tagger(CODEBOOK, hot)
    assert all(len(unfiltered._regex_filter.candidates(p.text)) >= 7 for p in posts)
    tagged = [filtered.tag_json(post) for post in posts]
    assert tagged == [unfiltered.tag_json(post) for post in posts]
    regex_rules = {r.id for s in CODEBOOK.coded() for r in s.rules if isinstance(r, RegexRule)}
    used = {
        rule
        for post_codes in tagged
        for _, evidence in post_codes
        for rule in regex_rules
        if f'"{rule}"' in evidence
    }
    assert len(used) >= 5  # the corpus reaches the regex rules
