"""Every parser against mutated real-shape payloads: it returns (rows and rejects) or raises
PayloadError, never anything else, and what it returns can be stored.

Each public parse_* of crawler/parsers is in CASES with a fixture of the real shape; a test
checks that none is left out. A JSON payload is mutated at random paths (a key dropped, a
value swapped for null, a flag, a huge or negative number, a float, a string of digits or not,
a lone surrogate, a nested list or mapping); HTML and text payloads by cutting, repeating and
inserting pieces. Examples are derandomised, so CI runs the same ones every time.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crawler.parsers
from crawler.items import AccountItem, Item, LiveRoomItem, RejectItem
from crawler.parsers import (
    common,
    douyin_comments,
    douyin_live,
    douyin_user,
    weibo_cn,
    weibo_comments,
    weibo_hot,
    weibo_mobile,
    weibo_search,
    weibo_visitor,
    weibo_web,
)
from crawler.parsers.common import PayloadError
from crawler.writer import ItemWriter
from smcat.store import Store
from tests.conftest import FIXTURES

FETCHED = datetime(2025, 11, 5, 8, 0, tzinfo=UTC)
POST = "5210008539200130"
AWEME = "7430000000000000102"
EXAMPLES = 200  # per parser: the whole file stays well under a minute on one core
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Case:
    """A parser called on a payload of the shape of `fixture` (a path under fixtures/), or
    of `sample` where the parser reads a short text."""

    call: Callable[[Any], Any]
    fixture: str = ""
    sample: str = ""

    def source(self) -> Any:
        if self.sample:
            return self.sample
        text = (FIXTURES / self.fixture).read_text(encoding="utf-8")
        return json.loads(text) if self.fixture.endswith(".json") else text


CASES: dict[str, Case] = {
    "common.parse_weibo_time": Case(
        lambda text: common.parse_weibo_time(text, FETCHED),
        sample="Tue Sep 14 21:18:12 +0800 2021",
    ),
    "weibo_cn.parse_wap_comment_page": Case(
        lambda html: weibo_cn.parse_wap_comment_page(html, POST, FETCHED),
        "weibo/wap/comment_Q4cmNCBnc_p2.html",
    ),
    "weibo_comments.parse_comment_page": Case(
        lambda payload: weibo_comments.parse_comment_page(payload, POST, FETCHED),
        "weibo/comments/hotflow_5210008539200130_p3.json",
    ),
    "weibo_hot.parse_hot_search": Case(
        lambda payload: weibo_hot.parse_hot_search(payload, FETCHED), "weibo/hot/hot_2022.json"
    ),
    "weibo_mobile.parse_profile": Case(
        lambda payload: weibo_mobile.parse_profile(payload, FETCHED),
        "weibo/mobile/profile_5001000001.json",
    ),
    "weibo_mobile.parse_timeline": Case(
        lambda payload: weibo_mobile.parse_timeline(payload, FETCHED),
        "weibo/mobile/timeline_5001000001_p3.json",
    ),
    "weibo_mobile.parse_long_text": Case(
        weibo_mobile.parse_long_text, "weibo/mobile/extend_5210000640800179.json"
    ),
    "weibo_search.parse_search_page": Case(
        lambda html: weibo_search.parse_search_page(html, FETCHED), "weibo/search/lankou_p2.html"
    ),
    "weibo_visitor.parse_visitor_cookie": Case(
        weibo_visitor.parse_visitor_cookie, "weibo/visitor/genvisitor2.txt"
    ),
    "weibo_web.parse_profile_info": Case(
        lambda payload: weibo_web.parse_profile_info(payload, FETCHED),
        "weibo/web/profile_info_5001000001.json",
    ),
    "weibo_web.parse_mymblog": Case(
        lambda payload: weibo_web.parse_mymblog(payload, FETCHED),
        "weibo/web/mymblog_5001000002_p3.json",
    ),
    "weibo_web.parse_web_long_text": Case(
        weibo_web.parse_web_long_text, "weibo/web/longtext_Q4ca43ma7.json"
    ),
    "douyin_comments.parse_comment_list": Case(
        lambda payload: douyin_comments.parse_comment_list(payload, AWEME, FETCHED),
        "douyin/comments/list_7430000000000000102_p1.json",
    ),
    "douyin_live.parse_enter": Case(
        lambda payload: douyin_live.parse_enter(payload, FETCHED), "douyin/live/enter_live_1.json"
    ),
    "douyin_user.parse_profile": Case(
        lambda payload: douyin_user.parse_profile(payload, FETCHED),
        "douyin/user/profile_xiaoyu.json",
    ),
    "douyin_user.parse_post_list": Case(
        lambda payload: douyin_user.parse_post_list(payload, FETCHED),
        "douyin/user/posts_xiaoyu_p1.json",
    ),
}

# -- odd values -------------------------------------------------------------------------------

LONE_SURROGATES = st.sampled_from(["\ud83d", "半个\ud83d", "\ude00尾", "a\udc00b"])
ODD_NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64, 10**13, 1673771886000, 10**30, -(2**63)]),
    st.integers(),
    st.floats(),
)
ODD_TEXTS = st.one_of(
    st.sampled_from(["", " ", "-", "abc", "2a", "1.2万", "100万+", "null", "0", "٣", "１２"]),
    st.from_regex(r"\A[0-9]{1,25}\Z"),
    st.text(max_size=12),
    LONE_SURROGATES,
)
SCALARS = st.one_of(st.none(), st.booleans(), ODD_NUMBERS, ODD_TEXTS)
ODD_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
MARKUP = [
    "<div>", "</div>", "</p>", "<a>", '<a href="/u/">', '<span class="ct">',
    '<div class="c" id="C_">', '<div class="c" id="C_x1">', "<input name=mp value=٣>",
    '<p class="from">', '<div class="from"><a href="//weibo.com/12/">刚刚</a></div>',
    '<a action-type="feed_list_like" action-data="mid=">', "<![CDATA[", "<!--", "&#xD83D;",
    "\x00", "\x0b",
]  # fmt: skip
HTML_PIECES = st.one_of(ODD_TEXTS, st.sampled_from(MARKUP))


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value: keys of mappings and indices of lists."""
    yield at
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*at, index))


