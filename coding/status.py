"""Where the coding of a project stands: per coder and sample, the posts coded and left; the
trained models with their cross-validated figures; and which of a model's codes are unfit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coding.reliability import natural_order
from smcat.coders import is_machine
from smcat.store import Store

ALL_POSTS = "(all posts)"  # the sample column of the rows over every stored post


@dataclass(frozen=True)
class Progress:
    """One coder's progress on one sample (or on all posts): posts coded and left."""

    coder: str
    sample: str
    posts: int
    coded: int

    @property
    def left(self) -> int:
        """Posts of the sample the coder has not coded."""
        return self.posts - self.coded


def coding_progress(store: Store, codebook: str) -> list[Progress]:
    """Per person (and gold) who coded with the codebook: on each recorded sample, and on all
    stored posts, how many posts they coded and how many are left. Machine coders code every
    post, and are left out."""
    samples = {sample: set(store.sample_posts(sample)) for sample in store.samples_like("")}
    total = store.count("posts")
    rows = []
    for coder in store.coded_post_counts(codebook):
        if is_machine(coder):
            continue
        coded = set(store.coded_posts(codebook, coder))
        for sample, posts in sorted(samples.items()):
            rows.append(Progress(coder, sample, len(posts), len(posts & coded)))
        rows.append(Progress(coder, ALL_POSTS, total, len(coded)))
    return rows


def model_figures(store: Store, codebook: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each trained model of the codebook, newest first, with its stored validity rows in
    codebook order."""
    return [
        (coder, sorted(store.model_validity(coder), key=lambda v: natural_order(v["subcategory"])))
        for coder in reversed(store.model_coders(codebook))
    ]


def unfit_subcategories(store: Store, coder: str) -> dict[str, float | None]:
    """The subcategories whose codes by `coder` are not fit for use: a trained model's whose
    cross-validated Krippendorff's alpha is below .667 (with it); none for other coders.
    What `analyze effects` checks before it models a machine's codes."""
    return store.unfit_subcategories(coder)
