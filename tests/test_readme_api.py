"""The README's Python API example runs as written: a crawl (against the replay server on
127.0.0.1, every base URL pointed there through SMCAT_* variables), a coding run and a model
fit, in a child process (Scrapy's reactor starts once per process)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from smcat.demo.replay import ReplayServer
from tests.conftest import ROOT, clean_env

BASE_URLS = (
    "weibo_mobile_url", "weibo_url", "weibo_search_url", "weibo_cn_url", "douyin_url",
    "douyin_live_url",
)  # fmt: skip


def readme_example() -> str:
    """The code between the README's python-api markers."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- python-api -->\n```python\n(.*?)```\n<!-- /python-api -->", readme, re.S
    )
    assert found, "the README lost its python-api example"
    return found[1]


def test_the_readme_python_example_crawls_codes_and_fits(
    demo_server: ReplayServer, tmp_path: Path
) -> None:
    env = clean_env(
        **{f"SMCAT_{name.upper()}": demo_server.url for name in BASE_URLS},
        SMCAT_DOWNLOAD_DELAY="0", SMCAT_RETRY_BACKOFF="0", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", readme_example()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("finished {"), lines
    assert re.fullmatch(r"auto:brand_posts@\d+ coded [1-9]\d* posts", lines[1]), lines
    titles = [line.split(" (")[0] for line in lines[2:]]
    assert titles == ["NB2", "Poisson"], lines
    assert (tmp_path / "brands.db").exists() and (tmp_path / "report" / "index.html").exists()
