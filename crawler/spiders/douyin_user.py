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

from crawler.browser import Answer
from crawler.endpoints import DOUYIN_POSTS, DOUYIN_PROFILE
from crawler.items import Checkpoint
from crawler.parsers.douyin_user import parse_post_list, parse_profile
from crawler.spiders.base import decoded, listed
from crawler.spiders.douyin_base import WEBAPP_QUERY, DouyinSpider

MAX_COUNT = 30  # more per page makes Douyin cut lists short (maintainers of the reference tools)
_SEC_UID = re.compile(r"^[A-Za-z0-9_-]{8,}$")


def is_sec_uid(value: str) -> bool:
    """Whether a text has the shape of a creator's sec_uid."""
    return bool(_SEC_UID.match(value))


class DouyinUserSpider(DouyinSpider):
    """Profiles and posts of Douyin creators, named by sec_uid."""

    name = "douyin_user"
    # an account's listed and fetched posts are counted anew, with the earlier runs', by each run
    totals = frozenset({"raw_kept", "accounts", "posts_listed", "posts_fetched", "shortfall"})

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
        self.listed: dict[str, int] = {}  # sec_uid -> posts its profile counts
        self.fetched: dict[str, set[str]] = {s: set() for s in self.sec_uids}
        self.complete: set[str] = set()  # accounts whose list was read to its end
        self.unread: set[str] = set()  # accounts with a page whose posts were all rejected
        # --resume: the crawl to continue, and each account's checkpoint: the last page
        # stored, the cursor after it, the posts fetched and listed so far, and whether done
        self.resume_crawl_id = int(resume_crawl_id) if resume_crawl_id else None
        self.marks: dict[str, dict[str, Any]] = decoded(resume_from)
        self.fetched_before = {s: self.marks.get(s, {}).get("fetched", 0) for s in self.sec_uids}
        # each account's checkpoint as last written (or resumed from), which a stored profile
        # adds its count to
        self.progress: dict[str, dict[str, Any]] = {
            s: {"page": 0, "cursor": 0, "fetched": self.fetched_before[s], "done": False,
                **self.marks.get(s, {})}
            for s in self.sec_uids
        }  # fmt: skip
        # the browser mode: each creator's pages of posts read so far, and whose profile came
        self.pages_browsed = dict.fromkeys(self.sec_uids, 0)
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
            self.cursors.add((sec_uid, 0))  # where a list starts: a page pointing back came round
            mark = self.marks.get(sec_uid, {})
            if mark.get("listed") is not None:
                self.listed[sec_uid] = mark["listed"]  # the profile is stored already
            else:
                yield self._profile_request(sec_uid)
            if mark.get("done"):
                self.complete.add(sec_uid)
                self._compare(sec_uid)
            else:
                yield self._posts_request(sec_uid, mark.get("cursor", 0), mark.get("page", 0) + 1)

    def _referer(self, sec_uid: str) -> str:
        return self.site_url(f"/user/{sec_uid}")

    def _profile_request(self, sec_uid: str) -> Request:
        query = {**WEBAPP_QUERY, "sec_user_id": sec_uid, "publish_video_strategy_type": 2}
        meta = {"sec_uid": sec_uid}
        referer = self._referer(sec_uid)
        return self.douyin_request(DOUYIN_PROFILE, query, self.parse_profile, meta, referer)

    def _posts_request(self, sec_uid: str, cursor: int, page: int) -> Request:
        query = {
            **WEBAPP_QUERY, "sec_user_id": sec_uid, "max_cursor": cursor, "count": self.count,
            "locate_query": "false", "publish_video_strategy_type": 2,
        }  # fmt: skip
        meta = {"sec_uid": sec_uid, "cursor": cursor, "page": page}
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
        meta = {"sec_uid": sec_uid, "page": self.pages_browsed[sec_uid],
                "cursor": int(cursor) if cursor.isdigit() else 0}  # fmt: skip
        more = False
        for item in self.parse_posts(self.answer_response(answer, meta)):
            # parse_posts asks for the next page with a request: here, scrolling asks for it
            if isinstance(item, Request):
                more = True
            else:
                yield item
        if not more:
            self.lists_ended.add(sec_uid)

    def parse_profile(self, response: Response) -> Iterator[Any]:
        sec_uid = response.meta["sec_uid"]
        account = yield from self._parsed(response, parse_profile, f"profile of {sec_uid}")
        if account is None:
            return
        yield account
        if account.posts is not None:
            self.listed[sec_uid] = account.posts
            self._compare(sec_uid)
            # the profile is stored: --resume must not ask for it again (a second snapshot),
            # whether or not a page of its list was checkpointed before it came
            yield Checkpoint(sec_uid, {**self.progress[sec_uid], "listed": account.posts})

    def parse_posts(self, response: Response) -> Iterator[Any]:
        sec_uid, cursor, number = (response.meta[k] for k in ("sec_uid", "cursor", "page"))
        what = f"posts of {sec_uid}, page {number}"
        page = yield from self._parsed(response, parse_post_list, what)
        if page is None:
            return
        self.extra_counts["pages"] += 1
        if self.all_rejected(page.posts, page.rejects):
            self.unread.add(sec_uid)  # this page and those after it are not checkpointed
        yield from page.rejects
        for post in page.posts:
            self.fetched[sec_uid].add(post.post_id)
            yield post
        # the page's cursor is followed whatever its rows gave; an empty page that claims more
        # would page for ever, and a cursor that comes round is recorded as a problem
        goes_on = page.has_more and bool(page.posts or page.rejects)
        if goes_on and not (self.max_pages and number >= self.max_pages):
            came_round = self.came_round(
                response, (sec_uid,), page.max_cursor, cursor, "max_cursor"
            )
            if came_round is not None:
                yield came_round
                return  # not done: the list was cut short
            yield self._posts_request(sec_uid, page.max_cursor, number + 1)
            yield from self._checkpoint(sec_uid, number, page.max_cursor, done=False)
            return
        if not self.max_pages or not goes_on:
            self.complete.add(sec_uid)
            self._compare(sec_uid)
        yield from self._checkpoint(sec_uid, number, page.max_cursor, done=True)

    def _checkpoint(
        self, sec_uid: str, page: int, cursor: int, *, done: bool
    ) -> Iterator[Checkpoint]:
        """Where an account's list got to, once the page's posts are stored (the writer stores
        what came before a checkpoint first); none from a page all rejected on, so that
        --resume asks for that page again."""
        if sec_uid in self.unread:
            return
        value = {"page": page, "cursor": cursor, "fetched": self._fetched(sec_uid), "done": done}
        if sec_uid in self.listed:
            value["listed"] = self.listed[sec_uid]
        self.progress[sec_uid] = value
        yield Checkpoint(sec_uid, value)

    def _fetched(self, sec_uid: str) -> int:
        """The posts of an account listed so far, by this crawl and the one it resumes."""
        return self.fetched_before[sec_uid] + len(self.fetched[sec_uid])

    def _compare(self, sec_uid: str) -> None:
        """Once an account's profile and its whole list are in: how many posts the list lacked."""
        if sec_uid not in self.listed or sec_uid not in self.complete:
            return
        listed, fetched = self.listed[sec_uid], self._fetched(sec_uid)
        self.extra_counts["posts_listed"] += listed
        self.extra_counts["posts_fetched"] += fetched
        if fetched < listed:
            self.extra_counts["shortfall"] += listed - fetched
            self.logger.warning(
                "%s: Douyin listed %d of the %d posts its profile counts (private or deleted "
                "posts, or a cut-short list: refresh the cookie and run again)",
                sec_uid, fetched, listed,
            )  # fmt: skip
