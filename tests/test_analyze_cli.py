"""`smcat analyze effects` on the analyst fixture, end to end in a subprocess."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pandas as pd
import pytest
import typer

from analysis.cli import parse_age, parse_tolerance
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


def test_the_demo_database_runs_through_effects_with_no_options_and_says_what_it_measured(
    tmp_path: Path, smcat: Callable[..., CompletedProcess[str]]
) -> None:
    assert smcat("demo").returncode == 0
    run = smcat("analyze", "effects", "--db", "smcat-demo.db")
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    table = html_table(tmp_path / "report" / "index.html")
    assert list(table.columns) == [f"{m} (auto:brand_posts@1)" for m in
                                   ("NB2", "Poisson", "OLS log(1+y)")]  # fmt: skip
    # the demo's hot-search list holds no post's topic: hot_topic is left out, with a note
    assert "hot_topic" not in table.index
    assert "for having one value in the posts used: hot_topic" in page
    assert "log_age" in table.index  # latest counts: post age is a control
    # the intercept is b, not a ratio; alpha has its SE; SE type and clusters per model
    assert "Intercept" not in table.index and "Intercept (b)" in table.index
    assert table.loc["alpha SE", "NB2 (auto:brand_posts@1)"] != ""
    assert table.loc["SE", "Poisson (auto:brand_posts@1)"] == "clustered by account (CRV1)"
    assert table.loc["clusters", "Poisson (auto:brand_posts@1)"] == "2"
    n = int(table.loc["N", "NB2 (auto:brand_posts@1)"])
    # the statements: N and the dropped posts with why, references, SE, alpha, window, age
    assert (
        f"N = {n} of {n + 8} posts with auto:brand_posts@1&#39;s codes; dropped: 8 posts"
        " without a follower count." in page
    )
    assert (
        "Reference categories (auto:brand_posts@1): media_type = text, length_band ="
        " &lt;=50, weekday = Mon, hour_band = 07-11, month = 2025-03." in page
    )
    # errors clustered by account are every model's default; two accounts are flagged as few
    assert (
        "NB2 (auto:brand_posts@1): N = 44, SE clustered by account (CRV1), 2 clusters (few" in page
    )
    assert (
        "Poisson (auto:brand_posts@1): N = 44, SE clustered by account (CRV1), 2 clusters (few"
        in page
    )
    assert "from 7 days before the post to the post" in page
    assert "counts at the latest observation, with log post age as a control (ages used:" in page
    latex = (tmp_path / "report" / "effects.tex").read_text(encoding="utf-8")
    assert not any(line.startswith("%") for line in latex.splitlines())
    notes = latex[latex.index(r"\begin{tablenotes}") : latex.index(r"\end{threeparttable}")]
    assert r"\item N = 44 of 52 posts" in notes and "8 posts without a follower count" in notes
    assert "from 7 days before the post" in notes and r"\end{tablenotes}" in notes
    # p-values are never 0.000 in the diagnostics
    assert "p = 0.000" not in page


def test_drop_and_regressors_choose_the_terms(
    tmp_path: Path, smcat: Callable[..., CompletedProcess[str]]
) -> None:
    assert smcat("demo").returncode == 0
    run = smcat("analyze", "effects", "--db", "smcat-demo.db", "--model", "nb", "--drop",
                "month,log_age")  # fmt: skip
    assert run.returncode == 0, run.stderr
    terms = set(html_table(tmp_path / "report" / "index.html").index)
    assert not any(t.startswith("month") for t in terms) and "log_age" not in terms
    run = smcat("analyze", "effects", "--db", "smcat-demo.db", "--model", "poisson",
                "--regressors", "giveaway,log_followers", "-o", "two")  # fmt: skip
    assert run.returncode == 0, run.stderr
    terms = list(html_table(tmp_path / "two" / "index.html").index)
    assert terms[:3] == ["Intercept (b)", "giveaway", "log_followers"] and terms[3] == "N"
    run = smcat("analyze", "effects", "--db", "smcat-demo.db", "--drop", "fame")
    assert run.returncode == 1 and "cannot drop 'fame': the regressors are" in run.stderr


def test_age_tolerances_are_spans_or_shares_of_the_age() -> None:
    assert parse_tolerance("6h", 1) == 0.25 and parse_tolerance("25%", 4) == 1
    with pytest.raises(typer.BadParameter, match="25%"):
        parse_tolerance("a%", 1)
