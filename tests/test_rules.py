"""Rules that read text as a coder reads it (issue #20): masks before cue and hot-word matching,
the pattern fixes, the new cues, period lexicons for hot words, and the codebook keys for them.

Each post is written in the shape of a real Weibo post of a brand or a person (2012-2025)."""

from __future__ import annotations

from datetime import date

import pytest

from coding.codebook import (
    Lexicon,
    Masking,
    default_codebook_path,
    load_codebook,
    parse_codebook,
    validate_codebook,
)
from coding.tagger import Tagger
from coding.tokenize import coding_tokenizer
from smcat.errors import SmcatError
from smcat.hot_words import HotWordIndex
from smcat.store import Store
from tests.test_codebook import MINIMAL, edit
from tests.test_tagger import AWKWARD, BRAND_TEXTS, a_post, codes

CODEBOOK = load_codebook(default_codebook_path())
POST_2012 = "2012-06-18T21:14:00+08:00"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(CODEBOOK, HotWordIndex(()))


def spans(found: dict[str, list[dict]]) -> list[tuple[str, str, list[int]]]:
    return [
        (sub, term, offsets)
        for sub, evidence in found.items()
        for entry in evidence
        for term, offsets in zip(entry.get("terms", []), entry.get("offsets", []), strict=True)
    ]


# -- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # 幸福 (B7) inside a user name, 618 (B2) inside another
        "早安 @月兔抱抱的幸福生活",
        "@赵小牛618 早点睡",
        # emoticon codes are reactions, not jokes (B6) or hot words (B5, 给力 in 2012)
        "今天终于下班了[哈哈]",
        "收到了[给力]",
        # the earlier posters' words in the repost chain: B1 新品, B3 抽奖, B7 感谢
        "//@澜蔻护肤:新品上市，转发抽奖，感谢大家",
    ],
)
def test_names_emoticons_and_the_repost_chain_make_no_content_code(tagger, text):
    found = codes(tagger, a_post(text, created_at=POST_2012))
    assert not {sub for sub in found if sub.startswith("B")}, found


def test_the_poster_s_own_words_before_the_chain_still_count_at_their_offsets(tagger):
    text = "@赵小牛618 新品到了，感谢！[哈哈]//@月兔抱抱的幸福生活:抽奖抽奖"
    found = codes(tagger, a_post(text))
    assert set(found) >= {"B1", "B7", "A4"} and "B3" not in found and "B6" not in found
    assert ("B1", "新品", [8, 10]) in spans(found) and ("B7", "感谢", [13, 15]) in spans(found)
    assert all(text[begin:end] == term for _, term, (begin, end) in spans(found))


def test_masked_text_keeps_the_length_and_the_bracket_codes_that_are_cues(tagger):
    text = "组图共9张[图片] @美妆博主小A 真好看[心]//@速行运动官方:转发"
    seen = tagger.masked(text)
    assert len(seen) == len(text)
    assert "[图片]" in seen and "[心]" not in seen and "@" not in seen and "速行" not in seen
    assert "C1" in codes(tagger, a_post(text))  # the [图片] cue is still found


def test_each_mask_can_be_switched_off_in_the_codebook():
    text = "@月兔抱抱的幸福生活 [哈哈]//@赵小牛618:新品"
    on = Tagger(parse_codebook(CODEBOOK.yaml_text, base=default_codebook_path().parent))
    off_text = CODEBOOK.yaml_text.replace(
        "masking: {mentions: true, emoticons: true, repost_chain: true}",
        "masking: {mentions: false, emoticons: false, repost_chain: false}",
    )
    off_book = parse_codebook(off_text, base=default_codebook_path().parent)
    assert off_book.masking == Masking(False, False, False)
    off = Tagger(off_book)
    assert not {"B1", "B6", "B7"} & set(codes(on, a_post(text)))
    assert {"B1", "B7"} <= set(codes(off, a_post(text)))
    only_chain = off_text.replace("repost_chain: false", "repost_chain: true")
    chain = Tagger(parse_codebook(only_chain, base=default_codebook_path().parent))
    assert set(codes(chain, a_post(text))) & {"B1", "B7"} == {"B7"}


def test_masking_keys_are_checked():
    wrong = edit("subcategories:", "masking: {mentions: no_way, emoticon: true}\nsubcategories:")
    messages = [p.message for p in validate_codebook(wrong)]
    assert any("masking: mentions must be true or false" in m for m in messages)
    assert any("unknown key 'emoticon': did you mean 'emoticons'?" in m for m in messages)
    assert parse_codebook(MINIMAL).masking == Masking()  # on unless the codebook says not


# -- pattern fixes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我们??的新品今天到货",  # characters lost in encoding
        "祝大家?年快乐",
        "详情见 http://t.cn/zOxyz?from=weibo 官方链接",
    ],
)
def test_a_question_mark_for_lost_characters_is_no_question(tagger, text):
    assert "C4" not in codes(tagger, a_post(text))


