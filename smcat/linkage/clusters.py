"""Matched pairs of records into people: connected components, built strongest link first,
where a pair that must not match (a reviewer's non-match) keeps its two records apart."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    """A link between two records, with its probability and the rule that made it."""

    a: Hashable
    b: Hashable
    probability: float
    rule: str


@dataclass(frozen=True)
class Membership:
    """A record's cluster (the index of its person) and the strongest link that put it
    there (probability 1 and rule "single" for a record alone)."""

    cluster: int
    probability: float
    rule: str


def cluster(
    records: Sequence[Hashable],
    edges: Iterable[Edge],
    apart: Iterable[tuple[Hashable, Hashable]] = (),
) -> dict[Hashable, Membership]:
    """Each record's cluster: the connected components of `edges`, joined from the most
    probable link down, where a join that would put a pair of `apart` together is skipped.
    Clusters are numbered in the order of their first record in `records`."""
    parent = {record: record for record in records}
    members: dict[Hashable, list[Hashable]] = {record: [record] for record in records}
    forbidden: dict[Hashable, set[Hashable]] = {}
    for a, b in apart:
        if a in parent and b in parent:
            forbidden.setdefault(a, set()).add(b)
            forbidden.setdefault(b, set()).add(a)
    best: dict[Hashable, tuple[float, str]] = {}

    def root(record: Hashable) -> Hashable:
        while parent[record] != record:
            parent[record] = parent[parent[record]]
            record = parent[record]
        return record

    for edge in sorted(edges, key=lambda e: -e.probability):
        if edge.a not in parent or edge.b not in parent:
            continue
        ra, rb = root(edge.a), root(edge.b)
        if ra != rb:
            if len(members[ra]) < len(members[rb]):
                ra, rb = rb, ra
            if any(forbidden.get(m, set()).intersection(members[ra]) for m in members[rb]):
                continue
            parent[rb] = ra
            members[ra].extend(members.pop(rb))
        for record in (edge.a, edge.b):
            if record not in best:
                best[record] = (edge.probability, edge.rule)
    numbers: dict[Hashable, int] = {}
    result = {}
    for record in records:
        number = numbers.setdefault(root(record), len(numbers))
        probability, rule = best.get(record, (1.0, "single"))
        result[record] = Membership(number, probability, rule)
    return result
