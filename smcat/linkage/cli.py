"""`smcat link`: one view of people across systems: link them, review the uncertain pairs,
report on the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from coding.review import LOOPBACK, check_port_free, serve
from smcat.cli_common import DbOption, naming_options, settings, stderr, stdout, sub_cli
from smcat.errors import SmcatError
from smcat.linkage.people import REVIEW_LOW, THRESHOLD, link_people
from smcat.linkage.report import link_report
from smcat.linkage.review import LinkReview, create_app
from smcat.store import Store

link_app = sub_cli()


@link_app.command("people")
def people_command(
    threshold: Annotated[
        float, typer.Option(help="Match probability at which a pair is one person.", min=0, max=1)
    ] = THRESHOLD,
    review_low: Annotated[
        float,
        typer.Option(
            help="Pairs from this probability up to --threshold go to `smcat link review`.",
            min=0,
            max=1,
        ),
    ] = REVIEW_LOW,
    shared_ids: Annotated[
        list[str] | None,
        typer.Option(
            "--shared-ids",
            help="A system whose member ids are the same ids as the other such systems' "
            "(repeat): the same id in two of them is one person.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Link the customer records of every system into people: deterministic rules (same
    hashed email; same hashed phone and name; --shared-ids), then a Fellegi-Sunter model
    (splink on DuckDB), with review decisions respected; devices follow the records they were
    signed in as. Replaces the people of the last run."""
    with Store.open(settings(db=db).db) as store, stderr.status("linking") as status:
        result = link_people(
            store, threshold=threshold, review_low=review_low, shared_ids=shared_ids or (),
            progress=lambda step: status.update(escape(step)),
        )  # fmt: skip
    rules = ", ".join(f"{rule}: {n:,}" for rule, n in sorted(result.rule_pairs.items()))
    stdout.print(
        f"{result.records:,} records -> {result.people:,} people; {result.devices:,} devices "
        f"linked; pairs linked by {rules}; {result.review:,} pairs to review "
        "(`smcat link review`)"
    )


@link_app.command("review")
def review_command(
    reviewer: Annotated[str, typer.Option(help="Who decides (kept with each decision).")],
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8766,
    db: DbOption = None,
) -> None:
    """Decide the pairs the last `smcat link people` was unsure of, in the browser: two
    records side by side (clear values if imported with --keep-pii, else the features, and
    whether hashed fields agree); m: same person, n: not, arrows or j/k: move. Serves on
    127.0.0.1 and prints the address; Ctrl+C stops it. The next `smcat link people` respects
    every decision."""
    with naming_options(port="--port"):
        address = check_port_free(LOOPBACK, port)
    with Store.open(settings(db=db).db) as store:
        review = LinkReview(store, store.review_queue(), reviewer)
        if not review.pairs:
            raise SmcatError(
                "no pairs to review: run `smcat link people` first (or all are decided)"
            )
        app = create_app(review)
        stdout.print(f"{len(review.pairs):,} pairs to review: {address} (Ctrl+C to stop)")
        serve(app, LOOPBACK, port)


@link_app.command("report")
def report_command(
    chart: Annotated[
        Path,
        typer.Option(
            help="Where to save the chart of the model's match weights (HTML).", dir_okay=False
        ),
    ] = Path("match_weights.html"),
    truth: Annotated[
        Path | None,
        typer.Option(
            help="A CSV/XLSX/JSONL file of system, record_id, person (the true person of each "
            "record): adds pairwise precision, recall and F1.",
            dir_okay=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """What the last `smcat link people` made: records per system, people with records in
    1, 2, 3+ systems, people matched within and across systems, the review queue, splink's
    match-weight chart; with --truth, pairwise precision, recall and F1."""
    with Store.open(settings(db=db).db, readonly=True) as store:
        report = link_report(store, chart, truth)
    for system, count in report.records.items():
        stdout.print(f"{escape(system)}: {count:,} records")
    spread = ", ".join(f"{k} systems: {v:,}" for k, v in report.by_systems.items())
    stdout.print(f"people: {report.people:,} ({spread})")
    stdout.print(f"matched within a system: {report.matched_within:,} people; "
                 f"across systems: {report.matched_across:,}")  # fmt: skip
    stdout.print(f"review queue: {report.review_queue:,} pairs")
    stdout.print(f"match-weight chart: {escape(str(report.chart))}")
    if report.quality:
        q = report.quality
        stdout.print(
            f"against the truth: precision {q.precision:.4f}, recall {q.recall:.4f}, F1 "
            f"{q.f1:.4f} ({q.correct_pairs:,} of {q.linked_pairs:,} linked pairs true; "
            f"{q.true_pairs:,} true pairs)"
        )
