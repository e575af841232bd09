"""Parser for s.weibo.com's keyword search: one result page (HTML) into posts.

A result page lists up to ten cards (`div.card-wrap[mid]`); a card shows the author, the text
(in full in `p[node-type=feed_list_content_full]` when the post is long), pictures or a video,
the time and source (`div.from`), the counts (`div.card-act`) and, for a repost, the original in
`div.card-comment`. The page list (`ul.s-scroll`) says how many pages the query has: Weibo shows
at most about 50, which is why the spider splits a window that reaches the cap. Pure functions;
BeautifulSoup (on lxml) reads the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from crawler.items import PostItem, RejectItem
from crawler.parsers.common import (
    PayloadError,
    attribute,
    html_to_text,
    mentions_in,
    parseable_markup,
    read_or_reject,
    topics_in,
    weibo_time,
)
from crawler.parsers.weibo_posts import PLATFORM
from smcat.units import parse_count

# 2: the 2018-2020 markup, super-topics, per-card rejects (#19)
PARSER_VERSION = "weibo_search/2"
PAGE_CAP = 50  # the most result pages Weibo lists for one query
_COUNT = re.compile(r"\d[\d,]*(?:\.\d+)?\s*[万亿]?\+?")
_VIDEO_SECONDS = re.compile(r"duration:\s*'(?:(\d+):)?(\d+):(\d+)'")
# links that are part of the card's chrome, not of the text: 展开/收起, and the place or video
# links whose icon is a wbicon glyph (2 = place, L = video)
_CHROME_ACTIONS = ("fl_unfold", "fl_fold")
_PLACE_ICON = "2"
_CHROME_ICONS = (_PLACE_ICON, "L")
_SUPER_TOPIC_ICON = "\ue627"  # the glyph before a super-topic's name in its link


@dataclass
class SearchPage:
    """One page of results: its posts (reposted originals included), the cards that could not
    be read, and how many pages the query has (what the page list shows)."""

    posts: list[PostItem] = field(default_factory=list)
    rejects: list[RejectItem] = field(default_factory=list)
    page_count: int = 0
    empty: bool = False


def search_timescope(start: datetime, end: datetime) -> str:
    """The `timescope` query value of a window of whole hours: custom:2025-03-01-0:2025-03-02-0."""
    return f"custom:{start:%Y-%m-%d}-{start.hour}:{end:%Y-%m-%d}-{end.hour}"


def parse_search_page(html: str, fetched_at: datetime) -> SearchPage:
    """The posts on a result page. PayloadError if the page is not a result page at all (the
    visitor or login page Weibo serves to a request without a valid cookie)."""
    soup = BeautifulSoup(parseable_markup(html), "lxml")
    feed = soup.find(id="pl_feedlist_index")
    if feed is None:
        title = soup.title.get_text(strip=True) if soup.title else "no title"
        raise PayloadError(
            f"not a search result page ({title!r}): Weibo's search wants a signed-in cookie; "
            "refresh SMCAT_WEIBO_COOKIE"
        )
    page = SearchPage(empty=feed.select_one("div.card-no-result") is not None)
    if page.empty:
        return page
    page_list = soup.select("ul.s-scroll li")
    page.page_count = len(page_list) or 1
    read = partial(_posts_of_card, fetched_at=fetched_at)
    for card in feed.select("div.card-wrap[mid]"):
        if card.select_one("div.card-feed") is None:
            continue  # a "hot topics" or user card among the results, not a post
        page.posts.extend(
            read_or_reject(read, card, "weibo_search_card", page.rejects, _as_html) or ()
        )
    return page


def _as_html(card: Tag) -> dict[str, str]:
    return {"html": str(card)}


def _posts_of_card(card: Tag, fetched_at: datetime) -> list[PostItem]:
    """The post of a card, and the post it reposts (if any) as its own item."""
    original = card.select_one("div.card-comment")
    if original is not None:
        original.extract()  # so that the repost's own selectors do not find the original's parts
    post = _post(card, str(card["mid"]), _from_line(card), fetched_at)
    post.likes = _count(_likes(card.select_one("div.card-act")))
    post.reposts = _count(card.select_one("div.card-act a[action-type=feed_list_forward]"))
    post.comments = _count(card.select_one("div.card-act a[action-type=feed_list_comment]"))
    if original is None or original.select_one("p.txt") is None:
        return [post]
    like = original.select_one("a[action-type=feed_list_like]")
    origin_id = _origin_id(like)
    embedded = _post(original, origin_id, _from_line(original), fetched_at)
    embedded.likes = _count(_likes(original))
    embedded.reposts = _count(original.select_one("a[action-type=feed_list_forward]"))
    embedded.comments = _count(original.select_one("a[action-type=feed_list_comment]"))
    embedded.via_repost = True
    embedded.is_pinned = None
    post.is_repost = True
    post.origin_post_id = origin_id
    return [post, embedded]


def _post(part: Tag, post_id: str, origin_line: Tag | None, fetched_at: datetime) -> PostItem:
    """The fields a card (or the original inside a repost card) shows."""
    if not post_id.isdigit():
        raise ValueError(f"post id {post_id!r} is not numeric")
    links = origin_line.find_all("a") if origin_line is not None else []
    if not links:
        raise PayloadError(f"card {post_id} has no link to its post (no div.from or p.from)")
    account_id, bid = _account_and_bid(attribute(links[0], "href"))
    text_node = part.select_one("p[node-type=feed_list_content_full]") or part.select_one("p.txt")
    if text_node is None:
        raise PayloadError(f"card {post_id} has no text")
    place = _place(text_node)
    super_topics = _super_topics(text_node)
    text = _text(text_node)
    pictures = len(part.select("div.media-piclist li img"))
    video = part.select_one("video-player")
    # the 2018-2020 markup has no player, only a thumbnail whose link names the video's source
    old_video = part.select_one("div.thumbnail a[action-data*=video_src]")
    media_type = "video" if video or old_video else "picture" if pictures else "text"
    if "头条文章" in text:
        media_type = "article"
    created = weibo_time(" ".join(links[0].get_text().split()), fetched_at)
    return PostItem(
        platform=PLATFORM,
        post_id=post_id,
        created_at=created.at,
        created_at_precision=created.precision,
        observed_at=fetched_at.isoformat(),
        account_id=account_id,
        text=text,
        media_type=media_type,
        pic_count=pictures,
        video_seconds=_video_seconds(video),
        source=links[1].get_text(strip=True) or None if len(links) > 1 else None,
        region=None,  # the IP region is on the post's own page, not on a search card
        url=f"https://weibo.com/{account_id}/{bid}",
        is_long_text=False,  # the full text is on the page already
        topics=list(dict.fromkeys([*topics_in(text), *super_topics])),
        mentions=mentions_in(text),
        extra={
            "bid": bid,
            **({"place": place} if place else {}),
            **({"super_topics": super_topics} if super_topics else {}),
        },
    )


def _from_line(part: Tag) -> Tag | None:
    """The line with the post's time link and its source: `div.from` in today's markup, the
    last `p.from` in the 2018-2020 one (a repost card's original, which has its own, is taken
    out of the card before)."""
    lines = part.select("div.from") or part.select("p.from")
    return lines[-1] if lines else None


def _likes(part: Tag | None) -> Tag | None:
    """Where a card shows its likes: `.woo-like-count` today, the `<em>` of the like link in
    the 2018-2020 markup (empty while there are none)."""
    if part is None:
        return None
    return part.select_one(".woo-like-count") or part.select_one("a[action-type=feed_list_like] em")


def _account_and_bid(href: str) -> tuple[str, str]:
    """uid and mblogid from a post link such as //weibo.com/5001000001/PaBcD0001?refer_flag=..."""
    parts = [p for p in urlsplit(href).path.split("/") if p]
    if len(parts) < 2 or not parts[-2].isdigit():
        raise PayloadError(f"unexpected post link {href!r}")
    return parts[-2], parts[-1]


