"""A coder trained on a person's (or gold) codes, and its validity measured before use.

One logistic regression per trained subcategory (class weights balanced, so that rare codes
count), on one feature matrix: TF-IDF of the post's words (our jieba tokenizer, stop words and
punctuation left out), TF-IDF of its character 1-3-grams, and the rules' codes (one 0/1 column
per coded subcategory, from `coding.tagger`). Structural subcategories whose rules are near
perfect stay rule-only (the codebook's `rule_only: true`), and so does a
subcategory the coder gave fewer than `FOLDS` 1s or 0s.

Validity is k-fold cross-validated: each fold's posts are scored by a model fitted on the other
folds, at a threshold chosen (best F1) on the out-of-fold scores of the other folds' posts, so
no post's own code chooses the threshold it is judged at (the models that scored those posts
did learn from this fold's codes: a little optimism that nested cross-validation would remove,
at five times the cost). Precision, recall, F1 and
Krippendorff's alpha (machine vs the coder, nominal) come from those predictions, with the
rules' figures on the same posts beside them; a subcategory whose alpha is below `FIT_ALPHA`
is "not fit for use". The vocabularies are fitted on all the posts (no codes are read there).
The final model is fitted on all posts, at the threshold best on all out-of-fold scores.
"""

from __future__ import annotations

import json
import pickle
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold

from coding.automaton import WordFinder
from coding.codebook import Codebook
from coding.reliability import reliability
from coding.tagger import Tagger
from coding.tokenize import DEFAULT_STOP_WORDS, Tokenizer, UserWord, read_user_dict
from smcat.coders import GOLD, model_name
from smcat.errors import SmcatError
from smcat.hot_words import HotWordIndex
from smcat.store import PostToCode, Store, StoredModel, post_to_code

FIT_ALPHA = 0.667  # Krippendorff's "unacceptable" line (the README's)
FOLDS = 5
CURVE_SHARES = (0.25, 0.5, 0.75, 1.0)
TOP_FEATURES = 3  # features named in a trained code's evidence
_C = 4.0  # inverse regularisation: short texts, few features each


def trainable(codebook: Codebook) -> list[str]:
    """The coded subcategories a model may learn: all but those the codebook marks
    `rule_only` (structural ones whose rules read the data itself: repost, length, media,
    topics, links)."""
    return [sub.id for sub in codebook.coded() if not sub.rule_only]


def _words(tokens: list[str]) -> list[str]:
    """The analyzer of the word vectorizer: the posts come already segmented."""
    return tokens


