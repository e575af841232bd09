"""Every command that opens a database, against corrupt, foreign, newer-schema and read-only
ones: one line that names the fix, the one `db info` gives, never a traceback, and a bad file
left as it was; a read-only database (WAL, with its -wal and -shm files or without) can be read.

The commands come from the CLI itself, so that a new command cannot be left out."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from crawler.items import PostItem
from crawler.writer import ItemWriter
from smcat.cli import app
from smcat.cli_common import error_line
from smcat.errors import SmcatError
from smcat.store import SCHEMA_VERSION, Store
from tests.conftest import FIXTURES, clean_env

_NOBODY = 65534


@dataclass(frozen=True)
class Command:
    """A command that opens the project database: its arguments, and whether it writes."""

    args: tuple[str, ...]
    writes: bool


MEDIACRAWLER = FIXTURES / "imports/mediacrawler"
# arguments that get each command as far as opening the database; OUT is a file to write
COMMANDS: dict[str, Command] = {
    "demo": Command((), writes=True),
    "crawl weibo-user": Command(("5001000001",), writes=True),
    "crawl weibo-hot": Command((), writes=True),
    "crawl weibo-comments": Command(("5210003412818032",), writes=True),
    "crawl weibo-search": Command(
        ("澜蔻", "--since", "2025-10-01", "--until", "2025-10-02"), writes=True
    ),
    "crawl douyin-user": Command(("MS4wLjABAAAAbrand",), writes=True),
    "crawl douyin-comments": Command(("7300000000000000001",), writes=True),
    "crawl douyin-live": Command(("123456789",), writes=True),
    "crawl reparse": Command((), writes=True),
    "code auto": Command((), writes=True),
    "code export": Command(("--coder", "ann", "--sample", "5", "--output", "OUT.xlsx"), True),
    "code import": Command((str(FIXTURES / "commerce/orders.csv"), "--coder", "ann"), True),
    "code accuracy": Command((), writes=False),
    "code train": Command((), writes=True),
    "code status": Command((), writes=False),
    "code review": Command(("--coder", "ann", "--port", "18765"), writes=True),
    "code reliability": Command((), writes=False),
    "code adjudicate export": Command(("--output", "OUT.xlsx"), writes=False),
    "code adjudicate import": Command((str(FIXTURES / "commerce/orders.csv"),), writes=True),
    "analyze effects": Command((), writes=False),
    "analyze basket": Command((), writes=False),
    "analyze choice": Command((), writes=False),
    "analyze segments": Command((), writes=False),
    "analyze rfm": Command((), writes=False),
    "analyze churn": Command((), writes=False),
    "analyze recommend": Command((), writes=False),
    "analyze price-bands": Command((), writes=False),
    "analyze streamers": Command((), writes=False),
    "analyze response": Command((), writes=False),
    "analyze propensity": Command((), writes=False),
    "analyze labels": Command((), writes=True),
    "import streamers": Command(
        (str(FIXTURES / "streamers/chanmama.xlsx"), "--source", "chanmama"), writes=True
    ),
    "import posts": Command(
        (str(MEDIACRAWLER / "search_contents_2025-11-21.json"), "--format", "mediacrawler-weibo"),
        writes=True,
    ),
    "import comments": Command(
        (str(MEDIACRAWLER / "search_comments_2025-11-21.jsonl"), "--format", "mediacrawler-weibo"),
        writes=True,
    ),
    "import orders": Command((str(FIXTURES / "commerce/orders.csv"),), writes=True),
    "import products": Command((str(FIXTURES / "commerce/products.csv"),), writes=True),
    "import choices": Command((str(FIXTURES / "commerce/choices.csv"),), writes=True),
    "sample posts": Command(("--months", "3", "--per-month", "5", "--seed", "1"), writes=True),
    "sample size prevalence": Command(("--margin", "0.05", "--subcategory", "B3"), False),
    "sample size reliability": Command((), writes=False),
    "sample size power": Command(("--irr", "1.5", "--draws", "20"), writes=False),
    "analyze screen": Command((), writes=False),
    "cluster ingest": Command(("--cluster", "redis://127.0.0.1:9/0"), writes=True),
    "import customers": Command(
        (str(FIXTURES / "people/small/tmall_customers.csv"), "--system", "tmall"), writes=True
    ),
    "import events": Command(
        (str(FIXTURES / "people/small/app_events.jsonl"), "--system", "app"), writes=True
    ),
    "link people": Command((), writes=True),
    "link review": Command(("--reviewer", "ann", "--port", "18766"), writes=True),
    "link report": Command(("--chart", "OUT.html"), writes=False),
    "db info": Command((), writes=False),
    "db export": Command(("posts",), writes=False),
}


def _db_commands() -> set[str]:
    """Every command of the CLI with a --db option, by its path ("code adjudicate export")."""
    found: set[str] = set()

    def walk(command: Any, path: list[str]) -> None:
        command = getattr(command, "loaded", command)  # a lazily mounted sub-CLI
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        elif any(param.name == "db" for param in command.params):
            found.add(" ".join(path))

    root = typer.main.get_command(app)
    for name in root.list_commands(typer.Context(root)):
        walk(root.get_command(typer.Context(root), name), [name])
    return found


def test_every_command_that_opens_a_database_is_covered() -> None:
    assert _db_commands() == set(COMMANDS)


@dataclass(frozen=True)
class Outcome:
    """How a command ended: its exit code and its error line ("" if none)."""

    code: int
    error: str


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder that another user can read too (the read-only cases run as one when the tests
    run as root, whom file modes do not stop)."""
    path = Path(tempfile.mkdtemp(prefix="smcat-bad-db-"))
    path.chmod(0o777)
    yield path
    for entry in (path, *path.rglob("*")):
        entry.chmod(0o777 if entry.is_dir() else 0o666)
    shutil.rmtree(path)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Callable[..., Outcome]:
    """Run a command in-process on a database, as smcat's main() would report it; no crawl
    may start (nothing else must be reached when the database is refused)."""

    def no_crawl(*args: object, **kwargs: object) -> Any:
        raise AssertionError("a crawl started")

    monkeypatch.setattr("crawler.runner.CrawlerProcess", no_crawl)
    monkeypatch.setattr("coding.cli.serve", lambda *args: None)  # the review screen
    monkeypatch.setenv("SMCAT_WEIBO_MOBILE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SMCAT_WEIBO_COOKIE", "SUB=_2A25test")  # weibo-search asks for one
    monkeypatch.chdir(folder)

    def invoke(name: str, db: Path) -> Outcome:
        command = COMMANDS[name]
        args = [arg.replace("OUT", str(folder / "out")) for arg in command.args]
        result = CliRunner().invoke(app, [*name.split(), *args, "--db", str(db)])
        error = result.exception
        if isinstance(error, SmcatError):
            return Outcome(1, error_line(error))
        if error is not None and not isinstance(error, SystemExit):
            raise error
        return Outcome(result.exit_code, "")

    return invoke


