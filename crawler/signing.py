"""Pluggable request signing for Douyin's web API, whose signature (a_bogus, X-Bogus) changes
every few months. smcat carries no signer: the `douyin_signer` setting names one.

- "" or "none": requests go out unsigned (Douyin then often answers with an empty body).
- "module:function": a Python function taking the URL and returning the signed URL (it may be
  a coroutine function), imported from the running interpreter's path.
- anything else: a command, split like a shell line, that reads the URL on stdin and prints
  the signed URL on stdout, exiting 0.

A signed URL must keep the scheme, host and path of the URL it signs: a signer adds query
parameters, it does not send the request elsewhere.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import shlex
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from smcat.errors import SmcatError

Sign = Callable[[str], Awaitable[str]]
COMMAND_TIMEOUT = 30.0
_ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class SignerError(SmcatError):
    """A signer that cannot be loaded or did not sign; the message names the fix."""


def load_signer(setting: str) -> Sign | None:
    """The signer the setting names, or None for none; SignerError if it cannot be used."""
    setting = setting.strip()
    if setting.lower() in ("", "none"):
        return None
    if _ENTRY_POINT.match(setting):
        return _entry_point(setting)
    try:
        argv = shlex.split(setting)
    except ValueError as error:
        raise SignerError(
            f"douyin_signer is not a command line ({error}): fix its quoting"
        ) from None
    return _command(argv)


def _entry_point(setting: str) -> Sign:
    module_name, function_name = setting.split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise SignerError(
            f"douyin_signer {setting} cannot be loaded ({error}): install its module or fix the "
            "name (module:function)"
        ) from None
    if not callable(function):
        raise SignerError(f"douyin_signer {setting} is not a function: name a function")

    async def sign(url: str) -> str:
        signed = function(url)
        if inspect.isawaitable(signed):
            signed = await signed
        return _checked(url, signed, setting)

    return sign


def _command(argv: list[str]) -> Sign:
    program = argv[0]

    async def sign(url: str) -> str:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,  # it may echo the URL, tokens and all
            )
        except OSError as error:
            raise SignerError(
                f"douyin_signer command {program} cannot be run ({error.strerror}): fix the path"
            ) from None
        try:
            out, _ = await asyncio.wait_for(
                process.communicate(url.encode("utf-8") + b"\n"), COMMAND_TIMEOUT
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SignerError(
                f"douyin_signer command {program} gave no answer in {COMMAND_TIMEOUT:.0f} s: "
                "fix the command"
            ) from None
        if process.returncode:
            raise SignerError(
                f"douyin_signer command {program} failed (exit {process.returncode}): run it by "
                "hand with a URL on stdin to see why"
            )
        lines = out.decode("utf-8", errors="replace").strip().splitlines()
        return _checked(url, lines[0] if lines else "", program)

    return sign


def _checked(url: str, signed: object, name: str) -> str:
    """The signed URL, if it is one for the same place as `url`."""
    if not isinstance(signed, str) or not signed.strip():
        raise SignerError(f"douyin_signer {name} returned no URL: it must print the signed URL")
    signed = signed.strip()
    before, after = urlsplit(url), urlsplit(signed)
    if (before.scheme, before.netloc, before.path) != (after.scheme, after.netloc, after.path):
        raise SignerError(
            f"douyin_signer {name} changed the address, not just the query: it must only add "
            "parameters"
        )
    return signed
