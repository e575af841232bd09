"""A stand-in signer for the tests: it adds a made-up signature and token to the URL, both as a
command (URL on stdin, signed URL on stdout) and as an entry point (tests.douyin_signer:sign).
It signs nothing for real: smcat carries no signer algorithm."""

from __future__ import annotations

import sys

SIGNATURE = "a_bogus=stand-in-signature&msToken=stand-in-token"


def sign(url: str) -> str:
    """The URL with the stand-in signature and token appended."""
    return f"{url}&{SIGNATURE}"


if __name__ == "__main__":
    print(sign(sys.stdin.readline().strip()))
