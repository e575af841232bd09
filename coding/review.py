"""The review screen: a local web app where people code posts by keyboard, with the machine's
suggestions pre-selected (unless blind), and where a third person settles disagreements.

One process serves one coder (or the adjudicator) on 127.0.0.1; several coders run one each
against the same database, which SQLite's WAL mode lets them share. Pages are rendered on
the server; a little JavaScript handles the keys and sends each answer as JSON, which is
checked here before it is stored: the post must be the one on that page, every coded
subcategory must be there with 0 or 1, and the answer must build on what is stored (a second
tab that saves an older answer is refused).
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import uvicorn
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coding.codebook import Codebook, Subcategory
from coding.exchange import check_coder_name, compare_coders, matched, write_codes
from smcat.coders import GOLD
from smcat.errors import SettingError, SmcatError
from smcat.store import Answer, PostForCoder, Store

LOOPBACK = "127.0.0.1"
KEY_ROWS = ("1234567890", "qwertyiop", "asdfghjkl", "zxcvbnm")  # no u: u is undo
KEY_POOL = "".join(KEY_ROWS)
LOCAL_HOSTS = ["127.0.0.1", "localhost"]  # refuse DNS-rebinding Host headers
MAX_BODY = 64 * 1024  # an answer is well under 2 KB
MAX_MEMO = 2000  # characters
TOKEN_HEADER = "X-Smcat-Token"
TOKEN_COOKIE = "smcat_token"
# Thumbnails come from the platforms' media servers (https); nothing else leaves the machine.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https:; script-src 'self'; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_STATIC = Path(__file__).parent / "review_static"
_TEMPLATES = Environment(
    loader=PackageLoader("coding", "templates"), autoescape=select_autoescape(["html"])
)


class AnswerError(ValueError):
    """An answer from the page that cannot be stored, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def subcategory_keys(subcategories: Sequence[Subcategory]) -> dict[str, str]:
    """The key that toggles each coded subcategory, a keyboard row per level: the largest
    level that fits gets the digits (B1-B10 on 1-0), the others the letter rows in codebook
    order (A on q w, C on a s d ...); a level too long for a row runs on into the next."""
    levels: dict[str, list[str]] = {}
    for sub in subcategories:
        levels.setdefault(sub.level, []).append(sub.id)
    fitting = [level for level, ids in levels.items() if len(ids) <= len(KEY_ROWS[0])]
    first = max(fitting, key=lambda level: len(levels[level]), default=None)
    order = ([first] if first else []) + [level for level in levels if level != first]
    keys: dict[str, str] = {}
    row = 0
    for level in order:
        pool = "".join(KEY_ROWS[row:])
        if len(levels[level]) > len(pool):
            raise ValueError(f"the review screen has keys for {len(KEY_POOL)} subcategories")
        keys.update(zip(levels[level], pool, strict=False))
        used = len(levels[level])
        while used > 0:
            used -= len(KEY_ROWS[row])
            row += 1
    return keys


def highlight(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[str, list[str]]]:
    """The text cut at every span boundary: (piece, subcategories whose evidence covers it).

    Spans are (start, end, subcategory) character offsets; overlapping spans give a piece
    every subcategory that covers it, and neighbours covered alike are one piece. Offsets
    outside the text are ignored.
    """
    cuts = sorted({0, len(text)} | {o for s, e, _ in spans for o in (s, e) if 0 <= o <= len(text)})
    pieces: list[tuple[str, list[str]]] = []
    for start, end in pairwise(cuts):
        covering = sorted({sub for s, e, sub in spans if s <= start and end <= e})
        if pieces and pieces[-1][1] == covering:
            pieces[-1] = (pieces[-1][0] + text[start:end], covering)
        else:
            pieces.append((text[start:end], covering))
    return pieces


def shown_time(moment: str, zone_of: str) -> str:
    """An ISO time as "YYYY-MM-DD HH:MM +08:00" in the zone of the ISO time `zone_of` (the
    post's own, which the store keeps with every post), so that answers and posts read alike."""
    when = datetime.fromisoformat(moment)
    zone = datetime.fromisoformat(zone_of).tzinfo
    if zone is not None and when.tzinfo is not None:
        when = when.astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M") + (f" {when.isoformat()[-6:]}" if when.tzinfo else "")


