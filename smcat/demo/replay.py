"""A loopback HTTP server that replays fixture files, so spiders can be tested with no network.

Routes are declared in TOML manifests (see `load_manifest`). Each request is matched to the most
specific route by method, path and query parameters, answered with that route's canned reply
(any status and headers, a delay, a truncated or gzipped body) and recorded as a `Hit`:

    with ReplayServer("fixtures/demo.toml") as server:
        run_spider(base_url=server.url)
        assert server.hit_count("weibo-profile-5001000001") == 1

`python -m smcat.demo.replay MANIFEST... [--port N]` serves the same in the foreground; another
process can read what was hit from `GET /__replay__/hits`.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import ipaddress
import json
import socket
import socketserver
import sys
import threading
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = ["Hit", "ManifestError", "ReplayServer", "Reply", "Route", "load_manifest", "main"]

HITS_PATH = "/__replay__/hits"
METHODS = ("GET", "HEAD", "POST")
TRUNCATE_MODES = ("clean", "dataloss")
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
CONTENT_TYPES = {
    ".json": JSON_TYPE,
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
MANIFEST_KEYS = frozenset({"include", "route"})
REPLY_KEYS = frozenset(
    {
        "status",
        "body",
        "body_file",
        "headers",
        "content_type",
        "delay",
        "truncate",
        "truncate_mode",
        "gzip",
    }
)
ROUTE_KEYS = frozenset({"name", "method", "path", "query", "responses"}) | REPLY_KEYS
SERVER_SET_HEADERS = {
    "content-type": "content_type",
    "content-length": "truncate",
    "content-encoding": "gzip",
}
NO_ROUTE_HINT = "add a [[route]] to the manifest"
# serve_forever() only notices shutdown() when it polls; the default 0.5 s would slow every stop()
POLL_INTERVAL = 0.05


class ManifestError(ValueError):
    """A manifest that cannot be served; the one-line message names file, route and fix."""


@dataclass(frozen=True)
class Reply:
    """One canned response. `body` is as sent on the wire: already gzipped, not yet truncated."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    truncate: int | None = None
    truncate_mode: str = "clean"
    gzip: bool = False


@dataclass(frozen=True)
class Route:
    """A manifest route: the requests it matches and its replies, hit by hit."""

    name: str
    method: str
    path: str
    query: dict[str, str]
    replies: tuple[Reply, ...]
    manifest: Path

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        """Whether this route serves the request; GET routes also serve HEAD."""
        methods = (method, "GET") if method == "HEAD" else (method,)
        return self.method in methods and self.path == path and self.query.items() <= query.items()

    def reply(self, nth: int) -> Reply:
        """The reply to the nth hit (0-based); once the replies run out the last one repeats."""
        return self.replies[min(nth, len(self.replies) - 1)]


@dataclass(frozen=True)
class Hit:
    """A request the server received, the route that served it (None: no route) and the status."""

    method: str
    path: str
    query: dict[str, str]
    route: str | None
    status: int
    time: float
    cookie: str | None = None
    """The Cookie header the request carried: tests check what a crawl sends (the server only
    ever sees the stand-in cookies of tests, on 127.0.0.1)."""


# --- manifest loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """Where in a manifest something is, to start error messages with."""

    manifest: Path
    label: str = ""

    def within(self, label: str) -> _Place:
        return _Place(self.manifest, f"{self.label} {label}".strip())

    def error(self, problem: str) -> ManifestError:
        where = f"{self.manifest}: {self.label}" if self.label else str(self.manifest)
        return ManifestError(f"{where}: {problem}")


def load_manifest(*paths: str | Path) -> list[Route]:
    """Load and validate the routes of one or more manifests and everything they include.

    Body files are read now, so a broken fixture fails at load time. A manifest named or included
    more than once is loaded once; its own routes come before those of its includes. Raises
    `ManifestError` for any problem.
    """
    if not paths:
        raise ValueError("load_manifest needs at least one manifest path")
    loader = _Loader()
    for path in paths:
        loader.load(Path(path))
    return loader.routes


