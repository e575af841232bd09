"""The trained coder: validity measured before use, stored versioned, coding with evidence."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support
from typer.testing import CliRunner

from coding.codebook import default_codebook_path, load_codebook
from coding.queue import uncertain_first
from coding.review import coder_review, subcategory_keys
from coding.status import coding_progress, unfit_subcategories
from coding.train import (
    FIT_ALPHA,
    CharGrams,
    Coder,
    load_model,
    scores,
    train_and_store,
    trainable,
)
from smcat.cli import app
from smcat.errors import SmcatError
from smcat.store import Store
from tests.gold_posts import CODES, generate, read_gold, store_gold
from tests.test_review import serving

CODEBOOK = load_codebook(default_codebook_path())
KEYS = subcategory_keys(CODEBOOK.coded())


def ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shipped gold set in a store, with a model trained on it by `smcat code train`, and
    what the command printed."""
    db = tmp_path_factory.mktemp("train") / "study.db"
    with Store.open(db) as store:
        store_gold(store, read_gold())
    return db, ok("code", "train", "--db", str(db))


@pytest.fixture
def gold_db(trained: tuple[Path, str]) -> Path:
    return trained[0]


def test_training_beats_the_rules_on_the_gold_set_and_the_table_shows_both(trained) -> None:
    gold_db, out = trained
    assert "model:brand_posts@1+1 vs gold: 400 posts, 5-fold cross-validated" in out
    assert "rules F1" in out and "rules alpha" in out and "macro" in out
    assert "learning curve" in out
    for share in ("25%", "50%", "75%", "100%"):
        assert share in out
    with Store.open(gold_db, readonly=True) as store:
        validity = {
            row["subcategory"]: row for row in store.model_validity("model:brand_posts@1+1")
        }
    assert sorted(validity) == sorted(CODES)  # one classifier per content subcategory
    model_f1 = np.mean([row["f1"] for row in validity.values()])
    rules_f1 = np.mean([row["rules_f1"] for row in validity.values()])
    assert model_f1 > rules_f1 + 0.2, (model_f1, rules_f1)
    for row in validity.values():
        assert row["fit"] == int(row["alpha"] >= FIT_ALPHA)


def test_the_figures_are_scikit_learns_and_krippendorffs() -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 2, 60)
    machine = np.where(rng.random(60) < 0.8, gold, 1 - gold)
    precision, recall, f1, alpha = scores(gold, machine)
    reference = precision_recall_fscore_support(gold, machine, average="binary")
    assert (precision, recall, f1) == pytest.approx(reference[:3])
    # Krippendorff (2011), nominal alpha of two coders and binary values: with n pairable
    # values, n0 and n1 of them 0 and 1, and d units disagreed on, 1 - (n - 1) d / (n0 n1)
    n, n1 = 2 * len(gold), int(gold.sum() + machine.sum())
    disagreed = int((gold != machine).sum())
    assert alpha == pytest.approx(1 - (n - 1) * disagreed / ((n - n1) * n1))


def test_structural_subcategories_stay_rule_only() -> None:
    # the codebook marks the subcategories its rules code from the data itself
    rule_only = {sub.id for sub in CODEBOOK.coded() if sub.rule_only}
    assert rule_only == {"A4", "A5", "C1", "C2", "C3", "C6"}
    assert trainable(CODEBOOK) == [*CODES, "C4", "C5"]


