"""The machine coder: the bundled codebook's rules on posts, with evidence, incrementally."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path

import pytest
from scrapy.utils.ossignal import install_shutdown_handlers

from coding.autocode import _tag_rows, _tagging_pool, auto_code
from coding.codebook import default_codebook_path, load_codebook, parse_codebook
from coding.tagger import Tagger
from coding.tokenize import read_word_list
from smcat.hot_words import HotWordIndex
from smcat.store import PostToCode, Store
from tests.conftest import clean_env

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = load_codebook(default_codebook_path())
WHEN = "2025-03-05T10:00:00+08:00"


def a_post(text: str, **fields: object) -> PostToCode:
    values = {"platform": "weibo", "post_id": "1", "account_id": "5001000001", "created_at": WHEN,
              "text": text, "is_repost": False, "media_type": "text", "pic_count": 0,
              "video_seconds": None, "topics": (), "mention_count": 0}  # fmt: skip
    values.update(fields)
    return PostToCode(**values)


def codes(tagger: Tagger, post: PostToCode) -> dict[str, list[dict]]:
    return {code.subcategory: code.evidence for code in tagger.tag(post)}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(CODEBOOK, HotWordIndex([("澜蔻新品", "2025-03-02T12:00:00+08:00")]))


@pytest.mark.parametrize("sub", [s for s in CODEBOOK.coded() if s.id != "A5"], ids=str)
def test_each_example_gets_its_subcategory(tagger, sub):
    for example in sub.examples:
        assert sub.id in codes(tagger, a_post(example)), example


@pytest.mark.parametrize(
    "text",
    ["转发抽一位宝子", "评论抽3位送正装", "今晚8点抽奖", "微博抽奖平台已公证", "关注并转发，抽2名"],
)
def test_giveaways_in_their_usual_wordings(tagger, text):
    assert "B3" in codes(tagger, a_post(text))


def test_evidence_names_rules_terms_and_offsets_into_the_text(tagger):
    text = "【新品首发】关注+转发本条，抽3位送正装！双11到手价299元 #澜蔻春日焕新# http://t.cn/x"
    found = codes(tagger, a_post(text))
    assert {"B1", "B2", "B3", "C3", "C6"} <= set(found) and "C4" not in found
    for evidence in found.values():
        for entry in evidence:
            for term, (start, end) in zip(entry.get("terms", []), entry.get("offsets", []),
                                          strict=True):  # fmt: skip
                assert text[start:end] == term, entry
    assert {e["rule"] for e in found["B2"]} == {"B2.cue", "B2.price"}
    assert "到手价" in found["B2"][0]["terms"] and found["B2"][1]["terms"] == ["299元"]


@pytest.mark.parametrize("text", ["#春日#", "早安 #春日# 和 #焕新# 见 #新品#", "##春日##"])
def test_a_regex_rule_gives_every_match_in_order(tagger, text):
    (entry,) = [e for e in codes(tagger, a_post(text))["C3"] if e["rule"] == "C3.hashtag"]
    matches = list(re.finditer(r"#[^#\s]{1,40}#", text))
    assert entry["terms"] == [m[0] for m in matches]
    assert entry["offsets"] == [list(m.span()) for m in matches]


def test_a_text_with_a_lone_surrogate_is_tagged(tagger):
    # a truncated emoji leaves half of a UTF-16 pair, which Rust strings cannot hold
    text = "转发抽奖\ud83d 双11到手价 #澜蔻新品# 打卡？"
    found = codes(tagger, a_post(text))
    assert {"B2", "B3", "C3", "C4"} <= set(found)
    spans = [
        (term, offsets)
        for evidence in found.values()
        for entry in evidence
        for term, offsets in zip(entry.get("terms", []), entry.get("offsets", []), strict=True)
    ]
    assert ("到手价", [9, 12]) in spans and ("#澜蔻新品#", [13, 19]) in spans
    assert all(text[begin:end] == term for term, (begin, end) in spans)


TOKEN_CUES = """\
codebook: tokens
version: "1"
levels:
  B: {name_zh: 内容类别, name_en: content}
