"""Codebooks: the bundled one is complete and consistent; every mistake is reported by line."""

from __future__ import annotations

import operator
import re

import pytest
import yaml

from coding.codebook import (
    CodebookError,
    CueRule,
    HotWordsRule,
    Level,
    MetadataRule,
    RegexRule,
    TopicsRule,
    check_codebook_file,
    default_codebook_path,
    load_codebook,
    parse_codebook,
    validate_codebook,
)
from coding.tokenize import read_word_list

# line numbers on the right are what the tests below expect problems at
MINIMAL = """\
codebook: test
version: "1"
levels:
  B: {name_zh: 内容类别, name_en: content}
  C: {name_zh: 形式, name_en: form}
subcategories:
  - id: B3
    level: B
    name_zh: 抽奖福利
    name_en: giveaway
    definition: A prize draw.
    rules:
      - id: B3.cue
        cues: [抽奖, 转发抽]
      - id: B3.draw
        regex: '抽\\d+位'
      - id: B3.pics
        metadata: {field: pic_count, op: ">=", value: 1}
    examples:
      - 转发抽一位
      - 抽3位送正装
  - id: C3
    level: C
    name_zh: 微话题
    name_en: micro-topic
    definition: The post has a micro-topic.
    rules:
      - id: C3.topics
        topics: {min_count: 1, on_hot_list: true}
      - id: C3.super
        cues: [超话]
        match: tokens
      - id: C3.hot
        hot_words: {window_days: 7, lexicon: null}
    examples:
      - "#速行跑鞋# 完成了全马"
      - 来超话打卡
"""


def problems(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in validate_codebook(text, "cb.yaml")]


def edit(old: str, new: str) -> str:
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


# -- the bundled codebook -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    return load_codebook(default_codebook_path())


def test_the_bundled_codebook_validates_with_no_problems():
    path = default_codebook_path()
    assert validate_codebook(path.read_text(encoding="utf-8"), str(path), path.parent) == []


def test_the_bundled_codebook_has_the_21_subcategories_in_three_levels(bundled):
    assert (bundled.name, bundled.version, bundled.coder) == (
        "brand_posts", "1", "auto:brand_posts@1",
    )  # fmt: skip
    ids = [s.id for s in bundled.subcategories]
    assert ids == (
        [f"A{i}" for i in range(1, 6)] + [f"B{i}" for i in range(1, 11)]
        + [f"C{i}" for i in range(1, 7)]
    )  # fmt: skip
    assert all(s.level == s.id[0] for s in bundled.subcategories)
    per_level = {level: sum(s.level == level for s in bundled.subcategories) for level in "ABC"}
    assert per_level == {"A": 5, "B": 10, "C": 6}
    assert bundled.levels["A"] == Level("A", "基本信息", "basic information")
    assert [bundled.levels[x].name_zh for x in "BC"] == ["内容类别", "形式"]
    # A1-A3 are controls from the data; A4 (repost) and A5 (over 140 characters) are 0/1 codes
    assert [s.id for s in bundled.subcategories if not s.coded] == ["A1", "A2", "A3"]
    for sub in bundled.subcategories:
        assert sub.name_zh and sub.name_en and sub.definition, sub.id
    for sub in bundled.coded():
        assert sub.rules and len(sub.examples) >= 2, sub.id


def test_rule_ids_are_unique_and_name_their_subcategory(bundled):
    rule_ids = [(s.id, r.id) for s in bundled.subcategories for r in s.rules]
    assert len({r for _, r in rule_ids}) == len(rule_ids)
    assert all(rule.startswith(f"{sub}.") for sub, rule in rule_ids)


