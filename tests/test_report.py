"""The report: tables in four formats, plots and the HTML page, checked against the fitted
result objects and the published bioChemists figures."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pandas as pd
import pytest

from analysis.effects import EffectsError, fit_nb, fit_poisson
from analysis.formatting import formatted, side_by_side, to_latex
from analysis.frame import model_frame
from analysis.pages import Page
from analysis.plots import bar_plot, irr_plot, log_ticks
from analysis.report import write_page, write_report
from analysis.results import ALL_POSTS, Column, Failure, Report, subcategory_summary
from analysis.suite import run_suite
from smcat.store import Store
from tests.test_effects import FIXTURES, LONG_REFERENCE, LONG_REGRESSORS


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def html_table(path: Path) -> pd.DataFrame:
    """The page's effects table, terms as the index."""
    text = path.read_text(encoding="utf-8")
    (table,) = pd.read_html(io.StringIO(text), attrs={"class": "effects"})
    return table.set_index(table.columns[0])


@pytest.fixture(scope="module")
def long_columns() -> list[Column]:
    data = pd.read_csv(FIXTURES / "bioChemists.csv")
    return [
        Column(fit(data, "art", LONG_REGRESSORS, reference=LONG_REFERENCE, se="model"), "Long")
        for fit in (fit_nb, fit_poisson)
    ]


def test_report_cells_equal_the_results_and_the_published_irrs(
    long_columns: list[Column], tmp_path: Path
) -> None:
    outcome = pd.read_csv(FIXTURES / "bioChemists.csv")["art"]
    report = Report("Long's bioChemists", "art", long_columns, outcome=outcome)
    written = write_report(report, tmp_path)
    assert [p.name for p in written][-1] == "index.html"
    nb = long_columns[0]
    table = html_table(tmp_path / "index.html")
    assert list(table.columns) == [c.title for c in long_columns]
    for term in ("fem[Women]", "kid5", "ment"):
        irr = nb.result.irr().loc[term]
        cell = table.loc[term, nb.title]
        assert cell.split()[0].rstrip("*") == f"{irr['irr']:.3f}"
        assert cell.endswith(f"[{irr['lower']:.3f}, {irr['upper']:.3f}]")
    # Long's NB2 IRRs (stats.md 3.1): women 0.8054, kid5 0.8383, mentor 1.0295
    assert table.loc["fem[Women]", nb.title].startswith("0.805**")
    assert table.loc["kid5", nb.title].startswith("0.838***")
    assert table.loc["ment", nb.title].startswith("1.030***")
    assert table.loc["alpha", nb.title] == "0.4416" and table.loc["N", nb.title] == "915"
    # the standalone HTML table holds the same cells
    assert html_table(tmp_path / "effects.html").equals(table)
    latex = (tmp_path / "effects.tex").read_text(encoding="utf-8")
    row = next(line for line in latex.splitlines() if line.startswith("kid5 &"))
    assert row.split(" & ")[1] == table.loc["kid5", nb.title]
    assert r"\toprule" in latex and latex.count(r"\midrule") == 2
    tidy = pd.read_csv(tmp_path / "effects.csv").set_index(["model", "term"])
    assert tidy.loc[("NB2", "ment"), "exp_coef"] == pytest.approx(1.0295, abs=1e-4)
    # the PNGs are real images of a readable size; no subcategories, so no such plot
    for name in ("irr.png", "distribution.png"):
        width, height = png_size(tmp_path / name)
        assert width >= 600 and height >= 300, name
        assert (tmp_path / name).stat().st_size > 10_000
    assert not (tmp_path / "subcategories.png").exists()
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'src="irr.png"' in page and 'src="distribution.png"' in page
    assert "<style>" in page and "LR test of alpha = 0" in page


def test_latex_escapes_special_characters() -> None:
    table = pd.DataFrame({"a_b & c": ["1.100* [1.0, 1.2]", "50%"]}, index=["x[>140]", "R²"])
    latex = to_latex(table)
    assert r"a\_b \& c" in latex and r"x[\textgreater{}140] &" in latex
    assert r"50\%" in latex and r"R\textsuperscript{2}" in latex


