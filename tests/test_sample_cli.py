"""`smcat sample`: the commands over the sampling and sample-size functions."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from smcat.store import Store


def _posts(path: Path) -> None:
    with Store.open(path) as store:
        start = date(2025, 3, 1)
        store.upsert_posts(
            [
                {
                    "platform": "weibo",
                    "post_id": f"{account}{i:03d}",
                    "account_id": account,
                    "created_at": f"{start + timedelta(days=i)}T09:30:00+08:00",
                    "text": "新品",
                }
                for account in ("2001", "2002")
                for i in range(150)
            ]
        )


def test_sample_posts_records_a_two_stage_sample_that_db_export_shows(smcat, tmp_path) -> None:
    _posts(tmp_path / "smcat.db")
    done = smcat("sample", "posts", "--months", "2", "--per-month", "3", "--seed", "4",
                 "--accounts", "2001,2002", "--since", "2025-04-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "12 posts" in done.stdout and "2001: 6 of" in done.stdout
    exported = smcat("db", "export", "samples", "--format", "jsonl")
    (row,) = [json.loads(line) for line in exported.stdout.splitlines()]
    design = json.loads(row["params"])
    assert row["seed"] == 4 and design["kind"] == "two-stage"
    assert min(design["frame"]["2001"]) == "2025-04"
    again = smcat("sample", "posts", "--constructed-week", "1", "--seed", "4", "--name", "cw")
    assert again.returncode == 0, again.stderr
    assert "sample cw: 14 posts" in again.stdout  # 7 days, 2 accounts posting daily


def test_sample_posts_needs_one_design(smcat, tmp_path) -> None:
    _posts(tmp_path / "smcat.db")
    done = smcat("sample", "posts", "--seed", "1")
    assert done.returncode == 1
    assert "--months and --per-month, or --constructed-week" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sample_size_prevalence_and_reliability_print_the_answer_and_assumptions(
    smcat, tmp_path
) -> None:
    done = smcat("sample", "size", "prevalence", "--margin", "0.05")
    assert done.returncode == 0 and "code 385 posts" in done.stdout
    assert "assumptions:" in done.stdout and "no finite population correction" in done.stdout
    # Cohen's h = .5 between the groups: 62.8 per group (Cohen 1992: 63)
    done = smcat("sample", "size", "compare", "--p1", "0.5", "--p2", "0.2605")
    assert done.returncode == 0 and "code 63 posts of group 1 and 63 of group 2" in done.stdout
    _posts(tmp_path / "smcat.db")
    done = smcat("sample", "size", "reliability", "--smallest-share", "0.25", "--alpha-min",
                 "0.8")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Krippendorff's minimum: 139 posts" in done.stdout
    assert "no bootstrap" in done.stdout  # no two people have coded yet


def test_sample_size_power_on_the_analyst_fixture(smcat, analyst_db) -> None:
    done = smcat("sample", "size", "power", "--irr", "2.5", "--codes", "gold", "--draws", "20",
                 "--db", str(analyst_db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "code " in done.stdout and "closed form without account structure" in done.stdout
    assert "with no effect (IRR 1)" in done.stdout
    assert "planted IRR 2.5" in done.stdout and "clustered by account" in done.stdout


def test_sample_size_reliability_bootstraps_the_codes_so_far(smcat, tmp_path) -> None:
    from tests.test_code_cli import store_codes
    from tests.test_reliability import KRIPPENDORFF_BINARY

    store_codes(tmp_path / "smcat.db", "B2", KRIPPENDORFF_BINARY)
    done = smcat("sample", "size", "reliability", "--subcategory", "B2", "--width", "0.3")
    assert done.returncode == 0, done.stderr
    # Krippendorff's (2011) binary example: alpha .095 on 10 units
    assert "bootstrap of B2: alpha 0.095 on 10 shared units" in done.stdout
    assert "95% interval width" in done.stdout and "the codes so far" in done.stdout


def test_sample_size_prevalence_from_the_codes(smcat, analyst_db) -> None:
    done = smcat("sample", "size", "prevalence", "--margin", "0.03", "--subcategory", "B3",
                 "--codes", "gold", "--db", str(analyst_db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    # p = 711 / 6,000 gold giveaways: n0 = 1.96^2 p (1 - p) / .03^2 = 445.9, with N = 6,000: 416
    assert "code 416 posts" in done.stdout and "B3 in 711 of the 6,000 posts" in done.stdout
