"""Rendering the commerce analyses: each writes its tables (Markdown and CSV) and plots (PNG)
into a folder, and one HTML page that shows them all."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Figures without pyplot: no global state and no display, so this runs on a server or in CI
from matplotlib.figure import Figure

from analysis.report import to_markdown


def formatted(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table as text: reals to `digits` decimals, whole numbers as they are, empty for NaN."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if pd.isna(value):
                return ""
            return f"{value:.{digits}f}"
        return str(value)

    return table.map(cell)


@dataclass
class Page:
    """One analysis's output: its title, notes, tables and plots, in the order added."""

    name: str
    title: str
    notes: list[str] = field(default_factory=list)
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    plots: dict[str, tuple[str, Figure]] = field(default_factory=dict)

    def table(self, key: str, caption: str, table: pd.DataFrame) -> None:
        """Add a table under `key` (its file names) with a caption."""
        self.tables[key] = (caption, table)

    def plot(self, key: str, caption: str, figure: Figure) -> None:
        """Add a plot under `key` (its file name) with a caption."""
        self.plots[key] = (caption, figure)

    def write(self, folder: Path) -> list[Path]:
        """Write <name>-<key>.md/.csv per table, <name>-<key>.png per plot and <name>.html."""
        folder.mkdir(parents=True, exist_ok=True)
        written, body = [], [f"<h1>{html.escape(self.title)}</h1>"]
        body += [f"<p>{html.escape(note)}</p>" for note in self.notes]
        for key, (caption, table) in self.tables.items():
            stem = folder / f"{self.name}-{key}"
            text = formatted(table)
            stem.with_suffix(".md").write_text(
                f"{caption}\n\n{to_markdown(text)}\n", encoding="utf-8"
            )
            table.to_csv(stem.with_suffix(".csv"))
            written += [stem.with_suffix(".md"), stem.with_suffix(".csv")]
            body.append(f"<h2>{html.escape(caption)}</h2>{text.to_html(border=0)}")
        for key, (caption, figure) in self.plots.items():
            png = folder / f"{self.name}-{key}.png"
            figure.savefig(png, dpi=120, bbox_inches="tight")
            written.append(png)
            body.append(
                f'<h2>{html.escape(caption)}</h2><img src="{html.escape(png.name)}" '
                f'alt="{html.escape(caption)}">'
            )
        page = folder / f"{self.name}.html"
        page.write_text(
            "<!doctype html><html lang='en'><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
            "td,th{padding:.2em .6em;text-align:right}</style>"
            f"<body>{''.join(body)}</body></html>",
            encoding="utf-8",
        )
        return [*written, page]


def bar_plot(values: pd.Series, *, xlabel: str, ylabel: str) -> Figure:
    """A bar chart of a series by its index."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    axes.bar([str(i) for i in values.index], values.to_numpy())
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    return figure


def line_plot(values: pd.Series, *, xlabel: str, ylabel: str) -> Figure:
    """A line with markers of a series by its index."""
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.plot(values.index, values.to_numpy(), marker="o")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return figure


def calibration_plot(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Observed against predicted churn per score bin, one line per model, and the diagonal."""
    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, curve in curves.items():
        axes.plot(curve["predicted"], curve["observed"], marker="o", label=name)
    axes.set_xlabel("predicted churn probability (bin mean)")
    axes.set_ylabel("observed churn share")
    axes.legend()
    return figure


def heatmap(table: pd.DataFrame, *, label: str) -> Figure:
    """A table of shares as a heat map with its values written in."""
    figure = Figure(figsize=(1 + 0.9 * len(table.columns), 1 + 0.6 * len(table)))
    axes = figure.subplots()
    image = axes.imshow(table.to_numpy(dtype=float), cmap="Blues", vmin=0)
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=45)
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    for (row, column), value in _cells(table):
        if pd.notna(value):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=8)
    figure.colorbar(image, ax=axes, label=label)
    return figure


def _cells(table: pd.DataFrame) -> Sequence[tuple[tuple[int, int], float]]:
    values = table.to_numpy(dtype=float)
    return [((r, c), values[r, c]) for r in range(values.shape[0]) for c in range(values.shape[1])]


def roc_plot(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """ROC curves (columns fpr, tpr), one line per curve, and the diagonal of chance."""
    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    for name, curve in curves.items():
        axes.plot(curve["fpr"], curve["tpr"], label=name)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.legend()
    return figure
