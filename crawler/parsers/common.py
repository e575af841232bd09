"""Helpers the platform parsers share: times, HTML text, topics and mentions. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

import lxml.html

from crawler.items import CommentItem, PostItem, RejectItem
from smcat.units import DAY, HOUR, MINUTE, SECOND, parse_count

if TYPE_CHECKING:
    from bs4 import Tag

CHINA = timezone(timedelta(hours=8))  # Weibo shows relative times in China time
_WEIBO_FULL = "%a %b %d %H:%M:%S %z %Y"
_SECONDS_AGO = re.compile(r"^(\d+)\s*秒前$")
_MINUTES_AGO = re.compile(r"^(\d+)\s*分钟前$")
_HOURS_AGO = re.compile(r"^(\d+)\s*小时前$")
_TODAY = re.compile(r"^今天\s*(\d{1,2}):(\d{2})$")
_YESTERDAY = re.compile(r"^昨天\s*(\d{1,2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_YEAR_MONTH_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
# s.weibo.com's cards: 03月01日 10:05 this year, 2024年03月01日 10:05 before it
_CHINESE_DATE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2}):(\d{2}))?$")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_FULL = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ({'|'.join(_MONTH_NAMES)}) "
    r"(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})"
)
_MARKUP = re.compile(r"[<&\r]")  # what an HTML parser would read other than as it is
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # lxml refuses these
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TOPIC = re.compile(r"#([^#\n]{1,64})#")
MENTION = re.compile(r"@([\w\u4e00-\u9fff\-]{1,30})")
Read = TypeVar("Read")


class PayloadError(ValueError):
    """A response that is not what the parser expects (error envelope, wrong shape)."""


@dataclass
class Paging:
    """What a page says of its part's next page beyond its rows: `cursor_problem` names a
    cursor that could not be read. The page keeps its rows; its part's paging ends there, and
    the spider records the problem."""

    cursor_problem: str | None = None

    def read_cursor(self, value: Any, name: str) -> int:
        """A paging cursor as a whole number (null and "" are 0: no next page). Anything else
        ("abc", "2a", -1, 1.5, a list) gives 0, with the problem noted."""
        if value is None or value == "":
            return 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self._note(value, name)
        return 0

    def read_token(self, value: Any, name: str) -> str | None:
        """A paging cursor handed back as it is (weibo.com's since_id "4763007765200116kp2"):
        a text or a whole number; None for null, "" and 0. Anything else (a list, a mapping,
        a fraction) gives None, with the problem noted."""
        if value is None or value == "" or value == 0:
            return None
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return str(value)
        self._note(value, name)
        return None

    def _note(self, value: Any, name: str) -> None:
        self.cursor_problem = self.cursor_problem or f"the paging cursor {name} is {value!r}"


class HasPosts(Protocol):
    """A page of posts as the parsers return it, with the entries they could not read."""

    posts: list[PostItem]
    rejects: list[RejectItem]


class HasComments(Protocol):
    """A page of comments as the parsers return it, with the entries they could not read."""

    comments: list[CommentItem]
    rejects: list[RejectItem]


def read_or_reject(
    read: Callable[[Any], Read],
    entry: Any,
    kind: str,
    rejects: list[RejectItem],
    kept: Callable[[Any], Any] | None = None,
) -> Read | None:
    """`read(entry)`, or None with the entry (as `kept` keeps it; itself by default) and why it
    could not be read added to `rejects`. Whatever the exception: one card, comment or row
    that breaks a parser in a way nobody foresaw costs only itself, never its page."""
    try:
        return read(entry)
    except Exception as error:  # the net under every entry, see the docstring
        rejects.append(RejectItem.of(kind, error, entry if kept is None else kept(entry)))
        return None


def check_not_blocked(payload: Mapping[str, Any]) -> None:
    """Raise PayloadError naming the fix when Weibo answers with a URL to visit instead of data:
    a login page (the cookie is no longer good) or a captcha."""
    url = payload.get("url")
    if "data" in payload or not isinstance(url, str):
        return
    if any(marker in url for marker in ("passport", "login", "signin")):
        raise PayloadError(f"Weibo wants a new sign-in ({url}): refresh SMCAT_WEIBO_COOKIE")
    raise PayloadError(
        f"Weibo asks for a captcha ({url}): solve it in a browser signed in to Weibo, then run "
        "the same command again with --resume"
    )


def _full_time(match: re.Match[str]) -> str:
    """The full form read by a regex: strptime took a twentieth of a crawl (bench_crawl)."""
    month, day, hour, minute, second, sign, hours, minutes, year = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    zone = timezone(-offset if sign == "-" else offset)
    moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                      tzinfo=zone)  # fmt: skip
    return moment.isoformat()


class PostTime(NamedTuple):
    """A time as ISO 8601 with offset, and how precisely its text gave it (smcat.units' SECOND,
    MINUTE, HOUR or DAY: a date-only time is its midnight, and says so)."""

    at: str
    precision: str


def parse_weibo_time(text: str, fetched_at: datetime) -> str:
    """Return a Weibo time as ISO 8601 with offset (see `weibo_time`, which also says how
    precise it is)."""
    return weibo_time(text, fetched_at).at


def weibo_time(text: str, fetched_at: datetime) -> PostTime:
    """Read a Weibo time, and the precision its text gives.

    Takes the full form ("Tue Sep 14 21:18:12 +0800 2021") and the relative forms Weibo shows
    (刚刚, N秒前, N分钟前, N小时前, 今天 HH:MM, 昨天 HH:MM, MM-DD, YYYY-MM-DD, and search's
    MM月DD日 HH:MM and YYYY年MM月DD日 HH:MM), read against the time the response was fetched, in
    China time. A form without a clock (MM-DD, YYYY-MM-DD, MM月DD日) is the day's midnight with
    precision DAY; N小时前 is HOUR, the other forms with HH:MM are MINUTE.
    """
    value = text.strip()
    if match := _FULL.fullmatch(value):
        with suppress(ValueError):  # an impossible date is refused below, as strptime does
            return PostTime(_full_time(match), SECOND)
    try:
        return PostTime(datetime.strptime(value, _WEIBO_FULL).isoformat(), SECOND)
    except ValueError:
        pass
    now = fetched_at.astimezone(CHINA)
    if value == "刚刚":
        return PostTime(now.replace(microsecond=0).isoformat(), SECOND)
    if match := _SECONDS_AGO.match(value):
        moment = now - timedelta(seconds=int(match[1]))
        return PostTime(moment.replace(microsecond=0).isoformat(), SECOND)
    if match := _MINUTES_AGO.match(value):
        moment = now - timedelta(minutes=int(match[1]))
        return PostTime(moment.replace(second=0, microsecond=0).isoformat(), MINUTE)
    if match := _HOURS_AGO.match(value):
        moment = now - timedelta(hours=int(match[1]))
        return PostTime(moment.replace(minute=0, second=0, microsecond=0).isoformat(), HOUR)
    for pattern, days in ((_TODAY, 0), (_YESTERDAY, 1)):
        if match := pattern.match(value):
            that_day = now - timedelta(days=days)
            moment = that_day.replace(
                hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0
            )
            return PostTime(moment.isoformat(), MINUTE)
    if match := _YEAR_MONTH_DAY.match(value):
        year, month, day, hour, minute = match.groups()
        return _at(int(year), int(month), int(day), hour, minute)
    if match := _MONTH_DAY.match(value) or _CHINESE_DATE.match(value):
        *year, month, day, hour, minute = match.groups()
        if year and year[0]:
            return _at(int(year[0]), int(month), int(day), hour, minute)
        this_year = (int(month), int(day)) <= (now.month, now.day)
        return _at(now.year if this_year else now.year - 1, int(month), int(day), hour, minute)
    raise PayloadError(f"unrecognised Weibo time: {text!r}")


def _at(year: int, month: int, day: int, hour: str | None, minute: str | None) -> PostTime:
    """A date with its clock (MINUTE), or without one: its midnight (DAY)."""
    try:
        moment = datetime(year, month, day, int(hour or 0), int(minute or 0), tzinfo=CHINA)
    except ValueError:
        raise PayloadError(f"impossible date: {year}-{month}-{day}") from None
    return PostTime(moment.isoformat(), DAY if hour is None else MINUTE)


def day_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The first and last instants of a window of whole days (YYYY-MM-DD) in China time."""
    start = datetime.combine(date.fromisoformat(since), time.min, CHINA) if since else None
    end = datetime.combine(date.fromisoformat(until), time.max, CHINA) if until else None
    return start, end


def window_side(created_at: str, start: datetime | None, end: datetime | None) -> int:
    """-1 if a time is before the window, 1 if after it, 0 if inside."""
    moment = datetime.fromisoformat(created_at)
    if start is not None and moment < start:
        return -1
    if end is not None and moment > end:
        return 1
    return 0


def attribute(tag: Tag, name: str) -> str:
    """The text of a single-valued HTML attribute, "" where the tag has none (bs4 types every
    attribute as text, a list of words, or None)."""
    value = tag.get(name)
    return value if isinstance(value, str) else ""


def html_to_text(html: object) -> str:
    """Plain text of a post's HTML: line breaks kept, emoji images as their [alt] text.

    lxml rather than BeautifulSoup here: this runs twice per post, and lxml is about ten times
    faster on post-sized fragments (bench/bench_crawl.py) with the same output.
    """
    if html is None:
        return ""
    if not isinstance(html, str):
        raise PayloadError(f"{html!r} is no text")
    if not html.strip():
        return ""
    if not _MARKUP.search(html):
        # plain text (most sources, many short posts): what lxml would return, at a tenth
        # of the cost
        return _NOT_XML.sub("", html).replace("\u200b", "").strip()
    return markup_to_text(html)


def parseable_markup(html: str) -> str:
    """A page's markup as lxml can take it: a lone surrogate (half an emoji, cut by Weibo)
    makes lxml raise, so each becomes U+FFFD, as the store mends texts."""
    return _LONE_SURROGATE.sub("\ufffd", html)


def markup_to_text(html: str) -> str:
    """html_to_text through lxml, whatever the input holds."""
    root = lxml.html.fragment_fromstring(_NOT_XML.sub("", html), create_parent="div")
    for image in root.iter("img"):
        image.tail = (image.get("alt") or "") + (image.tail or "")
    for line_break in root.iter("br"):
        line_break.tail = "\n" + (line_break.tail or "")
    return root.text_content().replace("\u200b", "").strip()


def numeric_id(value: object, what: str) -> str:
    """A numeric id (Weibo's uids, post and comment ids) as its digits: from an int, a text of
    ASCII digits, or a float that holds a whole number (JSON readers give 5.21e15 for a big id
    written with an exponent). PayloadError for anything else: null is no account "None", and
    a fraction or full-width digits are no id."""
    if isinstance(value, bool):
        raise PayloadError(f"{what} is {value!r}, not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise PayloadError(f"{what} is {value!r}, not a numeric id")


def count_of(value: object, what: str) -> int | None:
    """A count (see smcat.units.parse_count); PayloadError naming the field for a value that
    is no count, where the object it is read from is the whole answer (a profile, a room)."""
    try:
        return parse_count(value)
    except ValueError as error:
        raise PayloadError(f"{what}: {error}") from None


def flag_of(value: object, what: str) -> bool | None:
    """A yes/no field (true/false, 1/0) as a bool, None where absent; PayloadError naming the
    field for anything else."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise PayloadError(f"{what} is {value!r}, not a yes/no flag")


def whole_of(value: object, what: str) -> int | None:
    """A whole-number field (a type or a kind, negative ones too), None where absent;
    PayloadError naming the field for anything else."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PayloadError(f"{what} is {value!r}, not a whole number")


def inner(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object under `key` of an object, {} where there is none (null, or false and ""
    which Douyin sends for parts it does not fill); PayloadError naming the key where it is
    something else (a post's user as a text)."""
    value = parent.get(key)
    if isinstance(value, Mapping):
        return value
    if not value:
        return {}
    raise PayloadError(f"{key} is {value!r}, not an object")


def inner_list(parent: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects in the list under `key` of an object ([] where there is none), each entry
    that is no object left out: these lists (topics, tags, text marks) only add to a row."""
    value = parent.get(key)
    if not value:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{key} is {value!r}, not a list")
    return [entry for entry in value if isinstance(entry, Mapping)]


def optional_count(value: object) -> int | None:
    """A count a page only informs with (a total it claims): None where it is no count, so
    that an odd total never costs the page its rows."""
    try:
        return parse_count(value)
    except ValueError:
        return None


def topics_in(text: str) -> list[str]:
    """#micro-topics# in plain text, in order, without repeats and without the # marks."""
    if "#" not in text:  # most posts: no search needed
        return []
    return list(dict.fromkeys(filter(None, map(str.strip, _TOPIC.findall(text)))))


def mentions_in(text: str) -> list[str]:
    """@mentioned account names in plain text, in order, without repeats."""
    if "@" not in text:  # most posts: no search needed
        return []
    return list(dict.fromkeys(MENTION.findall(text)))