def test_the_model_is_versioned_with_its_posts_and_codes_with_evidence(gold_db) -> None:
    with Store.open(gold_db) as store:
        first = store.model_coders("brand_posts")[0]
        stored = store.stored_model(first)
        assert stored is not None and stored.trained_from == "gold"
        assert len(stored.posts) == 400 and stored.sklearn_version.count(".") >= 1
        latest = train_and_store(store, CODEBOOK).model.coder
        assert store.model_coders("brand_posts")[-1] == latest
        assert latest == f"model:brand_posts@1+{len(store.model_coders('brand_posts'))}"
    out = ok("code", "auto", "--model", "latest", "--db", str(gold_db), "--workers", "0")
    assert f"{latest}: coded 400 new posts" in out
    with Store.open(gold_db, readonly=True) as store:
        codes = store.coder_codes("brand_posts", latest)
    posts = {p["post_id"]: p for p in read_gold()}
    # a giveaway the rules miss: "转发此条就有机会…" names no cue of B3
    missed = [k for k, p in posts.items() if "转发此条就有机会" in p["text"]]
    assert missed and all("B3" in codes[("weibo", k)] for k in missed)
    evidence = json.loads(codes[("weibo", missed[0])]["B3"][1])
    assert evidence[0]["rule"] == latest and evidence[0]["terms"]
    assert len(evidence[0]["weights"]) == len(evidence[0]["terms"]) <= 3
    assert evidence[0]["score"] >= evidence[0]["threshold"]
    cued = [k for k, by_sub in codes.items() if "抽奖" in posts[k[1]]["text"] and "B3" in by_sub]
    both = [json.loads(codes[k]["B3"][1]) for k in cued]
    assert both and all(ev[0]["rule"] == latest and ev[1]["rule"] == "B3.cue" for ev in both)
    structural = [code for by_sub in codes.values() for sub, code in by_sub.items() if sub == "C1"]
    assert structural and json.loads(structural[0][1])[0]["rule"] == "C1.pictures"