def swapped(value: Any, odd: Any, how: int) -> Any:
    """The value replaced by an odd one, or wrapped, or turned to text."""
    return (odd, [value], {"value": value}, str(value), json.dumps(value))[how]


@st.composite
def mutated_json(draw: st.DrawFn, payload: Any) -> Any:
    """The payload with one to four of its values dropped, swapped or wrapped."""
    mutated = copy.deepcopy(payload)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(paths(mutated))))
        if not path:
            mutated = draw(ODD_VALUES)
            continue
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["drop", "swap", "swap", "swap", "repeat"]))
        if action == "drop":
            del parent[last]
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        else:
            parent[last] = swapped(parent[last], draw(ODD_VALUES), draw(st.integers(0, 4)))
    return mutated


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """The text with one to four pieces cut out, repeated or put in."""
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 400)))
        action = draw(st.sampled_from(["cut", "repeat", "insert", "replace"]))
        if action == "cut":
            text = text[:start] + text[end:]
        elif action == "repeat":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "insert":
            text = text[:start] + draw(HTML_PIECES) + text[start:]
        else:
            text = text[:start] + draw(HTML_PIECES) + text[end:]
    return text


def mutations(case: Case) -> st.SearchStrategy[Any]:
    source = case.source()
    return mutated_text(source) if isinstance(source, str) else mutated_json(source)


def returned_items(result: Any) -> list[Item]:
    """What a parser's answer holds to store: a page's rows and rejects, an item, a list."""
    if isinstance(result, list):
        return result
    if isinstance(result, AccountItem | LiveRoomItem | RejectItem):
        return [result]
    rows = [*getattr(result, "posts", ()), *getattr(result, "comments", ())]
    return [*rows, *getattr(result, "rejects", ())]


# -- the tests --------------------------------------------------------------------------------


def public_parsers() -> set[str]:
    """module.parse_* for every public parse_ function defined in crawler/parsers."""
    names = set()
    for module_info in pkgutil.iter_modules(crawler.parsers.__path__):
        module = importlib.import_module(f"crawler.parsers.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("parse_") and function.__module__ == module.__name__:
                names.add(f"{module_info.name}.{name}")
    return names


def test_every_parser_is_fuzzed() -> None:
    assert public_parsers() == set(CASES)
    for case in CASES.values():
        assert not case.fixture or (FIXTURES / case.fixture).is_file()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store.open(Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db") as opened:
        yield opened


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_parser_reads_or_refuses_any_mutation_and_what_it_reads_is_stored(
    name: str, store: Store
) -> None:
    case = CASES[name]
    case.call(case.source())  # the fixture itself reads

    @FUZZ
    @given(payload=mutations(case))
    def parse_and_store(payload: Any) -> None:
        try:
            result = case.call(payload)
        except PayloadError:
            return
        writer = ItemWriter(store, None)
        for item in returned_items(result):
            writer.add(item)
        writer.flush()
        assert not writer.written.reasons, writer.written.reasons

    parse_and_store()