@pytest.mark.parametrize(
    "text", ["你们吃早饭了吗?", "今天跑了几公里?? 晒出来", "好看吗?我觉得好看", "猜猜？"]
)
def test_a_real_question_mark_still_makes_c4(tagger, text):
    assert "C4" in codes(tagger, a_post(text))


def test_a4_finds_a_repost_chain_without_a_colon(tagger):
    found = codes(tagger, a_post("好看//@赵小牛618 转发微博了哦"))
    assert [e["terms"] for e in found["A4"] if e["rule"] == "A4.chain"] == [["//@赵小牛618"]]


def test_c3_finds_a_hashtag_with_a_space(tagger):
    text = "#iPhone 15 上市# 首批到店，#澜蔻 春日焕新#"
    (entry,) = [e for e in codes(tagger, a_post(text))["C3"] if e["rule"] == "C3.hashtag"]
    assert entry["terms"] == ["#iPhone 15 上市#", "#澜蔻 春日焕新#"]
    assert "C3" not in codes(tagger, a_post("C# 和 F# 哪个好"))  # no topic between them


def test_a_repost_chain_credit_is_no_c5_mention(tagger):
    # the crawler counts the credit among the post's mentions
    assert "C5" not in codes(
        tagger, a_post("说得对//@速行运动官方:跑完步记得拉伸", mention_count=1)
    )
    found = codes(tagger, a_post("感谢@速行运动官方 //@赵小牛618:好", mention_count=2))
    assert [e.get("terms", e.get("value")) for e in found["C5"]] == [["@速行运动官方"], 1]
    assert "no C5 mention" in " ".join(next(s for s in CODEBOOK.subcategories if s.id == "C5")
                                       .definition.split())  # fmt: skip


# -- new cues ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sub", "text", "cue"),
    [
        ("B9", "【温馨提示】明日起门店营业时间调整为10:00-22:00，请合理安排", "温馨提示"),
        ("B10", "我们向雅安灾区捐助了首批物资，感谢每一位报名的义工", "捐助"),
        ("B10", "周末招募义工，一起去敬老院", "义工"),
        ("B4", "澜蔻官方微博今天正式开通啦，以后常来看看", "开通"),
        ("B4", "澜蔻天猫旗舰店今日上线", "上线"),
        ("B4", "本周六下午两点，跑者分享会在西湖店举行", "分享会"),
        ("B4", "2012年度最佳护肤品牌颁奖典礼在上海举行", "颁奖"),
        ("B3", "转发此条微博并@三位好友，就有机会获得新品试用装一份", "有机会获"),
    ],
)
def test_new_cues_find_their_posts(tagger, sub, text, cue):
    found = codes(tagger, a_post(text, created_at=POST_2012))
    assert (sub, cue, [text.index(cue), text.index(cue) + len(cue)]) in spans(found)


# -- hot words of the post's time --------------------------------------------------------------


def test_hot_word_lexicons_are_chosen_by_the_post_s_date(tagger):
    text = "这款面霜真是太给力了，有木有"
    then = codes(tagger, a_post(text, created_at=POST_2012))
    assert [e["terms"] for e in then["B5"]] == [["给力", "有木有"]]
    assert "B5" not in codes(tagger, a_post(text, created_at="2024-06-18T21:14:00+08:00"))
    # the words of the 2020s are no hot words in 2012
    assert "B5" not in codes(tagger, a_post("绝绝子", created_at=POST_2012))
    assert "B5" in codes(tagger, a_post("绝绝子", created_at="2024-06-18T21:14:00+08:00"))


def test_period_lexicons_are_checked_and_loaded(tmp_path):
    (tmp_path / "words.txt").write_text("给力\n", encoding="utf-8")
    rule = "hot_words: {window_days: 7, lexicon: null}"

    def period(file: str, dates: str) -> str:
        return edit(rule, f"hot_words: {{window_days: 7, lexicons: [{{file: {file}, {dates}}}]}}")

    book = parse_codebook(period("words.txt", "valid_from: 2012-01-01"), base=tmp_path)
    (hot,) = [r for s in book.subcategories for r in s.rules if r.id == "C3.hot"]
    assert hot.lexicons == (Lexicon(tmp_path / "words.txt", date(2012, 1, 1), None),)
    wrong = period("nowhere.txt", "valid_from: soon")
    messages = [p.message for p in validate_codebook(wrong, base=tmp_path)]
    assert any("lexicon 'nowhere.txt' not found" in m for m in messages)
    assert any("valid_from must be a date" in m for m in messages)
    swapped = period("words.txt", "valid_from: 2012-01-01, valid_to: 2011-01-01")
    messages = [p.message for p in validate_codebook(swapped, base=tmp_path)]
    assert any("valid_to is before valid_from: swap them" in m for m in messages)


# -- rule-only subcategories -------------------------------------------------------------------


