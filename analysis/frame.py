"""The model frame: one row per original brand post, read from the store.

Columns:

- engagement = likes + comments (and likes, comments, reposts one by one), at the latest
  observation, or with `at_age_days` at the observation nearest that age of the post (counts
  keep growing, so posts of different ages compare at one age). That observation must lie
  within `age_tolerance_days` of the age (default: a quarter of the age, AGE_TOLERANCE); a post
  without one is left out of the frame and counted in `excluded`. `age_days` is the age of the
  observation used and `log_age` its log (ages under an hour count as an hour): without an age,
  the models take `log_age` as a control (`default_regressors`).
- hot_words: how many hot words the machine coder found in the text (its B5 evidence: hot-search
  words near the post, plus the lexicon), keeping only the words on the hot-search list within
  `hot_window` of the post (default: the week before it, so that a word trending because the
  post went viral does not count). A word the list never held within the tagger's week either
  side came from the lexicon and is kept. With codes of a person or gold, their B5 decides
  whether there is any: 0 where they coded B5 = 0, the machine's count (at least 1) where they
  coded 1, since people code presence, not counts.
- giveaway (B3) and promotion (B2): the chosen coder's 0/1 codes; a post the coder did not
  code has them missing, so the models leave it out.
- topic_count (#micro-topics#) and hot_topic (1 if one of them was on the hot-search list
  within `hot_window` of the post).
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
from smcat.hot_words import (
    BEFORE_THE_POST,
    TOPIC_HOT_WINDOW_DAYS,
    HotWindow,
    HotWordIndex,
    china_day,
)
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
AGE_CONTROL = "log_age"
AGE_TOLERANCE = 0.25  # default tolerance of --at-age, as a share of the age
MIN_AGE_DAYS = 1 / 24  # log_age counts a younger observation as an hour old
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
    """The frame and where it came from: the coder whose codes it holds, the machine coder
    whose hot-word counts it holds (None if the machine has not coded), the age rule and hot
    window it was read with, and the posts left out of it, as (count, why)."""

    data: pd.DataFrame
    coder: str
    machine: str | None
    at_age_days: float | None
    age_tolerance_days: float | None = None
    hot_window: HotWindow = BEFORE_THE_POST
    excluded: tuple[tuple[int, str], ...] = ()

    def age_rule(self, controlled: bool = True) -> str:
        """How the counts were chosen and the ages actually used, for reports; `controlled`:
        whether the models took log post age as a control (latest counts only)."""
        ages = self.data["age_days"].dropna()
        used = (
            f"ages used: median {_days(ages.median())}, range {_days(ages.min())} to"
            f" {_days(ages.max())}"
            if len(ages)
            else "no ages"
        )
        if self.at_age_days is None:
            control = "with log post age as a control" if controlled else "post age not controlled"
            return f"counts at the latest observation, {control} ({used})"
        return (
            f"counts at the observation nearest an age of {_days(self.at_age_days)}, within"
            f" {_days(self.age_tolerance_days or 0)} ({used})"
        )


def default_regressors(at_age_days: float | None) -> tuple[str, ...]:
    """The models' regressors: DEFAULT_REGRESSORS, and log post age when counts are the latest
    (posts of different ages would otherwise compare unadjusted)."""
    return DEFAULT_REGRESSORS if at_age_days is not None else (*DEFAULT_REGRESSORS, AGE_CONTROL)


def model_frame(
    store: Store,
    *,
    codes: str = "auto",
    codebook: str = DEFAULT_CODEBOOK,
    at_age_days: float | None = None,
    age_tolerance_days: float | None = None,
    hot_window: HotWindow = BEFORE_THE_POST,
    include_reposts: bool = False,
    platform: str | None = "weibo",
) -> ModelFrame:
    """The model frame of the stored posts of a platform (None: all) with the chosen coder's
    codes (see the module doc). Weibo's by default: the hot-search list that makes a word or
    topic hot is Weibo's."""
    if at_age_days is not None and age_tolerance_days is None:
        age_tolerance_days = AGE_TOLERANCE * at_age_days
    coder = resolve_coder(store, codes, codebook)
    machines = sorted(machine_coders(store, codebook))
    machine = coder if is_machine(coder) else (machines[-1] if machines else None)
    posts = _frame(store.posts_for_model(platform=platform, include_reposts=include_reposts))
    if posts.empty:
        where = f"of {platform} " if platform else ""
        raise SmcatError(f"no posts {where}in this database: crawl or load posts first")
    engagement = _frame(store.post_engagement(at_age_days))
    data = posts.merge(engagement, on=["platform", "post_id"], how="left")
    excluded: list[tuple[int, str]] = []
    if at_age_days is not None:
        assert age_tolerance_days is not None
        far = (data["age_days"] - at_age_days).abs() > age_tolerance_days + 1e-9
        # a post never observed is missing in the DV anyway; the models count it there
        far &= data["age_days"].notna()
        if far.any():
            excluded.append(
                (
                    int(far.sum()),
                    f"without an observation within {_days(age_tolerance_days)} of an age of"
                    f" {_days(at_age_days)}",
                )
            )
            data = data[~far].reset_index(drop=True)
        if data.empty:
            raise SmcatError(
                f"no post has an observation within {_days(age_tolerance_days)} of an age of"
                f" {_days(at_age_days)}: choose another --at-age or a wider --age-tolerance"
            )
    data["engagement"] = data["likes"] + data["comments"]
    data[AGE_CONTROL] = np.log(data["age_days"].clip(lower=MIN_AGE_DAYS))
    created = pd.to_datetime(data["created_at"], utc=True, format="ISO8601")
    data["log_followers"] = _followers_at(store, data, created)
    data = data.join(_coded(store, codebook, coder, data), how="left")
    index = HotWordIndex(store.hot_words())
    data["hot_words"] = _hot_word_counts(store, codebook, coder, machine, data, index, hot_window)
    data["hot_topic"] = _hot_topics(store, data, index, hot_window)
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
    return ModelFrame(
        data, coder, machine, at_age_days, age_tolerance_days, hot_window, tuple(excluded)
    )


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
    store: Store,
    codebook: str,
    coder: str,
    machine: str | None,
    data: pd.DataFrame,
    index: HotWordIndex,
    window: HotWindow,
) -> pd.Series:
    """Hot words per post: the machine's B5 count of words hot within `window`, gated by the
    chosen coder's B5 (see the module doc); without machine codes, the coder's B5 itself."""
    if machine is None:
        return data["hot_word"]
    machine_codes = store.coder_codes(codebook, machine)
    counts = np.array(
        [
            _evidence_count(machine_codes.get(key, {}).get(HOT_WORDS), created, index, window)
            for key, created in zip(
                zip(data["platform"], data["post_id"], strict=True),
                data["created_at"],
                strict=True,
            )
        ],
        dtype=float,
    )
    if coder == machine:
        return pd.Series(counts, index=data.index).where(data["hot_word"].notna())
    present = data["hot_word"]
    return pd.Series(np.where(present == 1, np.maximum(counts, 1), 0.0), index=data.index).where(
        present.notna()
    )


