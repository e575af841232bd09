"""`smcat import`: exports of other tools into the project database."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from crawler.pseudonyms import Pseudonymizer
from smcat.cli_common import DbOption, naming_options, settings, stderr, stdout, sub_cli
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.imports.commerce import import_commerce
from smcat.imports.customers import import_customers
from smcat.imports.events import import_events
from smcat.imports.formats import FORMATS
from smcat.imports.posts import FileImport, import_comments, import_posts
from smcat.imports.streamers import LAYOUTS, import_streamers, load_mapping
from smcat.store import Store

import_app = sub_cli()


class StreamerSource(StrEnum):
    """Whose export `import streamers` reads (its built-in layout of headers)."""

    chanmama = "chanmama"
    feigua = "feigua"
    generic = "generic"


@import_app.command("streamers")
def import_streamers_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="The export: .csv (UTF-8) or .xlsx.", show_default=False, dir_okay=False
        ),
    ],
    source: Annotated[
        StreamerSource,
        typer.Option(help="Whose export it is: its layout of headers, and the rows' source."),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="A TOML file mapping the export's headers to smcat's fields (for other "
            "layouts; see the README).",
            dir_okay=False,
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="What period the figures cover, e.g. 2025-10 (default: the file's own period "
            "column, else e.g. '近30天 to <the day the file was saved>')."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Streamers' sales figures from a sales platform's export into streamer_stats, linked to
    crawled Douyin accounts by id or nickname. Rows that cannot be read are listed by row
    number and kept in rejects; every other row is stored."""
    layout = load_mapping(mapping) if mapping else LAYOUTS[source.value]
    with (
        Store.open(settings(db=db).db) as store,
        naming_options(source="--source", mapping="--mapping"),
    ):
        result = import_streamers(store, file, source.value, layout, period)
    stdout.print(
        f"{file.name}: {result.stored} streamer row(s) stored for {result.source}, period "
        f"{result.period!r} unless a row names its own; {result.linked} linked to crawled "
        f"Douyin accounts; {len(result.rejected)} rejected"
    )
    for number, reason in result.rejected:
        stdout.print(f"  row {number}: {reason}")


def _import_command(kind: str, what: str) -> None:
    def command(
        file: Annotated[Path, typer.Argument(help="A .csv (UTF-8) or .xlsx file.", dir_okay=False)],
        utc_offset: Annotated[
            str, typer.Option(help="The offset of times written without one (China: +08:00).")
        ] = "+08:00",
        db: DbOption = None,
    ) -> None:
        with Store.open(settings(db=db).db) as store:
            report = import_commerce(store, kind, file, utc_offset=utc_offset)
        stdout.print(f"stored {report.stored:,} {kind} rows from {escape(str(file))}")
        if report.attributes:
            stdout.print(f"attributes: {escape(', '.join(report.attributes))}")
        _fail_on_rejects(file, report.rejects)

    command.__doc__ = f"Import {what} from a CSV or XLSX file; rejected rows are named by row."
    import_app.command(kind)(command)


def _fail_on_rejects(file: Path, rejects: list[tuple[int, str]]) -> None:
    """List the rejected rows, and fail naming the fix if there are any."""
    for row, reason in rejects:
        stdout.print(f"  row {row} rejected: {escape(reason)}")
    if rejects:
        raise SmcatError(
            f"{len(rejects)} rows of {file} were rejected (listed above; kept in the "
            "rejects table): correct them and import the file again"
        )


@import_app.command("orders")
def import_orders_command(
    file: Annotated[Path, typer.Argument(help="A .csv (UTF-8) or .xlsx file.", dir_okay=False)],
    system: Annotated[
        str | None,
        typer.Option(help="The shop or app whose customer ids the orders hold (for `smcat link`)."),
    ] = None,
    utc_offset: Annotated[
        str, typer.Option(help="The offset of times written without one (China: +08:00).")
    ] = "+08:00",
    db: DbOption = None,
) -> None:
    """Import order lines (order_id, customer_id, product_id, ordered_at, price) from a CSV or
    XLSX file; rejected rows are named by row."""
    with Store.open(settings(db=db).db) as store:
        report = import_commerce(store, "orders", file, utc_offset=utc_offset, system=system)
    stdout.print(f"stored {report.stored:,} orders rows from {escape(str(file))}")
    _fail_on_rejects(file, report.rejects)


SystemOption = Annotated[
    str, typer.Option(help="The system the file comes from (a shop, an app, the CRM): any name.")
]
MapOption = Annotated[
    Path | None,
    typer.Option(
        "--map",
        "--mapping",
        help="A TOML file whose [columns] table maps the file's headers to smcat's fields "
        "(other columns are then left out; see the README).",
        dir_okay=False,
    ),
]
RecordFile = Annotated[
    Path, typer.Argument(help="A .csv (UTF-8), .xlsx or .jsonl file.", dir_okay=False)
]