def test_the_bundled_examples_agree_with_their_rules(bundled):
    for sub in bundled.coded():
        cues = [c for r in sub.rules if isinstance(r, CueRule) for c in r.cues]
        patterns = [r.pattern for r in sub.rules if isinstance(r, RegexRule)]
        lexicon = [
            w for r in sub.rules if isinstance(r, HotWordsRule)
            for path in [r.lexicon, *(period.path for period in r.lexicons)] if path
            for w in read_word_list(path)
        ]  # fmt: skip
        lengths = [r for r in sub.rules if isinstance(r, MetadataRule) and r.field == "text_length"]
        assert cues or patterns or lexicon or lengths, f"{sub.id}: no rule an example can show"
        for example in sub.examples:
            found = any(c in example for c in cues + lexicon) or any(
                p.search(example) for p in patterns
            )
            long_enough = any(_compare(r.op)(len(example), r.value) for r in lengths)
            assert found or long_enough, f"{sub.id}: {example}"


def _compare(op: str):
    """The comparison a length rule's op names (`in` does not apply to a length)."""
    ops = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge}
    return {**ops, "<": operator.lt, "<=": operator.le}[op]


def test_the_giveaway_cues_of_the_issue(bundled):
    b3 = next(s for s in bundled.subcategories if s.id == "B3")
    cues = {c for r in b3.rules if isinstance(r, CueRule) for c in r.cues}
    assert {"抽奖", "转发抽", "评论抽", "微博抽奖平台"} <= cues


def test_rules_are_built_with_their_kinds(bundled):
    rules = {r.id: r for s in bundled.subcategories for r in s.rules}
    assert rules["C2.video"] == MetadataRule("C2.video", "media_type", "in", ("video", "live"))
    assert rules["A5.long"] == MetadataRule("A5.long", "text_length", ">", 140)
    hot = rules["B5.hot"]
    assert hot.window_days == 7 and hot.lexicons and all(p.path.is_file() for p in hot.lexicons)
    assert rules["C3.topics"] == TopicsRule("C3.topics", 1, True)
    assert isinstance(rules["B2.price"].pattern, re.Pattern)
    assert rules["B3.platform"].match == "text"


# -- a minimal codebook and its mistakes --------------------------------------------------


def test_a_minimal_codebook_is_valid_and_loads_from_text_or_a_path(tmp_path):
    assert problems(MINIMAL) == []
    codebook = load_codebook(MINIMAL)
    assert codebook.yaml_text == MINIMAL and codebook.source == "<text>"
    first, second = codebook.coded()
    assert first.rules[0] == CueRule("B3.cue", ("抽奖", "转发抽"), "text")
    assert second.rules[1] == CueRule("C3.super", ("超话",), "tokens")
    assert second.rules[2] == HotWordsRule("C3.hot", 7, None)
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_codebook(str(path)) == load_codebook(path) != codebook  # the source differs
    assert load_codebook(path).subcategories == codebook.subcategories


