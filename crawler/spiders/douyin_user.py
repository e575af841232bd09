"""douyin_user: Douyin creators' profiles and posts from the web API.

For each sec_uid: the profile (/aweme/v1/web/user/profile/other/) into accounts and
account_snapshots, then the post list (/aweme/v1/web/aweme/post/) page by page, each page asked
with the max_cursor the previous one returned, into posts and post_observations. Douyin often
lists fewer posts than the profile counts (stale cookie, risk control): the crawl compares the
two and records any shortfall in its counts. Each page's checkpoint (the cursor of the next
page, and the posts counted so far) is recorded once its rows are stored, so --resume goes on
from there.

With `browser=1` it opens each creator's page (douyin.com/user/<sec_uid>) in Chromium instead,
lets the site's scripts ask for the profile and the first page of posts, and scrolls for the
next pages; the answers the page receives go through the same callbacks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.browser import Answer
from crawler.endpoints import DOUYIN_POSTS, DOUYIN_PROFILE
from crawler.items import Checkpoint, PostItem
from crawler.parsers.douyin_user import parse_post_list, parse_profile
from crawler.spiders.base import decoded, failed_request, listed
from crawler.spiders.douyin_base import WEBAPP_QUERY, DouyinSpider

MAX_COUNT = 30  # more per page makes Douyin cut lists short (maintainers of the reference tools)
_SEC_UID = re.compile(r"^[A-Za-z0-9_-]{8,}$")
LIST = "douyin_list"
"""Request meta: the state of an account's list (see DouyinUserSpider)."""


def is_sec_uid(value: str) -> bool:
    """Whether a text has the shape of a creator's sec_uid."""
    return bool(_SEC_UID.match(value))