def evidence_spans(answer: Answer | None) -> list[tuple[int, int, str]]:
    """The character spans the machine's evidence points at, with their subcategory."""
    spans = []
    for sub, (value, evidence) in (answer.codes if answer else {}).items():
        for entry in json.loads(evidence or "[]") if value else []:
            spans += [(start, end, sub) for start, end in entry.get("offsets", [])]
    return spans


def evidence_notes(answer: Answer | None) -> dict[str, str]:
    """What the machine matched for each subcategory it coded 1: terms, or field = value."""
    return {
        sub: "; ".join(matched(entry) for entry in json.loads(evidence or "[]") if value)
        for sub, (value, evidence) in (answer.codes if answer else {}).items()
    }


@dataclass
class Review:
    """One review session: who codes which posts with which codebook, and how."""

    store: Store
    codebook: Codebook
    posts: list[tuple[str, str]]
    coder: str = GOLD
    blind: bool = False
    coders: tuple[str, ...] = ()  # adjudication: whose disagreements are settled
    agreed: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    """Adjudication: per post, the values the coders agree on (disputed ones are undecided)."""
    keys: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = subcategory_keys(self.codebook.coded())

    @property
    def adjudicating(self) -> bool:
        """Whether this session settles disagreements (and writes gold)."""
        return self.coder == GOLD

    def coded(self) -> int:
        """How many posts of the batch this coder has answered."""
        done = self.store.coded_posts(self.codebook.name, self.coder)
        return sum(key in done for key in self.posts)

    def first_open(self) -> int:
        """The first post of the batch not answered yet (the last one if all are)."""
        done = self.store.coded_posts(self.codebook.name, self.coder)
        return next((n for n, key in enumerate(self.posts) if key not in done), len(self.posts) - 1)

    def page_state(self, n: int, answers: dict[str, Answer] | None = None) -> dict[str, Any]:
        """Everything the page of the batch's n-th post shows and its script needs; `answers`
        are the post's stored answers if the caller has read them."""
        key = self.posts[n]
        if answers is None:
            answers = self.store.answers(key, self.codebook.name)
        mine = answers.get(self.coder)
        machine = None if self.blind else answers.get(self.codebook.coder)
        others = {c: answers[c] for c in self.coders if c in answers} if self.adjudicating else {}
        given = {c: {s: a.codes.get(s, (0, None))[0] for s in self.keys} for c, a in others.items()}
        disputed = [s for s in self.keys if len({v[s] for v in given.values()}) > 1]
        values: dict[str, int | None]
        if mine is not None:
            values = {sub: mine.codes.get(sub, (0, None))[0] for sub in self.keys}
        elif self.adjudicating:  # a disputed cell stays undecided (None) until someone decides
            agreed = self.agreed.get(key, {})
            values = {s: None if s in disputed else agreed.get(s, 0) for s in self.keys}
        else:
            values = {sub: int(machine is not None and sub in machine.codes) for sub in self.keys}
        memo, flagged = self.store.notes(self.codebook.name, self.coder).get(key, ("", False))
        return {
            "n": n, "total": len(self.posts), "post": f"{key[0]}:{key[1]}",
            "memo": memo, "flagged": flagged,
            "values": values, "based_on": mine.coded_at if mine else "",
            "suggested": sorted(machine.codes) if machine else [],
            "others": given,
            "disputed": disputed,
            "keys": self.keys, "coder": self.coder, "coded": self.coded(),
            "mode": "adjudicate" if self.adjudicating else ("blind" if self.blind else "correct"),
        }  # fmt: skip

    def save(self, n: int, payload: Any) -> str:
        """Check an answer from the page of post n and store it; the new coded_at."""
        key = self._checked_post(n, payload)
        values = payload.get("values")
        if not isinstance(values, dict):
            raise AnswerError(400, "the answer has no values: reload the page")
        unknown = sorted(set(values) - set(self.keys))
        if unknown:
            raise AnswerError(400, f"unknown subcategory {unknown[0]!r} in codebook "
                                   f"{self.codebook.name} {self.codebook.version}")  # fmt: skip
        missing = [sub for sub in self.keys if sub not in values]
        if missing:
            raise AnswerError(400, f"no value for subcategory {missing[0]}: reload the page")
        undecided = [sub for sub in self.keys if values[sub] is None]
        if undecided:
            raise AnswerError(400, f"decide disputed subcategory {undecided[0]} (0 or 1) before "
                                   "saving this post")  # fmt: skip
        if any(values[sub] not in (0, 1) or isinstance(values[sub], bool) for sub in self.keys):
            raise AnswerError(400, "each subcategory's value must be 0 or 1")
        stored = self.store.answers(key, self.codebook.name).get(self.coder)
        if (stored.coded_at if stored else "") != payload.get("based_on", ""):
            posted = self.store.posts_for_coders([key])[key].created_at
            when = shown_time(stored.coded_at, posted) if stored else "never"
            raise AnswerError(409, f"this post's answer was saved elsewhere (at {when}), "
                                   "perhaps in another tab: reload to see it")  # fmt: skip
        write_codes(self.store, self.codebook, self.coder, {key: dict(values)})
        return self.store.answers(key, self.codebook.name)[self.coder].coded_at

    def save_note(self, n: int, payload: Any) -> None:
        """Check a memo and flag from the page of post n and keep them."""
        key = self._checked_post(n, payload)
        memo, flagged = payload.get("memo"), payload.get("flagged")
        if not isinstance(memo, str) or not isinstance(flagged, bool):
            raise AnswerError(400, "a note is a memo (text) and flagged (true or false)")
        if len(memo) > MAX_MEMO:
            raise AnswerError(400, f"the memo is over {MAX_MEMO} characters: shorten it")
        self.store.save_note(key, self.codebook.name, self.coder, memo.strip(), flagged)

    def batch_rows(
        self, show: str = "", sub: str = "", account: str = ""
    ) -> list[tuple[int, PostForCoder, bool, tuple[str, bool]]]:
        """The batch's posts as (number, post, answered, (memo, flagged)), only those that are
        unanswered or flagged (`show`), coded 1 on `sub` (in this coder's answer, else in the
        machine's unless blind), or by `account`."""
        done = self.store.coded_posts(self.codebook.name, self.coder)
        notes = self.store.notes(self.codebook.name, self.coder)
        posts = self.store.posts_for_coders(self.posts)
        mine = self.store.coder_codes(self.codebook.name, self.coder) if sub else {}
        machine = (
            self.store.coder_codes(self.codebook.name, self.codebook.coder)
            if sub and not self.blind
            else {}
        )
        rows = []
        for n, key in enumerate(self.posts):
            note = notes.get(key, ("", False))
            codes = mine.get(key) or machine.get(key) or {}
            if (
                (show == "unanswered" and key in done)
                or (show == "flagged" and not note[1])
                or (sub and codes.get(sub, (0, None))[0] != 1)
                or (account and posts[key].account != account)
            ):
                continue
            rows.append((n + 1, posts[key], key in done, note))
        return rows

    def _checked_post(self, n: int, payload: Any) -> tuple[str, str]:
        """The key of post n, once the payload is known to be a JSON object about it."""
        if not 0 <= n < len(self.posts):
            raise AnswerError(404, f"there is no post {n + 1} in this batch of {len(self.posts)}")
        if not isinstance(payload, dict):
            raise AnswerError(400, "send the answer as a JSON object")
        key = self.posts[n]
        if payload.get("post") != f"{key[0]}:{key[1]}":
            raise AnswerError(400, f"unknown post {payload.get('post')!r} for page {n + 1}: "
                                   "reload the page")  # fmt: skip
        return key


