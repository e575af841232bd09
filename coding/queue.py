"""Which posts a coder codes next: those a trained model is least sure of (active learning).

A post's uncertainty is, over the subcategories the model learnt, the smallest distance of its
decision value from that subcategory's threshold, in units of the spread of the values (so
that subcategories weigh alike), shrunk for a rare subcategory (by the square root of the share
of the posts the model codes 1), so that the posts near a rare code's boundary come early. A
post the model and the rules code differently comes before every post they agree on. The
coder's answers are codes like any others: the next `smcat code train --from CODER` learns
from them.
"""

from __future__ import annotations

import numpy as np

from coding.codebook import Codebook
from coding.train import Coder, TrainedCoder
from smcat.hot_words import HotWordIndex
from smcat.store import Store


def uncertain_first(
    store: Store, model: TrainedCoder, codebook: Codebook, posts: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The posts, the ones the model is least sure of first (see the module doc); posts not
    stored are left out."""
    rows = store.post_rows(posts)
    if not rows:
        return []
    coder = Coder(model, codebook, HotWordIndex(store.hot_words()))
    margins, disagree = coder.margins(rows)
    # a rare code's boundary matters more: its distance shrinks with its share of 1s
    share = np.clip((margins > 0).mean(axis=0), 1 / len(rows), 1.0)
    spread = np.maximum(margins.std(axis=0), 1e-9)
    closeness = (np.abs(margins) / spread * np.sqrt(share)).min(axis=1)
    order = np.lexsort((closeness, ~disagree))  # disagreements first, then the closest
    return [(rows[i][0], rows[i][1]) for i in order.tolist()]
