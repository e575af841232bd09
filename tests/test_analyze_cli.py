"""`smcat analyze effects` on the analyst fixture, end to end in a subprocess."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pandas as pd

from analysis.cli import parse_age
from tests.test_report import html_table, png_size

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "analysis" / "brand_posts.db.gz"


def _unpacked(folder: Path) -> Path:
    path = folder / "brand_posts.db"
    with gzip.open(FIXTURE, "rb") as source, path.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return path


def test_effects_writes_side_by_side_tables(
    tmp_path: Path, smcat: Callable[..., CompletedProcess[str]]
) -> None:
    db = _unpacked(tmp_path)
    run = smcat("analyze", "effects", "--db", str(db), "--model", "ols", "--fe", "account",
                "--codes", "auto", "--codes", "gold", "--at-age", "7d", "-o", "out")  # fmt: skip
    assert run.returncode == 0, run.stderr
    markdown = (tmp_path / "out" / "effects.md").read_text(encoding="utf-8")
    assert "OLS log(1+y), account FE (auto:brand_posts@1)" in markdown
    assert "OLS log(1+y), account FE (gold)" in markdown
    tidy = pd.read_csv(tmp_path / "out" / "effects.csv")
    assert set(tidy["coder"]) == {"auto:brand_posts@1", "gold"}
    giveaway = tidy[tidy["term"] == "giveaway"].set_index("coder")
    assert (giveaway["exp_coef"] > 1.4).all()  # planted 1.80, attenuated by log(1+y) and coding
    # the page's table shows the CSV's estimates; the LaTeX table escapes the term names
    table = html_table(tmp_path / "out" / "index.html")
    cell = table.loc["giveaway", "OLS log(1+y), account FE (gold)"]
    assert cell.split()[0].rstrip("*") == f"{giveaway.loc['gold', 'exp_coef']:.3f}"
    latex = (tmp_path / "out" / "effects.tex").read_text(encoding="utf-8")
    assert r"length\_band[\textgreater{}140] &" in latex
    for name in ("irr.png", "distribution.png", "subcategories.png"):
        width, height = png_size(tmp_path / "out" / name)
        assert width >= 600 and height >= 300, name
        assert f"out/{name}" in run.stdout  # it says what it wrote


def test_unknown_coder_is_one_line_and_exit_1(
    tmp_path: Path, smcat: Callable[..., CompletedProcess[str]]
) -> None:
    db = _unpacked(tmp_path)
    run = smcat("analyze", "effects", "--db", str(db), "--codes", "bob")
    assert run.returncode == 1
    assert "no codes of coder 'bob'" in run.stderr and "gold" in run.stderr


def test_a_fix_that_is_a_setting_names_the_options(
    tmp_path: Path, smcat: Callable[..., CompletedProcess[str]]
) -> None:
    db = _unpacked(tmp_path)
    run = smcat("analyze", "effects", "--db", str(db), "--model", "zinb", "--fe", "account")
    assert run.returncode == 1
    assert "ZINB takes no fixed effects" in run.stderr and "(--fe, --model)" in run.stderr


def test_ages_are_read_in_days() -> None:
    assert parse_age("7d") == 7 and parse_age("36h") == 1.5
