"""A search fixture too big to write by hand: a keyword with more posts than Weibo's 50 pages.

`write_search_fixture` writes result pages (in the card shape of fixtures/weibo/search/) and a
replay manifest that answers like s.weibo.com: any window lists at most 50 pages, so a window
holding more posts than that shows only its first 50 pages. The posts (all FICTIONAL) are spread
over hours as the caller plans, so the tests know exactly which posts a complete search finds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from crawler.parsers.common import CHINA
from crawler.parsers.weibo_search import search_timescope

PAGE_SIZE = 10
PAGE_CAP = 50
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class FixturePost:
    mid: str
    uid: str
    at: datetime


@dataclass(frozen=True)
class SearchFixture:
    manifest: Path
    posts: dict[str, FixturePost]  # every post the keyword matches, by mid
    pages_listed: dict[str, int]  # timescope -> pages the window's first page lists


def write_search_fixture(
    directory: Path, keyword: str, posts_per_hour: Mapping[datetime, int], days: int
) -> SearchFixture:
    """Pages for `keyword` over `days` days from the first hour's day. `posts_per_hour` maps the
    start of an hour (China time) to how many posts it holds. The first post of each busy hour
    after the first also shows at the end of the hour before (a post on the boundary)."""
    first = min(posts_per_hour).replace(hour=0)
    posts: list[FixturePost] = []
    for hour, count in sorted(posts_per_hour.items()):
        for i in range(count):
            at = hour + timedelta(seconds=(3600 * i) // count)
            posts.append(FixturePost(f"51402{len(posts):011d}", f"61{i % 97:08d}", at))
    routes: list[str] = []
    listed: dict[str, int] = {}
    windows = [(first, first + timedelta(days=days))]
    windows += [(first + timedelta(days=d), first + timedelta(days=d + 1)) for d in range(days)]
    windows += [(first + h * _HOUR, first + (h + 1) * _HOUR) for h in range(24 * days)]
    for start, end in windows:
        inside = [p for p in posts if start <= p.at < end]
        boundary = [p for p in posts if p.at == end]  # Weibo's windows overlap at the edge
        found = inside + boundary
        if not found:
            continue
        pages = min(math.ceil(len(found) / PAGE_SIZE), PAGE_CAP)
        scope = search_timescope(start, end)
        listed[scope] = pages
        for number in range(1, pages + 1):
            cards = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            name = f"{scope.replace(':', '_')}_p{number}.html"
            (directory / name).write_text(_page(keyword, scope, number, pages, cards), "utf-8")
            page_query = f', page = "{number}"' if number > 1 else ""
            routes.append(
                f'[[route]]\nname = "{name}"\npath = "/weibo"\n'
                f'query = {{ q = "{keyword}", timescope = "{scope}"{page_query} }}\n'
                f'body_file = "{name}"\n'
            )
    no_result = Path(__file__).resolve().parent.parent / "fixtures/weibo/search/no_result.html"
    routes.append(f'[[route]]\nname = "no-result"\npath = "/weibo"\nbody_file = "{no_result}"\n')
    manifest = directory / "search.toml"
    manifest.write_text("\n".join(routes), encoding="utf-8")
    return SearchFixture(manifest, {p.mid: p for p in posts}, listed)


def _page(keyword: str, scope: str, number: int, pages: int, cards: list[FixturePost]) -> str:
    link = f"/weibo?q={quote(keyword)}&amp;timescope={scope}&amp;page="
    items = "".join(f'<li><a href="{link}{n}">第{n}页</a></li>' for n in range(1, pages + 1))
    following = f'<a class="next" href="{link}{number + 1}">下一页</a>' if number < pages else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<div id="pl_feedlist_index">'
        + "".join(_card(keyword, post) for post in cards)
        + f'<div class="m-page"><div><span class="list"><ul class="s-scroll">{items}</ul>'
        f"</span>{following}</div></div></div></body></html>"
    )


def _card(keyword: str, post: FixturePost) -> str:
    at = post.at.astimezone(CHINA)
    return (
        f'<div class="card-wrap" action-type="feed_list_item" mid="{post.mid}"><div class="card">'
        '<div class="card-feed"><div class="content" node-type="like"><div class="info"><div>'
        f'</div><div><a href="//weibo.com/{post.uid}" class="name" nick-name="跑友{post.uid}">'
        f'跑友{post.uid}</a></div></div><p class="txt" node-type="feed_list_content">'
        f"{html.escape(keyword)}今天的第{post.mid[-4:]}公里</p>"
        f'<div class="from"><a href="//weibo.com/{post.uid}/Q{post.mid[-8:]}">'
        f"{at:%Y年%m月%d日 %H:%M}</a> 来自 <a>微博网页版</a></div></div></div>"
        '<div class="card-act"><ul><li><a action-type="feed_list_forward"> 转发</a></li>'
        f'<li><a action-type="feed_list_comment"> {int(post.mid[-2:])}</a></li>'
        f'<li><a action-type="feed_list_like"><span class="woo-like-count">{int(post.mid[-3:])}'
        "</span></a></li></ul></div></div></div>"
    )
