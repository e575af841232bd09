"""Shared test fixtures: fixture paths, a replay server, and running `smcat` in a subprocess.

Crawls run in a child process because Scrapy's reactor starts once per process; the replay
server runs in the test process on 127.0.0.1, so tests can check which routes were hit.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smcat.demo.replay import ReplayServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DEMO_MANIFEST = FIXTURES / "demo.toml"
FAULTS_MANIFEST = FIXTURES / "weibo" / "faults.toml"


def _shared_folder() -> Path:
    """The shared folder beside the repository; from a git worktree, beside its main checkout
    (the worktree's .git file names <main>/.git/worktrees/<name>)."""
    git = ROOT / ".git"
    if git.is_file():
        gitdir = Path(git.read_text(encoding="utf-8").split(":", 1)[1].strip())
        return gitdir.parents[2].parent / "shared"
    return ROOT.parent / "shared"


SHARED = _shared_folder()


def samples_of(platform: str) -> Path:
    """The folder of a platform's real public recordings, in the shared folder."""
    return SHARED / "samples" / platform


def needs_samples(platform: str) -> pytest.MarkDecorator:
    """Skip where the platform's recordings are not at hand (the shared folder is absent)."""
    return pytest.mark.skipif(
        not samples_of(platform).is_dir(), reason="shared samples not beside the repo"
    )


def read_sample(platform: str, name: str) -> Any:
    """A recording's decoded JSON, read in place."""
    return json.loads((samples_of(platform) / name).read_text(encoding="utf-8"))


# Debian's Chromium, which the review screens' tests and Douyin's --browser mode drive
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> None:
    """Skip the test where Chromium is not installed; in CI (SMCAT_REQUIRE_BROWSER) fail it."""
    if CHROMIUM is None:
        if os.environ.get("SMCAT_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed: apt-get install chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium, driven by Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def demo_server() -> Iterator[ReplayServer]:
    with ReplayServer(DEMO_MANIFEST) as server:
        yield server


@pytest.fixture
def faults_server() -> Iterator[ReplayServer]:
    with ReplayServer(FAULTS_MANIFEST) as server:
        yield server


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the user's own SMCAT_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMCAT_")}
    env.update(extra)
    return env


@pytest.fixture
def smcat(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m smcat ARGS` in tmp_path; keyword arguments become SMCAT_* variables."""

    def run(*args: str, **settings: object) -> subprocess.CompletedProcess[str]:
        env = clean_env(**{f"SMCAT_{k.upper()}": str(v) for k, v in settings.items()})
        return subprocess.run(
            [sys.executable, "-m", "smcat", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    return run


@pytest.fixture(scope="session")
def analyst_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analyst fixture database, unpacked once per session (open it read-only)."""
    path = tmp_path_factory.mktemp("analyst") / "brand_posts.db"
    packed = FIXTURES / "analysis" / "brand_posts.db.gz"
    with gzip.open(packed, "rb") as source, path.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return path