def test_a_model_pickled_by_another_major_sklearn_is_refused(gold_db, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    with sqlite3.connect(gold_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE models SET sklearn_version = '0.24.2'")
    connection.close()
    with Store.open(copy) as store, pytest.raises(SmcatError) as error:
        load_model(store, "model:brand_posts@1+1")
    assert "scikit-learn 0.24.2" in str(error.value) and "smcat code train" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_code_learnt_from_noise_is_marked_unfit(tmp_path: Path) -> None:
    rng = random.Random(5)
    posts = read_gold()
    for post in posts:
        post["codes"]["B5"] = int(rng.random() < 0.3)  # a coder who coded B5 at random
    with Store.open(tmp_path / "noisy.db") as store:
        store_gold(store, posts, coder="ana")
        result = train_and_store(store, CODEBOOK, source="ana")
        unfit = unfit_subcategories(store, result.model.coder)
        assert "B5" in unfit and unfit["B5"] < FIT_ALPHA
        assert "B1" not in unfit
        assert unfit_subcategories(store, "auto:brand_posts@1") == {}
    out = ok("code", "status", "--db", str(tmp_path / "noisy.db"))
    assert "not fit for use" in out and result.model.coder in out


def test_accuracy_against_any_one_coder(gold_db) -> None:
    with Store.open(gold_db) as store:
        store_gold(store, read_gold()[:50], coder="ana")  # a single researcher, no gold
        model = train_and_store(store, CODEBOOK, source="ana").model.coder
    ok("code", "auto", "--model", "latest", "--db", str(gold_db), "--workers", "0")
    out = ok("code", "accuracy", "--db", str(gold_db), "--machine", model, "--gold", "ana")
    assert f"{model} vs ana: 50 posts" in out
    result = CliRunner().invoke(app, ["code", "accuracy", "--db", str(gold_db), "--machine",
                                      model, "--gold", "bob"])  # fmt: skip
    assert result.exit_code == 1 and "no posts coded by 'bob'" in str(result.exception)


def test_status_counts_posts_coded_and_left_per_coder_and_sample(tmp_path: Path) -> None:
    posts = read_gold()[:10]
    with Store.open(tmp_path / "s.db") as store:
        store_gold(store, posts[:4], coder="ana")
        store_gold(store, posts, coder="bob")
        keys = [("weibo", p["post_id"]) for p in posts[:6]]
        store.save_sample("draw-1", purpose="coding", seed=0, params={}, posts=keys)
        progress = {(p.coder, p.sample): (p.posts, p.coded, p.left)
                    for p in coding_progress(store, "brand_posts")}  # fmt: skip
    assert progress[("ana", "draw-1")] == (6, 4, 2)
    assert progress[("bob", "draw-1")] == (6, 6, 0)
    assert progress[("ana", "(all posts)")] == (10, 4, 6)
    out = ok("code", "status", "--db", str(tmp_path / "s.db"))
    assert "draw-1" in out and "no trained model of brand_posts" in out


def test_character_grams_are_counted_as_scikit_learn_counts_them() -> None:
    texts = [post["text"] for post in read_gold()]
    texts += ["  Two  SPACES\tand\n\nlines [哈哈]  ", "", "\ud83d cut emoji", "ＡＢＣ全角"]
    grams = CharGrams()
    grams.fit_transform(texts)
    fast, reference = grams.counts(texts), grams.counter.transform(texts)
    assert (fast != reference).nnz == 0


def test_the_uncertain_queue_serves_the_posts_the_model_is_least_sure_of_first(gold_db) -> None:
    new = generate(200, seed=99)
    for post in new:
        post["post_id"] = "5" + post["post_id"]  # not the gold posts
    with Store.open(gold_db) as store:
        store_gold(store, new, coder="nobody-yet")
        model = load_model(store, store.model_coders("brand_posts")[-1])
        keys = [("weibo", post["post_id"]) for post in new]
        queue = uncertain_first(store, model, CODEBOOK, keys)
        assert sorted(queue) == sorted(keys)
        margins, disagree = Coder(model, CODEBOOK, None).margins(store.post_rows(queue))
        closest = np.abs(margins).min(axis=1)
        first_agreed = int(np.argmin(disagree))
        assert disagree[:first_agreed].all() and not disagree[first_agreed:].any()
        assert closest[first_agreed] < np.median(closest[first_agreed:])
        # the coder's decisions on the queue's head are what the next model learns from
        answered = {post["post_id"]: post for post in new}
        head = [answered[post_id] for _, post_id in queue[:60]]
        store_gold(store, head, coder="cleo")
        retrained = train_and_store(store, CODEBOOK, source="cleo")
        assert sorted(retrained.posts) == sorted(queue[:60])
    result = CliRunner().invoke(app, ["code", "review", "--coder", "cleo", "--queue", "random",
                                      "--db", str(gold_db)])  # fmt: skip
    assert result.exit_code == 1 and "--queue is drawn or uncertain" in str(result.exception)


def test_decisions_in_the_uncertain_queue_on_screen_are_what_the_next_model_learns(
    gold_db,
    browser,
) -> None:
    new = generate(30, seed=7)
    for post in new:
        post["post_id"] = "6" + post["post_id"]
    truth = {("weibo", post["post_id"]): post["codes"] for post in new}
    with Store.open(gold_db) as store:
        store.upsert_posts(
            {"platform": "weibo", "post_id": p["post_id"], "created_at": p["created_at"],
             "text": p["text"]} for p in new
        )  # fmt: skip
        model = load_model(store, store.model_coders("brand_posts")[-1])
        queue = uncertain_first(store, model, CODEBOOK, sorted(truth))[:12]
        review = coder_review(store, CODEBOOK, queue, coder="dora", blind=True)
        with serving(review) as address:
            page = browser.new_page()
            page.goto(address)
            for n, key in enumerate(queue, start=1):
                page.wait_for_url(f"**/post/{n}")
                for sub, value in truth[key].items():
                    if value:
                        page.keyboard.press(KEYS[sub])
                page.keyboard.press("Enter")
            page.wait_for_selector("#message:has-text('last post of the batch')")
        coded = store.coder_codes(CODEBOOK.name, "dora")
        assert {key: {s: v for s, (v, _) in coded[key].items() if s in CODES} for key in queue} == {
            key: truth[key] for key in queue
        }
        retrained = train_and_store(store, CODEBOOK, source="dora")
        assert sorted(retrained.posts) == sorted(queue)
        assert retrained.model.coder != model.coder


def test_training_or_coding_without_what_it_needs_says_what_to_do(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    for args, message in [
        (["code", "train", "--from", "bob"], "no posts coded by 'bob'"),
        (["code", "auto", "--model", "latest"], "no trained model of codebook brand_posts: run"),
    ]:
        result = CliRunner().invoke(app, [*args, "--db", db])
        assert result.exit_code == 1 and message in str(result.exception), result.output


def test_effects_refuse_a_model_s_unfit_codes_unless_allowed(tmp_path: Path) -> None:
    from analysis.effects import EffectsError
    from analysis.suite import run_suite

    rng = random.Random(7)
    posts = read_gold()
    for post in posts:
        post["codes"]["B3"] = int(rng.random() < 0.3)  # giveaways coded at random: unlearnable
    db = tmp_path / "unfit.db"
    with Store.open(db) as store:
        store_gold(store, posts, coder="ana")
        model = train_and_store(store, CODEBOOK, source="ana").model.coder
        assert "B3" in unfit_subcategories(store, model)
        # the study's posts: 30 accounts with follower counts, each post's engagement observed
        accounts = [str(9_000_000 + n) for n in range(30)]
        store.upsert_accounts(
            {"platform": "weibo", "account_id": a, "name": f"brand{a}",
             "observed_at": "2025-06-01T00:00:00+08:00", "followers": 1000 * (n + 1)}
            for n, a in enumerate(accounts)
        )  # fmt: skip
        store.upsert_posts(
            {"platform": "weibo", "post_id": p["post_id"], "created_at": p["created_at"],
             "account_id": accounts[i % 30], "text": p["text"], "is_repost": False,
             "media_type": "picture", "pic_count": 1,
             "observed_at": "2026-01-01T00:00:00+08:00", "likes": rng.randrange(200),
             "comments": rng.randrange(40)}
            for i, p in enumerate(posts)
        )  # fmt: skip
    ok("code", "auto", "--model", "latest", "--db", str(db), "--workers", "0")
    refused = CliRunner().invoke(
        app, ["analyze", "effects", "--db", str(db), "--codes", model, "--model", "poisson",
              "--output", str(tmp_path / "report")], env={"COLUMNS": "300"},
    )  # fmt: skip
    assert refused.exit_code == 1  # smcat's main prints the error's one line
    assert "not fit for use: giveaway" in str(refused.exception)
    assert str(refused.exception).endswith("(--allow-unfit)")
    with Store.open(db, readonly=True) as store:
        report = run_suite(store, codes=[model], models=("poisson",), allow_unfit=True)
        with pytest.raises(EffectsError, match="not fit for use: giveaway"):
            run_suite(store, codes=[model], models=("poisson",))
    assert any("not fit for use: giveaway" in note for note in report.notes)
    assert "giveaway" in report.columns[0].result.params.index


def test_a_model_keeps_the_user_dictionaries_it_was_trained_with(tmp_path: Path) -> None:
    brands = tmp_path / "brands.txt"
    brands.write_text("速行运动 50 nz\n运动手环\n", encoding="utf-8")
    with Store.open(tmp_path / "dicts.db") as store:
        store_gold(store, read_gold()[:120])
        plain = train_and_store(store, CODEBOOK).model
        model = train_and_store(store, CODEBOOK, user_dicts=[brands]).model
        # the dictionary's entries travel with the model: no file is needed where it codes
        assert [entry.word for entry in model.user_words] == ["速行运动", "运动手环"]
        coder = Coder(load_model(store, model.coder), CODEBOOK, None)
    # stock jieba cuts the brand into 速 + 行 + 运动; the model learnt it as one word
    assert "速行运动" not in plain.words.vocabulary_
    assert "速行运动" in model.words.vocabulary_
    assert "速行运动" in coder.tokenizer.cut("速行运动一起低碳出行")
