"""Settings: defaults < `smcat.toml` < `SMCAT_*` environment variables < command-line flags.

`smcat.toml` is read from the current folder (or the file named by `SMCAT_CONFIG`); its keys are
the field names of `Settings`, e.g. `db = "brands.db"`. The environment variable for a field is
its name in capitals with the prefix `SMCAT_`, e.g. `SMCAT_DB`, `SMCAT_DOWNLOAD_DELAY`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

from smcat.errors import SmcatError

CONFIG_FILE = "smcat.toml"
ENV_PREFIX = "SMCAT_"


class ConfigError(SmcatError):
    """A setting that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Everything a command may be configured with; each field documents itself."""

    db: Path = Path("smcat.db")
    """The research project's SQLite file."""
    download_delay: float = 3.0
    """Seconds between requests to one site (politeness; Weibo answers 418 when rushed)."""
    concurrent_requests: int = 1
    """Requests in flight per site."""
    retry_times: int = 3
    """Retries of a failed request (5xx, 418, 429, timeouts) before it is given up."""
    retry_backoff: float = 5.0
    """Seconds to wait before the first retry; each further retry waits twice as long."""
    user_agent: str = (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/124.0 Mobile Safari/537.36"
    )
    """User-Agent header sent to the platforms."""
    weibo_mobile_url: str = "https://m.weibo.cn"
    """Base URL of Weibo's mobile API (tests and the demo point it at the replay server)."""
    weibo_url: str = "https://weibo.com"
    """Base URL of weibo.com's API (used when a Weibo cookie is configured)."""
    weibo_cn_url: str = "https://weibo.cn"
    """Base URL of weibo.cn, Weibo's legacy WAP site (comments with --api wap)."""
    weibo_search_url: str = "https://s.weibo.com"
    """Base URL of Weibo's keyword search (result pages in HTML; needs a Weibo cookie)."""
    weibo_search_split_at: int = 46
    """A search window listing this many result pages is split (days, then hours): Weibo shows
    at most about 50 pages of a query and drops the rest silently."""
    weibo_cookie: str = dataclasses.field(default="", repr=False)
    """The Cookie header of a signed-in weibo.com browser session (SMCAT_WEIBO_COOKIE is the
    usual place). It is sent to Weibo only: never logged, printed or stored."""
    weibo_cookie_file: str = ""
    """A file holding that Cookie header instead (used when weibo_cookie is empty)."""
    weibo_visitor: bool = True
    """Without a cookie, answer Weibo's visitor system with an anonymous visitor cookie (kept in
    memory only) where Weibo serves visitors."""
    douyin_url: str = "https://www.douyin.com"
    """Base URL of Douyin's web API (creators' profiles and posts)."""
    douyin_live_url: str = "https://live.douyin.com"
    """Base URL of Douyin's live rooms (webcast/room/web/enter)."""
    douyin_cookie: str = dataclasses.field(default="", repr=False)
    """The Cookie header of a douyin.com browser session (ttwid, msToken and the like). It is
    sent to Douyin only: never logged, printed or stored."""
    douyin_signer: str = ""
    """What signs Douyin requests: "" or none, a command that reads a URL on stdin and prints it
    signed, or a Python function as module:function (see crawler/signing.py and the README)."""
    browser: str = ""
    """The Chromium that `--browser` crawls drive: a path, or "" for the chromium on PATH
    (Debian's package) and else the browser Playwright installs (`playwright install
    chromium`)."""
    browser_wait: float = 15.0
    """Seconds a `--browser` crawl scrolls a page, with nothing new from Douyin's API, before
    it takes the page to have no more."""
    pseudonym_salt: str = dataclasses.field(default="", repr=False)
    """Secret salt for commenters' pseudonyms (--pseudonymize); keep it out of the database and
    the same for a whole project, so one commenter keeps one pseudonym."""
    log_level: str = "WARNING"
    """Scrapy's log level for crawls: DEBUG, INFO, WARNING or ERROR."""
    cluster_redis: str = dataclasses.field(default="", repr=False)
    """The Redis of a crawl cluster (redis://:PASSWORD@HOST:6379/0, or rediss:// for TLS): set,
    `smcat crawl` puts its crawls into the shared frontier for `smcat worker`s instead of
    crawling. It may hold a password: never logged or printed."""
    cookie_interval: float = 1.0
    """In a cluster: seconds between two requests with one signed-in cookie, whatever worker
    sends them (the cookie pool's rate)."""
    cookie_cooloff: float = 900.0
    """In a cluster: seconds a cookie rests after Weibo answered it 418/432 or a login page."""
    keep_raw: bool = True
    """Keep every response body (gzipped) in raw_responses, so rows can be rebuilt later."""
    user_dicts: tuple[str, ...] = ()
    """User dictionaries (jieba's format: `word [freq] [tag]` a line) of brand and product
    names, added to the segmenter of the machine coder (`code auto`, hot-word matching, the
    trained coder). In smcat.toml a list; in SMCAT_USER_DICTS paths joined by the path separator
    (: on Linux and macOS); `--user-dict FILE` (repeated) replaces them."""