def test_a_failed_model_is_named_in_the_page(long_columns: list[Column], tmp_path: Path) -> None:
    failure = Failure("NB2", "gold", "NB2 did not converge (newton: not converged)")
    write_report(Report("t", "art", long_columns[1:], failures=[failure]), tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Not fitted" in page and "NB2 did not converge" in page
    assert list(html_table(tmp_path / "index.html").columns) == [long_columns[1].title]


def test_a_report_without_fits_is_a_page_of_failures(tmp_path: Path) -> None:
    failure = Failure("Poisson", "auto", "no rows left")
    written = write_report(Report("t", "y", [], failures=[failure]), tmp_path)
    assert [p.name for p in written] == ["index.html"]
    assert "no rows left" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_text_from_the_data_is_escaped_in_the_pages(
    long_columns: list[Column], tmp_path: Path
) -> None:
    script = "<script>alert('x')</script>"
    failure = Failure("NB2", script, f"no rows left {script}")
    write_report(Report(script, "art", long_columns[1:], [failure], [script]), tmp_path)
    page = Page("page", f"title {script}", notes=[f"note {script}"])
    page.table("t", f"caption {script}", pd.DataFrame({script: [script, 1.5]}, index=[script, "b"]))
    page.plot(
        "p", f"plot {script}", bar_plot(pd.Series([1.0], index=[script]), xlabel="", ylabel="")
    )
    write_page(page, tmp_path)
    for name in ("index.html", "page.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "<script" not in text, name
        assert text.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") >= 3, name
    table = pd.read_html(io.StringIO((tmp_path / "page.html").read_text(encoding="utf-8")))
    assert table[0].columns[1] == script and table[0].iloc[0].tolist() == [script, script]


def test_subcategory_summary_counts_posts_and_means() -> None:
    flags = pd.DataFrame({"B3 giveaway": [1, 0, 1, None], "B2 price": [0, 0, 0, 0]})
    outcome = pd.Series([10.0, 2.0, 30.0, 4.0])
    summary = subcategory_summary(flags, outcome)
    assert list(summary.index) == [ALL_POSTS, "B3 giveaway", "B2 price"]
    assert summary.loc[ALL_POSTS].tolist() == [4, 11.5]
    assert summary.loc["B3 giveaway"].tolist() == [2, 20.0]
    assert summary.loc["B2 price", "posts"] == 0


def test_suite_lists_a_failing_fit_when_asked_to_keep_going(analyst_db: Path) -> None:
    with Store.open(analyst_db, readonly=True) as store:
        report = run_suite(store, codes=["gold"], models=["ols", "zinb"], fe="account",
                           keep_going=True)  # fmt: skip
        with pytest.raises(EffectsError, match="ZINB takes no fixed effects"):
            run_suite(store, codes=["gold"], models=["zinb"], fe="account")
        data = model_frame(store, codes="gold").data
    assert [c.title for c in report.columns] == ["OLS log(1+y), account FE (gold)"]
    assert [(f.model, f.coder) for f in report.failures] == [("ZINB, account FE", "gold")]
    assert "ZINB takes no fixed effects" in report.failures[0].message
    assert side_by_side(report.columns).loc["N"].tolist() == ["6,000"]
    # the descriptives: posts per subcategory, named from the stored codebook
    giveaways = data["engagement"][data["giveaway"] == 1]
    assert report.subcategories.loc["B3 giveaway"].tolist() == [len(giveaways), giveaways.mean()]
    assert report.subcategories.loc["B1 product information", "posts"] == 0  # not in the fixture


def test_the_irr_plot_labels_its_log_axis_with_plain_ratios(long_columns: list[Column]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = irr_plot(long_columns)
    FigureCanvasAgg(figure).draw()
    axes = figure.axes[0]
    low, high = axes.get_xlim()
    shown = [t for t in axes.xaxis.get_major_ticks() if low <= t.get_loc() <= high]
    labels = [t.label1.get_text() for t in shown]
    assert len(labels) >= 3 and "1" in labels, labels  # Long's IRRs run from about 0.6 to 1.4
    assert all(label and "10^" not in label and "$" not in label for label in labels), labels
    assert labels == ["0.7", "0.8", "0.9", "1"], labels
    assert not any(t.label1.get_text() for t in axes.xaxis.get_minor_ticks())
    # wide ranges get powers of ten, middling ones 1, 2, 5 times them
    assert log_ticks(0.004, 2000) == [0.01, 0.1, 1, 10, 100, 1000]
    assert log_ticks(0.45, 30) == [0.5, 1, 2, 5, 10, 20]


def test_commerce_and_audience_pages_state_their_model_and_write_latex_and_named_csvs(
    tmp_path: Path,
) -> None:
    from analysis.pages import audience_page, choice_page
    from analysis.streamers import read_numbers
    from tests.conftest import FIXTURES as ALL_FIXTURES

    viewers = read_numbers(ALL_FIXTURES / "audience" / "viewers.csv", "viewer")
    write_page(audience_page(viewers), tmp_path)
    page = (tmp_path / "audience.html").read_text(encoding="utf-8")
    assert f"OLS of purchases on interaction: N = {len(viewers):,} viewers, none dropped" in page
    assert "SE HC3 (heteroskedasticity-robust), not clustered" in page
    # the planted slope's p-value prints as <0.001, never 0.000
    assert "&lt;0.001" in page
    assert "0.000" not in (tmp_path / "audience-regression.md").read_text(encoding="utf-8")
    csv = pd.read_csv(tmp_path / "audience-regression.csv")
    assert not any(str(c).startswith("Unnamed") for c in csv.columns)
    assert csv.columns[0] == "regression" and "const" in csv["regression"].tolist()
    viewers_csv = pd.read_csv(tmp_path / "audience-viewers.csv")
    assert not any(str(c).startswith("Unnamed") for c in viewers_csv.columns)
    latex = (tmp_path / "audience-regression.tex").read_text(encoding="utf-8")
    assert latex.startswith(r"\begin{threeparttable}") and r"\begin{tablenotes}" in latex
    assert r"\item OLS of purchases on interaction: N =" in latex
    assert r"\textless{}0.001" in latex and "\n%" not in latex

    choices = pd.read_csv(ALL_FIXTURES / "commerce" / "choices.csv", dtype={"choice_id": str})
    write_page(choice_page(choices), tmp_path)
    page = (tmp_path / "choice.html").read_text(encoding="utf-8")
    assert "choices fitted of" in page and "SE model-based (observed information)" in page
    assert "Reference categories: alternative = " in page
    assert (tmp_path / "choice-coefficients.tex").exists()
    assert not any(
        str(c).startswith("Unnamed")
        for c in pd.read_csv(tmp_path / "choice-coefficients.csv").columns
    )


def test_p_values_print_as_less_than_a_thousandth_not_zero() -> None:
    table = pd.DataFrame({"coef": [1.0, 2.0], "p": [0.0000004, 0.0312], "LR p": [0.5, 1e-9]})
    text = formatted(table)
    assert text["p"].tolist() == ["<0.001", "0.031"] and text["LR p"].tolist() == [
        "0.500",
        "<0.001",
    ]
    assert text["coef"].tolist() == ["1.000", "2.000"]


def test_the_age_rule_says_when_post_age_could_not_be_a_control(analyst_db: Path) -> None:
    # every post of the fixture was last observed at 30 days: log post age has one value
    with Store.open(analyst_db, readonly=True) as store:
        report = run_suite(store, codes=["gold"], models=["ols"])
    assert "log_age" in report.notes[1] and "log_age" not in report.columns[0].result.params
    assert report.age_rule == (
        "Engagement: counts at the latest observation, post age not controlled (ages used:"
        " median 30 days, range 30 days to 30 days)."
    )
    assert report.hot_window == (
        "Hot words and hot topics: on the hot-search list from 7 days before the post to the post."
    )
    (sample,) = report.samples
    assert (sample.n, sample.posts, sample.dropped, sample.clusters) == (6000, 6000, (), 36)


def test_the_intercept_is_b_not_a_ratio(long_columns: list[Column], tmp_path: Path) -> None:
    write_report(Report("Long's bioChemists", "art", long_columns), tmp_path)
    nb = long_columns[0]
    table = html_table(tmp_path / "index.html")
    assert "Intercept" not in table.index
    b, conf = nb.result.params["Intercept"], nb.result.conf_int.loc["Intercept"]
    assert table.loc["Intercept (b)", nb.title].startswith(f"{b:.3f}")
    assert table.loc["Intercept (b)", nb.title].endswith(
        f"[{conf['lower']:.3f}, {conf['upper']:.3f}]"
    )
    tidy = pd.read_csv(tmp_path / "effects.csv").set_index(["model", "term"])
    assert tidy.loc[("NB2", "Intercept"), "coef"] == pytest.approx(b)
    assert tidy.loc[("NB2", "Intercept"), ["exp_coef", "lower", "upper"]].isna().all()
    assert table.loc["alpha SE", nb.title] == f"{nb.result.alpha_se:.4f}"