subcategories:
  - id: B1
    level: B
    name_zh: 新品
    name_en: new product
    definition: A new product.
    rules:
      - id: B1.word
        cues: [上新]
        match: tokens
    examples: [本周上新三款, 上新啦]
"""


def test_token_cues_match_whole_words_only():
    tagger = Tagger(parse_codebook(TOKEN_CUES))
    word = codes(tagger, a_post("本周上新三款，上新啦"))["B1"]
    assert word == [{"rule": "B1.word", "terms": ["上新", "上新"], "offsets": [[2, 4], [7, 9]]}]
    assert codes(tagger, a_post("马上新品到店")) == {}  # 马上 | 新品: 上新 is no token here


# a codebook of one rule: write it in place of RULE
ONE_RULE = TOKEN_CUES.replace("cues: [上新]\n        match: tokens", "RULE")
NO_MASKS = "masking: {mentions: false, emoticons: false, repost_chain: false}\n"


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<=#)[^#\s]+(?=#)",  # lookarounds see the text before and after each match
        r"^#\w+|\d+",  # ^ only at the start of the text
        r"\b\w\b",
        r"抽\d*|(?<=抽)",  # non-empty matches, then an empty one
        r"(?<=奖)\d*",  # empty and non-empty matches
    ],
)
def test_a_regex_rule_finds_what_finditer_finds(pattern):
    tagger = Tagger(parse_codebook(ONE_RULE.replace("RULE", f"regex: '{pattern}'")))
    for text in ["#春日# 抽3位 抽奖 抽 a b #焕新#", "抽抽12抽奖奖9 #x#y#", "抽奖抽奖", "抽 x 抽"]:
        found = codes(tagger, a_post(text)).get("B1", [])
        expected = list(re.finditer(pattern, text))
        assert bool(found) == bool(expected), text
        if expected:
            assert found[0]["terms"] == [m[0] for m in expected], text
            assert found[0]["offsets"] == [list(m.span()) for m in expected], text


def test_hot_words_are_hot_within_seven_days_of_the_post(tagger):
    text = "澜蔻新品今天开卖"
    hot = codes(tagger, a_post(text))["B5"][0]
    assert (hot["terms"], hot["offsets"], hot["count"]) == (["澜蔻新品"], [[0, 4]], 1)
    assert "B5" not in codes(tagger, a_post(text, created_at="2025-03-10T10:00:00+08:00"))
    lexicon = codes(tagger, a_post("这个颜色绝绝子"))["B5"][0]
    assert lexicon["terms"] == ["绝绝子"] and lexicon["offsets"] == [[4, 7]]


def test_metadata_rules(tagger):
    found = codes(tagger, a_post("新装上市", pic_count=3, media_type="live", is_repost=True,
                                 mention_count=2))  # fmt: skip
    assert {"A4", "C1", "C2", "C5"} <= set(found)
    assert found["C1"] == [{"rule": "C1.pictures", "field": "pic_count", "value": 3}]
    assert "A5" in codes(tagger, a_post("字" * 141)) and "A5" not in codes(
        tagger, a_post("字" * 140)
    )
    assert codes(tagger, a_post("今天天气不错")) == {}


def test_a_date_only_time_has_no_hour_for_a_created_hour_rule():
    tagger = Tagger(parse_codebook(ONE_RULE.replace(
        "RULE", 'metadata: {field: created_hour, op: "<", value: 7}')))  # fmt: skip
    midnight = "2025-03-05T00:00:00+08:00"
    assert "B1" in codes(tagger, a_post("上新", created_at=midnight))
    assert "B1" in codes(tagger, a_post("上新", created_at=midnight, created_at_precision="minute"))
    assert codes(tagger, a_post("上新", created_at=midnight, created_at_precision="day")) == {}


def test_topics_are_counted_and_hot_ones_noted(tagger):
    post = a_post("#澜蔻新品# #春日#", topics=("澜蔻新品", "春日"))
    topics = next(e for e in codes(tagger, post)["C3"] if e["rule"] == "C3.topics")
    assert (topics["count"], topics["hot"]) == (2, ["澜蔻新品"])


def store_posts(db, texts: list[str]) -> None:
    with Store.open(db) as store:
        store.upsert_posts([
            {"platform": "weibo", "post_id": str(i), "account_id": "a", "created_at": WHEN,
             "observed_at": WHEN, "text": text}
            for i, text in enumerate(texts, start=1)
        ])  # fmt: skip


def test_auto_code_is_incremental_and_records_posts_without_codes(tmp_path):
    db = tmp_path / "auto.db"
    store_posts(db, ["今天抽奖啦", "今天天气不错"])
    with Store.open(db) as store:
        first = auto_code(store, CODEBOOK, batch=1)
        assert (first.posts, first.codes) == (2, 1)
        assert store.coded_post_count("brand_posts", CODEBOOK.coder) == 2
        assert store.code_counts("brand_posts", CODEBOOK.coder) == {"B3": 1}
        assert store.codebook_text("brand_posts", "1") == CODEBOOK.yaml_text
        assert auto_code(store, CODEBOOK).posts == 0
    store_posts(db, ["今天抽奖啦", "今天天气不错", "新品上市"])
    with Store.open(db) as store:
        assert auto_code(store, CODEBOOK).posts == 1  # only the new post
        edited = parse_codebook(
            CODEBOOK.yaml_text.replace('version: "1"', 'version: "2"'), "v2",
            default_codebook_path().parent,
        )  # fmt: skip
        again = auto_code(store, edited)
        assert (again.coder, again.posts) == ("auto:brand_posts@2", 3)
        assert store.coders("brand_posts") == {"auto:brand_posts@1": 2, "auto:brand_posts@2": 2}


BRAND_TEXTS = read_word_list(ROOT / "fixtures" / "coding" / "brand_texts.txt")
AWKWARD = [
    '点这里 http://t.cn/a"b\\c\x01d\te 抽奖',  # a quote, a backslash, a control character
    "转发抽\x01奖 //@小美：同款？\n打工人😀 #打工人#",
    "双11双十一双12 ¥ 99 一折 3.5元",
]


@pytest.mark.parametrize("hmm", [False, True])
def test_the_evidence_text_is_json_dumps_of_the_evidence(tagger, hmm):
    posts = [a_post(text, pic_count=i % 3, media_type=("video", "text", None)[i % 3],
                    is_repost=i % 5 == 0, topics=("澜蔻新品", "春日", "澜蔻新品")[: i % 4],
                    video_seconds=(None, 12.5, 30)[i % 3], mention_count=i % 2)
             for i, text in enumerate(BRAND_TEXTS + AWKWARD)]  # fmt: skip
    tagged = tagger if not hmm else Tagger(CODEBOOK, tagger.hot, hmm=True)
    for post in posts:
        for subcategory, text in tagged.tag_json(post):
            evidence = json.loads(text)
            assert json.dumps(evidence, ensure_ascii=False) == text, subcategory
        assert [(c.subcategory, json.dumps(c.evidence, ensure_ascii=False))
                for c in tagged.tag(post)] == tagged.tag_json(post)  # fmt: skip
    coded = {sub: text for post in posts for sub, text in tagged.tag_json(post)}
    assert len(coded) >= 15  # the corpus reaches most subcategories and rules
    url = tagged.tag_json(posts[len(BRAND_TEXTS)])
    assert '"terms": ["http://t.cn/a\\"b\\\\c\\u0001d"]' in dict(url)["C6"]


def test_cues_are_found_where_the_longest_first_alternation_finds_them():
    cues = ["转发", "转发抽", "转发微博", "抽", "抽奖", "抽奖平台", "微博抽奖平台", "a+b", "a",
            "[哈哈]", "奖平"]  # fmt: skip
    # the automaton alone: with no masks, every occurrence in the text counts
    unmasked = ONE_RULE.replace("subcategories:", NO_MASKS + "subcategories:")
    tagger = Tagger(parse_codebook(unmasked.replace("RULE", f"cues: {json.dumps(cues)}")))
    alternation = re.compile("|".join(map(re.escape, sorted(cues, key=len, reverse=True))))
    texts = [*BRAND_TEXTS, *AWKWARD, "转发抽奖平台微博抽奖平台转发微博a+ba+[哈哈]", "转发转发抽"]
    for text in texts:
        expected = [(m[0], list(m.span())) for m in alternation.finditer(text)]
        (evidence,) = codes(tagger, a_post(text)).get("B1", [{"terms": [], "offsets": []}])
        assert list(zip(evidence["terms"], evidence["offsets"], strict=True)) == expected, text


def coded_rows(db) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        codes = connection.execute(
            "SELECT platform, post_id, subcategory, coder, codebook_version, value, evidence"
            " FROM codes ORDER BY platform, post_id, subcategory"
        ).fetchall()
        marked = connection.execute("SELECT post_id FROM coded_posts ORDER BY post_id")
        return [*codes, *marked.fetchall()]


def test_workers_write_the_codes_tagging_in_this_process_writes(tmp_path):
    texts = [f"{text} {i}" for i, text in enumerate(BRAND_TEXTS * 3)]
    runs, progress = {}, {}
    for workers in (0, 2):
        db = tmp_path / f"workers{workers}.db"
        store_posts(db, texts)
        with Store.open(db) as store:
            store.add_hot_search([{"platform": "weibo", "observed_at": WHEN, "rank": 1,
                                   "word": "打工人"}])  # fmt: skip
            seen: list[int] = []
            result = auto_code(store, CODEBOOK, batch=37, workers=workers, on_batch=seen.append)
        assert result.posts == len(texts) and result.codes > len(texts)
        runs[workers], progress[workers] = coded_rows(db), seen
    assert runs[2] == runs[0]
    assert progress[2] == progress[0] and sum(progress[2]) == len(texts)  # the bar advances


def test_a_worker_ends_on_sigterm_whatever_handler_a_crawl_left(tmp_path):
    # CrawlerProcess.start() leaves Scrapy's handler on SIGTERM, which only asks a reactor to
    # stop: a worker that inherited it could not be terminated, and `smcat demo` hung
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    install_shutdown_handlers(lambda signum, frame: None)
    try:
        with (
            pytest.raises(BrokenProcessPool),
            _tagging_pool(partial(_tag_rows, Tagger(CODEBOOK)), 1) as pool,
        ):
            assert pool.submit(signal.getsignal, signal.SIGTERM).result() == signal.SIG_DFL
            assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
            [worker] = pool._processes.values()
            worker.terminate()
            # a worker that lived on would answer; a terminated one leaves the pool broken
            pool.submit(len, []).result(timeout=30)
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])


DEMO_WITH_WORKERS = """\
import sys
from pathlib import Path

import coding.autocode
from smcat.config import Settings
from smcat.demo import run_demo

coding.autocode.default_workers = lambda: 2  # whatever this machine's CPUs
result = run_demo(Settings(db=Path(sys.argv[1])))
print(result.coded.posts)
"""


def test_the_demo_codes_with_workers_after_its_crawl_and_finishes(tmp_path):
    # the crawl and the coding share one process, as in `smcat demo`
    db = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-c", DEMO_WITH_WORKERS, str(db)],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Store.open(db, readonly=True) as store:
        assert int(done.stdout.split()[-1]) == store.count("posts") > 0
        assert store.coded_post_count("brand_posts", CODEBOOK.coder) == store.count("posts")


def test_the_tagger_needs_neither_the_store_nor_worker_processes():
    # the pure tagger (text in, codes out) loads without the database run of coding.autocode
    loaded = "import sys, coding.tagger; print(*sorted(set(sys.modules) & set(sys.argv[1:])))"
    modules = ["coding.autocode", "smcat.store", "sqlite3", "concurrent.futures.process"]
    done = subprocess.run(
        [sys.executable, "-c", loaded, *modules],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
