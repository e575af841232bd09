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
    UserWord,
    _StockJieba,
    normalise_text,
    read_user_dict,
    read_word_list,
)
from crawler.parsers.common import html_to_text
from tests.conftest import FIXTURES, ROOT

SAMPLES = ROOT.parent / "shared" / "samples" / "weibo"
TEXT_KEYS = ("text", "text_raw", "raw_text", "longTextContent")
BRAND_TEXTS = read_word_list(FIXTURES / "coding" / "brand_texts.txt")
BRAND_WORDS = ["澜蔻", "澜蔻护肤", "速行运动", "水光精华", "星曜", "驰远", "禾味"]
BRAND_WORDS += ["SK-II", "iPhone15", "XR-7"]
HOT_WORDS = [
    entry["word"]
    for path in sorted((FIXTURES / "weibo" / "hot").glob("*.json"))
    for entry in json.loads(path.read_text(encoding="utf-8"))["data"]["realtime"]
]
LEXICON = read_word_list(ROOT / "coding" / "codebooks" / "hot_words_lexicon.txt")
# words already in jieba's dictionary, ASCII words, a repeat: where frequencies could drift apart
USER_WORDS = [*BRAND_WORDS, *HOT_WORDS, *LEXICON, "国货", "面膜", "跑步", "yyds", "B超", "澜蔻"]
# constructs where jieba and jieba-rs could part: line breaks, characters jieba-rs counts as Han
# and jieba does not (CJK Extension A and B, U+9FD6-9FFF, compatibility ideographs), full-width
# and Latin letters, digits, symbols, emoji, a lone surrogate, a NUL
CONSTRUCTS = [
    "第一行\r\n第二行\r\r\n\n末尾\r",
    "喜㐂临门，㐂㐂，吉𠮷，鿖鿗中国，﨎﨏学生",
    "ＳＫ－ＩＩ，ｉＰｈｏｎｅ　１５，６１８",
    "iPhone15ProMax 5G 120Hz 3.9s 99.9% C++ a_b a&b #tag# x-1.5",
    "🔥🔥爆款😭[doge][心] ✨～…——《》「」",
    "坏掉的\ud83d表情和\udc00另一半",
    "中\x00国\t制造\u3000好物\xa0推荐",
    "γ射线和α粒子",
]


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
    """The post texts of the JSON files under a folder, and the visible text of its HTML pages."""
    texts = []
    for path in sorted(folder.rglob("*.json")):
        texts.extend(texts_in(json.loads(path.read_text(encoding="utf-8"))))
    for path in sorted(folder.rglob("*.html")):
        texts.append(normalise_text(html_to_text(path.read_text(encoding="utf-8"))))
    return [t for t in dict.fromkeys(texts) if t]


# our own fictional brand posts and comments: the crawl fixtures, and texts written for this
OUR_TEXTS = corpus(FIXTURES / "weibo") + BRAND_TEXTS


def assert_same_tokens(texts: list[str], fast: Tokenizer, stock: Tokenizer) -> int:
    """Both tokenizers give the same tokens on every text; the number of tokens compared."""
    compared = 0
    for number, text in enumerate(texts):
        got, want = fast.cut(text), stock.cut(text)
        if got != want:
            pairs = enumerate(zip(got, want, strict=False))
            at = next((i for i, (g, w) in pairs if g != w), min(len(got), len(want)))
            pytest.fail(
                f"text {number} {text[:80]!r}: first difference at token {at}: rjieba "
                f"{got[max(at - 2, 0) : at + 3]} vs jieba {want[max(at - 2, 0) : at + 3]}"
            )
        compared += len(got)
    return compared


def test_our_corpus_is_big_enough_to_mean_something():
    assert len(BRAND_TEXTS) >= 150 and sum(map(len, BRAND_TEXTS)) > 5_000
    assert sum(t.startswith("#") for t in BRAND_TEXTS) >= 3  # topic-first lines are texts
    assert len(OUR_TEXTS) > 250


