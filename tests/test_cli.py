"""Tests for the `smcat` command: help and version, `db info`, `db export`, errors, --db precedence.

Normal paths run in-process with typer's CliRunner; error paths run `python -m smcat` in a child
process, because `smcat.cli.main` is what turns an SmcatError into one line on stderr and exit 1.
No crawl and no demo run here, and nothing touches the network.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

import smcat
from smcat import cli_common
from smcat.cli import app
from smcat.errors import SmcatError
from smcat.export import export_table
from smcat.store import SCHEMA_VERSION, TABLES, Store

CREATED = "2025-01-01T10:00:00+08:00"
SEEN_1 = "2025-01-02T10:00:00+08:00"
SEEN_2 = "2025-01-03T10:00:00+08:00"
TRICKY_TEXT = '新品发布，"限时"优惠\n第二行 #双十一#'
STOP_REASON = "HTTP 418 from m.weibo.cn"
RAW_BODY = b"\x00\xff" + '{"ok":1,"data":{"text":"品牌 营销"}}'.encode()
# Variables that would change how rich renders (colour codes, terminal width) in a child.
RENDERING_VARIABLES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")


@dataclass(frozen=True)
class Project:
    db: Path
    raw_body: bytes


def make_project(path: Path) -> Project:
    """A small store: 3 posts, 4 observations, a finished and a stopped crawl, 1 raw response."""
    posts = [
        {
            "platform": "weibo",
            "post_id": "p1",
            "account_id": "a1",
            "created_at": CREATED,
            "text": TRICKY_TEXT,
            "is_repost": False,
            "pic_count": 2,
            "video_seconds": 12.5,
            "is_long_text": True,
            "is_pinned": False,
            "extra": {"来源": "iPhone"},
            "observed_at": SEEN_1,
            "likes": 10,
            "comments": 2,
            "reposts": 1,
            "shares": 0,
            "collects": 0,
            "plays": 100,
        },
        {
            "platform": "weibo",
            "post_id": "p2",
            "account_id": "a1",
            "created_at": CREATED,
            "text": "plain, ascii",
            "is_repost": True,
            "origin_post_id": "p1",
            "pic_count": 0,
            "video_seconds": 0.0,
            "is_long_text": False,
            "is_pinned": True,
            "observed_at": SEEN_1,
            "likes": 3,
            "comments": 0,
            "reposts": 0,
            "shares": 0,
            "collects": 0,
            "plays": 0,
        },
        {
            "platform": "weibo",
            "post_id": "p3",
            "account_id": "a2",
            "created_at": CREATED,
            "text": "第三条 😀",
            "is_repost": False,
            "pic_count": 9,
            "video_seconds": 1.25,
            "is_long_text": False,
            "is_pinned": False,
            "observed_at": SEEN_1,
            "likes": 7,
            "comments": 1,
            "reposts": 2,
            "shares": 3,
            "collects": 4,
            "plays": 5,
        },
    ]
    again = {**posts[0], "observed_at": SEEN_2, "likes": 11}
    with Store.open(path) as store:
        finished = store.start_crawl("weibo_user", {"uids": "123"})
        assert store.upsert_posts(posts, crawl_id=finished).stored == 3
        assert store.upsert_posts([again], crawl_id=finished).stored == 1
        store.add_raw_response(
            url="https://m.weibo.cn/api/container/getIndex?containerid=1076031",
            status=200,
            fetched_at=SEEN_1,
            body=RAW_BODY,
            content_type="application/json; charset=utf-8",
            parser_version="1",
            crawl_id=finished,
        )
        store.finish_crawl(finished, "finished", "finished", {"stored": 3, "rejected": 0})
        stopped = store.start_crawl("weibo_user", {"uids": "456"})
        store.finish_crawl(stopped, "stopped", STOP_REASON, {"stored": 0, "rejected": 2})
        counts = store.info().row_counts
        assert (counts["posts"], counts["post_observations"]) == (3, 4)
    return Project(path, RAW_BODY)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No SMCAT_* settings or smcat.toml of the user's; a fixed rendering width."""
    for name in list(os.environ):
        if name.startswith("SMCAT_"):
            monkeypatch.delenv(name)
    for name in RENDERING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    # rich fixes the width when a console is made if COLUMNS was set then (at import)
    monkeypatch.setattr(cli_common.stdout, "_width", 120)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "project.db")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    result = invoke(*args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m smcat ARGS` in a child, without the user's SMCAT_* or rendering variables."""
    child_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SMCAT_") and k not in RENDERING_VARIABLES
    }
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smcat", *args],
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Check the child failed with exit 1 and one line on stderr that starts "error:"."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.startswith("error:"), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def store_rows(db: Path, table: str) -> tuple[list[str], list[tuple]]:
    with Store.open(db, readonly=True) as store:
        return store.columns(table), list(store.iter_rows(table))


def row_count(output: str, table: str) -> int:
    """The row count `db info` shows for a table."""
    match = re.search(rf"^{table}\s+([\d,]+)\s*$", output, re.MULTILINE)
    assert match, f"no row count for {table} in:\n{output}"
    return int(match.group(1).replace(",", ""))


# -- help and version ----------------------------------------------------------------------


def test_help_lists_the_sub_commands() -> None:
    out = ok("--help").stdout
    for name in ("crawl", "code", "analyze", "import", "db", "demo"):
        # a command is the first word of its line in the commands box
        assert re.search(rf"^\W*{name}\s{{2,}}\S", out, re.MULTILINE), (name, out)


def test_version_prints_the_package_version() -> None:
    result = ok("--version")
    assert result.stdout.strip() == f"smcat {smcat.__version__}"


# the libraries of crawling, coding and modelling: slow to import, and needless for these
HEAVY = ("scrapy", "jieba", "rjieba", "pandas", "statsmodels", "sklearn", "matplotlib")


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("db", "--help"), ("db", "info", "--db", "{db}")]
)
def test_light_commands_start_without_the_heavy_libraries(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    db = tmp_path / "p.db"
    Store.open(db).close()
    argv = [a.format(db=db) for a in args]
    script = (
        "import sys\n"
        "from smcat.cli import main\n"
        f"sys.argv = ['smcat', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_sub_command_loads_its_package_when_run() -> None:
    script = (
        "import sys\nfrom smcat.cli import main\nsys.argv = ['smcat', 'crawl', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nprint('scrapy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "weibo-user" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("crawl", "--help"), ("weibo-user",)),
        (("db", "--help"), ("info", "export")),
        (("db", "export", "--help"), ("--format", "csv", "jsonl", "parquet", "--output", "--db")),
        (("db", "info", "--help"), ("--db", "--crawls")),
    ],
)
def test_sub_command_help(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    out = ok(*args).stdout
    assert "Usage:" in out
    for word in words:
        assert word in out, (word, out)


@pytest.mark.parametrize(
    ("args", "joined"),
    [(("demo", "--help"), "-> machine coding ->"), (("code", "auto", "--help"), "as coder auto:")],
)
def test_help_paragraphs_wrap_at_the_terminal_not_at_the_docstring_lines(
    args: tuple[str, ...], joined: str
) -> None:
    # in the docstrings, these words are at the end of one line and the start of the next
    assert joined in ok(*args).stdout


def test_db_export_help_lists_the_tables() -> None:
    out = ok("db", "export", "--help").stdout
    for table in TABLES:
        assert table in out, table


# -- db info -------------------------------------------------------------------------------


def test_db_info_shows_schema_version_row_counts_and_crawls(project: Project) -> None:
    out = ok("db", "info", "--db", str(project.db)).stdout
    assert str(project.db) in out
    assert f"schema version {SCHEMA_VERSION}" in out
    with Store.open(project.db, readonly=True) as store:
        expected = store.info().row_counts
    assert list(expected) == list(TABLES)
    for table in TABLES:
        assert row_count(out, table) == expected[table], table
    assert row_count(out, "posts") == 3
    assert row_count(out, "post_observations") == 4
    assert row_count(out, "crawls") == 2
    assert row_count(out, "raw_responses") == 1
    # crawl, spider, started (date and minute), status, stored, rejected, why it ended
    started = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    stopped = rf"^2\s+weibo_user\s+{started}\s+stopped\s+0\s+2\s+{re.escape(STOP_REASON)}\s*$"
    finished = rf"^1\s+weibo_user\s+{started}\s+finished\s+3\s+0\s+finished\s*$"
    stopped_line = re.search(stopped, out, re.MULTILINE)
    finished_line = re.search(finished, out, re.MULTILINE)
    assert stopped_line and finished_line, out
    assert stopped_line.start() < finished_line.start(), "newest crawl first"


def test_db_info_crawls_option_limits_the_crawls(project: Project) -> None:
    out = ok("db", "info", "--db", str(project.db), "--crawls", "1").stdout
    assert STOP_REASON in out
    assert not re.search(r"^1\s+weibo_user", out, re.MULTILINE), out


def test_db_info_on_an_empty_store_says_no_crawls(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    Store.open(db).close()
    out = ok("db", "info", "--db", str(db)).stdout
    assert "no crawls yet" in out
    assert row_count(out, "posts") == 0


def test_db_info_does_not_modify_the_file(project: Project) -> None:
    before = project.db.read_bytes()
    ok("db", "info", "--db", str(project.db))
    assert project.db.read_bytes() == before


def test_db_info_shows_a_long_reason_in_full(tmp_path: Path) -> None:
    """The spider's own reason format: a URL and the error, which is the whole point of it."""
    reason = (
        "3 problem(s); first: https://m.weibo.cn/api/container/getIndex?containerid="
        "1076031234567890&page=7: TimeoutError: User timeout caused connection failure."
    )
    db = tmp_path / "long.db"
    with Store.open(db) as store:
        crawl = store.start_crawl("weibo_user", {"uids": "1234567890"})
        # no counts: the columns right of the reason stay empty, so a folded reason reads on
        store.finish_crawl(crawl, "stopped", reason, {})
    # in a child: rich reads COLUMNS when the console is made, so set it before the import
    result = run("db", "info", "--db", str(db), cwd=tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.sub(r"\s", "", reason) in re.sub(r"\s", "", out), out


def test_db_info_shows_brackets_verbatim(tmp_path: Path) -> None:
    db = tmp_path / "brands[v2].db"
    with Store.open(db) as store:
        crawl = store.start_crawl("weibo_user", {"uids": "1"})
        store.finish_crawl(crawl, "stopped", "[weibo] 418", {})
    out = ok("db", "info", "--db", str(db)).stdout
    assert "[weibo] 418" in out, out
    assert str(db) in out, out


# -- db export -----------------------------------------------------------------------------


def test_export_posts_csv_to_stdout(project: Project) -> None:
    columns, rows = store_rows(project.db, "posts")
    out = ok("db", "export", "posts", "--db", str(project.db)).stdout
    parsed = list(csv.reader(io.StringIO(out, newline="")))
    assert parsed[0] == columns
    assert len(parsed) == 1 + 3
    assert parsed[1:] == [["" if v is None else str(v) for v in row] for row in rows]
    texts = {row[columns.index("post_id")]: row[columns.index("text")] for row in parsed[1:]}
    assert texts["p1"] == TRICKY_TEXT
    assert texts["p3"] == "第三条 😀"


def test_export_csv_to_a_file_reports_the_rows(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "posts.csv"
    out = ok("db", "export", "post_observations", "--db", str(project.db), "-o", str(target)).stdout
    assert "wrote 4 rows of post_observations" in out
    columns, rows = store_rows(project.db, "post_observations")
    with target.open(encoding="utf-8", newline="") as handle:
        parsed = list(csv.reader(handle))
    assert parsed[0] == columns
    assert len(parsed[1:]) == len(rows) == 4


def test_export_posts_jsonl_to_a_file(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "posts.jsonl"
    out = ok(
        "db", "export", "posts", "--format", "jsonl", "-o", str(target), "--db", str(project.db)
    ).stdout
    assert "wrote 3 rows of posts" in out
    columns, rows = store_rows(project.db, "posts")
    text = target.read_text(encoding="utf-8")
    assert "新品发布" in text, "Chinese written as itself, not as \\u escapes"
    lines = text.splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    for record, row in zip(records, rows, strict=True):
        assert list(record) == columns
        assert list(record.values()) == list(row)
    assert records[0]["text"] == TRICKY_TEXT
    assert json.loads(records[0]["extra"]) == {"来源": "iPhone"}


def test_export_jsonl_to_stdout(project: Project) -> None:
    out = ok("db", "export", "crawls", "-f", "jsonl", "--db", str(project.db)).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in records] == ["finished", "stopped"]
    assert records[1]["reason"] == STOP_REASON
    assert json.loads(records[0]["counts"]) == {"stored": 3, "rejected": 0}


def _plain(value: object) -> object:
    """A value read back from pandas as a plain Python value (NaN and NA as None)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def test_export_posts_parquet(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "posts.parquet"
    out = ok("db", "export", "posts", "-f", "parquet", "-o", str(target), "--db", str(project.db))
    assert "wrote 3 rows of posts" in out.stdout
    columns, rows = store_rows(project.db, "posts")
    with Store.open(project.db, readonly=True) as store:
        types = store.column_types("posts")
    frame = pd.read_parquet(target)
    assert list(frame.columns) == columns
    assert len(frame) == 3
    integers = [name for name, kind in types.items() if kind == "INTEGER"]
    assert {"is_repost", "pic_count", "crawl_id"} <= set(integers)
    for name in integers:
        assert frame[name].dtype == "int64", (name, frame[name].dtype)
    assert frame["video_seconds"].dtype == "float64"
    read_back = [tuple(_plain(v) for v in record) for record in frame.itertuples(index=False)]
    assert read_back == rows
    schema = pq.read_schema(target)
    for name in integers:
        assert schema.field(name).type == pa.int64(), name
    assert schema.field("text").type == pa.string()


def test_export_observations_parquet_counts_are_int64(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "obs.parquet"
    db = str(project.db)
    ok("db", "export", "post_observations", "-f", "parquet", "-o", str(target), "--db", db)
    frame = pd.read_parquet(target)
    assert len(frame) == 4
    for name in ("likes", "comments", "reposts", "shares", "collects", "plays", "crawl_id"):
        assert frame[name].dtype == "int64", name
    assert sorted(frame.loc[frame["post_id"] == "p1", "likes"]) == [10, 11]


def test_export_raw_responses_jsonl_body_is_base64_of_the_gzipped_body(
    project: Project, tmp_path: Path
) -> None:
    target = tmp_path / "raw.jsonl"
    ok("db", "export", "raw_responses", "-f", "jsonl", "-o", str(target), "--db", str(project.db))
    (line,) = target.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert isinstance(record["body"], str)
    assert gzip.decompress(base64.b64decode(record["body"], validate=True)) == project.raw_body
    assert record["status"] == 200
    assert record["url"].startswith("https://m.weibo.cn/")


def test_export_raw_responses_csv_body_is_base64(project: Project) -> None:
    out = ok("db", "export", "raw_responses", "--db", str(project.db)).stdout
    header, row = list(csv.reader(io.StringIO(out, newline="")))
    body = row[header.index("body")]
    assert gzip.decompress(base64.b64decode(body, validate=True)) == project.raw_body


def test_export_raw_responses_parquet_body_is_binary(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "raw.parquet"
    ok("db", "export", "raw_responses", "-f", "parquet", "-o", str(target), "--db", str(project.db))
    assert pq.read_schema(target).field("body").type == pa.binary()
    frame = pd.read_parquet(target)
    assert gzip.decompress(frame["body"].iloc[0]) == project.raw_body


def test_export_an_empty_table(project: Project, tmp_path: Path) -> None:
    out = ok("db", "export", "comments", "--db", str(project.db)).stdout
    assert list(csv.reader(io.StringIO(out))) == [store_rows(project.db, "comments")[0]]
    target = tmp_path / "comments.parquet"
    ok("db", "export", "comments", "-f", "parquet", "-o", str(target), "--db", str(project.db))
    assert len(pd.read_parquet(target)) == 0


def test_export_parquet_without_output_names_o(project: Project, tmp_path: Path) -> None:
    result = run("db", "export", "posts", "-f", "parquet", "--db", str(project.db), cwd=tmp_path)
    one_line_error(result, "-o")
    assert result.stdout == ""


def test_export_unknown_table_leaves_the_output_file_alone(
    project: Project, tmp_path: Path
) -> None:
    target = tmp_path / "precious.csv"
    target.write_text("keep me\n", encoding="utf-8")
    result = invoke("db", "export", "postz", "-o", str(target), "--db", str(project.db))
    assert result.exit_code == 1
    assert isinstance(result.exception, SmcatError)
    assert target.read_text(encoding="utf-8") == "keep me\n"


# -- errors, through `python -m smcat` -----------------------------------------------------


def test_db_info_on_a_text_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("platform,post_id\nweibo,1\n", encoding="utf-8")
    before = text.read_bytes(), text.stat().st_mtime_ns
    failed = run("db", "info", "--db", str(text), cwd=tmp_path)
    one_line_error(failed, "not an SQLite database")
    assert "a new file name (--db)" in failed.stderr  # the CLI names the option that fixes it
    assert (text.read_bytes(), text.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_db_info_on_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    one_line_error(run("db", "info", "--db", str(missing), cwd=tmp_path), "smcat demo")
    assert not missing.exists()


def test_db_export_unknown_table_lists_the_tables(project: Project, tmp_path: Path) -> None:
    result = run("db", "export", "nosuch", "--db", str(project.db), cwd=tmp_path)
    message = one_line_error(result, "nosuch")
    for table in TABLES:
        assert table in message, table
    assert result.stdout == ""


def test_db_newer_than_this_smcat_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    Store.open(db).close()
    connection = sqlite3.connect(db)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = db.read_bytes()
    message = one_line_error(run("db", "info", "--db", str(db), cwd=tmp_path), "upgrade")
    assert str(SCHEMA_VERSION + 1) in message
    assert db.read_bytes() == before


def test_error_message_with_brackets_is_printed_verbatim(project: Project, tmp_path: Path) -> None:
    result = run("db", "export", "[/x]", "--db", str(project.db), cwd=tmp_path)
    one_line_error(result, "'[/x]'")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("db", "export"), ("Missing argument",)),
        (("crawl", "weibo-user", "abc"), ("'abc'", "uid")),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    db = tmp_path / "usage.db"
    # a closed loopback port: should the check ever let a crawl through, it cannot reach Weibo
    env = {"SMCAT_DB": str(db), "SMCAT_WEIBO_MOBILE_URL": "http://127.0.0.1:9"}
    result = run(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Usage:" in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    assert not db.exists()


# -- --db precedence -----------------------------------------------------------------------


def test_smcat_db_env_picks_the_database_in_a_child(project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("db", "info", cwd=elsewhere, env={"SMCAT_DB": str(project.db)})
    assert result.returncode == 0, result.stderr
    assert str(project.db) in result.stdout
    assert row_count(result.stdout, "posts") == 3
    assert not (elsewhere / "smcat.db").exists()


def test_smcat_db_env_picks_the_database(project: Project) -> None:
    out = ok("db", "export", "posts", env={"SMCAT_DB": str(project.db)}).stdout
    assert len(list(csv.reader(io.StringIO(out, newline="")))) == 1 + 3


def test_default_database_is_smcat_db_in_cwd(tmp_path: Path) -> None:
    result = invoke("db", "info")
    assert result.exit_code == 1
    assert isinstance(result.exception, SmcatError)
    assert "smcat.db" in str(result.exception)
    make_project(tmp_path / "smcat.db")
    assert row_count(ok("db", "info").stdout, "posts") == 3


def test_db_flag_beats_smcat_db_env(project: Project, tmp_path: Path) -> None:
    env = {"SMCAT_DB": str(tmp_path / "missing.db")}
    out = ok("db", "info", "--db", str(project.db), env=env).stdout
    assert str(project.db) in out
    result = invoke("db", "info", env=env)
    assert result.exit_code == 1
    assert "missing.db" in str(result.exception)


def test_smcat_db_env_beats_smcat_toml(project: Project, tmp_path: Path) -> None:
    (tmp_path / "smcat.toml").write_text('db = "from-toml.db"\n', encoding="utf-8")
    result = invoke("db", "info")
    assert result.exit_code == 1
    assert "from-toml.db" in str(result.exception)
    out = ok("db", "info", env={"SMCAT_DB": str(project.db)}).stdout
    assert str(project.db) in out


def test_smcat_toml_picks_the_database(project: Project, tmp_path: Path) -> None:
    (tmp_path / "smcat.toml").write_text(f"db = {json.dumps(str(project.db))}\n", encoding="utf-8")
    out = ok("db", "info").stdout
    assert str(project.db) in out
    assert row_count(out, "post_observations") == 4


class DiskFull(OSError):
    """What a full disk raises in the middle of an export."""


@pytest.mark.parametrize("format", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("earlier", [None, "an earlier complete export\n"])
def test_an_export_cut_short_leaves_no_partial_file(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, format: str, earlier
) -> None:
    output = tmp_path / f"posts.{format}"
    if earlier is not None:
        output.write_text(earlier, encoding="utf-8")
    with Store.open(project.db, readonly=True) as store:

        def first_row_then_full(table: str, batch: int = 10_000):
            yield next(iter(Store.iter_rows(store, table, batch)))
            raise DiskFull(28, "No space left on device")

        monkeypatch.setattr(store, "iter_rows", first_row_then_full)
        with pytest.raises(DiskFull):
            export_table(store, "posts", format, output)
    assert (output.read_text(encoding="utf-8") if output.exists() else None) == earlier
    assert not list(tmp_path.glob(".*partial"))  # the temporary file is gone too
