"""Tests for smcat.demo.replay: a real loopback server driven with http.client."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smcat.demo.replay import Hit, ManifestError, ReplayServer, load_manifest

ROOT = Path(__file__).resolve().parents[1]

Serve = Callable[..., ReplayServer]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start a server on a manifest written to tmp_path, plus any body files; stop it after."""
    servers: list[ReplayServer] = []

    def start(manifest: str, files: dict[str, str] | None = None) -> ReplayServer:
        for name, text in (files or {}).items():
            write(tmp_path / name, text)
        servers.append(ReplayServer(write(tmp_path / "replay.toml", manifest)).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def request(
    server: ReplayServer, target: str, method: str = "GET", body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send one request on a fresh connection; http.client follows no redirects."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def body_of(server: ReplayServer, target: str) -> bytes:
    return request(server, target)[2]


# --- routing ----------------------------------------------------------------------------------


def test_most_specific_query_wins_and_extra_params_are_ignored(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/api"
        body = "any"
        [[route]]
        path = "/api"
        query = { containerid = "1" }
        body = "c1"
        [[route]]
        path = "/api"
        query = { containerid = "1", page = 2 }
        body = "c1-p2"
        [[route]]
        path = "/search"
        query = { q = "品牌 a&b" }
        body = "decoded"
        """
    )
    assert body_of(server, "/api") == b"any"
    assert body_of(server, "/api?containerid=2") == b"any"
    assert body_of(server, "/api?containerid=1&extra=x") == b"c1"
    assert body_of(server, "/api?page=2&containerid=1&extra=x") == b"c1-p2"
    assert body_of(server, "/api?containerid=1&page=3") == b"c1"
    assert body_of(server, "/search?q=%E5%93%81%E7%89%8C+a%26b") == b"decoded"
    assert request(server, "/api/other")[0] == 404


def test_equally_specific_routes_go_to_the_first_declared(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/x"
        query = { a = "1" }
        body = "first"
        [[route]]
        path = "/x"
        query = { b = "1" }
        body = "second"
        """
    )
    assert body_of(server, "/x?b=1&a=1") == b"first"
    assert body_of(server, "/x?b=1") == b"second"


def test_method_is_case_insensitive_and_get_routes_serve_head(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        method = "post"
        path = "/login"
        body = "posted"
        [[route]]
        path = "/page"
        body = "twelve bytes"
        """
    )
    assert request(server, "/login", "POST", b"user=a&pass=b")[::2] == (200, b"posted")
    assert request(server, "/login")[0] == 404
    status, headers, body = request(server, "/page", "HEAD")
    assert (status, headers["Content-Length"], body) == (200, "12", b"")


def test_a_head_route_beats_a_get_route_for_head(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/page"
        [[route]]
        name = "head"
        method = "HEAD"
        path = "/page"
        status = 405
        """
    )
    assert request(server, "/page", "HEAD")[0] == 405
    assert request(server, "/page")[0] == 200
    assert [hit.route for hit in server.hits] == ["head", "GET /page"]


def test_post_body_is_consumed_so_keep_alive_works(serve: Serve) -> None:
    server = serve('[[route]]\nmethod = "POST"\npath = "/p"\nbody = "ok"\n')
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        for _ in range(2):
            connection.request("POST", "/p", body=b"x" * 1000)
            assert connection.getresponse().read() == b"ok"
    finally:
        connection.close()


# --- replies ----------------------------------------------------------------------------------


def test_redirect_is_sent_not_followed(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/old"
        status = 302
        headers = { Location = "/new" }
        """
    )
    status, headers, body = request(server, "/old")
    assert (status, headers["Location"], body) == (302, "/new", b"")


def test_header_list_is_sent_once_per_value(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/login"
        headers = { "Set-Cookie" = ["SUB=abc; Path=/", "SUBP=def; Path=/"], "X-One" = "1" }
        """
    )
    _, headers, _ = request(server, "/login")
    assert headers.get_all("Set-Cookie") == ["SUB=abc; Path=/", "SUBP=def; Path=/"]
    assert headers.get_all("X-One") == ["1"]


@pytest.mark.parametrize(
    ("route", "content_type"),
    [
        ('body_file = "b.json"', "application/json; charset=utf-8"),
        ('body_file = "b.html"', "text/html; charset=utf-8"),
        ('body_file = "b.HTM"', "text/html; charset=utf-8"),
        ('body_file = "b.txt"', "text/plain; charset=utf-8"),
        ('body = "{}"', "text/plain; charset=utf-8"),
        ('body_file = "b.json"\ncontent_type = "text/javascript"', "text/javascript"),
    ],
)
def test_content_type_follows_body_file_suffix_unless_given(
    serve: Serve, route: str, content_type: str
) -> None:
    files = {name: "{}" for name in ("b.json", "b.html", "b.HTM", "b.txt")}
    server = serve(f'[[route]]\npath = "/b"\n{route}\n', files)
    assert request(server, "/b")[1]["Content-Type"] == content_type


def test_inline_file_and_empty_bodies(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        path = "/file"
        body_file = "weibo/profile.json"
        [[route]]
        path = "/inline"
        body = "微博 inline"
        [[route]]
        path = "/empty"
        """,
        {"weibo/profile.json": '{"screen_name": "品牌"}'},
    )
    assert json.loads(body_of(server, "/file")) == {"screen_name": "品牌"}
    assert body_of(server, "/inline").decode("utf-8") == "微博 inline"
    status, headers, body = request(server, "/empty")
    assert (status, headers["Content-Length"], body) == (200, "0", b"")


def test_delay_holds_the_reply_back(serve: Serve) -> None:
    server = serve('[[route]]\npath = "/slow"\ndelay = 0.3\nbody = "late"\n')
    started = time.monotonic()
    assert body_of(server, "/slow") == b"late"
    assert time.monotonic() - started >= 0.3


def test_clean_truncation_gives_a_short_complete_response(serve: Serve) -> None:
    server = serve(
        '[[route]]\npath = "/t"\nbody_file = "long.json"\ntruncate = 10\n',
        {"long.json": json.dumps({"data": list(range(50))})},
    )
    status, headers, body = request(server, "/t")
    assert (status, headers["Content-Length"], len(body)) == (200, "10", 10)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_dataloss_truncation_breaks_the_download(serve: Serve) -> None:
    payload = json.dumps({"data": list(range(50))})
    server = serve(
        f"[[route]]\npath = '/t'\nbody = '{payload}'\ntruncate = 10\ntruncate_mode = 'dataloss'\n"
    )
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", "/t")
        response = connection.getresponse()
        assert response.headers["Content-Length"] == str(len(payload))
        with pytest.raises(http.client.IncompleteRead) as broken:
            response.read()
        assert broken.value.partial == payload[:10].encode()
    finally:
        connection.close()


def test_gzip_compresses_the_body(serve: Serve) -> None:
    server = serve('[[route]]\npath = "/z"\nbody = "品牌 brand"\ngzip = true\n')
    _, headers, body = request(server, "/z")
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Length"] == str(len(body))
    assert gzip.decompress(body).decode("utf-8") == "品牌 brand"


def test_sequence_repeats_its_last_reply_and_restarts_on_reset(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        name = "flaky"
        path = "/flaky"
        responses = [ { status = 418, body = "teapot" }, { status = 200, body = '{"ok":1}' } ]
        """
    )
    replies = [request(server, "/flaky")[::2] for _ in range(3)]
    assert replies == [(418, b"teapot"), (200, b'{"ok":1}'), (200, b'{"ok":1}')]
    assert server.hit_count("flaky") == 3
    server.reset_hits()
    assert (server.hits, server.hit_count("flaky")) == ([], 0)
    assert request(server, "/flaky")[0] == 418


def test_no_route_is_a_404_with_a_hint(serve: Serve) -> None:
    server = serve('[[route]]\npath = "/known"\n')
    status, headers, body = request(server, "/x?y=1")
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {
        "replay_error": "no route for GET /x?y=1",
        "hint": "add a [[route]] to the manifest",
    }
    [hit] = server.unmatched
    assert hit == Hit("GET", "/x", {"y": "1"}, None, 404, hit.time)


# --- hit recording ----------------------------------------------------------------------------


def test_hits_are_recorded_in_order_with_names_and_counts(serve: Serve) -> None:
    server = serve(
        """
        [[route]]
        name = "profile"
        path = "/api/container/getIndex"
        query = { containerid = "1005055001000001" }
        body = "{}"
        [[route]]
        path = "/gone"
        status = 410
        """
    )
    before = time.time()
    request(server, "/api/container/getIndex?containerid=1005055001000001&page=2")
    request(server, "/gone")
    request(server, "/api/container/getIndex?containerid=1005055001000001")
    request(server, "/nowhere", "POST", b"a=1")
    assert [(hit.route, hit.status) for hit in server.hits] == [
        ("profile", 200),
        ("GET /gone", 410),
        ("profile", 200),
        (None, 404),
    ]
    first = server.hits[0]
    assert first.query == {"containerid": "1005055001000001", "page": "2"}
    assert before <= first.time <= time.time()
    assert (server.hit_count("profile"), server.hit_count("GET /gone")) == (2, 1)
    assert [(hit.method, hit.path) for hit in server.unmatched] == [("POST", "/nowhere")]
    with pytest.raises(KeyError, match="no route named 'prof'"):
        server.hit_count("prof")


def test_hits_endpoint_serves_the_log_as_json_and_is_not_recorded(serve: Serve) -> None:
    server = serve('[[route]]\nname = "a"\npath = "/a"\n')
    request(server, "/a?x=1")
    request(server, "/b")
    with urllib.request.urlopen(f"{server.url}/__replay__/hits", timeout=5) as response:
        logged = json.load(response)
    assert logged == [asdict(hit) for hit in server.hits]
    assert [entry["route"] for entry in logged] == ["a", None]
    assert len(server.hits) == 2


def test_hits_is_a_copy(serve: Serve) -> None:
    server = serve('[[route]]\npath = "/a"\n')
    request(server, "/a")
    server.hits.clear()
    assert [hit.path for hit in server.hits] == ["/a"]
    assert isinstance(server.hits[0], Hit)


# --- server lifecycle -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com", "::", ""])
def test_only_loopback_hosts_are_allowed(tmp_path: Path, host: str) -> None:
    manifest = write(tmp_path / "m.toml", '[[route]]\npath = "/"\n')
    with pytest.raises(ValueError, match="replay server binds to loopback only"):
        ReplayServer(manifest, host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost"])
def test_loopback_hosts_serve(tmp_path: Path, host: str) -> None:
    manifest = write(tmp_path / "m.toml", '[[route]]\npath = "/"\nbody = "hi"\n')
    with ReplayServer(manifest, host=host) as server:
        assert server.url.startswith(f"http://{host}:")
        assert body_of(server, "/") == b"hi"


def test_ipv6_loopback_is_accepted(tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.toml", '[[route]]\npath = "/"\n')
    ReplayServer(manifest, host="::1")


def test_context_manager_stops_the_server(tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.toml", '[[route]]\npath = "/"\n')
    with ReplayServer(str(manifest)) as server:
        url = server.url
        assert urllib.request.urlopen(url, timeout=5).status == 200
    with pytest.raises(RuntimeError, match="not running"):
        server.url  # noqa: B018
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=1)


def test_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.toml", '[[route]]\nname = "home"\npath = "/"\nbody = "hi"\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "smcat.demo.replay", str(manifest), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        # a child keeps an ignored SIGINT (pytest run as a background job): Ctrl-C as in a shell
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("replay server on http://127.0.0.1:")
        assert line.rstrip().endswith("(1 routes)")
        url = line.split()[3]
        assert urllib.request.urlopen(url, timeout=5).read() == b"hi"
        with urllib.request.urlopen(f"{url}/__replay__/hits", timeout=5) as response:
            assert [hit["route"] for hit in json.load(response)] == ["home"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0


# --- manifests --------------------------------------------------------------------------------


def test_includes_are_relative_and_loaded_once(tmp_path: Path) -> None:
    write(tmp_path / "weibo" / "bodies" / "p.json", "{}")
    write(tmp_path / "weibo" / "more.toml", '[[route]]\npath = "/p"\nbody_file = "bodies/p.json"\n')
    write(tmp_path / "shared.toml", 'include = ["weibo/more.toml"]\n[[route]]\npath = "/s"\n')
    main = write(
        tmp_path / "main.toml",
        'include = ["shared.toml", "weibo/more.toml"]\n[[route]]\npath = "/m"\n',
    )
    routes = load_manifest(main, tmp_path / "shared.toml")
    assert [route.name for route in routes] == ["GET /m", "GET /s", "GET /p"]
    assert routes[2].replies[0].body == b"{}"
    assert routes[2].manifest == tmp_path / "weibo" / "more.toml"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('[[route]]\npath = "/a"\nstauts = 200\n', "unknown key 'stauts'; did you mean 'status'?"),
        ('[[routes]]\npath = "/a"\n', "unknown key 'routes'; did you mean 'route'?"),
        (
            '[[route]]\npath = "/a"\nresponses = [{ status = 200, colour = 1 }]\n',
            "responses[0]: unknown key 'colour'",
        ),
        ('[[route]]\npath = "/a"\nstatus = "200"\n', "status must be an integer such as 200"),
        ('[[route]]\npath = "/a"\nstatus = true\n', "status must be an integer such as 200"),
        ('[[route]]\npath = "/a"\nstatus = 99\n', "status must be from 200 to 599"),
        ('[[route]]\npath = "/a"\ndelay = "1s"\n', "delay must be a number of seconds"),
        ('[[route]]\npath = "/a"\nquery = { p = 1.5 }\n', "query value of 'p' must be"),
        ('[[route]]\npath = "/a"\nheaders = { X = 1 }\n', "header 'X' must be a string"),
        ('[[route]]\npath = "/a"\nmethod = "PUT"\n', "method must be one of GET, HEAD, POST"),
        ("[[route]]\nbody = 'x'\n", "[[route]] #1: missing path"),
        ('[[route]]\npath = "a"\n', "path must start with '/'"),
        ('[[route]]\npath = "/a?b=1"\n', "put the parameters in query"),
        ('[[route]]\npath = "/__replay__/hits"\n', "is reserved"),
        (
            '[[route]]\npath = "/a"\n[[route]]\nname = "n"\npath = "/b"\nbody_file = "no.json"\n',
            "[[route]] #2 'n': body_file 'no.json' not found",
        ),
        (
            '[[route]]\npath = "/a"\nbody = "x"\nbody_file = "b.json"\n',
            "has both body and body_file; keep one",
        ),
        (
            '[[route]]\npath = "/a"\nstatus = 200\nresponses = [{ status = 500 }]\n',
            "has both responses and status; move those keys into each responses entry",
        ),
        ('[[route]]\npath = "/a"\nresponses = []\n', "responses is empty"),
        (
            '[[route]]\npath = "/a"\nbody = "xyz"\ntruncate = 1\ntruncate_mode = "cut"\n',
            "truncate_mode must be 'clean' or 'dataloss', not 'cut'",
        ),
        ('[[route]]\npath = "/a"\ntruncate_mode = "dataloss"\n', "add truncate = N"),
        ('[[route]]\npath = "/a"\nbody = "xyz"\ntruncate = 3\n', "truncate must be from 0 to 2"),
        (
            '[[route]]\npath = "/a"\nheaders = { "content-type" = "x" }\n',
            "headers must not set content-type; use content_type instead",
        ),
        (
            '[[route]]\npath = "/a"\n[[route]]\npath = "/a"\n',
            "[[route]] #2 '/a': route name 'GET /a' is already used",
        ),
        ('include = ["x.toml"]\n[[route]]\npath = "/a"\n', "included manifest"),
        ("[[route]\n", "not valid TOML"),
    ],
)
def test_manifest_errors_name_the_file_and_the_fix(
    tmp_path: Path, manifest: str, message: str
) -> None:
    write(tmp_path / "b.json", "{}")
    path = write(tmp_path / "bad.toml", manifest)
    with pytest.raises(ManifestError) as error:
        ReplayServer(path)
    assert isinstance(error.value, ValueError)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", 'include = ["sub/b.toml"]\n')
    write(tmp_path / "sub" / "b.toml", 'include = ["../a.toml"]\n')
    with pytest.raises(ManifestError, match=r"sub/b\.toml: include cycle a\.toml -> b\.toml -> a"):
        load_manifest(tmp_path / "a.toml")


def test_missing_manifest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"nope\.toml: manifest not found"):
        load_manifest(tmp_path / "nope.toml")