def _field_types() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


# the smallest value that makes sense, where one does not (0 requests at a time hangs a crawl);
# weibo_search_split_at has its own range, checked where the search is planned
_AT_LEAST: dict[str, float] = {
    "concurrent_requests": 1, "retry_times": 0, "download_delay": 0, "retry_backoff": 0,
    "browser_wait": 0,
}  # fmt: skip
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# the settings whose values are never shown: cookies, the salt, the cluster URL with its
# password (repr=False)
_SECRETS = frozenset(f.name for f in dataclasses.fields(Settings) if not f.repr)


def _coerce(name: str, value: Any, kind: type, origin: str) -> Any:
    """The value as its setting's type, checked; a ConfigError naming where it came from (and
    the value, unless it is a secret) if it cannot be used."""
    shown = "(a secret, not shown)" if name in _SECRETS else repr(value)
    try:
        coerced = _typed(value, kind)
    except (TypeError, ValueError):
        what = "list of file paths" if kind == tuple[str, ...] else kind.__name__
        raise ConfigError(
            f"{origin}: {name} = {shown} is not a {what}: give a valid {what}"
        ) from None
    if isinstance(coerced, float) and not math.isfinite(coerced):
        raise ConfigError(f"{origin}: {name} = {shown} must be a finite number")
    least = _AT_LEAST.get(name)
    if least is not None and coerced < least:
        raise ConfigError(f"{origin}: {name} = {shown} must be {least:g} or more")
    if name == "log_level":
        if coerced.upper() not in LOG_LEVELS:
            raise ConfigError(
                f"{origin}: log_level = {shown} is not one of {', '.join(LOG_LEVELS)}"
            )
        return coerced.upper()
    return coerced


def _typed(value: Any, kind: type) -> Any:
    """The value as `kind`; ValueError or TypeError if it is not one."""
    if kind == tuple[str, ...]:  # a list of paths: a TOML list, or one text joined by os.pathsep
        items = value.split(os.pathsep) if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError(value)
        return tuple(item for item in items if item)
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if kind in (int, float) and isinstance(value, bool):
        raise ValueError(value)
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    if kind is str and not isinstance(value, str):
        raise ValueError(value)  # a TOML list or number where text is wanted
    if kind is Path and not isinstance(value, str | os.PathLike):
        raise ValueError(value)
    return kind(value)


def _read_file(path: Path, types: Mapping[str, type]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({error}): fix or remove the file") from None
    unknown = sorted(set(data) - set(types))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}: use one of {', '.join(types)}")
    return {name: _coerce(name, value, types[name], str(path)) for name, value in data.items()}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings in force: flags (None means not given) beat environment beat file."""
    environ = os.environ if environ is None else environ
    types = _field_types()
    values: dict[str, Any] = {}
    config_path = Path(environ.get(f"{ENV_PREFIX}CONFIG") or (cwd or Path.cwd()) / CONFIG_FILE)
    if config_path.exists():
        values.update(_read_file(config_path, types))
    elif f"{ENV_PREFIX}CONFIG" in environ:
        raise ConfigError(f"SMCAT_CONFIG names {config_path}, which does not exist: fix the path")
    for name, kind in types.items():
        variable = f"{ENV_PREFIX}{name.upper()}"
        if variable in environ:
            values[name] = _coerce(name, environ[variable], kind, variable)
    for name, value in (flags or {}).items():
        if name not in types:
            raise ConfigError(f"unknown setting {name!r}: use one of {', '.join(types)}")
        if value is not None:
            values[name] = _coerce(name, value, types[name], f"--{name.replace('_', '-')}")
    return Settings(**values)
