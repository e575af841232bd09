"""douyin_user: Douyin creators' profiles and posts from the web API.

For each sec_uid: the profile (/aweme/v1/web/user/profile/other/) into accounts and
account_snapshots, then the post list (/aweme/v1/web/aweme/post/) page by page, each page asked
with the max_cursor the previous one returned, into posts and post_observations. Douyin often
lists fewer posts than the profile counts (stale cookie, risk control): the crawl compares the
two and records any shortfall in its counts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.parsers.douyin_user import PARSER_VERSION, parse_post_list, parse_profile
from crawler.spiders.douyin_base import WEBAPP_QUERY, DouyinSpider

MAX_COUNT = 30  # more per page makes Douyin cut lists short (maintainers of the reference tools)
_SEC_UID = re.compile(r"^[A-Za-z0-9_-]{8,}$")


class DouyinUserSpider(DouyinSpider):
    """Profiles and posts of Douyin creators, named by sec_uid."""

    name = "douyin_user"
    parser_version = PARSER_VERSION

    def __init__(
        self, sec_uids: str = "", count: str | int = 20, max_pages: str | int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.sec_uids = [s.strip() for s in str(sec_uids).split(",") if s.strip()]
        if not self.sec_uids or not all(_SEC_UID.match(s) for s in self.sec_uids):
            raise ValueError(
                "douyin_user needs sec_uids=SEC_UID[,SEC_UID...] (the MS4wLjABAAAA... id in "
                "douyin.com/user/<sec_uid>)"
            )
        self.count = int(count)
        if not 1 <= self.count <= MAX_COUNT:
            raise ValueError(f"douyin_user count= is 1 to {MAX_COUNT} posts a page")
        self.max_pages = int(max_pages or 0)
        self.crawl_args = {"sec_uids": self.sec_uids}
        self.extra_counts = {
            "accounts": len(self.sec_uids), "pages": 0,
            "posts_listed": 0, "posts_fetched": 0, "shortfall": 0,
        }  # fmt: skip
        self.listed: dict[str, int] = {}  # sec_uid -> posts its profile counts
        self.fetched: dict[str, set[str]] = {s: set() for s in self.sec_uids}
        self.complete: set[str] = set()  # accounts whose list was read to its end

    async def start(self) -> AsyncIterator[Request]:
        for sec_uid in self.sec_uids:
            yield self._profile_request(sec_uid)
            yield self._posts_request(sec_uid, 0, 1)

    def _url(self, path: str) -> str:
        return f"{self.settings.get('DOUYIN_URL').rstrip('/')}{path}"

    def _referer(self, sec_uid: str) -> str:
        return f"{self.settings.get('DOUYIN_URL').rstrip('/')}/user/{sec_uid}"

    def _profile_request(self, sec_uid: str) -> Request:
        query = {**WEBAPP_QUERY, "sec_user_id": sec_uid, "publish_video_strategy_type": 2}
        url = self._url("/aweme/v1/web/user/profile/other/")
        meta = {"sec_uid": sec_uid}
        return self.douyin_request(url, query, self.parse_profile, meta, self._referer(sec_uid))

    def _posts_request(self, sec_uid: str, cursor: int, page: int) -> Request:
        query = {
            **WEBAPP_QUERY, "sec_user_id": sec_uid, "max_cursor": cursor, "count": self.count,
            "locate_query": "false", "publish_video_strategy_type": 2,
        }  # fmt: skip
        url = self._url("/aweme/v1/web/aweme/post/")
        meta = {"sec_uid": sec_uid, "cursor": cursor, "page": page}
        return self.douyin_request(url, query, self.parse_posts, meta, self._referer(sec_uid))

    def parse_profile(self, response: Response) -> Iterator[Any]:
        sec_uid = response.meta["sec_uid"]
        account = yield from self._parsed(response, parse_profile, f"profile of {sec_uid}")
        if account is None:
            return
        yield account
        if account.posts is not None:
            self.listed[sec_uid] = account.posts
            self._compare(sec_uid)

    def parse_posts(self, response: Response) -> Iterator[Any]:
        sec_uid, cursor, number = (response.meta[k] for k in ("sec_uid", "cursor", "page"))
        what = f"posts of {sec_uid}, page {number}"
        page = yield from self._parsed(response, parse_post_list, what)
        if page is None:
            return
        self.extra_counts["pages"] += 1
        yield from page.rejects
        for post in page.posts:
            self.fetched[sec_uid].add(post.post_id)
            yield post
        # an empty page that claims more, or a cursor that does not move, would page for ever
        goes_on = page.has_more and page.posts and page.max_cursor not in (0, cursor)
        if goes_on and not (self.max_pages and number >= self.max_pages):
            yield self._posts_request(sec_uid, page.max_cursor, number + 1)
            return
        if not self.max_pages or not goes_on:
            self.complete.add(sec_uid)
            self._compare(sec_uid)

    def _compare(self, sec_uid: str) -> None:
        """Once an account's profile and its whole list are in: how many posts the list lacked."""
        if sec_uid not in self.listed or sec_uid not in self.complete:
            return
        listed, fetched = self.listed[sec_uid], len(self.fetched[sec_uid])
        self.extra_counts["posts_listed"] += listed
        self.extra_counts["posts_fetched"] += fetched
        if fetched < listed:
            self.extra_counts["shortfall"] += listed - fetched
            self.logger.warning(
                "%s: Douyin listed %d of the %d posts its profile counts (private or deleted "
                "posts, or a cut-short list: refresh the cookie and run again)",
                sec_uid, fetched, listed,
            )  # fmt: skip
