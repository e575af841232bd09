"""The model frame: one row per original brand post, read from the store.

Columns:

- engagement = likes + comments (and likes, comments, reposts one by one), at the latest
  observation, or with `at_age_days` at the observation nearest that age of the post (counts
  keep growing, so posts of different ages compare at one age); `age_days` is the age of the
  observation used.
- hot_words: how many hot words the machine coder found in the text (hot-search words within
  7 days either side of the post, plus the lexicon: the count in its B5 evidence). With codes
  of a person or gold, their B5 decides whether there is any: 0 where they coded B5 = 0, the
  machine's count (at least 1) where they coded 1, since people code presence, not counts.
- giveaway (B3) and promotion (B2): the chosen coder's 0/1 codes; a post the coder did not
  code has them missing, so the models leave it out.
- topic_count (#micro-topics#) and hot_topic (1 if one of them was on the hot-search list
  within 7 days of the post).
- controls: log_followers (log(1 + followers) at the account snapshot nearest the post time),
  media_type, length_band (<=50, 51-140, >140 characters), weekday, hour_band, month (the
  post's own clock), and account. A post whose time is only a date (created_at_precision
  day: "06-14", stored as its midnight) has hour_band "unknown", a level of its own, so that
  it stays in the model without counting as a post of 00:00-06:59; its weekday and month are
  known. A time derived from a Douyin post's id (the upload second) is read as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from smcat.coders import DEFAULT_CODEBOOK, is_machine, machine_coders, resolve_coder
from smcat.errors import SmcatError
from smcat.hot_words import TOPIC_HOT_WINDOW_DAYS, HotWordIndex
from smcat.store import Rows, Store
from smcat.units import hour_known

HOT_WORDS, GIVEAWAY, PROMOTION = "B5", "B3", "B2"
CODED = {HOT_WORDS: "hot_word", GIVEAWAY: "giveaway", PROMOTION: "promotion"}
DEFAULT_REGRESSORS = (
    "hot_words",
    "giveaway",
    "promotion",
    "topic_count",
    "hot_topic",
    "log_followers",
    "media_type",
    "length_band",
    "weekday",
    "hour_band",
    "month",
)
DVS = ("engagement", "likes", "comments", "reposts")
LENGTH_BANDS = ("<=50", "51-140", ">140")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# reference band first: the working morning, against which the others are compared; a
# date-only time's hour is unknown, a level apart (see the module doc)
UNKNOWN_HOUR = "unknown"
HOUR_BANDS = ("07-11", "12-17", "18-23", "00-06", UNKNOWN_HOUR)
# reference first: a text-only post, against which pictures and video are compared
MEDIA_TYPES = ("text", "picture", "video", "article", "live")


@dataclass(frozen=True)
class ModelFrame:
    """The frame and where it came from: the coder whose codes it holds and the machine coder
    whose hot-word counts it holds (None if the machine has not coded)."""

    data: pd.DataFrame
    coder: str
    machine: str | None
    at_age_days: float | None


def model_frame(
    store: Store,
    *,
    codes: str = "auto",
    codebook: str = DEFAULT_CODEBOOK,
    at_age_days: float | None = None,
    include_reposts: bool = False,
    platform: str | None = "weibo",
) -> ModelFrame:
    """The model frame of the stored posts of a platform (None: all) with the chosen coder's
    codes (see the module doc). Weibo's by default: the hot-search list that makes a word or
    topic hot is Weibo's."""
    coder = resolve_coder(store, codes, codebook)
    machines = sorted(machine_coders(store, codebook))
    machine = coder if is_machine(coder) else (machines[-1] if machines else None)
    posts = _frame(store.posts_for_model(platform=platform, include_reposts=include_reposts))
    if posts.empty:
        where = f"of {platform} " if platform else ""
        raise SmcatError(f"no posts {where}in this database: crawl or load posts first")
    engagement = _frame(store.post_engagement(at_age_days))
    data = posts.merge(engagement, on=["platform", "post_id"], how="left")
    data["engagement"] = data["likes"] + data["comments"]
    created = pd.to_datetime(data["created_at"], utc=True, format="ISO8601")
    data["log_followers"] = _followers_at(store, data, created)
    data = data.join(_coded(store, codebook, coder, data), how="left")
    data["hot_words"] = _hot_word_counts(store, codebook, coder, machine, data)
    data["hot_topic"] = _hot_topics(store, data)
    # the post's own clock: the text before the offset, read as a naive time
    local = pd.to_datetime(data["created_at"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    data["weekday"] = pd.Categorical.from_codes(local.dt.day_of_week, categories=WEEKDAYS)
    bands = pd.cut(
        local.dt.hour, [-1, 6, 11, 17, 23], labels=["00-06", "07-11", "12-17", "18-23"]
    ).astype(str)
    hour_unknown = ~data["created_at_precision"].map(hour_known).astype(bool)
    data["hour_band"] = pd.Categorical(bands.where(~hour_unknown, UNKNOWN_HOUR), HOUR_BANDS)
    data["month"] = data["created_at"].str.slice(0, 7)
    data["length_band"] = pd.Categorical(
        pd.cut(data["text_length"], [-1, 50, 140, np.inf], labels=LENGTH_BANDS).astype(str),
        categories=LENGTH_BANDS,
    )
    others = sorted(set(data["media_type"].dropna()) - set(MEDIA_TYPES))
    data["media_type"] = pd.Categorical(data["media_type"], categories=[*MEDIA_TYPES, *others])
    data = data.rename(columns={"account_id": "account"})
    return ModelFrame(data, coder, machine, at_age_days)


def subcategory_flags(
    store: Store, frame: ModelFrame, codebook: str = DEFAULT_CODEBOOK
) -> pd.DataFrame:
    """The frame coder's 0/1 code of every coded subcategory of the codebook, one row per post
    of the frame (missing where the coder did not code the post). Columns are labelled
    "ID English name" in codebook order, from the codebook text stored with the codes; without
    it, the subcategory ids the coder used."""
    # the version most of the coder's posts were coded with (a machine coder has one)
    versions = Counter(store.coded_posts(codebook, frame.coder).values()).most_common(1)
    text = store.codebook_text(codebook, versions[0][0]) if versions else None
    if text is not None:
        labels = coded_labels(text)
    else:
        used = {sub for codes in store.coder_codes(codebook, frame.coder).values() for sub in codes}
        labels = {sub: sub for sub in sorted(used)}
    flags = _flags(store, codebook, frame.coder, frame.data, list(labels))
    return flags.rename(columns=labels)


def coded_labels(codebook_text: str) -> dict[str, str]:
    """The label "ID English name" of each coded subcategory of a codebook's YAML text (as
    stored with its codes), by id in codebook order. A subcategory is coded unless it says
    `coded: false`. The text is read, not checked: it was checked before codes were stored."""
    subcategories = yaml.safe_load(codebook_text)["subcategories"]
    return {s["id"]: f"{s['id']} {s['name_en']}" for s in subcategories if s.get("coded", True)}


def _frame(rows: Rows) -> pd.DataFrame:
    return pd.DataFrame(rows.rows, columns=list(rows.columns))


def _followers_at(store: Store, data: pd.DataFrame, created: pd.Series) -> pd.Series:
    """log(1 + followers) at the snapshot of the post's account nearest the post time."""
    snapshots = _frame(store.follower_snapshots())
    if snapshots.empty:
        return pd.Series(np.nan, index=data.index)
    snapshots["when"] = pd.to_datetime(snapshots["observed_at"], utc=True, format="ISO8601")
    snapshots["key"] = snapshots["platform"] + "\x1f" + snapshots["account_id"].astype(str)
    left = pd.DataFrame(
        {"when": created, "key": data["platform"] + "\x1f" + data["account_id"].astype(str)}
    )
    left["row"] = np.arange(len(left))
    merged = pd.merge_asof(
        left.sort_values("when"),
        snapshots[["when", "key", "followers"]].sort_values("when"),
        on="when",
        by="key",
        direction="nearest",
    ).sort_values("row")
    return pd.Series(np.log1p(merged["followers"].to_numpy(dtype=float)), index=data.index)


def _coded(store: Store, codebook: str, coder: str, data: pd.DataFrame) -> pd.DataFrame:
    """The coder's 0/1 codes of B5, B3, B2 (as hot_word, giveaway, promotion)."""
    return _flags(store, codebook, coder, data, list(CODED)).rename(columns=CODED)


def _flags(
    store: Store, codebook: str, coder: str, data: pd.DataFrame, subcategories: list[str]
) -> pd.DataFrame:
    """The coder's 0/1 codes of these subcategories per post of `data`; missing for the posts
    the coder did not code (a coded post without a code has 0)."""
    coded = store.coded_posts(codebook, coder)
    codes = store.coder_codes(codebook, coder)
    keys = list(zip(data["platform"], data["post_id"], strict=True))
    columns = {}
    for subcategory in subcategories:
        columns[subcategory] = [
            float(codes.get(key, {}).get(subcategory, (0, None))[0]) if key in coded else np.nan
            for key in keys
        ]
    return pd.DataFrame(columns, index=data.index)


def _hot_word_counts(
    store: Store, codebook: str, coder: str, machine: str | None, data: pd.DataFrame
) -> pd.Series:
    """Hot words per post: the machine's B5 count, gated by the chosen coder's B5 (see the
    module doc); without machine codes, the coder's B5 itself."""
    if machine is None:
        return data["hot_word"]
    machine_codes = store.coder_codes(codebook, machine)
    counts = np.array(
        [
            _evidence_count(machine_codes.get(key, {}).get(HOT_WORDS))
            for key in zip(data["platform"], data["post_id"], strict=True)
        ],
        dtype=float,
    )
    if coder == machine:
        return pd.Series(counts, index=data.index).where(data["hot_word"].notna())
    present = data["hot_word"]
    return pd.Series(np.where(present == 1, np.maximum(counts, 1), 0.0), index=data.index).where(
        present.notna()
    )


def _evidence_count(code: tuple[int, str | None] | None) -> int:
    """The number of hot words in a machine B5 code's evidence (0 without the code)."""
    if code is None or not code[0]:
        return 0
    entries = json.loads(code[1]) if code[1] else []
    return max(sum(int(entry.get("count", 0)) for entry in entries), 1)


def _hot_topics(store: Store, data: pd.DataFrame) -> pd.Series:
    """1 if one of the post's topics was on the hot-search list within a week of the post."""
    index = HotWordIndex(store.hot_words())
    topics = store.topics_by_post()
    flags = [
        float(bool(index.hot_near(topics[key], created, TOPIC_HOT_WINDOW_DAYS)))
        if key in topics
        else 0.0
        for key, created in zip(
            zip(data["platform"], data["post_id"], strict=True), data["created_at"], strict=True
        )
    ]
    return pd.Series(flags, index=data.index)
