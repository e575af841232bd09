"""What importing the analysis layers loads: the model frame and fitting stay clear of the
tagger's libraries, the crawler and the renderer (each import is checked in a fresh
interpreter, since this one has loaded them all)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# the tagger's segmenters and automaton, the code exchange's spreadsheet reader, Scrapy, and the
# coding and crawler packages themselves
TAGGING_AND_CRAWLING = ("jieba", "rjieba", "daachorse", "openpyxl", "scrapy", "coding", "crawler")


def loaded_by(*modules: str) -> set[str]:
    """The top-level packages in sys.modules after importing `modules` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(run.stdout))


@pytest.mark.parametrize("module", ["analysis.frame", "analysis.effects"])
def test_the_model_frame_and_fitting_load_no_tagger_or_crawler(module: str) -> None:
    assert loaded_by(module) & set(TAGGING_AND_CRAWLING) == set()


def test_fitting_the_suite_loads_no_renderer() -> None:
    loaded = loaded_by("analysis.suite", "analysis.results", "analysis.formatting")
    assert "matplotlib" not in loaded and "jinja2" not in loaded
    assert loaded & set(TAGGING_AND_CRAWLING) == set()
