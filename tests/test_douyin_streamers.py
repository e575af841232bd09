"""`smcat import streamers`: sales platforms' exports (CSV, XLSX) into streamer_stats, bad rows
reported by number, streamers linked to crawled Douyin accounts."""

from __future__ import annotations

import json

import pytest

from smcat.demo.replay import ReplayServer
from smcat.units import parse_amount, parse_count, parse_range
from tests.conftest import FIXTURES
from tests.test_douyin_crawl import LANKOU, XIAOYU, crawl, query

EXPORTS = FIXTURES / "streamers"


def import_file(smcat, db, name: str, *args: str):
    return smcat("import", "streamers", str(EXPORTS / name), *args, "--db", str(db))


def test_figures_as_exports_write_them() -> None:
    assert parse_range("10w-25w", parse_count) == (100_000, 250_000)
    assert parse_range("7500w~1亿", parse_amount) == (75_000_000.0, 100_000_000.0)
    assert parse_range("3.5万", parse_count) == (35_000, 35_000)
    assert parse_amount("¥1,032,560.00") == 1_032_560.0 and parse_amount("1.2w元") == 12_000.0
    for bad in ("25w-10w", "很多", "-5"):
        with pytest.raises(ValueError):
            parse_range(bad, parse_amount)


def test_an_export_with_bad_rows_stores_every_good_row_and_reports_every_bad_one(smcat, tmp_path):
    db = tmp_path / "streamers.db"
    result = import_file(smcat, db, "chanmama.xlsx", "--source", "chanmama", "--period", "2025-10")
    assert result.returncode == 0, result.stderr
    assert "4 streamer row(s) stored" in result.stdout and "3 rejected" in result.stdout
    assert "row 5: names no streamer" in result.stdout
    assert "row 6: followers: not a count: '很多'" in result.stdout
    assert "row 7: sales_amount: not a range" in result.stdout
    stored = {a for (a,) in query(db, "SELECT account FROM streamer_stats")}
    assert stored == {"lankou_skin", "830360786", "aqing_haowu", "beian_coffee"}
    rejects = query(db, "SELECT kind, reason, payload FROM rejects ORDER BY id")
    assert [r[1].split(":")[0] for r in rejects] == ["row 5", "row 6", "row 7"]
    assert {r[0] for r in rejects} == {"streamer_row"}
    assert json.loads(rejects[1][2])["cells"]["粉丝数量"] == "很多"
    # again: the same rows replaced, not added
    assert import_file(smcat, db, "chanmama.xlsx", "--source", "chanmama",
                       "--period", "2025-10").returncode == 0  # fmt: skip
    assert query(db, "SELECT count(*) FROM streamer_stats") == [(4,)]


def test_ranges_are_low_and_high_and_dashes_are_missing(smcat, tmp_path):
    db = tmp_path / "ranges.db"
    assert import_file(smcat, db, "chanmama.xlsx", "--source", "chanmama").returncode == 0
    row = query(
        db, "SELECT period, followers, sales_amount, sales_amount_low, sales_amount_high,"
        " sales_volume_low, sales_volume_high, video_sales_amount_low, category, extra"
        " FROM streamer_stats WHERE account = 'lankou_skin'",
    )[0]  # fmt: skip
    assert row[0].startswith("近30天 to ")  # the window, up to the day the file was saved
    assert row[1:8] == (1_283_000, None, 2_500_000.0, 5_000_000.0, 25_000, 50_000, 500_000.0)
    assert row[8] == "美妆护肤" and json.loads(row[9]) == {
        "视频画像": "女性 25-30岁",
        "是否投流": "是",
    }
    missing = query(db, "SELECT video_sales_volume, video_sales_amount_high FROM streamer_stats"
                        " WHERE account = 'aqing_haowu'")  # fmt: skip
    assert missing == [(None, None)]
    exact = query(db, "SELECT sales_amount, sales_amount_low, sales_volume FROM streamer_stats"
                      " WHERE account = 'beian_coffee'")  # fmt: skip
    assert exact == [(36_800.5, 36_800.5, 1_540)]


def test_streamers_are_linked_to_crawled_accounts_by_id_or_nickname(smcat, tmp_path):
    db = tmp_path / "linked.db"
    with ReplayServer(FIXTURES / "douyin" / "user.toml") as server:
        assert crawl(smcat, server, db, "douyin-user", LANKOU, XIAOYU).returncode == 0
    feigua = import_file(smcat, db, "feigua.csv", "--source", "feigua")
    assert feigua.returncode == 0 and "2 linked" in feigua.stdout
    generic = import_file(smcat, db, "generic.csv", "--source", "generic")
    assert generic.returncode == 0 and "2 linked" in generic.stdout
    links = query(db, "SELECT source, account, platform, account_id FROM streamer_stats"
                      " ORDER BY source, account")  # fmt: skip
    assert links == [
        ("feigua", "830360786", "douyin", XIAOYU),  # Douyin's numeric handle (short_id)
        ("feigua", "lankou_skin", "douyin", LANKOU),  # the handle (unique_id)
        ("feigua", "qingchuan_out", None, None),  # never crawled
        ("generic", LANKOU, "douyin", LANKOU),  # the sec_uid
        ("generic", "小鱼家服饰", "douyin", XIAOYU),  # no id: the nickname
    ]
    periods = {p for (p,) in query(db, "SELECT DISTINCT period FROM streamer_stats")}
    assert periods == {"2025-10"}  # from the files' own period columns


def test_a_mapping_file_reads_another_layout(smcat, tmp_path):
    db = tmp_path / "mapped.db"
    result = import_file(smcat, db, "other_layout.csv", "--source", "generic",
                         "--mapping", str(EXPORTS / "other_layout.toml"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = query(db, "SELECT account, period, followers, sales_amount_low, sales_amount_high,"
                     " extra FROM streamer_stats ORDER BY account")  # fmt: skip
    assert [r[:5] for r in rows] == [
        ("aqing_haowu", "2025-10", 567_000, 100_000_000.0, 100_000_000.0),
        ("lankou_skin", "2025-10", 1_280_000, 3_000_000.0, 4_000_000.0),
    ]
    assert json.loads(rows[0][5]) == {"场均观看": "12w", "所属MCN": "青禾传媒"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["other_layout.csv", "--source", "chanmama"],
            "describe the file with a mapping (--source, --mapping)",
        ),
        (["feigua.csv", "--source", "feigua", "--mapping", "nowhere.toml"], "cannot be read"),
        (["missing.csv", "--source", "generic"], "no such file"),
    ],
)
def test_an_export_that_cannot_be_read_is_one_line_naming_the_fix(smcat, tmp_path, args, message):
    result = import_file(smcat, tmp_path / "x.db", *args)
    assert result.returncode == 1 and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_mapping_to_an_unknown_field_is_refused(smcat, tmp_path):
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[columns]\n"主播" = "name"\n', encoding="utf-8")
    result = import_file(smcat, tmp_path / "x.db", "other_layout.csv", "--source", "generic",
                         "--mapping", str(mapping))  # fmt: skip
    assert result.returncode == 1 and "unknown field 'name'" in result.stderr