class _Loader:
    """Reads manifests depth-first through their includes, sharing one cache of body files."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._loaded: set[Path] = set()
        self._bodies: dict[Path, bytes] = {}
        self._names: dict[str, Path] = {}

    def load(self, path: Path, chain: tuple[Path, ...] = (), parent: Path | None = None) -> None:
        key = path.resolve()
        if key in chain:
            cycle = " -> ".join(p.name for p in (*chain[chain.index(key) :], key))
            raise _Place(parent or path).error(
                f"include cycle {cycle}; remove one of these includes"
            )
        if key in self._loaded:
            return
        self._loaded.add(key)
        place = _Place(path)
        data = _read_toml(path, parent)
        _check_keys(data, MANIFEST_KEYS, place)
        routes = _typed(data, "route", (list,), "an array of [[route]] tables", place, [])
        for index, raw in enumerate(routes, 1):
            self._add(raw, index, place)
        includes = _typed(data, "include", (list,), "an array of manifest paths", place, [])
        for name in includes:
            if not isinstance(name, str):
                raise place.error(f"include entries must be path strings, not {name!r}")
            self.load(path.parent / name, (*chain, key), path)

    def _add(self, raw: Any, index: int, place: _Place) -> None:
        place = place.within(_route_label(raw, index))
        route = _parse_route(raw, place, self._bodies)
        if route.name in self._names:
            raise place.error(
                f"route name {route.name!r} is already used in {self._names[route.name]}; "
                "give each route a unique name"
            )
        self._names[route.name] = route.manifest
        self.routes.append(route)


def _read_toml(path: Path, parent: Path | None) -> dict[str, Any]:
    if not path.is_file():
        if parent is None:
            raise ManifestError(f"{path}: manifest not found")
        raise _Place(parent).error(
            f"included manifest {path} not found; include paths are relative to this manifest"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _Place(path).error(f"not valid TOML: {exc}") from exc


def _route_label(raw: Any, index: int) -> str:
    label = f"[[route]] #{index}"
    if isinstance(raw, dict):
        for key in ("name", "path"):
            if isinstance(raw.get(key), str):
                return f"{label} {raw[key]!r}"
    return label


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], place: _Place) -> None:
    unknown = sorted(table.keys() - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        fix = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(sorted(allowed))}"
        raise place.error(f"unknown key {unknown[0]!r}; {fix}")


def _typed(
    table: Mapping[str, Any],
    key: str,
    kinds: tuple[type, ...],
    expected: str,
    place: _Place,
    default: Any = None,
) -> Any:
    """Return table[key], or `default` if absent; raise if it is not one of `kinds`."""
    if key not in table:
        return default
    value = table[key]
    # bool is an int subclass, and `status = true` must not pass as status 1
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise place.error(f"{key} must be {expected}, not {type(value).__name__} {value!r:.60}")
    return value


def _parse_route(raw: Any, place: _Place, bodies: dict[Path, bytes]) -> Route:
    if not isinstance(raw, dict):
        raise place.error("must be a table; write it as [[route]] followed by keys")
    _check_keys(raw, ROUTE_KEYS, place)
    method = _typed(raw, "method", (str,), "a string", place, "GET").upper()
    if method not in METHODS:
        raise place.error(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    path = _parse_path(raw, place)
    query = _parse_query(raw, place)
    default_name = f"{method} {path}" + (f"?{urlencode(query)}" if query else "")
    return Route(
        name=_typed(raw, "name", (str,), "a string", place, default_name),
        method=method,
        path=path,
        query=query,
        replies=_parse_replies(raw, place, bodies),
        manifest=place.manifest,
    )


def _parse_path(raw: Mapping[str, Any], place: _Place) -> str:
    path = _typed(raw, "path", (str,), "a string", place)
    if path is None:
        raise place.error('missing path; add path = "/..."')
    if not path.startswith("/"):
        raise place.error(f"path must start with '/', not {path!r}")
    if "?" in path:
        raise place.error("path must not contain '?'; put the parameters in query = { ... }")
    if path == HITS_PATH:
        raise place.error(f"path {HITS_PATH} is reserved for the hit log; use another path")
    return path


def _parse_query(raw: Mapping[str, Any], place: _Place) -> dict[str, str]:
    query = _typed(raw, "query", (dict,), "a table of parameter names to values", place, {})
    for name, value in query.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise place.error(f"query value of {name!r} must be a string or integer, not {value!r}")
    return {name: str(value) for name, value in query.items()}


def _parse_replies(
    raw: Mapping[str, Any], place: _Place, bodies: dict[Path, bytes]
) -> tuple[Reply, ...]:
    if "responses" not in raw:
        return (_parse_reply(raw, place, bodies),)
    inline = sorted(REPLY_KEYS & raw.keys())
    if inline:
        raise place.error(
            f"has both responses and {', '.join(inline)}; move those keys into each responses entry"
        )
    entries = _typed(raw, "responses", (list,), "an array of tables", place)
    if not entries:
        raise place.error("responses is empty; give at least one { status = ..., ... } entry")
    replies = []
    for nth, entry in enumerate(entries):
        entry_place = place.within(f"responses[{nth}]")
        if not isinstance(entry, dict):
            raise entry_place.error("must be a table like { status = 200, body = '...' }")
        _check_keys(entry, REPLY_KEYS, entry_place)
        replies.append(_parse_reply(entry, entry_place, bodies))
    return tuple(replies)


def _parse_reply(table: Mapping[str, Any], place: _Place, bodies: dict[Path, bytes]) -> Reply:
    status = _typed(table, "status", (int,), "an integer such as 200", place, 200)
    if not 200 <= status <= 599:
        raise place.error(f"status must be from 200 to 599, not {status}")
    body, guessed_type = _parse_body(table, place, bodies)
    delay = _typed(table, "delay", (int, float), "a number of seconds", place, 0)
    if delay < 0:
        raise place.error(f"delay must be 0 or more seconds, not {delay}")
    use_gzip = _typed(table, "gzip", (bool,), "true or false", place, False)
    if use_gzip:
        # mtime=0 keeps the bytes identical from run to run
        body = gzip.compress(body, mtime=0)
    truncate, truncate_mode = _parse_truncation(table, len(body), place)
    return Reply(
        status=status,
        body=body,
        content_type=_typed(table, "content_type", (str,), "a string", place, guessed_type),
        headers=_parse_headers(table, place),
        delay=float(delay),
        truncate=truncate,
        truncate_mode=truncate_mode,
        gzip=use_gzip,
    )


def _parse_body(
    table: Mapping[str, Any], place: _Place, bodies: dict[Path, bytes]
) -> tuple[bytes, str]:
    """The body bytes and the content type its source suggests."""
    if "body" in table and "body_file" in table:
        raise place.error("has both body and body_file; keep one")
    text = _typed(table, "body", (str,), "a string", place)
    if text is not None:
        return text.encode("utf-8"), TEXT_TYPE
    name = _typed(table, "body_file", (str,), "a path string", place)
    if name is None:
        return b"", TEXT_TYPE
    file = (place.manifest.parent / name).resolve()
    if file not in bodies:
        if not file.is_file():
            raise place.error(
                f"body_file {name!r} not found at {file}; "
                "body_file paths are relative to the manifest's directory"
            )
        bodies[file] = file.read_bytes()
    return bodies[file], CONTENT_TYPES.get(file.suffix.lower(), TEXT_TYPE)


def _parse_truncation(
    table: Mapping[str, Any], body_length: int, place: _Place
) -> tuple[int | None, str]:
    truncate = _typed(table, "truncate", (int,), "a number of bytes", place)
    mode = _typed(table, "truncate_mode", (str,), "a string", place, "clean")
    if mode not in TRUNCATE_MODES:
        raise place.error(f"truncate_mode must be 'clean' or 'dataloss', not {mode!r}")
    if truncate is None:
        if "truncate_mode" in table:
            raise place.error("truncate_mode has no effect without truncate; add truncate = N")
        return None, mode
    if not 0 <= truncate < body_length:
        raise place.error(
            f"truncate must be from 0 to {body_length - 1} (the body has {body_length} bytes"
            f"{' gzipped' if table.get('gzip') else ''}), not {truncate}"
        )
    return truncate, mode


def _parse_headers(table: Mapping[str, Any], place: _Place) -> tuple[tuple[str, str], ...]:
    headers = _typed(table, "headers", (dict,), "a table of header names to values", place, {})
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if name.lower() in SERVER_SET_HEADERS:
            raise place.error(
                f"headers must not set {name}; use {SERVER_SET_HEADERS[name.lower()]} instead"
            )
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise place.error(f"header {name!r} must be a string or a list of strings")
        pairs.extend((name, v) for v in values)
    return tuple(pairs)


# --- serving ----------------------------------------------------------------------------------


class _Router:
    """Picks the route and reply for each request and records the hits; shared by all threads."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._hits_per_route: dict[str, int] = {}

    def dispatch(
        self, method: str, path: str, query_string: str, cookie: str | None = None
    ) -> Reply:
        arrived = time.time()
        query = _first_values(query_string)
        route = _best_route(self.routes, method, path, query)
        with self._lock:
            if route is None:
                reply = _no_route_reply(method, path, query_string)
            else:
                nth = self._hits_per_route.get(route.name, 0)
                self._hits_per_route[route.name] = nth + 1
                reply = route.reply(nth)
            name = route.name if route else None
            self._hits.append(Hit(method, path, query, name, reply.status, arrived, cookie))
        return reply

    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._hits_per_route.clear()


