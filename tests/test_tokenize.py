"""Tokenization: rjieba pinned to stock jieba, private user words, stop words, Latin names."""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import pytest
import rjieba

from coding.tokenize import (
    DEFAULT_STOP_WORDS,
    LatinNames,
    NameMatch,
    Tokenizer,
    normalise_text,
    read_user_dict,
    read_word_list,
)
from crawler.parsers.common import html_to_text
from tests.conftest import FIXTURES, ROOT

SAMPLES = ROOT.parent / "shared" / "samples" / "weibo"
TEXT_KEYS = ("text", "text_raw", "raw_text", "longTextContent")
BRAND_WORDS = ["澜蔻", "澜蔻护肤", "速行运动", "水光精华", "宝子", "绝绝子", "泰裤辣"]


def texts_in(payload: object) -> list[str]:
    """Every post or comment text in a JSON payload, as plain text."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in TEXT_KEYS and isinstance(value, str):
                found.append(normalise_text(html_to_text(value)))
            else:
                found.extend(texts_in(value))
    elif isinstance(payload, list):
        for value in payload:
            found.extend(texts_in(value))
    return found


def corpus(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.rglob("*.json")):
        texts.extend(texts_in(json.loads(path.read_text(encoding="utf-8"))))
    return [t for t in dict.fromkeys(texts) if t]


# our own fictional brand posts and comments: the crawl fixtures, and texts written for this
OUR_TEXTS = corpus(FIXTURES / "weibo") + read_word_list(FIXTURES / "coding" / "brand_texts.txt")


def assert_same_tokens(texts: list[str], fast: Tokenizer, stock: Tokenizer) -> None:
    for text in texts:
        assert fast.cut(text) == stock.cut(text), text


def test_our_corpus_is_big_enough_to_mean_something():
    assert len(OUR_TEXTS) > 150 and sum(map(len, OUR_TEXTS)) > 8_000


@pytest.mark.parametrize("words", [(), BRAND_WORDS])
def test_rjieba_gives_stock_jiebas_tokens_on_our_texts(words):
    fast = Tokenizer(words=words)
    stock = Tokenizer(words=words, backend="jieba")
    assert_same_tokens(OUR_TEXTS, fast, stock)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not beside the repo")
def test_rjieba_gives_stock_jiebas_tokens_on_real_weibo_text():
    real = corpus(SAMPLES)
    assert len(real) > 40
    assert_same_tokens(real, Tokenizer(), Tokenizer(backend="jieba"))


def test_user_words_stay_in_their_own_tokenizer():
    text = "澜蔻水光精华绝绝子"
    plain_before = Tokenizer().cut(text)
    branded = Tokenizer(words=BRAND_WORDS)
    assert branded.cut(text) == ["澜蔻", "水光精华", "绝绝子"]
    assert Tokenizer().cut(text) == plain_before != branded.cut(text)
    # nor do they reach the libraries' own default instances
    assert rjieba.cut(text, False) == plain_before
    assert list(jieba.cut(text, HMM=False)) == plain_before


def test_user_dictionary_files_in_jiebas_format(tmp_path):
    path = tmp_path / "brands.txt"
    path.write_text("# brands\n澜蔻 2000 nz\n\n速行运动\n", encoding="utf-8")
    assert [(e.word, e.freq, e.tag) for e in read_user_dict(path)] == [
        ("澜蔻", 2000, "nz"), ("速行运动", None, None),
    ]  # fmt: skip
    fast = Tokenizer(user_dicts=[path])
    assert fast.cut("澜蔻和速行运动联名") == Tokenizer(user_dicts=[path], backend="jieba").cut(
        "澜蔻和速行运动联名"
    )
    assert "速行运动" in fast.cut("澜蔻和速行运动联名")


def test_a_bad_user_dictionary_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("澜蔻 2000\n速行 很多\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt:2: '速行 很多'") as error:
        Tokenizer(user_dicts=[path])
    assert "\n" not in str(error.value)


def test_words_drop_stop_words_and_punctuation_but_cut_keeps_everything():
    tokenizer = Tokenizer(words=BRAND_WORDS, stop_words=read_word_list(DEFAULT_STOP_WORDS))
    text = "我们的澜蔻水光精华，真的绝绝子！"
    assert "，" in tokenizer.cut(text) and "的" in tokenizer.cut(text)
    assert tokenizer.words(text) == ["澜蔻", "水光精华", "真的", "绝绝子"]


def test_cut_many_is_cut_of_each():
    tokenizer = Tokenizer()
    assert tokenizer.cut_many(OUR_TEXTS[:20]) == [tokenizer.cut(t) for t in OUR_TEXTS[:20]]


def test_normalise_text_removes_zero_width_and_odd_spaces():
    assert normalise_text("\u200b#话题#\u200b\u3000新品\xa0上市") == "#话题# 新品 上市"


def test_latin_names_are_found_on_the_raw_text():
    names = LatinNames(["SK-II", "iPhone 15", "La Mer"])
    text = "入了sk－ii神仙水，拿iphone15拍的；iPhone 150不是一个东西，LA MER也香"
    assert names.find(text) == [
        NameMatch("SK-II", 2, 7),
        NameMatch("iPhone 15", 12, 20),
        NameMatch("La Mer", 40, 46),
    ]
    assert [text[m.start : m.end] for m in names.find(text)] == ["sk－ii", "iphone15", "LA MER"]
    assert LatinNames([]).find(text) == []
    assert names.find("ASK-IIx") == []  # inside a longer Latin word


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        Tokenizer(backend="thulac")
