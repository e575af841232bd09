"""The layers of docs/architecture.md hold: import-linter checks the contracts in
pyproject.toml ([tool.importlinter]) on the installed packages. It runs in a child process:
what other tests imported (Scrapy's zope interfaces among them) must not bear on its graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).parent.parent / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_every_import_contract_is_kept() -> None:
    done = subprocess.run(
        [LINT_IMPORTS, str(PYPROJECT), "--no-cache"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout, done.stdout