def _place(node: Tag) -> str | None:
    """The place the author tagged (a link with the place icon), e.g. 杭州·湖滨银泰in77."""
    for icon in node.select("a > i.wbicon"):
        if icon.get_text(strip=True) == _PLACE_ICON and icon.parent is not None:
            place = icon.parent.get_text(strip=True)[len(_PLACE_ICON) :]
            return place or None
    return None


def _super_topics(node: Tag) -> list[str]:
    """The super-topics a text links to: links whose text starts with the super-topic icon, a
    private-use glyph of Weibo's icon font (<a href="https://huati.weibo.com/k/...">\ue627名</a>)."""
    names = (link.get_text(strip=True) for link in node.find_all("a"))
    marked = (
        n.removeprefix(_SUPER_TOPIC_ICON).strip() for n in names if n[:1] == _SUPER_TOPIC_ICON
    )
    return list(dict.fromkeys(name for name in marked if name))


def _text(node: Tag) -> str:
    """The plain text of a card's text paragraph, without the 展开/收起 and place links."""
    for link in node.find_all("a"):
        icon = link.find("i", class_="wbicon")
        chrome_icon = icon is not None and icon.get_text(strip=True) in _CHROME_ICONS
        if link.get("action-type") in _CHROME_ACTIONS or chrome_icon:
            link.decompose()
    return html_to_text(node.decode_contents()).replace(_SUPER_TOPIC_ICON, "")


def _count(node: Tag | None) -> int | None:
    """A count shown as "1.2万", "1,024" or a bare label (转发, 评论, 赞: none yet, so 0)."""
    if node is None:
        return None
    match = _COUNT.search(node.get_text())
    if match is None:
        return 0
    return parse_count(match[0])


def _origin_id(like: Tag | None) -> str:
    action = attribute(like, "action-data") if like is not None else ""
    if not action.startswith("mid="):
        raise PayloadError("the reposted post's card has no mid")
    return action[len("mid=") :].split("&")[0]


def _video_seconds(video: Tag | None) -> float | None:
    if video is None or not (match := _VIDEO_SECONDS.search(video.get_text())):
        return None
    hours, minutes, seconds = match.groups()
    return float(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))