def coder_review(
    store: Store, codebook: Codebook, posts: list[tuple[str, str]], *, coder: str, blind: bool
) -> Review:
    """A coder's session over a batch of posts (the codebook version is stored for them)."""
    check_coder_name(coder)
    if not posts:
        raise SmcatError("the batch has no posts: crawl posts first, or choose another sample")
    store.save_codebook(codebook.name, codebook.version, codebook.yaml_text)
    return Review(store, codebook, posts, coder=coder, blind=blind)


def adjudication_review(
    store: Store, codebook: str, coders: Sequence[str], *, show_machine: bool = False
) -> tuple[Review, int]:
    """A session over the posts the coders disagree on, and how many posts they all agreed
    on, which are stored as gold at once (as `smcat code adjudicate import` does). It is
    blind unless `show_machine`: gold must not lean on the machine it will score."""
    comparison = compare_coders(store, codebook, coders)
    if not comparison.disagreements:
        raise SmcatError(f"{', '.join(coders)} agree on every post they all coded: "
                         "nothing to adjudicate")  # fmt: skip
    write_codes(store, comparison.codebook, GOLD, comparison.consensus)
    posts = [item.key for item in comparison.disagreements]
    agreed = {item.key: item.agreed for item in comparison.disagreements}
    review = Review(store, comparison.codebook, posts, blind=not show_machine,
                    coders=tuple(coders), agreed=agreed)  # fmt: skip
    return review, len(comparison.consensus)


