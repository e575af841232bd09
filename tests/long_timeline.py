"""A timeline fixture too long to write by hand: many pages, each with long posts.

`write_long_timeline` writes, in the card shape of fixtures/weibo/mobile/, an account's profile,
`pages` timeline pages of ten posts (the first `long_per_page` of each page long, with their
statuses/extend answers) and the end of the timeline, and a replay manifest serving them with
m.weibo.cn's routes. The account and its posts are FICTIONAL (made from the demo brand's).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import FIXTURES

MOBILE = FIXTURES / "weibo/mobile"
_TEMPLATE_UID = "5001000001"
_PER_PAGE = 10
_FIRST = datetime(2025, 10, 31, 20, 0)


def _json(path: Path, value: object) -> str:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path.name


def _cards(template: dict) -> tuple[dict, dict]:
    """A short and a long post card of the demo brand's page 2."""
    cards = template["data"]["cards"]
    long = next(c for c in cards if c["mblog"].get("isLongText"))
    short = next(
        c
        for c in cards
        if not c["mblog"].get("isLongText") and "retweeted_status" not in c["mblog"]
    )
    return short, long


def write_long_timeline(directory: Path, uid: str, pages: int, long_per_page: int) -> Path:
    """Write the fixture for `uid` into `directory`; returns its manifest. Timeline page n is
    route "timeline-p{n}", a long post's full text route "extend-{mid}"."""
    directory.mkdir(parents=True, exist_ok=True)
    profile = json.loads(
        (MOBILE / f"profile_{_TEMPLATE_UID}.json")
        .read_text(encoding="utf-8")
        .replace(_TEMPLATE_UID, uid)
    )
    template = json.loads(
        (MOBILE / f"timeline_{_TEMPLATE_UID}_p2.json").read_text(encoding="utf-8")
    )
    extend = json.loads((MOBILE / "extend_5210006724800095.json").read_text(encoding="utf-8"))
    short, long = _cards(template)
    routes = [
        ("profile", {"containerid": f"100505{uid}"}, _json(directory / "profile.json", profile))
    ]
    for number in range(1, pages + 1):
        cards = []
        for i in range(_PER_PAGE):
            index = (number - 1) * _PER_PAGE + i
            card = copy.deepcopy(long if i < long_per_page else short)
            mid = str(5300000000000000 - index * 7)
            blog = card["mblog"]
            blog.update(id=mid, mid=mid, bid="")
            blog["user"]["id"] = int(uid)
            at = _FIRST - timedelta(hours=5 * index)
            blog["created_at"] = at.strftime("%a %b %d %H:%M:%S +0800 %Y")
            card["itemid"] = f"107603{uid}_-_{mid}"
            cards.append(card)
            if i < long_per_page:
                text = copy.deepcopy(extend)
                text["data"]["longTextContent"] = f"长文 {mid} 全文：" + "澜蔻" * 80
                name = _json(directory / f"extend_{mid}.json", text)
                routes.append((f"extend-{mid}", {"id": mid}, name))
        page = copy.deepcopy(template)
        page["data"]["cards"] = cards
        page["data"]["cardlistInfo"].update(containerid=f"107603{uid}", page=number + 1,
                                            total=pages * _PER_PAGE)  # fmt: skip
        name = _json(directory / f"timeline_p{number}.json", page)
        routes.append(
            (f"timeline-p{number}", {"containerid": f"107603{uid}", "page": str(number)}, name)
        )
    end = (MOBILE / "timeline_end.json").read_text(encoding="utf-8")
    (directory / "timeline_end.json").write_text(end, encoding="utf-8")
    routes.append(("timeline-end", {"containerid": f"107603{uid}", "page": str(pages + 1)},
                   "timeline_end.json"))  # fmt: skip
    manifest = directory / "timeline.toml"
    blocks = []
    for name, query, body in routes:
        path = "/statuses/extend" if name.startswith("extend") else "/api/container/getIndex"
        wanted = ", ".join(f'{k} = "{v}"' for k, v in query.items())
        blocks.append(f'[[route]]\nname = "{name}"\npath = "{path}"\nquery = {{ {wanted} }}\n'
                      f'body_file = "{body}"\n')  # fmt: skip
    manifest.write_text("\n".join(blocks), encoding="utf-8")
    return manifest
