"""weibo_user: brand accounts' profiles and timelines from Weibo's mobile API (m.weibo.cn).

For each uid: the profile (getIndex containerid 100505{uid}) into accounts and
account_snapshots, then the timeline (containerid 107603{uid}) page by page into posts and
post_observations, fetching the full text of long posts (statuses/extend).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import PostItem, RejectItem
from crawler.middlewares import fetched_at
from crawler.parsers.common import PayloadError, day_window, window_side
from crawler.parsers.weibo_mobile import (
    PARSER_VERSION,
    parse_long_text,
    parse_profile,
    parse_timeline,
    profile_containerid,
    timeline_containerid,
    with_long_text,
)

_LOGIN_MARKERS = ("/signin", "passport.weibo", "login.sina")


class WeiboUserSpider(Spider):
    """Profiles and posts of Weibo accounts, optionally limited to a date range."""

    name = "weibo_user"
    parser_version = PARSER_VERSION

    def __init__(
        self,
        uids: str = "",
        since: str | None = None,
        until: str | None = None,
        max_pages: str | int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.uids = [uid.strip() for uid in str(uids).split(",") if uid.strip()]
        if not self.uids or not all(uid.isdigit() for uid in self.uids):
            raise ValueError("weibo_user needs uids=UID[,UID...] (numeric Weibo user ids)")
        self.since, self.until = day_window(since, until)
        self.max_pages = int(max_pages or 0)
        self.crawl_args = {"uids": self.uids, "since": since, "until": until}
        self.stop_reason: str | None = None
        self.problems: list[str] = []
        self.extra_counts: dict[str, int] = {"accounts": len(self.uids), "pages": 0}

    async def start(self) -> AsyncIterator[Request]:
        for uid in self.uids:
            yield self._get_index(profile_containerid(uid), self.parse_profile, uid=uid)
            yield self._timeline_request(uid, 1)

    # -- requests ---------------------------------------------------------------------------

    def _api(self, path: str, **query: Any) -> str:
        base = self.settings.get("WEIBO_MOBILE_URL").rstrip("/")
        return f"{base}{path}?{urlencode(query)}"

    def _get_index(self, containerid: str, callback: Any, **meta: Any) -> Request:
        return self._request(
            self._api("/api/container/getIndex", containerid=containerid), callback, meta
        )

    def _timeline_request(self, uid: str, page: int) -> Request:
        url = self._api("/api/container/getIndex", containerid=timeline_containerid(uid), page=page)
        return self._request(url, self.parse_timeline, {"uid": uid, "page": page})

    def _request(self, url: str, callback: Any, meta: dict[str, Any]) -> Request:
        headers = {
            "Referer": f"{self.settings.get('WEIBO_MOBILE_URL')}/",
            "MWeibo-Pwa": "1",
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "application/json",
        }
        return Request(
            url, callback=callback, errback=self.request_failed, meta=meta, headers=headers
        )

    # -- callbacks ---------------------------------------------------------------------------

    def parse_profile(self, response: Response) -> Iterator[Any]:
        try:
            yield parse_profile(_json(response), fetched_at(response))
        except PayloadError as error:
            yield self._problem(response, f"profile of {response.meta['uid']}: {error}")

    def parse_timeline(self, response: Response) -> Iterator[Any]:
        uid, page_number = response.meta["uid"], response.meta["page"]
        try:
            page = parse_timeline(_json(response), fetched_at(response))
        except PayloadError as error:
            yield self._problem(response, f"timeline of {uid}, page {page_number}: {error}")
            return
        self.extra_counts["pages"] += 1
        yield from page.rejects
        reached_since = False
        for post in page.posts:
            # reposted originals come with their repost, whatever their own date
            side = window_side(post.created_at, self.since, self.until)
            if post.account_id == uid and side:
                # a pinned post is old by nature: it must not end a --since crawl early
                reached_since = reached_since or (side < 0 and not post.is_pinned)
                continue
            yield from self._with_full_text(post)
        if page.ended or reached_since:
            return
        if self.max_pages and page_number >= self.max_pages:
            return
        yield self._timeline_request(uid, page.next_page or page_number + 1)

    def _with_full_text(self, post: PostItem) -> Iterator[Any]:
        if not post.is_long_text:
            yield post
            return
        url = self._api("/statuses/extend", id=post.post_id)
        yield self._request(url, self.parse_long_text, {"post": post})

    def parse_long_text(self, response: Response) -> Iterator[Any]:
        post: PostItem = response.meta["post"]
        try:
            post = with_long_text(post, parse_long_text(_json(response)))
        except PayloadError as error:
            yield self._problem(response, f"long text of {post.post_id}: {error}")
        yield post  # with the truncated text if the full one could not be had

    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good (after retries): keep what we have, record why."""
        request = failure.request
        if (post := request.meta.get("post")) is not None:
            yield post
        reason = f"{request.url}: {failure.type.__name__}: {failure.getErrorMessage()}"
        self._note(reason)
        yield RejectItem("weibo_request", reason, {"url": request.url})

    def _problem(self, response: Response, reason: str) -> RejectItem:
        self._note(reason)
        payload = {"url": response.url, "status": response.status, "body": response.text}
        return RejectItem("weibo_response", reason, payload)

    def _note(self, reason: str) -> None:
        self.problems.append(reason)
        self.stop_reason = f"{len(self.problems)} problem(s); first: {self.problems[0]}"


def _json(response: Response) -> Any:
    if response.meta.get("redirect_urls") and any(
        marker in response.url for marker in _LOGIN_MARKERS
    ):
        raise PayloadError(
            f"redirected to a login page ({response.url}): Weibo wants a signed-in cookie here"
        )
    try:
        return json.loads(response.text)
    except (ValueError, AttributeError) as error:
        raise PayloadError(f"response is not JSON ({error})") from None