def create_app(
    review: Review, hosts: Sequence[str] = (), *, token: str | None = None, url_token: bool = False
) -> Starlette:
    """The web app of a review session; it answers only requests addressed to this machine
    (or to `hosts`). Every write must carry the session's `token` (a new one if None), which
    the pages hand to their script; with `url_token`, every request must carry it too, as
    ?token= in the address the coder opens first (then as a cookie)."""
    token = token or secrets.token_urlsafe(24)
    page = _TEMPLATES.get_template("review.html")
    overview = _TEMPLATES.get_template("batch.html")
    subcategories = {sub.id: sub for sub in review.codebook.coded()}

    async def home(request: Request) -> Response:
        return RedirectResponse(f"/post/{review.first_open() + 1}", status_code=303)

    async def show(request: Request) -> Response:
        n = request.path_params["n"] - 1
        if not 0 <= n < len(review.posts):
            return HTMLResponse(f"there is no post {n + 1} in this batch", status_code=404)
        key = review.posts[n]
        answers = review.store.answers(key, review.codebook.name)
        state = review.page_state(n, answers)
        post = review.store.posts_for_coders([key])[key]
        machine = None if review.blind else answers.get(review.codebook.coder)
        html = page.render(
            state=state, post=post, pieces=highlight(post.text, evidence_spans(machine)),
            notes=evidence_notes(machine), codebook=review.codebook,
            levels=_by_level(review.codebook, subcategories), keys=review.keys, token=token,
            posted=shown_time(post.created_at, post.created_at),
            answered=shown_time(state["based_on"], post.created_at) if state["based_on"] else "",
        )  # fmt: skip
        return HTMLResponse(html)

    async def batch(request: Request) -> Response:
        show, sub, account = (request.query_params.get(k, "") for k in ("show", "sub", "account"))
        rows = review.batch_rows(show, sub if sub in subcategories else "", account)
        accounts = sorted({p.account for p in review.store.posts_for_coders(review.posts).values()
                           if p.account})  # fmt: skip
        html = overview.render(
            review=review, rows=rows, coded=review.coded(), show=show, sub=sub, account=account,
            subcategories=subcategories, accounts=accounts,
        )  # fmt: skip
        return HTMLResponse(html)

    async def save(request: Request) -> Response:
        try:
            n, payload = request.path_params["n"] - 1, await read_answer(request, token)
            coded_at = review.save(n, payload)
        except AnswerError as error:
            return JSONResponse({"error": str(error)}, error.status)
        coded = review.coded()
        reply = {"coded_at": coded_at, "coded": coded}
        if coded < len(review.posts):  # where the next unanswered post is, for the queue's end
            reply["open"] = review.first_open() + 1
        return JSONResponse(reply)

    async def note(request: Request) -> Response:
        try:
            n, payload = request.path_params["n"] - 1, await read_answer(request, token)
            review.save_note(n, payload)
        except AnswerError as error:
            return JSONResponse({"error": str(error)}, error.status)
        return JSONResponse({"saved": True})

    routes = [
        Route("/", home),
        Route("/batch", batch),
        Route("/post/{n:int}", show),
        Route("/post/{n:int}", save, methods=["POST"]),
        Route("/post/{n:int}/note", note, methods=["POST"]),
    ]
    return guarded_app(routes, _STATIC, token, hosts, url_token=url_token)


