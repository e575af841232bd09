"""`smcat analyze`: effect models and the classic analyses of the source studies."""

import typer

app = typer.Typer(
    help="Fit effect models of hot words, activities and micro-topics on engagement, and the "
    "source studies' other analyses (commands arrive with the analysis issue).",
    no_args_is_help=True,
)