@dataclass
class TrainedCoder:
    """A trained model: the vectorizers, one weight column per trained subcategory, and the
    threshold of each (on the decision value). Pickled into the store; the segmenter and the
    tagger are rebuilt where it codes (`Coder`)."""

    codebook: str
    codebook_version: str
    coder: str
    subcategories: list[str]  # trained ones, in weight-column order
    rule_features: list[str]  # the subcategories whose rule codes are features
    words: TfidfVectorizer
    chars: CharGrams
    weights: np.ndarray  # features x subcategories
    intercepts: np.ndarray
    thresholds: np.ndarray
    feature_names: np.ndarray = field(repr=False)
    # the user dictionaries' entries it was trained with: it segments with them wherever it codes
    user_words: tuple[UserWord, ...] = ()

    def features(self, texts: Sequence[str], tokens: Sequence[list[str]],
                 rule_codes: Sequence[set[str]]) -> sp.csr_matrix:  # fmt: skip
        """The feature matrix of posts: their texts, word tokens and rule codes."""
        return _stack(self.words.transform(tokens), self.chars.transform(texts),
                      _rule_matrix(rule_codes, self.rule_features))  # fmt: skip

    def scores(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Decision values, posts x trained subcategories."""
        return np.asarray(matrix @ self.weights) + self.intercepts


class CharGrams:
    """TF-IDF of a text's character 1-3-grams, as `TfidfVectorizer(analyzer="char")` gives
    it. Once fitted, the n-grams of the vocabulary are counted in one pass of an Aho-Corasick
    automaton (`coding.automaton`) instead of sklearn's Python loop over every n-gram: eight
    times faster, the same counts (tests/test_train.py checks them against sklearn's)."""

    def __init__(self) -> None:
        self.counter = CountVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2)
        self.tfidf = TfidfTransformer(sublinear_tf=True)
        self._finder: WordFinder | None = None

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the vocabulary and the idf weights of these texts, and give their TF-IDF."""
        return self.tfidf.fit_transform(self.counter.fit_transform(texts))

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The TF-IDF of these texts (one row each)."""
        return self.tfidf.transform(self.counts(texts))

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """How often each n-gram of the vocabulary occurs in each text."""
        if self._finder is None:
            self._finder = WordFinder(list(self.names()))
        find = self._finder.find_overlapping
        rows: list[int] = []
        columns: list[int] = []
        for row, text in enumerate(texts):
            # what CountVectorizer does first: lowercase, runs of whitespace made one space
            found = find(_SPACES.sub(" ", text.lower()))
            rows += [row] * len(found)
            columns += [index for _, _, index in found]
        shape = (len(texts), len(self.counter.vocabulary_))
        counts = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=shape)
        counts.sum_duplicates()
        return counts

    def names(self) -> np.ndarray:
        """The n-grams of the vocabulary, in column order."""
        return self.counter.get_feature_names_out()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_finder": None}  # the automaton is rebuilt, not pickled


_SPACES = re.compile(r"\s\s+")
_encode = json.encoder.encode_basestring  # a JSON string as json.dumps(ensure_ascii=False)


def _stack(*blocks: sp.spmatrix) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float64)


def _rule_matrix(rule_codes: Sequence[set[str]], subcategories: list[str]) -> sp.csr_matrix:
    column = {sub: i for i, sub in enumerate(subcategories)}
    rows = [i for i, codes in enumerate(rule_codes) for sub in codes if sub in column]
    cols = [column[sub] for codes in rule_codes for sub in codes if sub in column]
    shape = (len(rule_codes), len(subcategories))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)


def new_tokenizer(user_words: Sequence[UserWord] = ()) -> Tokenizer:
    """The segmenter of the word features: stock dictionary and the user dictionaries' entries,
    HMM off, our stop words."""
    return Tokenizer(words=user_words, stop_words=DEFAULT_STOP_WORDS)


# -- cross-validation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Validity:
    """Cross-validated figures of one subcategory, the model's beside the rules'; `threshold`
    is None where the subcategory stays rule-only (too few 1s or 0s to learn from)."""

    subcategory: str
    n: int
    support: int
    threshold: float | None
    precision: float
    recall: float
    f1: float
    alpha: float
    rules_precision: float
    rules_recall: float
    rules_f1: float
    rules_alpha: float

    @property
    def fit(self) -> bool:
        """Whether the machine's codes of it are fit for use: alpha at least FIT_ALPHA."""
        return bool(self.alpha >= FIT_ALPHA)

    def row(self) -> dict[str, Any]:
        """As `Store.save_model` takes it (NaN as None)."""
        values = {key: getattr(self, key) for key in self.__dataclass_fields__}
        values = {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in values.items()}
        return {**values, "fit": int(self.fit)}


def scores(gold: np.ndarray, machine: np.ndarray) -> tuple[float, float, float, float]:
    """Precision, recall, F1 (0 where undefined with any 1 on either side; NaN with none) and
    Krippendorff's alpha (nominal, two coders) of 0/1 machine codes against a coder's."""
    tp = int((gold & machine).sum())
    fp, fn = int(((1 - gold) & machine).sum()), int((gold & (1 - machine)).sum())
    precision = tp / (tp + fp) if tp + fp else np.nan
    recall = tp / (tp + fn) if tp + fn else np.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan
    matrix = pd.DataFrame({"coder": gold, "machine": machine})
    alpha = reliability(matrix, categories=[0, 1], n_boot=0).alpha
    return precision, recall, f1, alpha