def _first_values(query_string: str) -> dict[str, str]:
    """Decoded query parameters; a repeated parameter keeps its first value."""
    return {
        name: values[0] for name, values in parse_qs(query_string, keep_blank_values=True).items()
    }


def _best_route(
    routes: Sequence[Route], method: str, path: str, query: Mapping[str, str]
) -> Route | None:
    candidates = [route for route in routes if route.matches(method, path, query)]
    # most query parameters wins, then a HEAD route over a GET one; max() keeps the first of equals
    return max(candidates, key=lambda r: (len(r.query), r.method == method), default=None)


def _json_reply(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), JSON_TYPE)


def _no_route_reply(method: str, path: str, query_string: str) -> Reply:
    target = f"{path}?{query_string}" if query_string else path
    return _json_reply(
        404, {"replay_error": f"no route for {method} {target}", "hint": NO_ROUTE_HINT}
    )


class _Handler(BaseHTTPRequestHandler):
    """Answers each request with the reply the router picks."""

    server: _HTTPServer
    # keep-alive like real sites, which is also what makes a mid-body close ("dataloss") visible
    protocol_version = "HTTP/1.1"
    server_version = "smcat-replay"

    def _serve(self) -> None:
        self._skip_request_body()
        url = urlsplit(self.path)
        if self.command == "GET" and url.path == HITS_PATH:
            self._send(_json_reply(200, [asdict(hit) for hit in self.server.router.hits()]))
        else:
            cookie = self.headers.get("Cookie")
            self._send(self.server.router.dispatch(self.command, url.path, url.query, cookie))

    do_GET = _serve
    do_HEAD = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request log on stderr."""

    def _skip_request_body(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # a chunked body is not parsed, so the connection cannot be reused after it
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        sent = reply.body[: reply.truncate]
        dataloss = reply.truncate_mode == "dataloss"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body) if dataloss else len(sent)))
        if reply.gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(sent)
        if dataloss:
            self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the router for its handlers."""

    def __init__(self, address: tuple[str, int], router: _Router) -> None:
        self.router = router
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall for seconds
        socketserver.TCPServer.server_bind(self)
        host, self.server_port = self.server_address[:2]
        self.server_name = host if isinstance(host, str) else bytes(host).decode()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that give up mid-reply (say a download timeout during `delay`) are expected
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


