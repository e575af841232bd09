"""Effect-model benchmark: the model suite on N synthetic posts over K accounts.

Builds a model frame in memory (the frame's regressors: hot words, giveaway, promotion, topics,
hot topic, log followers, media type, length band, weekday, hour band, month; an account
effect; NB2 engagement) and times, through analysis.effects, each model of the suite (NB2,
Poisson, OLS of log(1 + y)) with the default errors, clustered by account: with `--fe account`
(the default) all three with account fixed effects (NB2 by the concentrated Newton fit,
Poisson and OLS through pyfixest), with `--fe none` without. Prints seconds per model and the
process's peak memory.
Run: `python bench/bench_effects.py [--posts 1000000] [--accounts 300] [--fe account|none]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
import pandas as pd

from analysis.effects import fit
from analysis.frame import DEFAULT_REGRESSORS, HOUR_BANDS, LENGTH_BANDS, WEEKDAYS

SUITE = ("nb", "poisson", "ols")


def synthetic_frame(posts: int, accounts: int, seed: int = 11) -> pd.DataFrame:
    """A model frame with the real frame's columns and an NB2 engagement."""
    rng = np.random.default_rng(seed)
    account = rng.integers(0, accounts, posts)
    frame = pd.DataFrame(
        {
            "account": account.astype(str),
            "hot_words": rng.choice(4, posts, p=[0.7, 0.18, 0.09, 0.03]),
            "giveaway": (rng.random(posts) < 0.12).astype(float),
            "promotion": (rng.random(posts) < 0.2).astype(float),
            "topic_count": rng.choice(4, posts, p=[0.45, 0.35, 0.15, 0.05]),
            "hot_topic": (rng.random(posts) < 0.1).astype(float),
            "log_followers": rng.normal(11, 1.5, accounts)[account] + rng.normal(0, 0.1, posts),
            "media_type": pd.Categorical(
                rng.choice(["text", "picture", "video"], posts, p=[0.25, 0.55, 0.2]),
                categories=["text", "picture", "video"],
            ),
            "length_band": pd.Categorical(rng.choice(LENGTH_BANDS, posts), LENGTH_BANDS),
            "weekday": pd.Categorical(rng.choice(WEEKDAYS, posts), WEEKDAYS),
            "hour_band": pd.Categorical(rng.choice(HOUR_BANDS, posts), HOUR_BANDS),
            "month": rng.choice([f"2025-{m:02d}" for m in range(3, 9)], posts),
        }
    )
    log_mu = (
        -1.0
        + 0.45 * frame["log_followers"]
        + rng.normal(0, 0.3, accounts)[account]
        + 0.18 * frame["hot_words"]
        + 0.59 * frame["giveaway"]
        - 0.16 * frame["promotion"]
        + 0.08 * frame["topic_count"]
        + 0.3 * frame["hot_topic"]
    )
    alpha = 0.9
    frame["engagement"] = rng.poisson(np.exp(log_mu) * rng.gamma(1 / alpha, alpha, posts))
    return frame


def main() -> None:
    """Build the frame, fit each model of the suite, print seconds per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--fe", choices=["account", "none"], default="account")
    args = parser.parse_args()
    fe = None if args.fe == "none" else args.fe
    print(f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    frame = synthetic_frame(args.posts, args.accounts)
    print(f"frame: {args.posts:,} posts over {args.accounts} accounts in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    total = total_cpu = 0.0  # wall-clock and CPU seconds: the CPUs may be shared
    for model in SUITE:
        started, cpu = time.perf_counter(), time.process_time()
        result = fit(model, frame, "engagement", list(DEFAULT_REGRESSORS), fe=fe)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        total += seconds
        total_cpu += cpu
        giveaway = result.irr().loc["giveaway", "irr"]
        print(f"{result.label:28s} {seconds:7.1f} s ({cpu:.1f} s CPU)  N {result.nobs:,}  "
              f"giveaway exp(b) {giveaway:.3f}  ({result.method})")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"suite: {total:.1f} s ({total_cpu:.1f} s CPU), peak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
