"""The review screen: its checks over HTTP, and coders working it by keyboard in Chromium."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

from coding.accuracy import accuracy_table, gold_pairs
from coding.exchange import write_codes
from coding.reliability import reliability_table
from coding.review import (
    Review,
    adjudication_review,
    coder_review,
    create_app,
    highlight,
    subcategory_keys,
)
from smcat.coders import GOLD
from smcat.store import Store
from tests.test_exchange import CODEBOOK, SUBS, make_posts

KEYS = subcategory_keys(CODEBOOK.coded())
TOKEN = "test-session-token"
DOCS = Path(__file__).parent.parent / "docs"  # the README shows the screenshots kept here


def test_each_level_gets_a_keyboard_row() -> None:
    assert [KEYS[f"B{i}"] for i in range(1, 11)] == list("1234567890")
    assert (KEYS["A4"], KEYS["A5"]) == ("q", "w")
    assert [KEYS[f"C{i}"] for i in range(1, 7)] == list("asdfgh")
    assert "u" not in KEYS.values() and len(set(KEYS.values())) == len(SUBS)


def test_highlight_cuts_the_text_at_every_evidence_boundary() -> None:
    pieces = highlight("转发抽奖送礼", [(0, 3, "B3"), (2, 4, "B3"), (2, 4, "C4"), (9, 12, "X")])
    assert pieces == [("转发", ["B3"]), ("抽奖", ["B3", "C4"]), ("送礼", [])]  # 抽 and 奖 alike
    assert highlight("", []) == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with make_posts(tmp_path / "review.db", n=12) as store:
        yield store


def post(address: str, path: str, body: object, content_type: str = "application/json"):
    """POST a body to the app with the session's token: (status, JSON reply)."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {"Content-Type": content_type, "X-Smcat-Token": TOKEN}
    request = urllib.request.Request(address + path, data, headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def answer(address: str, n: int, state: dict, **changes: object):
    body = {"post": state["post"], "values": dict(state["values"]),
            "based_on": state["based_on"], **changes}  # fmt: skip
    return post(address, f"/post/{n}", body)


def get(address: str, path: str, host: str | None = None) -> tuple[int, str]:
    """GET a page without following redirects: (status, Location or body)."""
    connection = http.client.HTTPConnection(address.removeprefix("http://"))
    connection.request("GET", path, headers={"Host": host} if host else {})
    response = connection.getresponse()
    return response.status, response.getheader("location") or response.read().decode()


def test_answers_are_checked_before_they_are_stored(store: Store) -> None:
    review = coder_review(store, CODEBOOK, store.post_keys(), coder="ann", blind=False)
    state = review.page_state(0)
    with serving(review) as address:
        assert get(address, "/") == (303, "/post/1")
        wrong = [
            (answer(address, 1, state, post="weibo:nope"), 400, "unknown post 'weibo:nope'"),
            (answer(address, 1, state, values={**state["values"], "Z9": 1}), 400, "unknown sub"),
            (answer(address, 1, state, values={"B1": 1}), 400, "no value for subcategory"),
            (answer(address, 1, state, values={**state["values"], "B1": 2}), 400, "0 or 1"),
            (answer(address, 99, state), 404, "no post 99"),
            (post(address, "/post/1", "values=1", "text/plain"), 415, "application/json"),
        ]
        for (status, reply), expected, message in wrong:
            assert status == expected and message in reply["error"]
        assert store.coded_posts(CODEBOOK.name, "ann") == {}
        status, reply = answer(address, 1, state)
        assert status == 200 and reply["coded"] == 1
        status, reply = answer(address, 1, state)  # a second tab, still on the answer before
        assert status == 409 and "reload" in reply["error"] and "+08:00)" in reply["error"]
        assert get(address, "/") == (303, "/post/2")
        status, listing = get(address, "/batch")
        assert status == 200 and listing.count("<tr") == 12 and listing.count("✓") == 1
        # a page on another site that rebinds its name to 127.0.0.1 is not answered
        assert get(address, "/post/1", host="evil.example")[0] == 400


@contextmanager
def serving(review: Review, url_token: bool = False) -> Iterator[str]:
    """The review app on a free loopback port, in a thread; its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(review, token=TOKEN, url_token=url_token),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def checked(page) -> set[str]:
    return set(
        page.eval_on_selector_all("input[data-sub]:checked", "els => els.map(e => e.dataset.sub)")
    )


def undecided(page) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "input[data-sub]", "els => els.filter(e => e.indeterminate).map(e => e.dataset.sub)"
        )
    )


def values_of(store: Store, coder: str, key) -> dict[str, int]:
    return {sub: v for sub, (v, _) in store.coder_codes(CODEBOOK.name, coder)[key].items()}


def test_a_coder_codes_by_keyboard_and_finds_the_answers_kept(store: Store, browser) -> None:
    posts = store.post_keys()[:3]
    review = coder_review(store, CODEBOOK, posts, coder="ann", blind=False)
    suggested = [review.page_state(n)["suggested"] for n in range(3)]
    with serving(review) as address:
        page = browser.new_page()
        page.goto(address)
        page.wait_for_url("**/post/1")
        assert checked(page) == set(suggested[0])
        assert page.locator("mark").count() > 0  # the evidence is highlighted
        page.keyboard.press(KEYS["B9"])
        page.keyboard.press(KEYS["C6"])
        page.keyboard.press("u")  # takes C6 back
        page.keyboard.press("Enter")
        page.wait_for_url("**/post/2")
        page.keyboard.press("Enter")  # the suggestion as it is
        page.wait_for_url("**/post/3")
        page.keyboard.press(KEYS["A5"])
        page.reload()  # a toggle not saved yet survives a reload
        assert "restored" in page.locator("#message").inner_text()
        page.keyboard.press("Enter")
        page.wait_for_selector("#message:has-text('last post of the batch')")
        assert page.locator("#coded").inner_text() == "3"
        page.goto(f"{address}/post/1")
        assert checked(page) == set(suggested[0]) ^ {"B9"}
    expected = [set(suggested[0]) ^ {"B9"}, set(suggested[1]), set(suggested[2]) ^ {"A5"}]
    for key, ones in zip(posts, expected, strict=True):
        assert values_of(store, "ann", key) == {sub: int(sub in ones) for sub in SUBS}


def test_blind_double_coding_then_adjudication_gives_gold(store: Store, browser) -> None:
    posts = store.post_keys()[:3]
    plans = {"ann": [["B1"], ["B2"], []], "bo": [["B1"], ["B7"], []]}  # post 2 disputed
    with ExitStack() as running:
        pages = {}
        for coder in plans:  # both at once, each on a connection of its own, as two processes
            own = running.enter_context(Store.open(store.path))
            address = running.enter_context(
                serving(coder_review(own, CODEBOOK, posts, coder=coder, blind=True))
            )
            pages[coder] = browser.new_page()
            pages[coder].goto(address)
            assert pages[coder].locator("mark").count() == 0 and checked(pages[coder]) == set()
            assert pages[coder].locator("tr.suggested").count() == 0
        for n in range(3):  # their answers interleave
            for coder, page in pages.items():
                page.wait_for_url(f"**/post/{n + 1}")
                for sub in plans[coder][n]:
                    page.keyboard.press(KEYS[sub])
                page.keyboard.press("Enter")
        for page in pages.values():
            page.wait_for_selector("#message:has-text('last post')")
    rows = pd.DataFrame(store.code_rows(CODEBOOK.name, ["ann", "bo"]),
                        columns=["platform", "unit", "item", "coder", "value"])  # fmt: skip
    table = reliability_table(rows, n_boot=0).set_index("name")
    assert table.loc["B1", "n_units"] == 3 and table.loc["B1", "percent_agreement"] == 1
    assert table.loc["B2", "percent_agreement"] == pytest.approx(2 / 3)
    review, agreed = adjudication_review(store, CODEBOOK.name, ["ann", "bo"])
    assert agreed == 2 and review.posts == [posts[1]]
    with serving(review) as address:
        page = browser.new_page()
        page.goto(address)
        page.wait_for_url("**/post/1")
        disputed = page.locator("td.other.disputed")
        assert sorted(disputed.all_inner_texts()) == ["ann=0", "ann=1", "bo=0", "bo=1"]
        assert checked(page) == set()  # disputed cells start undecided, agreed ones as agreed
        assert undecided(page) == {"B2", "B7"}
        page.keyboard.press(KEYS["B2"])
        page.keyboard.press("Enter")  # B7 is not decided yet
        page.wait_for_selector("#message.error:has-text('decide disputed subcategory B7')")
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=str(DOCS / "review-adjudication.png"))
        assert store.coded_posts(CODEBOOK.name, GOLD).get(posts[1]) is None
        page.keyboard.press(KEYS["B7"])  # 1, then 0: decided
        page.keyboard.press(KEYS["B7"])
        page.keyboard.press("Enter")
        page.wait_for_selector("#message:has-text('last post')")
    gold = {key: values_of(store, GOLD, key) for key in posts}
    assert gold[posts[0]]["B1"] == 1 and gold[posts[1]]["B2"] == 1 and gold[posts[1]]["B7"] == 0
    assert sum(map(sum, (v.values() for v in gold.values()))) == 2
    scores = accuracy_table(gold_pairs(store, CODEBOOK.name, CODEBOOK.coder))
    assert scores.set_index("name").loc["micro", "n"] == 3 * len(SUBS)


def test_the_review_command_serves_and_says_what_is_wrong(smcat, tmp_path: Path) -> None:
    make_posts(tmp_path / "study.db", n=5).close()
    both = smcat("code", "review", "--coder", "ann", "--adjudicate", "--db", "study.db")
    assert both.returncode == 1 and "--coder NAME, or pass --adjudicate" in both.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = smcat("code", "review", "--coder", "ann", "--port", port, "--db", "study.db")
        assert busy.returncode == 1 and f"(--port {int(port) + 1})" in busy.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "smcat", "code", "review", "--coder", "ann", "--port", port,
         "--db", "study.db"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline()
        assert f"review screen for ann: http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 20
        while True:
            try:
                assert get(f"http://127.0.0.1:{port}", "/") == (303, "/post/1")
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)


def disputed_store(store: Store) -> list[tuple[str, str]]:
    """Two coders' answers on three posts; they disagree on B2 and B7 of the second."""
    posts = store.post_keys()[:3]
    plans = {"ann": [{"B1"}, {"B2"}, set()], "bo": [{"B1"}, {"B7"}, set()]}
    for coder, plan in plans.items():
        answers = {
            key: {sub: int(sub in ones) for sub in SUBS}
            for key, ones in zip(posts, plan, strict=True)
        }
        write_codes(store, CODEBOOK, coder, answers)
    return posts


def page_state_of(html: str) -> dict:
    """The state a review page hands its script."""
    return json.loads(re.search(r'<script id="state"[^>]*>(.*?)</script>', html, re.S)[1])


def test_adjudication_is_blind_and_refuses_an_undecided_disputed_cell(store: Store) -> None:
    posts = disputed_store(store)
    review, _ = adjudication_review(store, CODEBOOK.name, ["ann", "bo"])
    with serving(review) as address:
        status, html = get(address, "/post/1")
        state = page_state_of(html)
        assert status == 200 and state["mode"] == "adjudicate"
        assert state["suggested"] == [] and "<mark" not in html  # no suggestion, no evidence
        assert '<td class="note"></td>' in html and html.count('<td class="note">') == len(SUBS)
        assert state["values"]["B2"] is None and state["values"]["B7"] is None
        status, reply = answer(address, 1, state)  # as sent by a page that decided nothing
        assert status == 400 and "decide disputed subcategory B2" in reply["error"]
        status, reply = answer(address, 1, state, values={**state["values"], "B2": 1, "B7": 0})
        assert status == 200
    assert values_of(store, GOLD, posts[1])["B2"] == 1
    shown, _ = adjudication_review(store, CODEBOOK.name, ["ann", "bo"], show_machine=True)
    machine = store.answers(posts[1], CODEBOOK.name)[CODEBOOK.coder]
    assert shown.page_state(0)["suggested"] == sorted(machine.codes) != []  # opt-in shows them


def raw(address: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are to the app: (status, headers, body)."""
    host, port = address.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def write_request(body: bytes, token: str = TOKEN, length: int | None = None) -> bytes:
    return (f"POST /post/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Smcat-Token: {token}\r\nContent-Length: {len(body) if length is None else length}"
            "\r\nConnection: close\r\n\r\n").encode() + body  # fmt: skip


def test_the_server_refuses_bad_bodies_and_writes_without_the_token(store: Store) -> None:
    review = coder_review(store, CODEBOOK, store.post_keys(), coder="ann", blind=False)
    state = review.page_state(0)
    good = json.dumps({"post": state["post"], "values": state["values"], "based_on": ""})
    with serving(review) as address:
        cases = [
            (write_request(b'{"post": "\xff\xfe"}'), 400, b"not JSON in UTF-8"),
            (write_request(b"[" * 30_000 + b"]" * 30_000), 400, b"not JSON in UTF-8"),
            (write_request(b"{}", length=10**9), 413, b"over"),
            (write_request(good.encode(), token="guessed"), 403, b"reload it"),
            (write_request(good.encode(), token=""), 403, b"reload it"),
        ]
        for request, expected, words in cases:
            status, headers, body = raw(address, request)
            assert (status, expected) == (expected, status) and words in body, body[:200]
            assert b"Traceback" not in body
        assert store.coded_posts(CODEBOOK.name, "ann") == {}
        notes = [
            ({"post": state["post"], "memo": "x" * 2001, "flagged": False}, 400, "over 2000"),
            ({"post": state["post"], "memo": 1, "flagged": "yes"}, 400, "memo (text)"),
            ({"post": "weibo:nope", "memo": "", "flagged": True}, 400, "unknown post"),
        ]
        for note, expected, words in notes:
            status, reply = post(address, "/post/1/note", note)
            assert status == expected and words in reply["error"]
        assert store.notes(CODEBOOK.name, "ann") == {}
        status, headers, body = raw(address, write_request(good.encode()))
        assert status == 200 and store.coded_posts(CODEBOOK.name, "ann") != {}
        get_page = b"GET /post/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        status, headers, body = raw(address, get_page)
        assert status == 200 and headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]


def test_beyond_this_machine_every_request_needs_the_token(store: Store) -> None:
    review = coder_review(store, CODEBOOK, store.post_keys(), coder="ann", blind=False)
    with serving(review, url_token=True) as address:
        status, headers, body = raw(address, b"GET /post/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                             b"Connection: close\r\n\r\n")  # fmt: skip
        assert status == 403 and b"?token=" in body and "x-frame-options" in headers
        opening = f"GET /post/1?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
        status, headers, _ = raw(address, f"{opening}\r\n\r\n".encode())
        assert status == 200 and "HttpOnly" in headers["set-cookie"]
        cookie = headers["set-cookie"].split(";")[0]
        status, _, _ = raw(address, f"GET /batch HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}"
                                    "\r\nConnection: close\r\n\r\n".encode())  # fmt: skip
        assert status == 200


def test_the_review_command_asks_a_token_beyond_this_machine(smcat, tmp_path: Path) -> None:
    make_posts(tmp_path / "study.db", n=3).close()
    wrong = smcat("code", "review", "--coder", "ann", "--show-machine", "--db", "study.db")
    assert wrong.returncode == 1 and "--show-machine is for --adjudicate" in wrong.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))  # loopback still, but not an address the screen trusts
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "smcat", "code", "review", "--coder", "ann", "--host", "127.0.0.2",
         "--port", str(port), "--db", "study.db"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline()
        address, token = re.search(r"(http://127.0.0.2:\d+/)\?token=(\S+)", line).groups()
        assert "warning: the review screen listens on 127.0.0.2" in server.stderr.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                assert get(address.rstrip("/"), "/post/1")[0] == 403
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert get(address.rstrip("/"), f"/post/1?token={token}")[0] == 200
    finally:
        server.terminate()
        server.wait(10)


def press_with_input_method(page, code: str, shift: bool = False) -> None:
    """A key pressed while a Chinese input method is on: the page sees key "Process"."""
    page.evaluate(
        "([code, shiftKey]) => document.dispatchEvent(new KeyboardEvent('keydown', "
        "{key: 'Process', code, shiftKey, keyCode: 229, bubbles: true}))",
        [code, shift],
    )


def test_a_failed_save_says_so_and_keeps_the_answer_to_retry(store: Store, browser) -> None:
    posts = store.post_keys()[:3]
    review = coder_review(store, CODEBOOK, posts, coder="ann", blind=True)
    with serving(review) as address:
        page = browser.new_page()
        page.goto(f"{address}/post/2")
        assert re.fullmatch(r"2025-10-\d\d 10:00 \+08:00", page.locator("#posted").inner_text())
        press_with_input_method(page, "KeyQ")  # A4's key, through the input method
        press_with_input_method(page, f"Digit{KEYS['B3']}")
        assert checked(page) == {"A4", "B3"}
        page.route("**/post/2", lambda route: route.abort()
                   if route.request.method == "POST" else route.continue_())  # fmt: skip
        page.keyboard.press("Enter")
        page.wait_for_selector("#message.error:has-text('not saved')")
        assert page.url.endswith("/post/2") and checked(page) == {"A4", "B3"}
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=str(DOCS / "review-save-error.png"))
        assert store.coded_posts(CODEBOOK.name, "ann") == {}
        page.reload()  # the answer and its undo history survive a reload
        assert checked(page) == {"A4", "B3"}
        page.keyboard.press("u")
        assert checked(page) == {"A4"}
        page.unroute("**/post/2")
        press_with_input_method(page, "Enter")  # Enter works again: the retry saves
        page.wait_for_url("**/post/3")
        assert values_of(store, "ann", posts[1]) == {sub: int(sub == "A4") for sub in SUBS}
        assert re.search(r"answered \d{4}-\d\d-\d\d \d\d:\d\d \+08:00", page.goto(
            f"{address}/post/2").text())  # fmt: skip
        page.goto(f"{address}/post/3")
        page.keyboard.press("Enter")  # the last post, with post 1 still unanswered
        page.wait_for_selector("#message:has-text('still unanswered')")
        page.click("#message a")
        page.wait_for_url("**/post/1")


PICTURE = "https://wx1.sinaimg.cn/orj360/0071a1b2ly1hq0example.jpg"
PNG = base64.b64decode(  # a 1x1 picture, standing in for the platform's thumbnail
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def in_view(page, selector: str) -> bool:
    """Whether the element is wholly inside the window, as it is now scrolled."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_definitions_memo_flag_filters_and_pictures_at_hand(
    store: Store, browser, tmp_path: Path, smcat
) -> None:
    posts = store.post_keys()[:4]
    picture_post = {"platform": "weibo", "post_id": posts[0][1], "account_id": "5001000001",
                    "created_at": "2025-10-01T10:00:00+08:00", "text": "转发抽奖 送三台新手机",
                    "pic_count": 1, "extra": {"pictures": [PICTURE.replace("https", "http"),
                                                           "javascript:alert(1)"]}}  # fmt: skip
    store.upsert_posts([picture_post])
    review = coder_review(store, CODEBOOK, posts, coder="ann", blind=True)
    fetched: list[str] = []
    with serving(review) as address:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        problems: list[str] = []  # a script or style the page's own policy refuses shows here
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        def platform(route) -> None:
            fetched.append(route.request.url)
            route.fulfill(body=PNG, content_type="image/png")

        page.route("https://wx1.sinaimg.cn/**", platform)
        page.goto(f"{address}/post/1")
        page.keyboard.press(KEYS["C6"])  # the last subcategory: its definition beside the post
        definition = page.locator("#definition [data-def=C6]")
        c6 = next(sub for sub in CODEBOOK.coded() if sub.id == "C6")
        assert definition.is_visible() and c6.definition[:20] in definition.inner_text()
        assert in_view(page, "#definition [data-def=C6]") and in_view(page, "#text")
        page.locator("tr[data-sub=C6]").scroll_into_view_if_needed()
        assert in_view(page, "#text") and in_view(page, "#definition")
        assert page.locator("label[for=c-C6]").get_attribute("title") == c6.definition
        assert fetched == []  # pictures leave the machine only when asked for
        page.click("#show-pictures")
        page.wait_for_function("document.querySelector('#pictures img').src !== ''")
        page.wait_for_timeout(200)
        assert fetched == [PICTURE]
        page.screenshot(path=str(DOCS / "review-definition.png"))
        page.keyboard.press("!")
        page.wait_for_selector("#message:has-text('flagged for discussion')")
        page.keyboard.press("!")
        page.wait_for_selector("#message:has-text('flag taken off')")
        press_with_input_method(page, "Digit1", shift=True)  # ! with the input method on
        page.wait_for_selector("#message:has-text('flagged for discussion')")
        assert "B1" not in checked(page)
        page.keyboard.press("/")
        page.keyboard.type("送手机算 B3 还是 C4? 问导师")
        page.keyboard.press("Escape")
        page.wait_for_selector("#message:has-text('memo kept')")
        page.screenshot(path=str(DOCS / "review-memo-flag.png"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/post/2")
        assert "media not kept" in page.locator("#media").inner_text()  # pic_count, no addresses
        page.reload()
        page.goto(f"{address}/post/1")
        assert page.locator("#flagged").is_checked()
        assert page.locator("#memo").input_value() == "送手机算 B3 还是 C4? 问导师"
        page.goto(f"{address}/batch?show=flagged")
        assert page.locator("#batch tr").count() == 1 and "问导师" in page.inner_text("#batch")
        page.screenshot(path=str(DOCS / "review-batch-filters.png"))
        page.goto(f"{address}/batch?show=unanswered")
        assert page.locator("#batch tr").count() == 3
        page.goto(f"{address}/batch?sub=C6")
        assert page.locator("#batch tr").count() == 1  # ann's answer to post 1
        page.goto(f"{address}/batch?account=nobody")
        assert page.locator("#batch tr").count() == 0
    assert problems == []
    assert store.notes(CODEBOOK.name, "ann") == {posts[0]: ("送手机算 B3 还是 C4? 问导师", True)}
    exported = smcat("db", "export", "coder_notes", "--db", str(store.path))
    assert exported.returncode == 0 and "送手机算 B3 还是 C4? 问导师" in exported.stdout