@pytest.mark.parametrize("words", [(), USER_WORDS], ids=["no user words", "user words"])
def test_rjieba_gives_stock_jiebas_tokens_on_our_texts(words):
    fast = Tokenizer(words=words)
    stock = Tokenizer(words=words, backend="jieba")
    assert assert_same_tokens(OUR_TEXTS, fast, stock) > 10_000


@pytest.mark.parametrize("words", [(), USER_WORDS], ids=["no user words", "user words"])
def test_rjieba_gives_stock_jiebas_tokens_on_awkward_constructs(words):
    fast = Tokenizer(words=words)
    assert_same_tokens(CONSTRUCTS, fast, Tokenizer(words=words, backend="jieba"))
    assert fast.cut("坏掉的\ud83d表情") == ["坏掉", "的", "\ud83d", "表情"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not beside the repo")
@pytest.mark.parametrize("words", [(), USER_WORDS], ids=["no user words", "user words"])
def test_rjieba_gives_stock_jiebas_tokens_on_real_weibo_text(words):
    real = corpus(SAMPLES)
    assert len(real) > 40
    fast = Tokenizer(words=words)
    assert assert_same_tokens(real, fast, Tokenizer(words=words, backend="jieba")) > 5_000


def test_both_backends_give_user_words_the_same_frequencies():
    # every 500th dictionary word, and pairs of them: new words, known words and their prefixes
    dictionary = (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8")
    known = [line.split()[0] for line in dictionary.splitlines()[::500]]
    words = [*USER_WORDS, *known, *(a + b for a, b in zip(known, known[::-1], strict=True))]
    fast = Tokenizer(words=words)
    assert fast.user_words == Tokenizer(words=words, backend="jieba").user_words
    assert len(fast.user_words) > 1_000
    assert fast.user_words["澜蔻"] >= 1 and fast.user_words["跑步"] > 100  # known words weigh more


def test_stock_jiebas_total_counts_each_dictionary_word_once_as_jieba_rs_does():
    # too small a change to show in tokens or frequencies, so checked on the private instance
    lines = (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines()
    distinct = {word: int(freq) for word, freq, *_ in map(str.split, lines)}
    assert len(distinct) < len(lines)  # B超 is listed twice
    assert _StockJieba()._jieba.total == sum(distinct.values())


def test_user_words_no_jieba_token_can_hold_are_left_out_of_both():
    words = ["㐂字礼盒", "La Mer", "迪丽·热巴", "🔥爆款", "澜蔻"]
    text = "㐂字礼盒和La Mer，🔥爆款澜蔻"
    fast, stock = Tokenizer(words=words), Tokenizer(words=words, backend="jieba")
    assert fast.untokenizable == stock.untokenizable == tuple(words[:4])
    assert list(fast.user_words) == ["澜蔻"]
    assert fast.cut(text) == stock.cut(text)
    assert "㐂字礼盒" not in fast.cut(text)  # rjieba alone would have joined it


def test_user_words_stay_in_their_own_tokenizer():
    text = "澜蔻水光精华绝绝子"
    plain = Tokenizer().cut(text)
    brand, product = Tokenizer(words=["澜蔻"]), Tokenizer(words=["水光精华"], backend="jieba")
    assert "澜蔻" in brand.cut(text) and "水光精华" not in brand.cut(text)
    assert "水光精华" in product.cut(text) and "澜蔻" not in product.cut(text)
    assert Tokenizer().cut(text) == Tokenizer(backend="jieba").cut(text) == plain
    assert "澜蔻" not in plain and "水光精华" not in plain
    # nor do they reach the libraries' own default instances
    assert rjieba.cut(text, False) == plain
    assert list(jieba.cut(text, HMM=False)) == plain


def test_user_dictionary_files_in_jiebas_format(tmp_path):
    path = tmp_path / "brands.txt"
    lines = ["\ufeff# brands", "澜蔻 2000 nz", "", "速行运动", "星曜 n", "#澜蔻春日焕新# 5"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_user_dict(path) == [
        UserWord("澜蔻", 2000, "nz"),
        UserWord("速行运动"),
        UserWord("星曜", None, "n"),
        UserWord("#澜蔻春日焕新#", 5),
    ]
    text = "#澜蔻春日焕新# 澜蔻和速行运动联名，星曜驰远"
    fast = Tokenizer(user_dicts=[path], words=["驰远"])  # a word again: its suggested frequency
    stock = Tokenizer(user_dicts=[str(path)], words=["驰远"], backend="jieba")
    assert fast.cut(text) == stock.cut(text)
    assert {"#澜蔻春日焕新#", "速行运动", "星曜", "驰远"} <= set(fast.cut(text))
    assert fast.user_words == stock.user_words and fast.user_words["澜蔻"] == 2000


@pytest.mark.parametrize(
    "line", ["速行 很多", "La Mer 100", "澜蔻 0", "澜蔻 100 nz n", "澜蔻 100 NZ", "澜蔻 ２０"]
)
def test_a_bad_user_dictionary_line_names_file_line_and_fix(tmp_path, line):
    path = tmp_path / "bad.txt"
    path.write_text(f"澜蔻 2000\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        Tokenizer(user_dicts=[path])
    message = str(error.value)
    assert message.startswith(f"{path}:2: {line!r} is not `word [freq] [tag]`: ")
    assert "frequency of 1 or more" in message and "\n" not in message


def test_words_drop_stop_words_and_punctuation_but_cut_keeps_everything():
    stop_file = FIXTURES / "coding" / "stopwords.txt"
    text = "我们的澜蔻水光精华，真的绝绝子吧！ 😭"
    for stop_words in (stop_file, str(stop_file), read_word_list(stop_file)):
        tokenizer = Tokenizer(words=["澜蔻", "水光精华", "绝绝子"], stop_words=stop_words)
        assert tokenizer.cut(text) == [
            "我们", "的", "澜蔻", "水光精华", "，", "真的", "绝绝子", "吧", "！", " ", "😭",
        ]  # fmt: skip
        assert tokenizer.words(text) == ["澜蔻", "水光精华", "绝绝子"]
    default = Tokenizer(stop_words=DEFAULT_STOP_WORDS)
    assert "的" in default.stop_words and "的" not in default.words(text)


def test_cut_many_is_cut_of_each():
    tokenizer = Tokenizer()
    texts = OUR_TEXTS[:20] + CONSTRUCTS
    assert tokenizer.cut_many(iter(texts)) == [tokenizer.cut(t) for t in texts]


def test_normalise_text_removes_zero_width_and_odd_spaces():
    assert normalise_text("\ufeff\u200b#话题#\u200b\u3000新品\xa0上市") == "#话题# 新品 上市"
    assert Tokenizer().cut("新品\u200b精\u200b华") == ["新品", "\u200b", "精", "\u200b", "华"]
    assert Tokenizer().cut(normalise_text("新品\u200b精\u200b华")) == ["新品", "精华"]


def test_latin_names_are_found_on_the_raw_text():
    names = LatinNames(["SK-II", "iPhone 15", "iPhone 15 Pro", "La Mer", " ", "-"])
    text = "入了sk－ii神仙水，拿iphone15拍的；iPhone 150不是，iPhone 15 Pro才是，LA MER，SKII"
    assert names.find(text) == [
        NameMatch("SK-II", 2, 7),
        NameMatch("iPhone 15", 12, 20),
        NameMatch("iPhone 15 Pro", 36, 49),
        NameMatch("La Mer", 52, 58),
        NameMatch("SK-II", 59, 63),
    ]
    assert [text[m.start : m.end] for m in names.find(text)] == [
        "sk－ii", "iphone15", "iPhone 15 Pro", "LA MER", "SKII",
    ]  # fmt: skip
    assert names.find("ASK-IIx iPhone 15s XiPhone 15") == []  # inside longer Latin words
    assert names.find("买SK-II。") == [NameMatch("SK-II", 1, 6)]  # Chinese is a boundary
    assert LatinNames([]).find(text) == []


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="backend"):
        Tokenizer(backend="thulac")
    with pytest.raises(TypeError, match="list of words"):
        Tokenizer(words="澜蔻")
