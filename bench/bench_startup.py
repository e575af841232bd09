"""Command start-up benchmark: how long `smcat --help`, `smcat --version` and `smcat db info`
take, as a user waits for them (a new process each time, the interpreter's start included).

Each command runs `--runs` times, interleaved, against a small database made with the store;
the figures are medians and the fastest run. `--smcat PATH` times another installation's
`smcat` (e.g. a checkout of an older commit in its own venv) in the same rounds, for a
before-and-after comparison on the same machine state.
Run: `python bench/bench_startup.py [--runs 15] [--smcat OTHER/bin/smcat]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from smcat.store import Store

COMMANDS = (("--help",), ("--version",), ("db", "info", "--db", "{db}"))


def time_command(executable: str, arguments: tuple[str, ...], db: Path) -> float:
    """Seconds one run of the command takes, from process start to exit."""
    argv = [executable, *(a.format(db=db) for a in arguments)]
    started = time.perf_counter()
    # run from the database's folder, so that no checkout in the working folder is imported
    subprocess.run(
        argv, check=True, cwd=db.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--smcat", help="another smcat executable to time in the same rounds")
    options = parser.parse_args()
    executables = {"this": shutil.which("smcat") or "smcat"}
    if options.smcat:
        executables["other"] = options.smcat
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        Store.open(db).close()
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(options.runs):
            for arguments in COMMANDS:
                for label, executable in executables.items():
                    key = (label, " ".join(arguments[:2]))
                    times.setdefault(key, []).append(time_command(executable, arguments, db))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {options.runs} runs each"
    )
    print(f"{'smcat':6s} {'command':12s} {'median (s)':>10s} {'fastest (s)':>11s}")
    for (label, command), seconds in times.items():
        print(f"{label:6s} {command:12s} {statistics.median(seconds):10.3f} {min(seconds):11.3f}")


if __name__ == "__main__":
    main()