def _check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"replay server binds to loopback only (127.0.0.0/8, localhost, ::1), not {host!r}"
        )


class ReplayServer:
    """Serves manifest routes on a loopback port from a daemon thread, recording every hit.

    Manifests are loaded (and `ManifestError` raised) on construction; the socket is bound by
    `start()`, so `url` is known only once started. Use it as a context manager to start and stop.
    """

    def __init__(self, *manifests: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        _check_loopback(host)
        self._host = host
        self._port = port
        self._router = _Router(load_manifest(*manifests))
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> ReplayServer:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("replay server is already running")
        server_class = _HTTPServer6 if ":" in self._host else _HTTPServer
        self._httpd = server_class((self._host, self._port), self._router)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"replay-server-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; does nothing if not running."""
        if self._httpd is None or self._thread is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    @property
    def url(self) -> str:
        """Base URL, like "http://127.0.0.1:54321" (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("replay server is not running; call start() first")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._httpd.server_address[1]}"

    @property
    def routes(self) -> tuple[Route, ...]:
        """All routes, in matching order."""
        return self._router.routes

    @property
    def hits(self) -> list[Hit]:
        """A copy of the recorded hits, in arrival order."""
        return self._router.hits()

    @property
    def unmatched(self) -> list[Hit]:
        """The hits no route matched (they got a 404)."""
        return [hit for hit in self.hits if hit.route is None]

    def hit_count(self, name: str) -> int:
        """How many times the route called `name` was hit; KeyError if there is no such route."""
        if not any(route.name == name for route in self.routes):
            raise KeyError(f"no route named {name!r}")
        return sum(hit.route == name for hit in self.hits)

    def reset_hits(self) -> None:
        """Forget the recorded hits and restart every route's response sequence."""
        self._router.reset()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: serve manifests in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m smcat.demo.replay",
        description="Serve fixture files by route on 127.0.0.1 for offline spider tests.",
    )
    parser.add_argument("manifests", nargs="+", type=Path, metavar="MANIFEST")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any)")
    args = parser.parse_args(argv)
    try:
        server = ReplayServer(*args.manifests, port=args.port).start()
    except (ManifestError, OSError) as exc:
        parser.error(str(exc))
    try:
        # flush so that a parent process reading a pipe learns the URL at once
        print(f"replay server on {server.url} ({len(server.routes)} routes)", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