class DouyinUserSpider(DouyinSpider):
    """Profiles and posts of Douyin creators, named by sec_uid.

    What an account's list needs from the requests before (the posts its profile counts, the
    posts and cursors its pages gave so far, whether a page of it was all rejected) travels
    with its requests (meta LIST), not on the spider: a cluster's workers each see some of
    them. So the profile is asked first, and its answer (or its failure) asks for the list."""

    name = "douyin_user"
    # an account's listed and fetched posts are counted anew, with the earlier runs', by each run
    totals = frozenset({"raw_kept", "accounts", "posts_listed", "posts_fetched", "shortfall"})
    alike = frozenset({"raw_kept", "accounts"})

    def __init__(
        self, sec_uids: str | Sequence[str] = "", count: str | int = 20, max_pages: str | int = 0,
        resume_crawl_id: str | int | None = None,
        resume_from: str | Mapping[str, dict[str, Any]] = "", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.sec_uids = listed(sec_uids)
        if not self.sec_uids or not all(is_sec_uid(s) for s in self.sec_uids):
            raise ValueError(
                "douyin_user needs sec_uids=SEC_UID[,SEC_UID...] (the MS4wLjABAAAA... id in "
                "douyin.com/user/<sec_uid>)"
            )
        self.count = int(count)
        if not 1 <= self.count <= MAX_COUNT:
            raise ValueError(f"douyin_user count= is 1 to {MAX_COUNT} posts a page")
        self.max_pages = int(max_pages or 0)
        self.crawl_args = self.describe(self.sec_uids)
        self.extra_counts = {
            "accounts": len(self.sec_uids), "pages": 0,
            "posts_listed": 0, "posts_fetched": 0, "shortfall": 0,
        }  # fmt: skip
        # --resume: the crawl to continue, and each account's checkpoint: the last page
        # stored, the cursor after it, the posts fetched and listed so far, and whether done
        self.resume_crawl_id = int(resume_crawl_id) if resume_crawl_id else None
        self.marks: dict[str, dict[str, Any]] = decoded(resume_from)
        # the browser mode: each creator's pages of posts read so far, its list as the last
        # page left it, and whose profile came and whose list ended
        self.pages_browsed = dict.fromkeys(self.sec_uids, 0)
        self.browsed_lists = {s: self._list_start(s) for s in self.sec_uids}
        self.profiled: set[str] = set()
        self.lists_ended: set[str] = set()

    @staticmethod
    def describe(sec_uids: Sequence[str]) -> dict[str, Any]:
        """The arguments a crawl is recorded with (and found again by, for --resume)."""
        return {"sec_uids": list(sec_uids)}

    async def start(self) -> AsyncIterator[Request]:
        if self.browser:
            for sec_uid in self.sec_uids:
                meta = {"sec_uid": sec_uid}
                paths = (DOUYIN_PROFILE.path, DOUYIN_POSTS.path)
                yield self.page_request(self._referer(sec_uid), self.read_creator, meta, paths)
            return
        for sec_uid in self.sec_uids:
            mark = self.marks.get(sec_uid, {})
            if mark.get("listed") is None:
                yield self._profile_request(sec_uid)  # its answer asks for the list
            elif mark.get("done"):
                self._compare(sec_uid, mark["listed"], [])
            else:
                yield self._posts_request(sec_uid, self._list_start(sec_uid))

    def _mark(self, sec_uid: str) -> dict[str, Any]:
        """An account's checkpoint as resumed from (a fresh one when not resuming)."""
        return {"page": 0, "cursor": 0, "fetched": 0, "done": False, **self.marks.get(sec_uid, {})}

    def _list_start(self, sec_uid: str, listed: int | None = None) -> dict[str, Any]:
        """The state an account's list starts from (meta LIST): where it resumes, the posts
        its profile counts, no post fetched yet, the cursors asked (where a list starts too:
        a page pointing back came round), no page all rejected."""
        mark = self._mark(sec_uid)
        listed = mark.get("listed") if listed is None else listed
        return {"cursor": mark["cursor"], "page": mark["page"] + 1, "listed": listed,
                "fetched": [], "cursors": sorted({0, mark["cursor"]}), "unread": False}  # fmt: skip

    def _referer(self, sec_uid: str) -> str:
        return self.site_url(f"/user/{sec_uid}")

    def _profile_request(self, sec_uid: str) -> Request:
        query = {**WEBAPP_QUERY, "sec_user_id": sec_uid, "publish_video_strategy_type": 2}
        meta = {"sec_uid": sec_uid}
        referer = self._referer(sec_uid)
        return self.douyin_request(
            DOUYIN_PROFILE, query, self.parse_profile, meta, referer, self.profile_failed
        )

    def _posts_request(self, sec_uid: str, state: dict[str, Any]) -> Request:
        cursor = state["cursor"]
        query = {
            **WEBAPP_QUERY, "sec_user_id": sec_uid, "max_cursor": cursor, "count": self.count,
            "locate_query": "false", "publish_video_strategy_type": 2,
        }  # fmt: skip
        meta = {"sec_uid": sec_uid, "cursor": cursor, "page": state["page"], LIST: state}
        referer = self._referer(sec_uid)
        return self.douyin_request(DOUYIN_POSTS, query, self.parse_posts, meta, referer)

    def read_creator(self, response: Response) -> AsyncIterator[Any]:
        """A creator's page in the browser: its profile and its list, scrolled to the end."""
        sec_uid = response.meta["sec_uid"]
        return self.read_page(
            response,
            lambda answer: self._browsed(sec_uid, answer),
            lambda: sec_uid in self.profiled and sec_uid in self.lists_ended,
        )

    def _browsed(self, sec_uid: str, answer: Answer) -> Iterator[Any]:
        """The rows of an answer the creator's page received (none from other creators')."""
        url = urlsplit(answer.url)
        query = dict(parse_qsl(url.query))
        if query.get("sec_user_id") != sec_uid:
            return
        if url.path == DOUYIN_PROFILE.path:
            self.profiled.add(sec_uid)
            yield from self.parse_profile(self.answer_response(answer, {"sec_uid": sec_uid}))
            return
        self.pages_browsed[sec_uid] += 1
        cursor = query.get("max_cursor", "0")
        state = self.browsed_lists[sec_uid]
        meta = {"sec_uid": sec_uid, "page": self.pages_browsed[sec_uid],
                "cursor": int(cursor) if cursor.isdigit() else 0, LIST: state}  # fmt: skip
        more, posts = False, []
        for item in self.parse_posts(self.answer_response(answer, meta)):
            # parse_posts asks for the next page with a request: here, scrolling asks for it
            if isinstance(item, Request):
                more = True
                self.browsed_lists[sec_uid] = item.meta[LIST]
                continue
            if isinstance(item, PostItem):
                posts.append(item.post_id)
            yield item
        if not more:
            # the list as it ended, for a profile that comes after it
            fetched = list(dict.fromkeys([*state["fetched"], *posts]))
            self.browsed_lists[sec_uid] = {**state, "fetched": fetched}
            self.lists_ended.add(sec_uid)

    def parse_profile(self, response: Response) -> Iterator[Any]:
        sec_uid = response.meta["sec_uid"]
        account = yield from self._parsed(response, parse_profile, f"profile of {sec_uid}")
        listed = account.posts if account is not None else None
        if account is not None:
            yield account
        if listed is not None:
            # the profile is stored: --resume must not ask for it again (a second snapshot)
            yield Checkpoint(sec_uid, {**self._mark(sec_uid), "listed": listed})
        if self.browser:  # the page lists the posts itself, before the profile or after it
            state = self.browsed_lists[sec_uid]
            state["listed"] = listed
            if sec_uid in self.lists_ended:
                self._compare(sec_uid, listed, state["fetched"])
            return
        yield from self._list_after_profile(sec_uid, listed)

    def profile_failed(self, failure: Failure) -> Iterator[Any]:
        """A profile that could not be fetched: recorded, and the list asked for all the same
        (unless the failure stops the crawl)."""
        yield from self.request_failed(failure)
        yield from self._list_after_profile(failed_request(failure).meta["sec_uid"], None)

    def _list_after_profile(self, sec_uid: str, listed: int | None) -> Iterator[Any]:
        """The list's first request, once the profile is in (`listed`: the posts it counts, if
        it could be read); an account whose list --resume found done is compared instead."""
        if self._mark(sec_uid)["done"]:
            self._compare(sec_uid, listed, [])
        else:
            yield self._posts_request(sec_uid, self._list_start(sec_uid, listed))

    def parse_posts(self, response: Response) -> Iterator[Any]:
        sec_uid, cursor, number = (response.meta[k] for k in ("sec_uid", "cursor", "page"))
        state: dict[str, Any] = response.meta[LIST]
        what = f"posts of {sec_uid}, page {number}"
        page = yield from self._parsed(response, parse_post_list, what)
        if page is None:
            return
        self.extra_counts["pages"] += 1
        # this page and those after it are not checkpointed
        unread = self.all_rejected(page.posts, page.rejects) or state["unread"]
        yield from page.rejects
        fetched = list(dict.fromkeys([*state["fetched"], *(post.post_id for post in page.posts)]))
        yield from page.posts
        after = {**state, "fetched": fetched, "unread": unread}
        # the page's cursor is followed whatever its rows gave; an empty page that claims more
        # would page for ever, and a cursor that comes round is recorded as a problem
        goes_on = page.has_more and bool(page.posts or page.rejects)
        if goes_on and not (self.max_pages and number >= self.max_pages):
            if page.max_cursor in state["cursors"] or page.max_cursor == cursor:
                yield self.cursor_came_round(response, page.max_cursor, "max_cursor")
                return  # not done: the list was cut short
            after.update(cursor=page.max_cursor, page=number + 1,
                         cursors=[*state["cursors"], page.max_cursor])  # fmt: skip
            yield self._posts_request(sec_uid, after)
            yield from self._checkpoint(sec_uid, number, page.max_cursor, after, done=False)
            return
        if not self.max_pages or not goes_on:
            self._compare(sec_uid, state["listed"], fetched)
        yield from self._checkpoint(sec_uid, number, page.max_cursor, after, done=True)

    def _checkpoint(
        self, sec_uid: str, page: int, cursor: int, state: dict[str, Any], *, done: bool
    ) -> Iterator[Checkpoint]:
        """Where an account's list got to, once the page's posts are stored (the writer stores
        what came before a checkpoint first); none from a page all rejected on, so that
        --resume asks for that page again."""
        if state["unread"]:
            return
        fetched = self._fetched(sec_uid, state["fetched"])
        value = {"page": page, "cursor": cursor, "fetched": fetched, "done": done}
        if state["listed"] is not None:
            value["listed"] = state["listed"]
        yield Checkpoint(sec_uid, value)

    def _fetched(self, sec_uid: str, fetched: Sequence[str]) -> int:
        """The posts of an account listed so far, by this crawl (`fetched`) and the one it
        resumes."""
        return int(self._mark(sec_uid)["fetched"]) + len(fetched)

    def _compare(self, sec_uid: str, listed: int | None, fetched: Sequence[str]) -> None:
        """Once an account's whole list is in: how many posts the list lacked of those its
        profile counts (`listed`; nothing to compare without)."""
        if listed is None:
            return
        fetched_count = self._fetched(sec_uid, fetched)
        self.extra_counts["posts_listed"] += listed
        self.extra_counts["posts_fetched"] += fetched_count
        if fetched_count < listed:
            self.extra_counts["shortfall"] += listed - fetched_count
            self.logger.warning(
                "%s: Douyin listed %d of the %d posts its profile counts (private or deleted "
                "posts, or a cut-short list: refresh the cookie and run again)",
                sec_uid, fetched_count, listed,
            )  # fmt: skip
