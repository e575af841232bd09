"""Weibo's visitor system: the page it serves to a client without cookies, and the answer of
passport's genvisitor2, which hands out an anonymous visitor cookie (SUB and SUBP). Pure."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from crawler.parsers.common import PayloadError

VISITOR_PATH = "/visitor/visitor"
GENVISITOR_PATH = "/visitor/genvisitor2"
GENVISITOR_FORM = {"cb": "visitor_gray_callback", "tid": "", "from": "weibo"}
_CALLBACK = re.compile(r"visitor_gray_callback\((.*)\)", re.DOTALL)
_SUCCESS = 20000000


def is_visitor_page(url: str) -> bool:
    """Whether a URL is the visitor system's page (where Weibo redirects cookieless clients)."""
    return urlsplit(url).path.startswith(VISITOR_PATH)


def parse_visitor_cookie(text: str) -> str:
    """The Cookie header ("SUB=...; SUBP=...") from genvisitor2's JSONP answer."""
    match = _CALLBACK.search(text)
    if match is None:
        raise PayloadError("genvisitor2 answered without its callback")
    try:
        answer = json.loads(match[1])
    except ValueError:
        raise PayloadError("genvisitor2's callback does not hold JSON") from None
    data = answer.get("data") if isinstance(answer, dict) else None
    if answer.get("retcode") != _SUCCESS or not isinstance(data, dict):
        raise PayloadError(f"genvisitor2 refused: retcode {answer.get('retcode')!r}")
    if not data.get("sub") or not data.get("subp"):
        raise PayloadError("genvisitor2 gave no SUB/SUBP")
    return f"SUB={data['sub']}; SUBP={data['subp']}"