def _fit(matrix: sp.csr_matrix, labels: np.ndarray) -> LogisticRegression:
    # the dual problem: fewer posts than features, and the primal solver took ten times longer
    model = LogisticRegression(
        C=_C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000
    )
    return model.fit(matrix, labels)


def _best_threshold(labels: np.ndarray, values: np.ndarray) -> float:
    """The decision value at which the codes of these posts have their best F1."""
    precision, recall, thresholds = precision_recall_curve(labels, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _learnable(labels: np.ndarray) -> bool:
    ones = int(labels.sum())
    return ones >= FOLDS and len(labels) - ones >= FOLDS


def cross_validate(
    matrix: sp.csr_matrix, labels: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, float]:
    """Cross-validated 0/1 predictions of one subcategory (each fold at the threshold best on
    the other folds' out-of-fold scores), and the threshold best on all of them."""
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(matrix, labels))
    values = np.zeros(len(labels))
    for train, test in folds:
        values[test] = _fit(matrix[train], labels[train]).decision_function(matrix[test])
    predicted = np.zeros(len(labels), dtype=int)
    for train, test in folds:
        threshold = _best_threshold(labels[train], values[train])
        predicted[test] = values[test] >= threshold
    return predicted, _best_threshold(labels, values)


def validate(
    matrix: sp.csr_matrix, labels: dict[str, np.ndarray], rules: dict[str, np.ndarray],
    seed: int = 0,
) -> tuple[list[Validity], dict[str, float]]:  # fmt: skip
    """Each subcategory's cross-validated figures beside the rules', and the thresholds of
    those a model learns."""
    table, thresholds = [], {}
    for sub, gold in labels.items():
        rule = rules[sub]
        threshold = None
        if _learnable(gold):
            predicted, threshold = cross_validate(matrix, gold, seed)
            thresholds[sub] = threshold
        else:
            predicted = rule
        table.append(Validity(sub, len(gold), int(gold.sum()), threshold,
                              *scores(gold, predicted), *scores(gold, rule)))  # fmt: skip
    return table, thresholds


def macro_f1(table: Sequence[Validity]) -> tuple[float, float]:
    """Mean F1 of the model and of the rules over the subcategories (undefined as 0)."""
    model = [0.0 if np.isnan(v.f1) else v.f1 for v in table]
    rules = [0.0 if np.isnan(v.rules_f1) else v.rules_f1 for v in table]
    return float(np.mean(model)), float(np.mean(rules))


# -- training -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gold:
    """The posts a coder coded, what the machine reads of them, and the coder's 0/1 codes
    per subcategory (a coded post's missing code is its 0)."""

    coder: str
    posts: list[PostToCode]
    labels: dict[str, np.ndarray]


def read_gold(store: Store, codebook: Codebook, coder: str = GOLD) -> Gold:
    """The posts `coder` coded with the codebook, and their codes of the trainable
    subcategories the coder coded at all."""
    marks = store.coded_posts(codebook.name, coder)
    if not marks:
        known = ", ".join(store.coded_post_counts(codebook.name)) or "none"
        raise SmcatError(f"no posts coded by {coder!r} with codebook {codebook.name} (coders: "
                         f"{known}): code posts first, or name a coder with --from")  # fmt: skip
    keys = sorted(marks)
    posts = [post_to_code(row) for row in store.post_rows(keys)]
    codes = store.coder_codes(codebook.name, coder)
    coded = {sub for by_sub in codes.values() for sub in by_sub}
    labels = {
        sub: np.array([codes.get((p.platform, p.post_id), {}).get(sub, (0, None))[0]
                       for p in posts], dtype=int)
        for sub in trainable(codebook) if sub in coded
    }  # fmt: skip
    if not labels:
        raise SmcatError(f"{coder!r} coded none of the subcategories a model learns "
                         f"({', '.join(trainable(codebook))}): code them first")  # fmt: skip
    return Gold(coder, posts, labels)