def _store(path: Path) -> None:
    """An smcat database with a few hundred posts (several pages), closed."""
    with Store.open(path) as store:
        writer = ItemWriter(store, crawl_id=None)
        for number in range(400):
            writer.add(
                PostItem(
                    platform="weibo",
                    post_id=str(5210000000000000 + number),
                    account_id="5001000001",
                    created_at="2025-10-01T08:00:00+08:00",
                    text="澜蔻新品上市 #护肤# " * 20,
                    observed_at="2025-10-02T08:00:00+08:00",
                    likes=number,
                )
            )
        writer.flush()


def _corrupt_body(path: Path) -> None:
    _store(path)
    header = path.read_bytes()[:100]
    path.write_bytes(header + os.urandom(64 * 1024 - 100))


def _truncated(path: Path) -> None:
    _store(path)
    size = path.stat().st_size
    assert size > 4 * 16384
    with path.open("r+b") as handle:
        handle.truncate(size // 2)


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        connection.execute("INSERT INTO moz_places (url) VALUES ('https://weibo.com')")
    connection.close()


def _newer(path: Path) -> None:
    _store(path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()


BAD = {"corrupt": _corrupt_body, "truncated": _truncated, "foreign": _foreign, "newer": _newer}


def _digest(folder: Path) -> dict[str, str]:
    """Each file's digest; an empty -wal or a -shm that SQLite made to read with is left out
    (neither holds a change to the database)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.iterdir()
        if not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and not path.stat().st_size)
    }


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_database_gives_the_line_db_info_gives_and_stays_as_it_was(
    run: Callable[..., Outcome], folder: Path, kind: str, name: str
) -> None:
    db = folder / "project.db"
    BAD[kind](db)
    before = _digest(folder)
    expected = run("db info", db)
    assert expected.code == 1 and expected.error and "\n" not in expected.error
    assert str(db) in expected.error
    assert run(name, db) == expected
    assert _digest(folder) == before


@contextlib.contextmanager
def _as_another_user() -> Iterator[None]:
    """Run as a user other than root if the tests run as root (file modes do not stop root)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(_NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def _wal_store(db: Path, leftovers: bool) -> None:
    """A WAL-mode smcat database; with `leftovers`, its -wal and -shm files as a writer that
    is still open (or was killed) leaves them."""
    _store(db)
    if not leftovers:
        return
    copy = db.with_name("writer.db")
    shutil.copy(db, copy)
    writer = sqlite3.connect(copy)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("UPDATE posts SET text = 'changed in the WAL'")
    writer.commit()
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(f"{copy}{suffix}", f"{db}{suffix}")
    writer.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)


READ_ONLY = ["file", "folder"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("leftovers", [True, False], ids=["with-wal", "no-wal"])
@pytest.mark.parametrize("made_read_only", READ_ONLY)
def test_a_read_only_database_is_read_and_refused_for_writes_in_one_line(
    run: Callable[..., Outcome], folder: Path, made_read_only: str, leftovers: bool, name: str
) -> None:
    project = folder / "project"
    project.mkdir(mode=0o777)
    db = project / "project.db"
    _wal_store(db, leftovers)
    for path in project.iterdir():
        path.chmod(0o444)
    if made_read_only == "folder":
        project.chmod(0o555)
    before = _digest(project)
    if os.geteuid() == 0:
        # as root, once on a writable copy first: the other user cannot read root's Python to
        # import what the command imports on first use
        warm = folder / "warm"
        shutil.copytree(project, warm)
        with contextlib.suppress(AssertionError):  # a crawl of the writable copy starts
            run(name, warm / "project.db")
    with _as_another_user():
        outcome = run(name, db)
    assert "\n" not in outcome.error
    if COMMANDS[name].writes:
        assert outcome.code == 1 and "read-only" in outcome.error and str(db) in outcome.error
    else:
        # it may fail for want of data (no codes, no orders), not for the database's modes
        assert "read-only" not in outcome.error and "cannot be read" not in outcome.error
        assert "unable to open" not in outcome.error
    assert _digest(project) == before


@pytest.mark.parametrize("leftovers", [True, False], ids=["with-wal", "no-wal"])
@pytest.mark.parametrize("made_read_only", READ_ONLY)
def test_a_read_only_database_is_read_whole(
    folder: Path, made_read_only: str, leftovers: bool
) -> None:
    project = folder / "project"
    project.mkdir(mode=0o777)
    db = project / "project.db"
    _wal_store(db, leftovers)
    for path in project.iterdir():
        path.chmod(0o444)
    if made_read_only == "folder":
        project.chmod(0o555)
    with _as_another_user(), Store.open(db, readonly=True) as store:
        texts = {text for (text,) in store.connection.execute("SELECT text FROM posts")}
        info = store.info()
    assert info.row_counts["posts"] == 400
    assert texts == ({"changed in the WAL"} if leftovers else {"澜蔻新品上市 #护肤# " * 20})


def _damaged_inside(path: Path) -> None:
    """Intact header, schema and length; the pages of the posts garbled."""
    _store(path)
    data = bytearray(path.read_bytes())
    page = 16384
    for start in range(2 * page, len(data), page):
        data[start + 100 : start + page - 100] = os.urandom(page - 200)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("args", [["db", "export", "posts"], ["code", "auto"]])
def test_damage_deep_inside_is_one_line_and_code_auto_writes_nothing(
    folder: Path, args: list[str]
) -> None:
    db = folder / "project.db"
    _damaged_inside(db)
    before = _digest(folder)
    smcat = subprocess.run(
        [sys.executable, "-m", "smcat", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=folder,
        timeout=120,
    )
    assert smcat.returncode == 1
    (line,) = smcat.stderr.splitlines()
    assert line.startswith("error:") and "backup" in line
    assert _digest(folder) == before


def test_a_new_database_under_a_read_only_folder_is_refused_in_one_line(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    with _as_another_user(), pytest.raises(SmcatError) as refused:
        Store.open(locked / "new" / "project.db")
    assert "folder" in str(refused.value) and "\n" not in str(refused.value)
