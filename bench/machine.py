"""The line every benchmark prints first: the machine its figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3


def machine_line() -> str:
    """Architecture, cores, Python and SQLite versions, as BENCHMARKS.md records them."""
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, sqlite {sqlite3.sqlite_version}"
    )
