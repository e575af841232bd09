"""The Fellegi-Sunter model of `smcat link people`, on splink's DuckDB backend: what two
customer records are compared on, which pairs are compared at all (blocking), and how the
model's m and u probabilities are estimated (u by random sampling, m by expectation
maximisation).

Blocking suits Chinese records: names are compared as pinyin (so Traditional, Simplified and
romanised spellings meet), together with the city or the birth year, since a common name alone
blocks too many pairs; a phone's last four digits with the surname catch a record whose phone
was mistyped elsewhere; same hashed phone or email catch the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

UNIQUE_ID = "unique_id"
COMPARED = ("name_hash", "name_pinyin", "given_pinyin", "surname", "phone_hash", "phone_tail",
            "email_hash", "address_hash", "city", "district", "birth_year")  # fmt: skip
# pairs that share one of these are compared (splink's blocking rules, as column lists)
BLOCKING = (
    ("phone_hash",),
    ("email_hash",),
    ("name_pinyin", "city"),
    ("name_pinyin", "birth_year"),
    ("phone_tail", "surname"),
)
# the blocks EM learns in: each leaves out what it holds equal, and estimates the rest; not a
# phone block, where family members who share a phone would teach it that names differ often
TRAINING_BLOCKS = (("name_pinyin",), ("email_hash",))
# rules sure to hold for matches, from which the share of matching pairs is estimated
PRIOR_RULES = (("phone_hash", "name_pinyin"), ("email_hash",))
PRIOR_RECALL = 0.6  # the share of true matches those rules are taken to catch
U_SAMPLE_PAIRS = 2_000_000


@dataclass(frozen=True)
class Predictions:
    """The pairs a trained model scored at or above a probability: left and right row
    numbers of the frame it was given, match probability and match weight; and the model as
    splink's JSON."""

    pairs: pd.DataFrame
    model: str


@contextmanager
def _splink_quiet() -> Iterator[None]:
    """splink logs every training step, and warns of levels EM did not see (expected of the
    levels a training block holds equal): the CLI shows its own progress instead."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    # family members share a surname: the given name tells them apart
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_pinyin"),
            cll.ExactMatchLevel("name_hash"),
            cll.ExactMatchLevel("name_pinyin"),
            cll.DamerauLevenshteinLevel("name_pinyin", 1),
            cll.JaroWinklerLevel("given_pinyin", 0.9),
            cll.ElseLevel(),
        ],
    )
    # phone and address in one comparison: a family shares both, so their weights may not be
    # added as if independent (the model learns the pair's own m and u)
    same_phone = cll.ExactMatchLevel("phone_hash")
    contact = cl.CustomComparison(
        output_column_name="phone_and_place",
        comparison_levels=[
            cll.And(cll.NullLevel("phone_tail"), cll.NullLevel("city")),
            cll.And(same_phone, cll.ExactMatchLevel("address_hash")),
            cll.And(same_phone, cll.ExactMatchLevel("city")),
            same_phone,
            cll.And(cll.ExactMatchLevel("phone_tail"), cll.ExactMatchLevel("city")),
            cll.ExactMatchLevel("address_hash"),
            cll.And(cll.ExactMatchLevel("city"), cll.ExactMatchLevel("district")),
            cll.ExactMatchLevel("city"),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_year",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_year"),
            cll.AbsoluteDifferenceLevel("birth_year", 1),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[
            name,
            contact,
            cl.ExactMatch("email_hash"),
            birth,
        ],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def predict(records: pd.DataFrame, low: float, seed: int = 1) -> Predictions:
    """Train the model on `records` (the COMPARED columns) and score every blocked pair;
    keep the pairs of match probability `low` or more. `seed` fixes the random sample of
    pairs that u is estimated from."""
    from splink import DuckDBAPI, Linker, block_on
    from splink.internals.exceptions import EMTrainingException  # not exported elsewhere in 4.x

    frame = records.copy()
    given = [
        pinyin[len(surname) :]
        if isinstance(pinyin, str) and isinstance(surname, str) and pinyin.startswith(surname)
        else pinyin
        for pinyin, surname in zip(frame["name_pinyin"], frame["surname"], strict=True)
    ]
    frame = frame.assign(given_pinyin=given).loc[:, list(COMPARED)]
    frame[UNIQUE_ID] = range(len(frame))
    frame["birth_year"] = pd.to_numeric(frame["birth_year"], errors="coerce").astype("Int64")
    with _splink_quiet():
        linker = Linker(frame, _settings(), db_api=DuckDBAPI(), set_up_basic_logging=False)
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*rule) for rule in PRIOR_RULES], recall=PRIOR_RECALL
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed)
        for block in TRAINING_BLOCKS:
            # a block without pairs (no emails): its m values stay splink's defaults
            with contextlib.suppress(EMTrainingException):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*block), estimate_without_term_frequencies=True
                )
        scored = linker.inference.predict(threshold_match_probability=low)
        pairs = scored.as_pandas_dataframe()
        model = json.dumps(linker.misc.save_model_to_json(), ensure_ascii=False)
    columns = {f"{UNIQUE_ID}_l": "left", f"{UNIQUE_ID}_r": "right"}
    pairs = pairs.rename(columns=columns)[["left", "right", "match_probability", "match_weight"]]
    return Predictions(pairs, model)


def match_weights_chart(model: str) -> Any:
    """The chart of the model's match weights per comparison level that splink draws (an
    Altair chart: save it as HTML)."""
    from splink import DuckDBAPI, Linker

    settings = json.loads(model)
    frame = pd.DataFrame({UNIQUE_ID: [0], **{c: [None] for c in COMPARED}})
    with _splink_quiet(), warnings.catch_warnings():
        # Altair's note that it merged two selections of splink's chart: nothing to act on
        warnings.simplefilter("ignore", UserWarning)
        linker = Linker(frame, settings, db_api=DuckDBAPI(), set_up_basic_logging=False)
        return linker.visualisations.match_weights_chart()
