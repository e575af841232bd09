"""Simulated people for the event models and labels: fixtures/people/make_events.py's
behaviour model over members of their own (or of the commerce fixture's customers), stored
with their links, and the truth kept apart."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve

from smcat.store import DEVICE, RECORD, PersonLink, Store
from tests.conftest import FIXTURES

START = datetime(2025, 1, 1, tzinfo=UTC)
END = START + timedelta(days=280)  # 20 blocks of the simulator


def simulator() -> ModuleType:
    """fixtures/people/make_events.py as a module (the fixtures are no package)."""
    path = FIXTURES / "people" / "make_events.py"
    spec = importlib.util.spec_from_file_location("make_events", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def people_maker() -> ModuleType:
    """fixtures/people/make_people.py (the three-system fixture) as a module."""
    path = FIXTURES / "people" / "make_people.py"
    spec = importlib.util.spec_from_file_location("make_people", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def links_of(members: Sequence[tuple[str, str, str, Sequence[str]]]) -> list[PersonLink]:
    """Every member's record and devices linked to its person, as a perfect linkage would."""
    links = []
    for person, system, record_id, devices in members:
        links.append(PersonLink(system, RECORD, record_id, person, 1.0, "truth"))
        links += [PersonLink(system, DEVICE, d, person, 1.0, "truth") for d in devices]
    return links


def simulated_stores(folder: Path, people: int, *, seed: int = 20261205):
    """Two stores of the simulated events of `people` simple members: unlinked.db without
    people, linked.db with every member linked to its person; and the truth."""
    make = simulator()
    members = make.simple_members(people)
    events, truth = make.simulate_events(members, seed, START, END)
    with Store.open(folder / "unlinked.db") as store:
        store.upsert_events(events)
    shutil.copyfile(folder / "unlinked.db", folder / "linked.db")
    with Store.open(folder / "linked.db") as store:
        store.replace_people(links_of(members))
    return truth


def end() -> pd.Timestamp:
    return pd.Timestamp(END)


def reliability_gap(y: np.ndarray, scores: np.ndarray) -> float:
    """How far the reliability curve (10 quantile bins, as the models draw it) strays from
    the diagonal: the mean absolute gap of observed and predicted rates."""
    observed, predicted = calibration_curve(y, scores, n_bins=10, strategy="quantile")
    return float(np.abs(observed - predicted).mean())