def test_a_codebook_is_read_as_yaml_once_and_keeps_its_text(tmp_path, monkeypatch):
    # checked and built from the same nodes: composing the text twice doubled the loading time
    composed = []
    compose = yaml.composer.Composer.compose_document

    def counted(loader: yaml.composer.Composer) -> yaml.Node:
        composed.append(loader)
        return compose(loader)

    monkeypatch.setattr(yaml.composer.Composer, "compose_document", counted)
    path = default_codebook_path()
    codebook = load_codebook(path)
    assert len(composed) == 1
    check = check_codebook_file(path)  # `smcat code codebook validate`
    assert len(composed) == 2 and check.problems == [] and check.codebook == codebook
    assert codebook.yaml_text == path.read_text(encoding="utf-8")  # the text that is stored
    assert parse_codebook(codebook.yaml_text, str(path), path.parent) == codebook
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace("pic_count", "pics"), encoding="utf-8")
    check = check_codebook_file(broken)
    assert check.codebook is None and [p.line for p in check.problems] == [18]


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        # YAML syntax
        ("levels:\n", "levels: [\n", 5, "YAML syntax: expected ',' or ']'"),
        ("    level: B\n", "\tlevel: B\n", 8, "indent with spaces, not tabs"),
        ("- 来超话打卡", '- "来超话打卡', 38, "(while scanning a quoted scalar on line 37)"),
        ("definition: A prize draw.", "definition: Draw: win a prize", 11, "quote a value"),
        # required keys and their types
        ('version: "1"\n', "", 1, "'version' is missing: add it"),
        ("    definition: A prize draw.\n", "", 7, "'definition' is missing"),
        ('version: "1"', "version: 1", 2, 'version must be a string (quote it: "1")'),
        ('version: "1"', "version: 1.0", 2, 'quote it: "1.0"'),
        ('version: "1"', 'version: "1 beta"', 2, "use only letters, digits"),
        ("name_zh: 抽奖福利", 'name_zh: ""', 9, "name_zh is empty"),
        ("    level: B\n", "    level: B\n    coded: 0\n", 9, "coded must be true or false"),
        ("  B: {name_zh", "  b: {name_zh", 4, "one capital letter"),
        # ids and levels
        ("  - id: B3", "  - id: B3x", 7, "an id is a level letter and a number"),
        ("  - id: C3\n    level: C", "  - id: B3\n    level: B", 22, "id already used on line 7"),
        ("    level: B\n", "    level: C\n", 8, "the id says level B, not C"),
        ("    level: B\n", "    level: D\n", 8, "level 'D' is not one of B, C"),
        # misspelt keys
        ("    definition: A prize", "    definitoin: A prize", 11, "did you mean 'definition'?"),
        ("cues: [抽奖", "cue: [抽奖", 14, "did you mean 'cues'?"),
        ("examples:\n      - 转发", "exampels:\n      - 转发", 19, "did you mean 'examples'?"),
        # rules
        ("      - id: B3.draw", "      - id: B3.cue", 15, "already used on line 13"),
        ("      - id: B3.pics", "      - id: C1.pics", 17, "must start with 'B3.'"),
        ("      - id: B3.draw\n", "      - id: B3.draw\n        cues: [开奖]\n", 15, "exactly one"),
        ("cues: [抽奖, 转发抽]", "cues: []", 14, "the cue list is empty"),
        (
            "cues: [抽奖, 转发抽]",
            "cues: [抽奖, 抽奖]",
            14,
            "cue '抽奖' is already listed on line 14",
        ),
        ("regex: '抽\\d+位'", "cues: [转发抽]", 16, "cue '转发抽' is already listed on line 14"),
        ("cues: [抽奖, 转发抽]", 'cues: [抽奖, "转发\\ud83d"]', 14, "half of a UTF-16 pair"),
        ("match: tokens", "match: words", 32, "match 'words' is not one of text, tokens"),
        ("regex: '抽\\d+位'", "regex: '抽\\d+位'\n        match: text", 17, "cues only"),
        ("regex: '抽\\d+位'", "regex: '抽(\\d+位'", 16, "missing ), unterminated subpattern"),
        ("regex: '抽\\d+位'", "regex: '抽\\d+位)'", 16, "remove the extra )"),
        ("regex: '抽\\d+位'", "regex: '.*'", 16, "matches empty text"),
        # metadata conditions
        ("field: pic_count", "field: pic_cnt", 18, "unknown field 'pic_cnt': did you mean"),
        ("field: pic_count", "field: pictures", 18, "unknown field 'pictures'"),
        ('op: ">="', 'op: "=>"', 18, "op '=>' is not one of"),
        ("value: 1}", "value: many}", 18, "a value of pic_count must be a whole number"),
        (
            'field: pic_count, op: ">=", value: 1}',
            "field: media_type, op: in, value: [video, gif]}",
            18,
            "media_type 'gif' is not one of text, picture, video, article, live",
        ),
        ("value: 1}", "value: 1, unit: pics}", 18, "unknown key 'unit'"),
        # examples, hot words, topics
        ("      - 抽3位送正装\n", "", 7, "give at least two examples"),
        ("window_days: 7", "window_days: -1", 34, "window_days must be 0 or more"),
        ("min_count: 1", "min_count: 0", 29, "min_count must be 1 or more"),
        ("on_hot_list: true", "on_hot_list: sometimes", 29, "on_hot_list must be true or false"),
    ],
)
def test_each_mistake_is_reported_at_its_line(old, new, line, words):
    found = problems(edit(old, new))
    assert any(at == line and words in message for at, message in found), found