@dataclass(frozen=True)
class TrainResult:
    """A trained model, its validity table and learning curve, and the posts it learnt from."""

    model: TrainedCoder
    validity: list[Validity]
    curve: list[dict[str, Any]]
    posts: list[tuple[str, str]]


def train(
    gold: Gold, codebook: Codebook, hot: HotWordIndex | None = None, *, coder: str,
    seed: int = 0, curve: Sequence[float] = CURVE_SHARES, user_words: Sequence[UserWord] = (),
) -> TrainResult:  # fmt: skip
    """Train and validate a model on a coder's codes (see the module doc); `coder` names it.
    `curve` are the shares of the posts at which the learning curve is drawn; `user_words`,
    user dictionaries' entries (`read_user_dict`), join the segmenter of words and rules."""
    if len(gold.posts) < 2 * FOLDS:
        raise SmcatError(f"{len(gold.posts)} posts coded by {gold.coder!r}: a model needs at "
                         f"least {2 * FOLDS}; code more posts")  # fmt: skip
    tagger = Tagger(codebook, hot, user_words=user_words)
    rule_codes = [{sub for sub, _ in tagger.tag_json(post)} for post in gold.posts]
    texts = [post.text for post in gold.posts]
    tokenizer = new_tokenizer(user_words)
    tokens = [tokenizer.words(text) for text in texts]
    words = TfidfVectorizer(analyzer=_words, min_df=2, sublinear_tf=True)
    chars = CharGrams()
    rule_features = [sub.id for sub in codebook.coded()]
    matrix = _stack(words.fit_transform(tokens), chars.fit_transform(texts),
                    _rule_matrix(rule_codes, rule_features))  # fmt: skip
    rules = {sub: np.array([int(sub in codes) for codes in rule_codes]) for sub in gold.labels}
    validity, thresholds = validate(matrix, gold.labels, rules, seed)
    learnt = [sub for sub in gold.labels if sub in thresholds]
    weights = np.zeros((matrix.shape[1], len(learnt)))
    intercepts = np.zeros(len(learnt))
    for column, sub in enumerate(learnt):
        fitted = _fit(matrix, gold.labels[sub])
        weights[:, column], intercepts[column] = fitted.coef_[0], fitted.intercept_[0]
    names = np.array(
        [f"word:{w}" for w in words.get_feature_names_out()]
        + [f"chars:{c}" for c in chars.names()]
        + [f"rule:{sub}" for sub in rule_features],
        dtype=object,
    )
    model = TrainedCoder(
        codebook.name, codebook.version, coder, learnt, rule_features, words, chars, weights,
        intercepts, np.array([thresholds[sub] for sub in learnt]), names, tuple(user_words),
    )  # fmt: skip
    drawn = _learning_curve(matrix, gold.labels, rules, curve, seed, validity)
    return TrainResult(model, validity, drawn, [(p.platform, p.post_id) for p in gold.posts])


def _learning_curve(
    matrix: sp.csr_matrix, labels: dict[str, np.ndarray], rules: dict[str, np.ndarray],
    shares: Sequence[float], seed: int, whole: list[Validity],
) -> list[dict[str, Any]]:  # fmt: skip
    """Macro F1 and mean alpha of model and rules at each share of the posts (a seeded draw;
    the whole set's figures are `whole`'s)."""
    n = matrix.shape[0]
    order = list(range(n))
    random.Random(seed).shuffle(order)
    points = []
    for share in shares:
        if share >= 1:
            table = whole
        else:
            chosen = np.array(sorted(order[: max(2 * FOLDS, round(share * n))]))
            table, _ = validate(matrix[chosen], {s: y[chosen] for s, y in labels.items()},
                                {s: y[chosen] for s, y in rules.items()}, seed)  # fmt: skip
        model_f1, rules_f1 = macro_f1(table)
        points.append({
            "share": share, "posts": table[0].n, "macro_f1": model_f1, "rules_macro_f1": rules_f1,
            "mean_alpha": float(np.nanmean([v.alpha for v in table])),
            "fit": sum(v.fit for v in table), "subcategories": len(table),
        })  # fmt: skip
    return points