@import_app.command("customers")
def import_customers_command(
    file: RecordFile,
    system: SystemOption,
    mapping: MapOption = None,
    keep_pii: Annotated[
        bool,
        typer.Option(
            "--keep-pii",
            help="Also store the clear name, phone, email and address (by default only keyed "
            "hashes and the features linkage compares).",
        ),
    ] = False,
    utc_offset: Annotated[
        str, typer.Option(help="The offset of times written without one (China: +08:00).")
    ] = "+08:00",
    db: DbOption = None,
) -> None:
    """Import a system's customer records (record_id; name, phone, email, address, city,
    district, birth_year, registered_at) for `smcat link people`. Personal data is stored as
    keyed hashes under the project's pseudonym_salt (SMCAT_PSEUDONYM_SALT)."""
    chosen = settings(db=db)
    with Store.open(chosen.db) as store:
        report = import_customers(
            store, file, system, chosen.pseudonym_salt, mapping=mapping, keep_pii=keep_pii,
            utc_offset=utc_offset,
        )  # fmt: skip
    kept = "clear personal data kept (--keep-pii)" if keep_pii else "personal data hashed"
    stdout.print(
        f"stored {report.stored:,} customer records of {escape(system)} from "
        f"{escape(str(file))}; {kept}"
    )
    _fail_on_rejects(file, report.rejects)


@import_app.command("events")
def import_events_command(
    file: RecordFile,
    system: SystemOption,
    mapping: MapOption = None,
    utc_offset: Annotated[
        str, typer.Option(help="The offset of times written without one (China: +08:00).")
    ] = "+08:00",
    db: DbOption = None,
) -> None:
    """Import a system's behaviour events (event_id, occurred_at, event_type; record_id when
    signed in, device_id, item, campaign, amount). Event types: view, click, cart, favourite,
    purchase, contact, response (or pv, add_to_cart, 收藏 ...)."""
    with Store.open(settings(db=db).db) as store:
        report = import_events(store, file, system, mapping=mapping, utc_offset=utc_offset)
    stdout.print(f"stored {report.stored:,} events of {escape(system)} from {escape(str(file))}")
    _fail_on_rejects(file, report.rejects)


_import_command("products", "products (product_id; name, brand, category, list_price, attributes)")
_import_command("choices", "brand choices (choice_id, alternative, chosen; attributes)")


PostFormat = StrEnum("PostFormat", {name: name for name in FORMATS})  # type: ignore[misc]


def _posts_command(kind: str) -> None:
    run = import_posts if kind == "posts" else import_comments

    def command(
        files: Annotated[
            list[Path],
            typer.Argument(help="The tool's output files.", show_default=False, dir_okay=False),
        ],
        format: Annotated[
            PostFormat,
            typer.Option(help="Which tool wrote the files (see the README's table of formats)."),
        ],
        observed_at: Annotated[
            str | None,
            typer.Option(
                help="When the files were crawled, for formats that do not record it, e.g. "
                "2025-11-20T18:00+08:00 (China time if no offset is given)."
            ),
        ] = None,
        encoding: Annotated[
            str | None, typer.Option(help="The files' text encoding if not UTF-8, e.g. gbk.")
        ] = None,
        mapping: Annotated[
            Path | None,
            typer.Option(
                help="For --format table: a TOML file mapping the table's headers to smcat's "
                "fields (see the README).",
                dir_okay=False,
            ),
        ] = None,
        pseudonymize: Annotated[
            bool,
            typer.Option(
                help="import comments: store commenters as keyed hashes, without names (needs "
                "the project's pseudonym_salt), as `crawl weibo-comments --pseudonymize` does.",
            ),
        ] = False,
        db: DbOption = None,
    ) -> None:
        configured = settings(db=db)
        if pseudonymize and kind == "posts":
            raise SmcatError(
                "posts are stored under their accounts: --pseudonymize is for comments"
            )
        options = (
            {"pseudonymizer": _pseudonymizer(configured, pseudonymize)} if pseudonymize else {}
        )
        with (
            Store.open(configured.db) as store,
            naming_options(
                format="--format", observed_at="--observed-at", mapping="--mapping",
                pseudonymize="--pseudonymize", encoding="--encoding",
            ),
            Progress(
                SpinnerColumn(), TextColumn("{task.completed:,} records read"),
                console=stderr, transient=True, disable=not stderr.is_terminal,
            ) as progress,
        ):  # fmt: skip
            task = progress.add_task("import", total=None)
            results = run(
                store,
                files,
                str(format),
                observed_at=observed_at,
                encoding=encoding,
                mapping=mapping,
                on_progress=lambda n: progress.advance(task, n),
                **options,
            )
        for result in results:
            _print_import(result)

    command.__doc__ = (
        f"Import {kind} from other crawlers' output (weibo-crawler, weiboSpider, MediaCrawler) "
        "or a plain table, as if crawled: the same posts are the same rows, a newer file adds "
        "observations. Rows that cannot be read are listed by row number and kept in rejects."
    )
    import_app.command(kind)(command)


def _pseudonymizer(configured: Settings, pseudonymize: bool) -> Pseudonymizer | None:
    """The pseudonymizer of the project's salt, if asked for (a missing salt fails here)."""
    return Pseudonymizer(configured.pseudonym_salt) if pseudonymize else None


def _print_import(result: FileImport) -> None:
    accounts = f" of {len(result.accounts)} account(s)" if result.accounts else ""
    stdout.print(
        f"{escape(result.path.name)}: {len(result.stored):,} {result.kind}{accounts} stored "
        f"from {result.format} (import {result.crawl_id}); {len(result.rejected)} rejected"
    )
    for note in result.notes:
        stdout.print(f"  note: {escape(note)}")
    for number, reason in result.rejected:
        stdout.print(f"  row {number}: {escape(reason)}")
    for reason in result.refused:
        stdout.print(f"  refused by the store: {escape(reason)}")


_posts_command("posts")
_posts_command("comments")