def test_an_hour_out_of_range_and_the_regex_column():
    hour = edit('field: pic_count, op: ">=", value: 1', 'field: created_hour, op: "<", value: 24')
    assert problems(hour) == [(18, "subcategory B3: rule B3.pics: created_hour runs from 0 to 23, "
                                    "not 24")]  # fmt: skip
    (bad,) = validate_codebook(edit("'抽\\d+位'", "'抽(\\d+位'"), "brand.yaml")
    # the column points at the unclosed ( itself: 8 spaces, "regex: ", the quote, 抽
    assert (bad.line, bad.column) == (16, 18)
    assert str(bad) == (
        "brand.yaml:16:18: subcategory B3: rule B3.draw: regex '抽(\\d+位' does not compile: "
        "missing ), unterminated subpattern at character 2: close the group with )"
    )


def test_a_lexicon_is_looked_for_next_to_the_codebook(tmp_path):
    text = edit("lexicon: null", "lexicon: words.txt")
    assert problems(text) == []  # no folder given: not checked
    found = validate_codebook(text, "cb.yaml", tmp_path)
    assert [(p.line, "not found next to the codebook" in p.message) for p in found] == [(34, True)]
    (tmp_path / "words.txt").write_text("yyds\n", encoding="utf-8")
    assert validate_codebook(text, "cb.yaml", tmp_path) == []


def test_a_misspelling_is_reported_once():
    assert problems(edit("    definition: A prize", "    definitoin: A prize")) == [
        (11, "subcategory B3: unknown key 'definitoin': did you mean 'definition'?")
    ]
    assert problems(edit("cues: [抽奖", "cue: [抽奖")) == [
        (14, "subcategory B3: a rule: unknown key 'cue': did you mean 'cues'?")
    ]
    # a lost "- id:" line merges two rules: that is said once, where the rule begins
    assert problems(edit("      - id: B3.draw\n", "")) == [
        (13, "subcategory B3: a rule has exactly one of cues, regex, metadata, hot_words, "
             "topics: it has cues, regex: make one rule of each")
    ]  # fmt: skip


def test_a_control_character_is_pointed_at():
    assert problems(edit("A prize draw.", "A prize\x07 draw.")) == [
        (11, "YAML: the control character U+0007 is not allowed: remove it")
    ]
    assert validate_codebook(edit("A prize draw.", "A prize\x07 draw."))[0].column == 24


def test_empty_and_non_mapping_codebooks():
    assert problems("") == [(1, "the codebook is empty: give codebook, version, levels, "
                                "subcategories")]  # fmt: skip
    assert problems("- a\n- b\n") == [(1, "the codebook must be a mapping of keys to values")]


def test_all_problems_are_reported_in_file_order():
    broken = (
        MINIMAL.replace('version: "1"', "version: 1")
        .replace("    definition: A prize", "    definitoin: A prize")
        .replace("'抽\\d+位'", "'抽(\\d+位'")
        .replace("field: pic_count", "field: pics")
        .replace("  - id: C3", "  - id: B3")
    )
    found = validate_codebook(broken, "cb.yaml")
    lines = [p.line for p in found]
    assert lines == sorted(lines)
    assert {2, 11, 16, 18, 22} <= set(lines)
    assert all(str(p).startswith(f"cb.yaml:{p.line}:{p.column}: ") for p in found)


def test_an_invalid_codebook_fails_to_load_with_one_line(tmp_path):
    broken = MINIMAL.replace('version: "1"', "version: 1").replace("pic_count", "pics")
    path = tmp_path / "cb.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CodebookError) as error:
        load_codebook(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}:2:10: version must be a string")
    assert "(and 1 more: run `smcat code codebook validate" in message
    with pytest.raises(CodebookError, match="cannot read codebook"):
        load_codebook(tmp_path / "missing.yaml")
    binary = tmp_path / "codebook.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\xde\xad\xbe\xef")  # a binary file named as one
    with pytest.raises(CodebookError, match="is not UTF-8 text: give a YAML codebook"):
        load_codebook(binary)
    with pytest.raises(CodebookError, match=r"^<text>:2:10: "):
        parse_codebook(broken)