def test_the_structural_subcategories_are_rule_only():
    rule_only = [s.id for s in CODEBOOK.coded() if s.rule_only]
    assert rule_only == ["A4", "A5", "C1", "C2", "C3", "C6"]
    assert not any(s.rule_only for s in parse_codebook(MINIMAL).subcategories)


def test_rule_only_is_checked():
    not_bool = edit(
        "    rules:\n      - id: B3.cue", "    rule_only: maybe\n    rules:\n      - id: B3.cue"
    )
    assert any(
        "B3: rule_only must be true or false" in p.message for p in validate_codebook(not_bool)
    )


# -- user dictionaries -------------------------------------------------------------------------

SULWHASOO = "雪花秀滋盈肌本润颜水，冬天用刚好"  # the brand 雪花秀 holds the hot word 雪花 (snow)


def test_a_user_dictionary_keeps_a_brand_name_whole_for_hot_word_matching(tmp_path):
    hot = HotWordIndex([("雪花", "2025-12-01T09:00:00+08:00")])
    post = a_post(SULWHASOO, created_at="2025-12-02T10:00:00+08:00")
    assert "B5" in codes(Tagger(CODEBOOK, hot), post)  # 雪花 | 秀: a hot word, wrongly
    brands = tmp_path / "brands.txt"
    brands.write_text("# brands\n雪花秀 nz\n", encoding="utf-8")
    tagger = Tagger(CODEBOOK, hot, user_dicts=[brands])
    assert "B5" not in codes(tagger, post)
    assert "B5" in codes(tagger, a_post("今天下雪花了", created_at="2025-12-02T10:00:00+08:00"))
    assert coding_tokenizer([brands], ["雪花"]).cut(SULWHASOO)[0] == "雪花秀"


def test_a_bad_user_dictionary_is_one_line_naming_the_fix(tmp_path):
    with pytest.raises(SmcatError, match=r"cannot read user dictionary .*nowhere.txt.*--user-dict"):
        Tagger(parse_codebook(MINIMAL), user_dicts=[tmp_path / "nowhere.txt"])
    bad = tmp_path / "bad.txt"
    bad.write_text("雪花 秀 1\n", encoding="utf-8")
    with pytest.raises(SmcatError, match=r"bad.txt:1: .* is not `word \[freq\] \[tag\]`"):
        Tagger(CODEBOOK, user_dicts=[bad])


def store_post(db, text: str, when: str) -> None:
    with Store.open(db) as store:
        store.upsert_posts([{"platform": "weibo", "post_id": "1", "account_id": "a",
                             "created_at": when, "observed_at": when, "text": text}])  # fmt: skip
        store.add_hot_search([{"platform": "weibo", "observed_at": when, "rank": 1,
                               "word": "雪花"}])  # fmt: skip


def test_code_auto_takes_user_dictionaries_from_the_flag_or_smcat_toml(smcat, tmp_path):
    when = "2025-12-02T10:00:00+08:00"
    (tmp_path / "brands.txt").write_text("雪花秀\n", encoding="utf-8")
    runs = {}
    for name, flags, toml in [
        ("plain", [], None),
        ("flag", ["--user-dict", "brands.txt"], None),
        ("toml", [], 'user_dicts = ["brands.txt"]\n'),
    ]:
        db = tmp_path / f"{name}.db"
        store_post(db, SULWHASOO, when)
        (tmp_path / "smcat.toml").unlink(missing_ok=True)
        if toml:
            (tmp_path / "smcat.toml").write_text(toml, encoding="utf-8")
        result = smcat("code", "auto", "--db", str(db), "--workers", "0", *flags)
        assert result.returncode == 0, result.stderr
        with Store.open(db, readonly=True) as store:
            runs[name] = store.code_counts("brand_posts", "auto:brand_posts@1")
    assert runs["plain"].get("B5") == 1
    assert runs["flag"].get("B5") is None and runs["toml"].get("B5") is None
    (tmp_path / "smcat.toml").unlink()
    missing = smcat("code", "auto", "--db", str(tmp_path / "plain.db"), "--user-dict", "no.txt")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "cannot read user dictionary no.txt" in missing.stderr


def test_masking_changes_no_structural_code_of_the_brand_corpus(tagger):
    unmasked = CODEBOOK.yaml_text.replace(
        "masking: {mentions: true, emoticons: true, repost_chain: true}",
        "masking: {mentions: false, emoticons: false, repost_chain: false}",
    )
    plain = Tagger(parse_codebook(unmasked, base=default_codebook_path().parent))
    structural = {s.id for s in CODEBOOK.coded() if s.rule_only}
    for i, text in enumerate([*BRAND_TEXTS, *AWKWARD]):
        post = a_post(text, is_repost=i % 5 == 0, pic_count=i % 3, topics=("春日",)[: i % 2])
        masked = {c.subcategory for c in tagger.tag(post)} & structural
        assert masked == {c.subcategory for c in plain.tag(post)} & structural, text
