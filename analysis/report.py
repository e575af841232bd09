"""The one renderer of analysis output: an effects report (the side-by-side table in Markdown,
CSV, LaTeX and HTML, its plots, and index.html holding them all) and the page of any other
analysis (each table in Markdown and CSV, each plot in PNG, and one HTML page), drawn with the
Jinja2 templates in analysis/templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from analysis.formatting import (
    CELL_NOTE,
    FIT_ROWS,
    format_p,
    formatted,
    report_statements,
    side_by_side,
    to_latex,
    to_markdown,
)
from analysis.plots import distribution_plot, irr_plot, subcategory_plot
from analysis.results import Column, Report, tidy
from analysis.screen import SCREEN_PAGE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analysis.pages import Page

IRR_PLOT, DISTRIBUTION_PLOT, SUBCATEGORY_PLOT = "irr.png", "distribution.png", "subcategories.png"
SCREEN = f"{SCREEN_PAGE}.html"
# the effects report points at the screen of its regressors, which `analyze screen` writes
SCREEN_LINE = (
    "Screening of the regressors (Spearman correlations, VIFs, near-zero variance):"
    f" `smcat analyze screen` writes {SCREEN} into this folder."
)
EFFECTS_TABLES = ("effects.csv", "effects.md", "effects.tex")
REPORT_DPI, PAGE_DPI = 110, 120
_TEMPLATES = Environment(
    loader=PackageLoader("analysis", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class _Row:
    """A table row as drawn: its label, its cells, and whether it starts the fit figures."""

    label: str
    cells: list[str]
    marked: bool = False


@dataclass(frozen=True)
class _Grid:
    """A table of text as the templates draw it: the columns' name (the corner), the column
    headings, the index's name (None: no row for it) and the rows."""

    corner: str
    columns: list[str]
    index_name: str | None
    rows: list[_Row]

    @classmethod
    def of(cls, table: pd.DataFrame, marked: str | None = None) -> _Grid:
        """The grid of a frame of text; the row labelled `marked` starts a block."""
        index_name = table.index.name
        return cls(
            corner="" if table.columns.name is None else str(table.columns.name),
            columns=[str(c) for c in table.columns],
            index_name=None if index_name is None else str(index_name),
            rows=[
                _Row(str(label), [str(v) for v in values], label == marked)
                for label, values in zip(table.index, table.to_numpy(), strict=True)
            ],
        )


def write_report(report: Report, folder: Path) -> list[Path]:
    """Write the report into `folder`: effects.md, .csv, .tex, .html (the table), irr.png,
    distribution.png and subcategories.png (those with data), and index.html holding them all.
    Returns the files written, index.html last."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)

    def save(name: str, figure: Figure) -> None:
        figure.savefig(folder / name, dpi=REPORT_DPI, bbox_inches="tight")
        written.append(folder / name)

    grid = None
    statements = report_statements(report)
    if report.columns:
        table = side_by_side(report.columns)
        grid = _Grid.of(table, marked=FIT_ROWS[0])
        notes = "\n".join(f"- {line}" for line in statements)
        write("effects.md", to_markdown(table) + f"\n\n{CELL_NOTE}\n\n{notes}\n\n{SCREEN_LINE}\n")
        tidy(report.columns).to_csv(folder / "effects.csv", index=False)
        written.append(folder / "effects.csv")
        write("effects.tex", to_latex(table, [CELL_NOTE, *statements]))
        write(
            "effects.html",
            _render("effects.html", table=grid, cell_note=CELL_NOTE, statements=statements),
        )
        save(IRR_PLOT, irr_plot(report.columns))
    if report.outcome is not None:
        save(DISTRIBUTION_PLOT, distribution_plot(report.outcome, report.dv))
    if report.subcategories is not None and not report.subcategories.empty:
        save(SUBCATEGORY_PLOT, subcategory_plot(report.subcategories, report.dv))
    files = {p.name for p in written}
    write(
        "index.html",
        _render(
            "report.html",
            title=report.title,
            report=report,
            statements=statements,
            table=grid,
            cell_note=CELL_NOTE,
            downloads=[name for name in EFFECTS_TABLES if name in files],
            diagnostics=[(c.title, _diagnosis(c)) for c in report.columns],
            screen=SCREEN,
            irr_plot=IRR_PLOT,
            distribution_plot=DISTRIBUTION_PLOT if DISTRIBUTION_PLOT in files else None,
            subcategory_plot=SUBCATEGORY_PLOT if SUBCATEGORY_PLOT in files else None,
        ),
    )
    return written


def write_page(page: Page, folder: Path) -> list[Path]:
    """Write <name>-<key>.md/.csv/.tex per table (the page's notes in the LaTeX table's notes;
    the CSV's index column named, or left out when it only numbers the rows), <name>-<key>.png
    per plot and <name>.html showing them all into `folder`. Returns the files written, the
    page last."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables: list[tuple[str, _Grid]] = []
    for key, (caption, table) in page.tables.items():
        stem = folder / f"{page.name}-{key}"
        text = formatted(table)
        stem.with_suffix(".md").write_text(f"{caption}\n\n{to_markdown(text)}\n", encoding="utf-8")
        numbered = isinstance(table.index, pd.RangeIndex) and table.index.name is None
        table.to_csv(
            stem.with_suffix(".csv"), index=not numbered, index_label=table.index.name or key
        )
        stem.with_suffix(".tex").write_text(
            to_latex(text, [caption, *page.notes]), encoding="utf-8"
        )
        written += [stem.with_suffix(".md"), stem.with_suffix(".csv"), stem.with_suffix(".tex")]
        tables.append((caption, _Grid.of(text)))
    plots: list[tuple[str, str]] = []
    for key, (caption, figure) in page.plots.items():
        png = folder / f"{page.name}-{key}.png"
        figure.savefig(png, dpi=PAGE_DPI, bbox_inches="tight")
        written.append(png)
        plots.append((caption, png.name))
    html = folder / f"{page.name}.html"
    html.write_text(
        _render("page.html", title=page.title, notes=page.notes, tables=tables, plots=plots),
        encoding="utf-8",
    )
    return [*written, html]


def _diagnosis(column: Column) -> str:
    """How a model was fitted, its over-dispersion test, its largest VIF and its notes."""
    r = column.result
    bits = [f"{r.method}" + (f", {r.iterations} iterations" if r.iterations else "")]
    if r.dispersion is not None:
        d = r.dispersion
        p = format_p(d.pvalue)
        bits.append(f"{d.name} {d.statistic:.2f} (p {p if p.startswith('<') else '= ' + p})")
    if not r.vif.empty:
        bits.append(f"largest VIF {r.vif.max():.1f} ({r.vif.idxmax()})")
    bits += r.notes
    return "; ".join(bits)


def _render(template: str, **values: object) -> str:
    return _TEMPLATES.get_template(template).render(**values)
