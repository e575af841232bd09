"""Who coded: the coder names and how a name given by a user resolves to a stored coder.

Defined once below coding and analysis, which both select coders (so that analysis need not
import the tagger or the sheet exchange to learn the names).
"""

from __future__ import annotations

from smcat.errors import SmcatError
from smcat.store import Store

DEFAULT_CODEBOOK = "brand_posts"  # the codebook smcat ships, and every command's default
GOLD = "gold"  # the coder name of adjudicated decisions
MACHINE_PREFIX = "auto:"  # machine coders are named auto:<codebook>@<version>


def machine_coders(store: Store, codebook: str) -> set[str]:
    """The machine coders (one per codebook version) that coded posts with the codebook."""
    prefix = f"{MACHINE_PREFIX}{codebook}@"
    return {c for c in store.coded_post_counts(codebook) if c.startswith(prefix)}


def resolve_coder(store: Store, codes: str, codebook: str = DEFAULT_CODEBOOK) -> str:
    """The stored coder that a user names: `auto` (the machine coder of the codebook, if one
    version coded), `gold`, a person's name, or a full `auto:<codebook>@<version>`."""
    coders = set(store.coded_post_counts(codebook))
    if codes == "auto":
        machines = sorted(machine_coders(store, codebook))
        if not machines:
            raise SmcatError(
                f"no machine codes of codebook {codebook} in this database: run `smcat code auto`"
            )
        if len(machines) > 1:
            raise SmcatError(
                f"several machine coders coded {codebook} ({', '.join(machines)}): "
                "name one with --codes"
            )
        return machines[0]
    if codes not in coders:
        known = ", ".join(sorted(coders)) or "none"
        hint = "import adjudicated decisions first" if codes == GOLD else "check the name"
        raise SmcatError(f"no codes of coder {codes!r} for {codebook} (coders: {known}): {hint}")
    return codes
