"""Who coded: the coder names, which kind of coder a name is, and how the coders a command
works on are chosen from those who coded.

Defined once below coding and analysis, which both select coders (so that analysis need not
import the tagger or the sheet exchange to learn the names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from smcat.errors import SettingError, SmcatError

if TYPE_CHECKING:  # the codebook names its machine coder without loading the store
    from smcat.store import Store

DEFAULT_CODEBOOK = "brand_posts"  # the codebook smcat ships, and every command's default
GOLD = "gold"  # the coder name of adjudicated decisions
MACHINE_PREFIX = "auto:"  # machine coders are named auto:<codebook>@<version>
MODEL_PREFIX = "model:"  # trained coders are named model:<codebook>@<version>+<number>
LATEST = "latest"  # what names a codebook's newest trained model


class SeveralMachines(SettingError):
    """More than one machine coder (codebook version) coded where one is wanted; `setting` is
    the parameter that names the one to use."""

    def __init__(self, codebook: str, machines: Sequence[str], setting: str) -> None:
        self.codebook, self.machines = codebook, list(machines)
        super().__init__(
            f"several machine coders coded {codebook} ({', '.join(machines)}): name the one to use",
            **{setting: None},
        )


def machine_name(codebook: str, version: str) -> str:
    """The coder name of the machine's codes under a codebook version."""
    return f"{MACHINE_PREFIX}{codebook}@{version}"


def model_name(codebook: str, version: str, number: int) -> str:
    """The coder name of a codebook's trained model number `number`, trained on codes of
    codebook `version`."""
    return f"{MODEL_PREFIX}{codebook}@{version}+{number}"


def is_machine(coder: str) -> bool:
    """Whether a coder name is a machine coder's: the rules' or a trained model's."""
    return coder.startswith((MACHINE_PREFIX, MODEL_PREFIX))


def is_model(coder: str) -> bool:
    """Whether a coder name is a trained model's."""
    return coder.startswith(MODEL_PREFIX)


def is_person(coder: str) -> bool:
    """Whether a coder name is a person's: neither gold nor a machine."""
    return coder != GOLD and not is_machine(coder)


def machine_coders(store: Store, codebook: str) -> set[str]:
    """The machine coders (one per codebook version, one per trained model) that coded posts
    with the codebook."""
    prefixes = (machine_name(codebook, ""), f"{MODEL_PREFIX}{codebook}@")
    return {c for c in store.coded_post_counts(codebook) if c.startswith(prefixes)}


def choose_model(store: Store, codebook: str, model: str = LATEST) -> str:
    """The trained model a user names: `latest` (the codebook's newest) or its coder name."""
    models = store.model_coders(codebook)
    if not models:
        raise SmcatError(f"no trained model of codebook {codebook}: run `smcat code train`")
    if model == LATEST:
        return models[-1]
    if model not in models:
        raise SmcatError(f"no trained model {model!r} (models: {', '.join(models)}): "
                         "check the name, or use latest")  # fmt: skip
    return model


def people(store: Store, codebook: str) -> list[str]:
    """The people who gave codes with a codebook (not gold, not a machine), sorted."""
    return [coder for coder in store.coders(codebook) if is_person(coder)]


def choose_people(store: Store, codebook: str, chosen: Sequence[str] | None = None) -> list[str]:
    """The coders to compare with each other: those chosen, each checked to have codes, or
    every person who coded; at least two of them."""
    known = store.coders(codebook)
    coders = list(chosen) if chosen else people(store, codebook)
    unknown = [c for c in coders if c not in known]
    if unknown:
        raise SmcatError(
            f"no codes of coder {unknown[0]!r} with codebook {codebook}: coders are "
            f"{', '.join(known) or 'none yet'}"
        )
    if len(coders) < 2:
        raise SmcatError(
            f"this needs two coders of the same posts; codebook {codebook} has "
            f"{', '.join(coders) or 'none'}: have two people code the same posts"
        )
    return coders


def choose_machine(store: Store, codebook: str, machine: str | None = None) -> str:
    """The machine coder to use: the one named (checked, as `resolve_coder` checks), or the
    only one that coded with the codebook (SeveralMachines if there are more)."""
    try:
        return resolve_coder(store, machine or "auto", codebook)
    except SeveralMachines as error:
        raise SeveralMachines(codebook, error.machines, "machine") from None


def resolve_coder(store: Store, codes: str, codebook: str = DEFAULT_CODEBOOK) -> str:
    """The stored coder that a user names: `auto` (the machine coder of the codebook, if one
    version or model coded), `gold`, a person's name, or a full `auto:<codebook>@<version>`
    or `model:<codebook>@<version>+<number>`."""
    coders = set(store.coded_post_counts(codebook))
    if codes == "auto":
        machines = sorted(machine_coders(store, codebook))
        if not machines:
            raise SmcatError(
                f"no machine codes of codebook {codebook} in this database: run `smcat code auto`"
            )
        if len(machines) > 1:
            raise SeveralMachines(codebook, machines, "codes")
        return machines[0]
    if codes not in coders:
        known = ", ".join(sorted(coders)) or "none"
        hint = "import adjudicated decisions first" if codes == GOLD else "check the name"
        raise SmcatError(f"no codes of coder {codes!r} for {codebook} (coders: {known}): {hint}")
    return codes