# -- storing and loading ------------------------------------------------------------------------


def train_and_store(
    store: Store,
    codebook: Codebook,
    *,
    source: str = GOLD,
    seed: int = 0,
    user_dicts: Sequence[str | Path] = (),
) -> TrainResult:
    """Train a model on `source`'s codes (gold or a coder) and store it as the codebook's next
    model version, with its validity and the posts it learnt from. The entries of `user_dicts`
    (jieba's format) are kept in the model, which segments with them wherever it codes."""
    user_words = [entry for path in user_dicts for entry in read_user_dict(path)]
    gold = read_gold(store, codebook, source)
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    number = store.model_number(codebook.name)
    coder = model_name(codebook.name, codebook.version, number)
    result = train(gold, codebook, HotWordIndex(store.hot_words()), coder=coder, seed=seed,
                   user_words=user_words)  # fmt: skip
    stored = StoredModel(
        coder, codebook.name, codebook.version, number, source,
        datetime.now(UTC).isoformat(), sklearn.__version__, tuple(result.posts), result.curve,
        pickle.dumps(result.model, protocol=pickle.HIGHEST_PROTOCOL),
    )  # fmt: skip
    store.save_model(stored, [v.row() for v in result.validity])
    return result


def load_model(store: Store, coder: str) -> TrainedCoder:
    """A stored model, refused (one line) if another major scikit-learn version pickled it."""
    stored = store.stored_model(coder)
    if stored is None:
        raise SmcatError(f"no trained model {coder!r} in this database: run `smcat code train`")
    if stored.sklearn_version.split(".")[0] != sklearn.__version__.split(".")[0]:
        raise SmcatError(
            f"{coder} was trained with scikit-learn {stored.sklearn_version}, this is "
            f"{sklearn.__version__}: train it again with `smcat code train`"
        )
    model = pickle.loads(stored.blob)  # our own store's bytes, written by train_and_store
    assert isinstance(model, TrainedCoder)
    return model


