"""The public Python API of `import smcat`: every name it lists resolves, lazily."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import smcat


@pytest.mark.parametrize("name", [n for n in smcat.__all__ if n != "__version__"])
def test_every_public_name_resolves_to_what_its_module_defines(name: str) -> None:
    module, attribute = smcat._PUBLIC[name]
    loaded = __import__(module, fromlist=["_"])
    assert getattr(smcat, name) is (getattr(loaded, attribute) if attribute else loaded)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'crawl_everything'"):
        smcat.crawl_everything  # noqa: B018


def test_import_smcat_loads_no_library_until_a_name_is_used() -> None:
    script = (
        "import sys, smcat\n"
        "heavy = ('scrapy', 'jieba', 'pandas', 'statsmodels', 'crawler', 'coding', 'analysis')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "smcat.Store\n"
        "print('pandas' in sys.modules, 'scrapy' in sys.modules)\n"
        "smcat.crawl\n"
        "print('scrapy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split("\n")[:3] == ["[]", "False False", "True"], done.stderr


def test_the_type_checkers_names_are_the_public_names() -> None:
    # smcat/__init__.py states each name twice (lazily, and for type checkers): they must agree
    tree = ast.parse(Path(smcat.__file__).read_text(encoding="utf-8"))
    checking = next(n for n in tree.body if isinstance(n, ast.If))
    typed = {
        alias.asname or alias.name: (node.module or "", alias.name)
        for node in checking.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    public = {
        name: (module, attribute) if attribute else module.rpartition(".")[::2]
        for name, (module, attribute) in smcat._PUBLIC.items()
    }
    assert typed == public
