"""Pseudonyms for people who are not the study's subjects (commenters): a keyed hash of their
account id, stable within a project (same salt), not reversible without the salt."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection

from crawler.parsers.common import MENTION
from smcat.errors import SmcatError

MIN_SALT_LENGTH = 16
PREFIX = "p:"  # every pseudonym starts so; no platform's account id does


class Pseudonymizer:
    """Replaces account ids with HMAC-SHA256 pseudonyms under a project's secret salt."""

    def __init__(self, salt: str) -> None:
        if len(salt) < MIN_SALT_LENGTH:
            raise SmcatError(
                f"pseudonyms need a secret salt of at least {MIN_SALT_LENGTH} characters: "
                "set SMCAT_PSEUDONYM_SALT or pseudonym_salt in smcat.toml (keep it out of the "
                "database, and keep it the same for the whole project)"
            )
        self._key = salt.encode("utf-8")

    def pseudonym(self, account_id: str | None) -> str | None:
        """The pseudonym of an account id ("p:" and 20 hex digits); None stays None."""
        if account_id is None:
            return None
        digest = hmac.new(self._key, str(account_id).encode("utf-8"), hashlib.sha256)
        return PREFIX + digest.hexdigest()[:20]

    def in_text(self, text: str | None, keep: Collection[str] = ()) -> str | None:
        """The text with each @mentioned name replaced by the name's pseudonym (keyed apart
        from account ids: a name and an id of one person get different pseudonyms), but for
        the names in `keep` (the study's own accounts)."""
        if not text:
            return text

        def hidden(found: re.Match[str]) -> str:
            name = found[1]
            return found[0] if name in keep else f"@{self.pseudonym('name:' + name)}"

        return MENTION.sub(hidden, text)
