"""`smcat code`: the codebook, machine tags, coder exchange and reliability."""

import typer

app = typer.Typer(
    help="Code posts into the 21-subcategory codebook: auto-tags, coder export/import, "
    "reliability and accuracy (commands arrive with the coding issue).",
    no_args_is_help=True,
)
