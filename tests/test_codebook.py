"""Codebooks: the bundled one is complete and consistent; every mistake is reported by line."""

from __future__ import annotations

import re

import pytest

from coding.codebook import (
    CodebookError,
    CueRule,
    HotWordsRule,
    MetadataRule,
    RegexRule,
    TopicsRule,
    default_codebook_path,
    load_codebook,
    parse_codebook,
    validate_codebook,
)
from coding.tokenize import read_word_list

MINIMAL = """\
codebook: test
version: "1"
levels:
  B: {name_zh: 内容类别, name_en: content}
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
"""


def problems(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in validate_codebook(text, "cb.yaml")]


def test_the_bundled_codebook_has_the_21_subcategories_in_three_levels():
    codebook = load_codebook(default_codebook_path())
    assert (codebook.name, codebook.version, codebook.coder) == (
        "brand_posts", "1", "auto:brand_posts@1",
    )  # fmt: skip
    ids = [s.id for s in codebook.subcategories]
    expected = [f"A{i}" for i in range(1, 6)] + [f"B{i}" for i in range(1, 11)]
    assert ids == expected + [f"C{i}" for i in range(1, 7)]
    assert {s.id: s.level for s in codebook.subcategories} == {i: i[0] for i in ids}
    assert set(codebook.levels) == {"A", "B", "C"}
    assert [s.id for s in codebook.subcategories if not s.coded] == ["A1", "A2", "A3"]
    for sub in codebook.coded():
        assert sub.rules and len(sub.examples) >= 2, sub.id
        assert sub.name_zh and sub.name_en and sub.definition, sub.id


def test_the_bundled_examples_agree_with_their_rules():
    codebook = load_codebook(default_codebook_path())
    for sub in codebook.coded():
        cues = [c for r in sub.rules if isinstance(r, CueRule) for c in r.cues]
        patterns = [r.pattern for r in sub.rules if isinstance(r, RegexRule)]
        lexicon = [
            w for r in sub.rules if isinstance(r, HotWordsRule) and r.lexicon
            for w in read_word_list(r.lexicon)
        ]  # fmt: skip
        if not (cues or patterns or lexicon):
            continue  # decided by metadata alone (A5)
        for example in sub.examples:
            assert any(c in example for c in cues + lexicon) or any(
                p.search(example) for p in patterns
            ), f"{sub.id}: {example}"


def test_rules_are_built_with_their_kinds():
    codebook = load_codebook(default_codebook_path())
    rules = {r.id: r for s in codebook.subcategories for r in s.rules}
    assert rules["C2.video"] == MetadataRule("C2.video", "media_type", "in", ["video", "live"])
    assert rules["B5.hot"].window_days == 7 and rules["B5.hot"].lexicon.is_file()
    assert rules["C3.topics"] == TopicsRule("C3.topics", 1, True)
    assert isinstance(rules["B2.price"].pattern, re.Pattern)


def test_a_minimal_codebook_is_valid():
    assert problems(MINIMAL) == []
    assert parse_codebook(MINIMAL).coded()[0].rules[0] == CueRule("B3.cue", ("抽奖", "转发抽"))


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("levels:\n", "levels: [\n", 5, "YAML syntax"),
        ('version: "1"\n', "", 1, "'version' is missing"),
        ('version: "1"', "version: 1", 2, 'quote it: "1"'),
        (
            "    definition: A prize draw.\n",
            "    definitoin: A prize draw.\n",
            10,
            "did you mean 'definition'",
        ),
        ("    level: B\n", "    level: C\n", 7, "level 'C' is not one of B"),
        ("        regex: '抽\\d+位'", "        regex: '抽(\\d+位'", 15, "does not compile"),
        ("field: pic_count", "field: pic_cnt", 17, "did you mean 'pic_count'"),
        ("value: 1}", "value: many}", 17, "must be a int"),
        ("      - id: B3.draw", "      - id: B3.cue", 14, "already used on line 12"),
        ("cues: [抽奖, 转发抽]", "cues: [抽奖, 抽奖]", 13, "listed twice"),
        ("      - 抽3位送正装\n", "", 6, "at least two examples"),
    ],
)
def test_each_mistake_is_reported_at_its_line(old, new, line, words):
    assert old in MINIMAL
    found = problems(MINIMAL.replace(old, new))
    assert any(at == line and words in message for at, message in found), found


def test_wrong_level_for_the_id_and_duplicate_ids():
    text = MINIMAL + MINIMAL[MINIMAL.index("  - id: B3") :].replace("level: B", "level: B")
    assert any("id already used on line 6" in m for _, m in problems(text))
    two_levels = MINIMAL.replace(
        "levels:\n", "levels:\n  C: {name_zh: 形式, name_en: form}\n"
    ).replace("    level: B\n", "    level: C\n")
    assert any("the id says level B, not C" in m for _, m in problems(two_levels))


def test_all_problems_are_reported_and_the_error_is_one_line(tmp_path):
    broken = MINIMAL.replace('version: "1"', "version: 1").replace("pic_count", "pics")
    found = validate_codebook(broken, "cb.yaml")
    assert len(found) == 2 and str(found[0]).startswith("cb.yaml:2:")
    path = tmp_path / "cb.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CodebookError) as error:
        load_codebook(path)
    assert "\n" not in str(error.value) and "and 1 more" in str(error.value)
    assert "smcat code codebook validate" in str(error.value)