def _evidence_count(
    code: tuple[int, str | None] | None, created: str, index: HotWordIndex, window: HotWindow
) -> int:
    """The number of hot words in a machine B5 code's evidence (0 without the code) that were
    hot within `window` of the post or came from the lexicon (see the module doc). Evidence
    without its terms counts as it says, at least 1."""
    if code is None or not code[0]:
        return 0
    entries = json.loads(code[1]) if code[1] else []
    if not all("terms" in entry for entry in entries):
        return max(sum(int(entry.get("count", 0)) for entry in entries), 1)
    # the words on the list within the tagger's own window, either side: any other matched
    # word came from the lexicon
    near = index.hot_around(china_day(created), TOPIC_HOT_WINDOW_DAYS)
    return sum(
        1
        for entry in entries
        for term in entry["terms"]
        if term not in near or index.listed_within(term, created, window)
    )


def _hot_topics(
    store: Store, data: pd.DataFrame, index: HotWordIndex, window: HotWindow
) -> pd.Series:
    """1 if one of the post's topics was on the hot-search list within `window` of the post."""
    topics = store.topics_by_post()
    flags = [
        float(any(index.listed_within(topic, created, window) for topic in topics[key]))
        if key in topics
        else 0.0
        for key, created in zip(
            zip(data["platform"], data["post_id"], strict=True), data["created_at"], strict=True
        )
    ]
    return pd.Series(flags, index=data.index)


def _days(days: float) -> str:
    """An age or span in words: days, or hours under a day."""
    if days >= 1:
        return f"{days:.3g} day{'' if f'{days:.3g}' == '1' else 's'}"
    return f"{days * 24:.3g} hour{'' if f'{days * 24:.3g}' == '1' else 's'}"
