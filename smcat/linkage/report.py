"""`smcat link report`: what the last linkage run made of the records, the chart of its
model's match weights, the review queue, and (given the truth) its pairwise quality."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from smcat.errors import SmcatError
from smcat.linkage.model import match_weights_chart
from smcat.linkage.quality import PairwiseQuality, pairwise_quality
from smcat.store import RECORD, Store
from smcat.tables import read_records

TRUTH_COLUMNS = ("system", "record_id", "person")


@dataclass(frozen=True)
class LinkReport:
    """Records per system; people, and how many have records in 1, 2, 3+ systems; people
    matched within a system (2+ records of one system) and across systems; the review
    queue's size; where the match-weight chart was saved; the quality against the truth."""

    records: dict[str, int]
    people: int
    by_systems: dict[str, int]
    matched_within: int
    matched_across: int
    review_queue: int
    chart: Path | None
    quality: PairwiseQuality | None


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """The true person of each record, from a CSV, XLSX or JSONL file of system, record_id,
    person."""
    table = read_records(path)
    if missing := [c for c in TRUTH_COLUMNS if c not in table.header]:
        raise SmcatError(f"{path}: no column {missing[0]!r}: a truth file has system, record_id,"
                         " person")  # fmt: skip
    at = [table.header.index(c) for c in TRUTH_COLUMNS]
    return {(cells[at[0]], cells[at[1]]): cells[at[2]] for _, cells in table.rows}


def link_report(store: Store, chart: Path | None = None, truth: Path | None = None) -> LinkReport:
    """Report on the last linkage run; save splink's match-weight chart (HTML) at `chart`;
    measure pairwise precision, recall and F1 against `truth` (system, record_id, person)."""
    run = store.last_link_run()
    if run is None:
        raise SmcatError("no linkage run in this database: run `smcat link people` first")
    persons = {
        (system, source): person
        for system, kind, source, person, _, _ in store.person_links().rows
        if kind == RECORD
    }
    records = Counter(system for system, _ in persons)
    systems: dict[str, Counter[str]] = defaultdict(Counter)
    for (system, _), person in persons.items():
        systems[person][system] += 1
    spread = Counter(min(len(counts), 3) for counts in systems.values())
    if chart is not None:
        match_weights_chart(run.model).save(str(chart))
    return LinkReport(
        records=dict(sorted(records.items())),
        people=len(systems),
        by_systems={"1": spread[1], "2": spread[2], "3+": spread[3]},
        matched_within=sum(max(c.values()) > 1 for c in systems.values()),
        matched_across=spread[2] + spread[3],
        review_queue=len(store.review_queue()),
        chart=chart,
        quality=pairwise_quality(persons, read_truth(truth)) if truth else None,
    )