class Coder:
    """Codes posts with a trained model: the rules' codes of the subcategories it did not
    learn (with their evidence), the model's of those it learnt (evidence: its top features,
    then the rules' evidence of the code where they coded it too).
    Rows are those of `Store.post_rows_to_code`."""

    def __init__(self, model: TrainedCoder, codebook: Codebook, hot: HotWordIndex | None) -> None:
        if (codebook.name, codebook.version) != (model.codebook, model.codebook_version):
            raise SmcatError(f"{model.coder} was trained with codebook {model.codebook} version "
                             f"{model.codebook_version}, not {codebook.name} version "
                             f"{codebook.version}: pass that codebook with --codebook")  # fmt: skip
        self.model, self.tagger = model, Tagger(codebook, hot, user_words=model.user_words)
        self.tokenizer = new_tokenizer(model.user_words)
        self._learnt = frozenset(model.subcategories)
        # the evidence's constant parts, as JSON, encoded once
        self._names = [_encode(str(name)) for name in model.feature_names]
        self._start = '[{"rule": ' + _encode(model.coder) + ', "terms": ['

    def code_rows(self, rows: list[tuple]) -> list[list[tuple[str, str]]]:
        """(subcategory, evidence JSON) of each post's codes."""
        tagged, matrix = self._read(rows)
        values = self.model.scores(matrix)
        hit_rows, hit_columns = np.nonzero(values >= self.model.thresholds)
        evidence = self.evidence(matrix, hit_rows, hit_columns, values[hit_rows, hit_columns])
        learnt, subs = self._learnt, self.model.subcategories
        found = [[(sub, ev) for sub, ev in codes if sub not in learnt] for codes in tagged]
        for row, column, entry in zip(
            hit_rows.tolist(), hit_columns.tolist(), evidence, strict=True
        ):
            sub = subs[column]
            # what the rules matched too, where they coded it: the terms and offsets the review
            # screen highlights, and the hot-word count B5's evidence gives the analysis
            ruled = next((ev for s, ev in tagged[row] if s == sub), None)
            found[row].append((sub, entry if ruled is None else f"{entry[:-1]}, {ruled[1:]}"))
        return found

    def _read(self, rows: list[tuple]) -> tuple[list[list[tuple[str, str]]], sp.csr_matrix]:
        """The rules' codes of each post (with their evidence), and the posts' features."""
        posts = [post_to_code(row) for row in rows]
        tagged = [self.tagger.tag_json(post) for post in posts]
        texts = [post.text for post in posts]
        words = self.tokenizer.words
        matrix = self.model.features(texts, [words(t) for t in texts],
                                     [{sub for sub, _ in codes} for codes in tagged])  # fmt: skip
        return tagged, matrix

    def margins(self, rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """For each post, its decision values less the thresholds (posts x learnt
        subcategories: 0 is the boundary), and whether the model and the rules code any
        learnt subcategory differently."""
        tagged, matrix = self._read(rows)
        margins = self.model.scores(matrix) - self.model.thresholds
        ruled = [{sub for sub, _ in codes} for codes in tagged]
        by_rules = _rule_matrix(ruled, self.model.subcategories).toarray() > 0
        return margins, ((margins >= 0) != by_rules).any(axis=1)

    def evidence(
        self, matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray, values: np.ndarray
    ) -> list[str]:
        """The evidence, as JSON text, of each trained code (the post's row of the matrix, the
        subcategory's column of the weights, the decision value): in the rules' shape (rule,
        terms), so that sheets and the review screen show it, the model, the features of the
        post that weighed most for the code with their weights, the score and the threshold.
        All codes at once: a Python loop over each post's features cost more than the rest of
        the coding."""
        coded = matrix[rows]  # the post of each code, one row per code
        counts = np.diff(coded.indptr)
        code = np.repeat(np.arange(len(rows)), counts)  # the code of each of their features
        weighed = coded.data * self.model.weights[coded.indices, np.repeat(columns, counts)]
        positive = weighed > 0
        code, features, weighed = code[positive], coded.indices[positive], weighed[positive]
        if len(weighed):
            # by code, the heaviest first: scaled into (0, 0.5], the weights order within a code
            order = np.argsort(code - weighed / (2 * weighed.max()))
            code, features, weighed = code[order], features[order], weighed[order]
        first = np.searchsorted(code, np.arange(len(rows) + 1))
        rank = np.arange(len(code)) - first[code]
        top = rank < TOP_FEATURES
        code, features, weighed = code[top], features[top].tolist(), weighed[top].tolist()
        bounds = np.searchsorted(code, np.arange(len(rows) + 1)).tolist()
        names, start, thresholds = self._names, self._start, self.model.thresholds[columns]
        entries = []
        for i, (value, threshold) in enumerate(
            zip(values.tolist(), thresholds.tolist(), strict=True)
        ):
            begin, end = bounds[i], bounds[i + 1]
            terms = ", ".join([names[f] for f in features[begin:end]])
            weights = ", ".join([f"{w:.3f}" for w in weighed[begin:end]])
            entries.append(f'{start}{terms}], "weights": [{weights}], "score": {value:.3f}, '
                           f'"threshold": {threshold:.3f}}}]')  # fmt: skip
        return entries
