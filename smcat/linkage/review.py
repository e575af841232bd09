"""`smcat link review`: clerical review of the pairs a linkage run was unsure of, two records
side by side in the browser, decided by keyboard (m: match, n: not a match, arrows or j/k:
move). Decisions are kept in the store and the next `smcat link people` respects them.

The server is the review screen's (coding.review): it listens on 127.0.0.1 only, sends the
same security headers, and takes a decision only with the session's token.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from coding.review import AnswerError, guarded_app, read_answer
from smcat.store import MATCH, NON_MATCH, RecordPair, Store

_STATIC = Path(__file__).parent / "review_static"
_TEMPLATES = Environment(
    loader=PackageLoader("smcat.linkage", "templates"), autoescape=select_autoescape(["html"])
)
# what each row of the page shows of a record: a label and the fields (clear value first,
# then the feature shown when the clear value was not kept)
_SHOWN = (
    ("name", ("name", "name_pinyin")),
    ("phone", ("phone", "phone_tail")),
    ("email", ("email",)),
    ("address", ("address",)),
    ("city", ("city",)),
    ("district", ("district",)),
    ("birth year", ("birth_year",)),
    ("registered", ("registered_at",)),
)
_HASHED = {"name": "name_hash", "phone": "phone_hash", "email": "email_hash",
           "address": "address_hash"}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side view: what it shows of each record and whether the two
    agree (None: one of them lacks it)."""

    label: str
    left: str
    right: str
    same: bool | None


def _shown(record: dict[str, Any], fields: Sequence[str]) -> str:
    for position, name in enumerate(fields):
        if record.get(name) not in (None, ""):
            value = str(record[name])
            return value if position == 0 else f"…{value}" if name == "phone_tail" else value
    return "hashed" if _HASHED.get(fields[0]) and record.get(_HASHED[fields[0]]) else ""


def side_by_side(left: dict[str, Any], right: dict[str, Any]) -> list[Row]:
    """The rows of the view of two records; agreement of hashed fields is told by their
    hashes, so that a reviewer sees that two phones agree without seeing the phones."""
    rows = []
    for label, fields in _SHOWN:
        key = _HASHED.get(fields[0], fields[0])
        a, b = left.get(key), right.get(key)
        # registration times differ between one person's accounts: not compared
        unknown = label == "registered" or a in (None, "") or b in (None, "")
        same = None if unknown else a == b
        rows.append(Row(label, _shown(left, fields), _shown(right, fields), same))
    return rows


@dataclass
class LinkReview:
    """A review session: the queue of pairs when it started, and who decides."""

    store: Store
    pairs: list[RecordPair]
    reviewer: str

    def decide(self, n: int, payload: Any) -> str:
        """Keep the decision on pair n sent by the page; AnswerError if it cannot be kept."""
        if not 0 <= n < len(self.pairs):
            raise AnswerError(404, f"there is no pair {n + 1} in this queue")
        decision = payload.get("decision") if isinstance(payload, dict) else None
        if decision not in (MATCH, NON_MATCH):
            raise AnswerError(400, f"send a decision: {MATCH!r} or {NON_MATCH!r}")
        return self.store.decide_pair(self.pairs[n], decision, self.reviewer)

    def decided(self) -> dict[tuple[tuple[str, str], tuple[str, str]], str]:
        """The decisions kept on this queue's pairs, by pair."""
        queue = {(p.left, p.right) for p in self.pairs}
        return {(p.left, p.right): d for p, d in self.store.link_decisions()
                if (p.left, p.right) in queue}  # fmt: skip


def create_app(
    review: LinkReview, hosts: Sequence[str] = (), *, token: str | None = None
) -> Starlette:
    """The web app of a link review session, answering only requests addressed to this
    machine (or to `hosts`); a decision must carry the session's `token` (new if None)."""
    token = token or secrets.token_urlsafe(24)
    page = _TEMPLATES.get_template("link_review.html")

    async def home(request: Request) -> Response:
        if not review.pairs:
            return HTMLResponse("no pairs to review: run `smcat link people` first, or all are"
                                " decided")  # fmt: skip
        return RedirectResponse("/pair/1", status_code=303)

    async def show(request: Request) -> Response:
        n = request.path_params["n"] - 1
        if not 0 <= n < len(review.pairs):
            return HTMLResponse(f"there is no pair {n + 1} in this queue", status_code=404)
        pair = review.pairs[n]
        left = review.store.customer_record(*pair.left) or {}
        right = review.store.customer_record(*pair.right) or {}
        html = page.render(
            n=n + 1, total=len(review.pairs), pair=pair, rows=side_by_side(left, right),
            decision=review.decided().get((pair.left, pair.right), ""), token=token,
        )  # fmt: skip
        return HTMLResponse(html)

    async def decide(request: Request) -> Response:
        try:
            n, payload = request.path_params["n"] - 1, await read_answer(request, token)
            decided_at = review.decide(n, payload)
        except AnswerError as error:
            return JSONResponse({"error": str(error)}, error.status)
        return JSONResponse({"decided_at": decided_at, "decided": len(review.decided())})

    routes = [
        Route("/", home),
        Route("/pair/{n:int}", show),
        Route("/pair/{n:int}", decide, methods=["POST"]),
    ]
    return guarded_app(routes, _STATIC, token, hosts, url_token=False)
