"""Record-linkage benchmark: `import customers` of three systems and `link people` end to end.

Writes the people fixture's three systems (fixtures/people/make_people.py) for about
`--records` customer records (about 1.87 records a person), imports them (normalising and
hashing every name, phone, email and address) and links them (deterministic rules, splink's
training and scoring on DuckDB, clustering, storing the people), then measures the result
against the truth. Prints the time of each stage, the peak memory of the process (max RSS:
Python, DuckDB and SQLite together) and the pairwise precision, recall and F1.
Run: `python bench/bench_link.py [--records 1000000]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from smcat.imports.customers import import_customers
from smcat.linkage.people import link_people
from smcat.linkage.quality import pairwise_quality
from smcat.linkage.report import read_truth
from smcat.store import RECORD, Store

HERE = Path(__file__).resolve().parent
SALT = "bench-salt-of-sufficient-length"
RECORDS_PER_PERSON = 1.87  # measured on the fixture: 5,615 records of 3,000 people
SYSTEMS = (("tmall", "tmall_customers.csv"), ("app", "app_customers.jsonl"),
           ("crm", "crm_customers.xlsx"))  # fmt: skip


def _generator() -> object:
    path = HERE.parent / "fixtures" / "people" / "make_people.py"
    spec = importlib.util.spec_from_file_location("make_people", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    arguments = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-link-") as temp:
        folder = Path(temp)
        started = time.perf_counter()
        people = round(arguments.records / RECORDS_PER_PERSON)
        _generator().write_people(folder, people, events=False)  # type: ignore[attr-defined]
        print(f"generate {people:,} people: {time.perf_counter() - started:.1f} s")
        db = folder / "bench.db"
        with Store.open(db) as store:
            started = time.perf_counter()
            records = sum(
                import_customers(store, folder / name, system, SALT).stored
                for system, name in SYSTEMS
            )
            took = time.perf_counter() - started
            print(f"import {records:,} records: {took:.1f} s ({records / took:,.0f}/s); "
                  f"peak {_peak_mb():,.0f} MB")  # fmt: skip
            started = time.perf_counter()

            def stage(step: str) -> None:
                print(f"  {time.perf_counter() - started:6.1f} s: {step}", flush=True)

            result = link_people(store, progress=stage)
            took = time.perf_counter() - started
            print(f"link people: {took:.1f} s; {result.people:,} people, "
                  f"{result.review:,} pairs to review; peak {_peak_mb():,.0f} MB")  # fmt: skip
            persons = {(s, r): p for s, k, r, p, _, _ in store.person_links().rows if k == RECORD}
        quality = pairwise_quality(persons, read_truth(folder / "truth.csv"))
        print(f"precision {quality.precision:.4f}, recall {quality.recall:.4f}, "
              f"F1 {quality.f1:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
