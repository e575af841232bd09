"""How well the machine codes agree with the gold standard: precision, recall and F1.

Each subcategory is a yes/no decision per post, scored one-vs-rest: tp posts both code 1, fp
the machine codes 1 and gold 0, fn the machine 0 and gold 1. precision = tp / (tp + fp),
recall = tp / (tp + fn), F1 = 2 P R / (P + R); support is gold's 1s. A precision with no
machine 1s, or a recall with no gold 1s, is undefined (NaN) for its subcategory.

Over all subcategories, micro averages pool the counts; macro averages are plain means over
the subcategories that have any 1 in gold or machine codes, with an undefined precision,
recall or F1 counted as 0 (scikit-learn's precision_recall_fscore_support with
zero_division=0 over the labels present). Subcategories that neither side ever codes 1 say
nothing of the machine and are left out of the macro mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coding.exchange import stored_codebook
from coding.reliability import item_level, natural_order
from smcat.coders import GOLD
from smcat.errors import SmcatError
from smcat.store import Store

PAIR_COLUMNS = ("unit", "item", "gold", "machine")


def accuracy_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Scores from (unit, item, gold, machine) rows, one per post and subcategory, values 0/1.

    One row per subcategory (scope "item"), then "micro" and "macro" (scope "all"); columns
    scope, name, level, n, tp, fp, fn, tn, support, precision, recall, f1. The macro row's n
    is the number of subcategories averaged, and it has no counts.
    """
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"accuracy data lack column(s) {', '.join(missing)}; add them")
    gold, machine = pairs["gold"].astype(int), pairs["machine"].astype(int)
    counts = pd.DataFrame({
        "item": pairs["item"],
        "tp": gold & machine,
        "fp": (1 - gold) & machine,
        "fn": gold & (1 - machine),
        "tn": (1 - gold) & (1 - machine),
    }).groupby("item").sum()  # fmt: skip
    counts = counts.loc[sorted(counts.index, key=natural_order)]
    rows = [
        _scores("item", str(item), item_level(str(item)), row) for item, row in counts.iterrows()
    ]
    rows.append(_scores("all", "micro", None, counts.sum()))
    present = [row for row in rows[:-1] if row["tp"] + row["fp"] + row["fn"] > 0]
    macro: dict = {"scope": "all", "name": "macro", "level": None, "n": len(present)}
    for key in ("precision", "recall", "f1"):
        scores = [0.0 if np.isnan(row[key]) else row[key] for row in present]
        macro[key] = float(np.mean(scores)) if scores else np.nan
    rows.append(macro)
    counts = ("n", "tp", "fp", "fn", "tn", "support")
    return pd.DataFrame(rows).astype(dict.fromkeys(counts, "Int64"))  # the macro row has none


def _scores(scope: str, name: str, level: str | None, counts: pd.Series) -> dict:
    tp, fp, fn, tn = (int(counts[key]) for key in ("tp", "fp", "fn", "tn"))
    precision = tp / (tp + fp) if tp + fp else np.nan
    recall = tp / (tp + fn) if tp + fn else np.nan
    if tp:
        f1 = 2 * precision * recall / (precision + recall)
    else:
        f1 = 0.0 if (tp + fp) and (tp + fn) else np.nan
    return {
        "scope": scope, "name": name, "level": level, "n": tp + fp + fn + tn,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn, "support": tp + fn,
        "precision": precision, "recall": recall, "f1": f1,
    }  # fmt: skip


def gold_pairs(store: Store, codebook: str, machine: str, reference: str = GOLD) -> pd.DataFrame:
    """(unit, item, gold, machine) for every post both the reference coder (gold, or any one
    coder) and the machine coder coded, and every subcategory of the machine's codebook
    version that the reference coded; the machine stores only its 1s, so a coded post's
    missing code is its 0."""
    machine_marks = store.coded_posts(codebook, machine)
    gold_marks = store.coded_posts(codebook, reference)
    if not machine_marks:
        raise SmcatError(f"no posts coded by {machine} with codebook {codebook}: run "
                         "`smcat code auto`, or name the machine coder that coded")  # fmt: skip
    if not gold_marks and reference == GOLD:
        raise SmcatError(f"no gold codes of codebook {codebook}: adjudicate the coders' "
                         "disagreements with `smcat code adjudicate` first")  # fmt: skip
    if not gold_marks:
        raise SmcatError(f"no posts coded by {reference!r} with codebook {codebook}: check the "
                         "name (`smcat code status` lists the coders)")  # fmt: skip
    both = sorted(set(machine_marks) & set(gold_marks))
    if not both:
        raise SmcatError(f"no post is coded both by {machine} and by {reference}: run `smcat "
                         "code auto` on the database that holds their codes")  # fmt: skip
    book = stored_codebook(store, codebook, machine_marks[both[0]])  # a machine coder's only
    gold, guessed = store.coder_codes(codebook, reference), store.coder_codes(codebook, machine)
    rows = []
    for key in both:
        said, guess = gold.get(key, {}), guessed.get(key, {})
        unit = f"{key[0]}:{key[1]}"
        for sub in book.coded():
            if sub.id in said:
                rows.append((unit, sub.id, said[sub.id][0], guess.get(sub.id, (0, None))[0]))
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
