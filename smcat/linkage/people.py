"""`smcat link people`: customer records of every system into people, and devices to them.

1. Deterministic rules: records with the same hashed email, or the same hashed phone and the
   same name (pinyin), are one person; so are records of systems that share member ids
   (`shared_ids`) with the same id. A phone alone is not enough: families share one.
2. The Fellegi-Sunter model (smcat.linkage.model) scores the other pairs; a pair at or over
   `threshold` is a match, a pair between `review_low` and `threshold` goes to clerical review.
3. Reviewers' decisions win: a match joins its pair, a non-match keeps its pair apart even
   when other links would join them.
4. Pairs are clustered into people, strongest link first (smcat.linkage.clusters).
5. A device seen signed in as records belongs to the person it was signed in as most often;
   a device signed in as two people equally often belongs to nobody.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import pandas as pd

from smcat.errors import SmcatError
from smcat.linkage.clusters import Edge, Membership, cluster
from smcat.linkage.model import predict
from smcat.store import DEVICE, MATCH, RECORD, PersonLink, RecordPair, Store

Key = tuple[str, str]  # (system, record_id)
THRESHOLD, REVIEW_LOW = 0.9, 0.5
SAME_EMAIL, SAME_PHONE_AND_NAME, SAME_ID = "same email", "same phone and name", "same member id"
MODEL, REVIEWED, SIGNED_IN = "splink", "review", "signed in"
MIN_RECORDS = 3  # fewer cannot train a model


@dataclass(frozen=True)
class LinkResult:
    """What a linkage run made: records, people, device links, pairs linked by each rule,
    and the pairs left for review."""

    records: int
    people: int
    devices: int
    rule_pairs: dict[str, int]
    review: int


def _rule_edges(frame: pd.DataFrame, keys: list[Key], shared_ids: Iterable[str]) -> Iterable[Edge]:
    """Links of the deterministic rules, as a chain through each group of equal values."""
    # groups by the frame's row labels (its rows are numbered 0, 1, ... like `keys`)
    groups = [(SAME_EMAIL, frame.groupby("email_hash").groups)]
    with_name = frame.dropna(subset=["phone_hash", "name_pinyin"])
    groups.append((SAME_PHONE_AND_NAME, with_name.groupby(["phone_hash", "name_pinyin"]).groups))
    shared = frame[frame["system"].isin(list(shared_ids))]
    groups.append((SAME_ID, shared.groupby("record_id").groups))
    for rule, labels in groups:
        for rows in labels.values():
            for a, b in itertools.pairwise(rows):
                yield Edge(keys[a], keys[b], 1.0, rule)


def _person_id(first: Key) -> str:
    """A person's id, made from the first of its records: the same on every run that leaves
    that record first."""
    return "p" + hashlib.sha256("\x1f".join(first).encode()).hexdigest()[:16]


def link_people(
    store: Store,
    *,
    threshold: float = THRESHOLD,
    review_low: float = REVIEW_LOW,
    shared_ids: Iterable[str] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> LinkResult:
    """Link every customer record into people and store the result (Store.replace_people),
    with the run's model and its pairs for review. `shared_ids` names systems whose member
    ids are one id space; `progress` is told each step."""
    if not 0 < review_low <= threshold <= 1:
        raise SmcatError(
            f"the review band {review_low}-{threshold} is not within 0-1 with its low end first:"
            " give --review-low below --threshold"
        )
    found = store.customer_records()
    frame = pd.DataFrame(found.rows, columns=list(found.columns))
    if len(frame) < MIN_RECORDS:
        raise SmcatError(
            f"{len(frame)} customer records to link: import them first with "
            "`smcat import customers FILE --system NAME`"
        )
    keys: list[Key] = list(zip(frame["system"], frame["record_id"], strict=True))
    progress(f"deterministic rules over {len(keys):,} records")
    edges = list(_rule_edges(frame, keys, shared_ids))
    rule_pairs = Counter(edge.rule for edge in edges)
    progress("training the model (u by random sampling, m by EM) and scoring blocked pairs")
    predictions = predict(frame, review_low)
    pairs = predictions.pairs
    candidates = []
    for left, right, probability, weight in pairs.itertuples(index=False):
        a, b = keys[left], keys[right]
        if probability >= threshold:
            edges.append(Edge(a, b, float(probability), MODEL))
            rule_pairs[MODEL] += 1
        else:
            candidates.append(RecordPair.of(a, b, float(probability), float(weight)))
    decisions = store.link_decisions()
    edges += [Edge(p.left, p.right, 1.0, REVIEWED) for p, d in decisions if d == MATCH]
    apart = [(p.left, p.right) for p, d in decisions if d != MATCH]
    progress(f"clustering {len(edges):,} links into people")
    members = cluster(keys, edges, apart)
    links = _record_links(keys, members)
    persons = {key: link.person_id for key, link in zip(keys, links, strict=True)}
    devices = _device_links(store, persons)
    progress(f"storing {len(links):,} record and {len(devices):,} device links")
    with store.transaction():  # the people and the run's review queue, together or not at all
        people = store.replace_people([*links, *devices])
        store.record_link_run(threshold, review_low, predictions.model, candidates)
    queue = len(store.review_queue())
    return LinkResult(len(keys), people, len(devices), dict(rule_pairs), queue)


def _record_links(keys: list[Key], members: dict[Hashable, Membership]) -> list[PersonLink]:
    firsts: dict[int, Key] = {}
    for key in keys:
        firsts.setdefault(members[key].cluster, key)
    links = []
    for key in keys:
        member = members[key]
        person = _person_id(firsts[member.cluster])
        links.append(PersonLink(key[0], RECORD, key[1], person, member.probability, member.rule))
    return links


def _device_links(store: Store, persons: dict[Key, str]) -> list[PersonLink]:
    """Each device's link to the person it was signed in as most often (none on a tie), with
    the share of its signed-in events that were that person's as the probability."""
    seen: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for system, device, record, events in store.signed_in_devices().rows:
        if (person := persons.get((system, record))) is not None:
            seen[(system, device)][person] += events
    links = []
    for (system, device), counts in seen.items():
        (best, most), *rest = counts.most_common(2)
        if rest and rest[0][1] == most:
            continue
        share = most / sum(counts.values())
        links.append(PersonLink(system, DEVICE, device, best, share, SIGNED_IN))
    return links