def guarded_app(
    routes: list[Route], static: Path, token: str, hosts: Sequence[str], *, url_token: bool
) -> Starlette:
    """A review screen's app: its routes and its static files under /static, answering only
    requests addressed to this machine (or to `hosts`), every write (with `url_token`, every
    request) carrying the session's `token`."""
    app = Starlette(
        routes=[*routes, Mount("/static", StaticFiles(directory=static), name="static")],
        middleware=[
            Middleware(Guard, token=token, url_token=url_token),
            Middleware(TrustedHostMiddleware, allowed_hosts=[*LOCAL_HOSTS, *hosts]),
        ],
    )
    app.state.token = token
    return app


async def read_answer(request: Request, token: str) -> Any:
    """The JSON a page sends, once it carries the session's token, as JSON in UTF-8 of at
    most MAX_BODY bytes; else AnswerError."""
    if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
        stale = "this page is from an earlier session of the review screen: reload it"
        raise AnswerError(403, f"{stale} (your answer is kept)")
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        raise AnswerError(415, "send the answer as application/json")
    body = await _read_body(request)
    if body is None:
        raise AnswerError(413, f"the answer is over {MAX_BODY} bytes")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: RecursionError
        raise AnswerError(400, "the answer is not JSON in UTF-8: reload the page") from None


async def _read_body(request: Request) -> bytes | None:
    """The request's body, or None if it is over MAX_BODY bytes (read no further)."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


class Guard:
    """ASGI middleware: security headers on every answer and, with `url_token` (a screen
    listening beyond this machine), the session token asked of every request, in the
    address (?token=) or in the cookie that address sets."""

    def __init__(self, app: ASGIApp, token: str, url_token: bool) -> None:
        self.app, self.token, self.url_token = app, token, url_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        in_address = request.query_params.get("token", "")
        carried = in_address or request.cookies.get(TOKEN_COOKIE, "")
        if self.url_token and not secrets.compare_digest(carried, self.token):
            refused = Response("open the address `smcat code review` printed, with its ?token=",
                               403, headers=SECURITY_HEADERS)  # fmt: skip
            await refused(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if self.url_token and in_address:
                    headers.append("Set-Cookie", f"{TOKEN_COOKIE}={self.token}; Path=/; "
                                                 "HttpOnly; SameSite=Strict")  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_guarded)


def _by_level(
    codebook: Codebook, coded: dict[str, Subcategory]
) -> list[tuple[str, list[Subcategory]]]:
    """The coded subcategories grouped by level, in codebook order, with the level's name."""
    groups = []
    for level in codebook.levels.values():
        members = [sub for sub in coded.values() if sub.level == level.id]
        if members:
            groups.append((f"{level.id} {level.name_zh} {level.name_en}", members))
    return groups


class PortBusy(SettingError):
    """The review screen cannot listen on the port asked for."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"cannot listen on {host}:{port} ({reason}): another review screen may be running "
            f"there; listen on another port, like {port + 1}",
            port=port + 1,
        )


def check_port_free(host: str, port: int) -> str:
    """The review screen's address, once the port is known to be free to listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortBusy(host, port, error.strerror or str(error)) from None
    return f"http://{host}:{port}/"


def serve(app: Starlette, host: str, port: int) -> None:
    """Serve the app until Ctrl+C."""
    uvicorn.run(app, host=host, port=port, log_level="warning")
