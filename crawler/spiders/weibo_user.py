"""weibo_user: brand accounts' profiles and timelines from Weibo.

For each uid: the profile into accounts and account_snapshots, then the timeline page by page
into posts and post_observations, with the full text of long posts. Through m.weibo.cn
(getIndex containerid 100505{uid} / 107603{uid}, statuses/extend), or through weibo.com's API
(profile/info, statuses/mymblog, statuses/longtext) when a signed-in cookie is configured. Each
page's checkpoint is recorded once its rows are stored, so --resume restarts after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.endpoints import (
    WEIBO_LONG_TEXT,
    WEIBO_PROFILE,
    WEIBO_TIMELINE,
    WEIBO_WEB_LONG_TEXT,
    WEIBO_WEB_PROFILE,
    WEIBO_WEB_TIMELINE,
)
from crawler.items import Checkpoint, PostItem, RejectItem
from crawler.parsers.common import day_window
from crawler.parsers.weibo_mobile import parse_long_text, parse_profile, parse_timeline
from crawler.parsers.weibo_posts import window_sides, with_long_text
from crawler.parsers.weibo_web import parse_mymblog, parse_profile_info, parse_web_long_text
from crawler.spiders.base import (
    PageLedger,
    WeiboSpider,
    decoded,
    failed_request,
    iso_day,
    json_payload,
    listed,
    why,
)


class WeiboUserSpider(WeiboSpider):
    """Profiles and posts of Weibo accounts, optionally limited to a date range."""

    name = "weibo_user"
    totals = alike = frozenset({"raw_kept", "accounts"})

    def __init__(
        self,
        uids: str | Sequence[str] = "",
        since: str | date | None = None,
        until: str | date | None = None,
        max_pages: str | int = 0,
        resume_crawl_id: str | int | None = None,
        resume_from: str | Mapping[str, int | str] = "",
        api: str = "auto",
        after: str | Mapping[str, str] = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.uids = listed(uids)
        if not self.uids or not all(uid.isdigit() for uid in self.uids):
            raise ValueError("weibo_user needs uids=UID[,UID...] (numeric Weibo user ids)")
        first, last = iso_day(since), iso_day(until)
        self.since, self.until = day_window(first, last)
        # --new: per account, only posts after its crawled-up-to mark ({uid: ISO time})
        marks: dict[str, str] = decoded(after)
        self.after = {uid: datetime.fromisoformat(t) for uid, t in marks.items()}
        if api not in ("auto", "web", "mobile"):
            raise ValueError("weibo_user api= is auto, web (weibo.com, needs a cookie) or mobile")
        self.api = api
        self.web = False  # decided in start(), once the settings (the cookie) are known
        self.cookie = ""
        self.max_pages = int(max_pages or 0)
        self.crawl_args = self.describe(self.uids, first, last, marks)
        self.extra_counts = {"accounts": len(self.uids), "pages": 0}
        # --resume: the crawl to continue, and each account's checkpoint: its last page fully
        # stored, or "done"
        self.resume_crawl_id = int(resume_crawl_id) if resume_crawl_id else None
        checkpoints = decoded(resume_from)
        self.pages = PageLedger({uid: _page_number(checkpoints.get(uid)) for uid in self.uids})
        self.finished = {uid for uid in self.uids if checkpoints.get(uid) == "done"}
        self.long_texts_due: dict[tuple[str, int], int] = {}

    @staticmethod
    def describe(
        uids: Sequence[str], since: str | None, until: str | None, after: Mapping[str, str]
    ) -> dict[str, Any]:
        """The arguments a crawl is recorded with (and found again by, for --resume): days as
        YYYY-MM-DD, and the crawled-up-to marks it started after, if any."""
        described: dict[str, Any] = {"uids": list(uids), "since": since, "until": until}
        if after:
            described["after"] = dict(after)
        return described

    def start_of(self, uid: str) -> datetime | None:
        """Where an account's window starts: --since, or its mark under --new if later."""
        starts = [t for t in (self.since, self.after.get(uid)) if t is not None]
        return max(starts) if starts else None

    def completed_marks(self, started_at: datetime, known: dict[str, str]) -> dict[str, str]:
        """Once the crawl finished cleanly: for each account, the time up to which its posts
        are now stored without a gap. A crawl cut short by --max-pages sets none; a window
        that leaves a gap after an account's earlier mark does not move it."""
        if self.max_pages:
            return {}
        end = min(started_at, self.until) if self.until else started_at
        marks = {}
        for uid in self.uids:
            start, old = self.start_of(uid), known.get(uid)
            if old is None or start is None or start <= datetime.fromisoformat(old):
                marks[uid] = end.isoformat()
        return marks

    async def start(self) -> AsyncIterator[Request]:
        cookie = self.settings.get("SMCAT_WEIBO_COOKIE") or ""
        # weibo.com's API needs a signed-in cookie; m.weibo.cn serves most posts without one
        self.web = self.api == "web" or (self.api == "auto" and bool(cookie))
        if self.web and not cookie:
            raise CloseSpider("api=web needs a Weibo cookie: set SMCAT_WEIBO_COOKIE")
        self.cookie = cookie
        for uid in self.uids:
            if uid in self.finished:
                continue
            yield self._profile_request(uid)
            yield self._timeline_request(uid, self.pages.through[uid] + 1, None)

    # -- requests ---------------------------------------------------------------------------

    def _profile_request(self, uid: str) -> Request:
        if self.web:
            url = self.endpoint_url(WEIBO_WEB_PROFILE, uid=uid)
            return self._request(url, self.parse_web_profile, {"uid": uid})
        url = self.endpoint_url(WEIBO_PROFILE, uid=uid)
        return self._request(url, self.parse_profile, {"uid": uid})

    def _timeline_request(self, uid: str, page: int, since_id: str | None) -> Request:
        meta = {"uid": uid, "page": page, "since_id": since_id}
        if self.web:
            query: dict[str, object] = {"uid": uid, "page": page, "feature": 0}
            if since_id:
                query["since_id"] = since_id
            url = self.endpoint_url(WEIBO_WEB_TIMELINE, **query)
            return self._request(url, self.parse_web_timeline, meta)
        url = self.endpoint_url(WEIBO_TIMELINE, uid=uid, page=page)
        return self._request(url, self.parse_timeline, meta)

    def _long_text_request(self, post: PostItem, uid: str, page: int) -> Request:
        meta = {"post": post, "uid": uid, "page": page}
        if self.web:
            mblogid = post.extra.get("bid") or post.post_id
            url = self.endpoint_url(WEIBO_WEB_LONG_TEXT, id=mblogid)
            callback = self.parse_web_long_text
        else:
            url = self.endpoint_url(WEIBO_LONG_TEXT, id=post.post_id)
            callback = self.parse_long_text
        # each page waits for its own long texts, even one another page also holds; they go
        # before the next timeline page, so that a page is checkpointed soon after it came
        return self._request(url, callback, meta, dont_filter=True, priority=1)

    def _request(
        self,
        url: str,
        callback: Any,
        meta: dict[str, Any],
        *,
        dont_filter: bool = False,
        priority: int = 0,
    ) -> Request:
        headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        if self.web:
            headers["Referer"] = f"{self.settings.get('WEIBO_URL')}/u/{meta['uid']}"
            headers["Cookie"] = self.cookie
        else:
            headers["Referer"] = f"{self.settings.get('WEIBO_MOBILE_URL')}/"
            headers["MWeibo-Pwa"] = "1"
        return Request(
            url,
            callback=callback,
            errback=self.request_failed,
            meta=meta,
            headers=headers,
            dont_filter=dont_filter,
            priority=priority,
        )

    # -- callbacks ---------------------------------------------------------------------------

    def parse_profile(self, response: Response) -> Iterator[Any]:
        yield from self._account(response, parse_profile)

    def parse_web_profile(self, response: Response) -> Iterator[Any]:
        yield from self._account(response, parse_profile_info)

    def _account(self, response: Response, parse: Any) -> Iterator[Any]:
        account = yield from self._parsed(response, parse, f"profile of {response.meta['uid']}")
        if account is not None:
            yield account

    def parse_timeline(self, response: Response) -> Iterator[Any]:
        page = yield from self._parsed(response, parse_timeline, _timeline_name(response))
        if page is not None:
            following = page.next_page or response.meta["page"] + 1
            yield from self._timeline_page(
                response, page.posts, page.rejects, page.ended, following, None
            )

    def parse_web_timeline(self, response: Response) -> Iterator[Any]:
        page = yield from self._parsed(response, parse_mymblog, _timeline_name(response))
        if page is not None:
            following = response.meta["page"] + 1
            yield from self._timeline_page(
                response, page.posts, page.rejects, page.ended, following, page.since_id
            )

    def _timeline_page(
        self,
        response: Response,
        posts: list[PostItem],
        rejects: list[RejectItem],
        ended: bool,
        next_page: int,
        since_id: str | None,
    ) -> Iterator[Any]:
        """What both API families do with a page: the date window, long texts, the next page
        and the checkpoint."""
        uid, number = response.meta["uid"], response.meta["page"]
        self.extra_counts["pages"] += 1
        unread = self.all_rejected(posts, rejects)
        yield from rejects
        reached_since, long_texts = False, 0
        for post, side in window_sides(posts, self.start_of(uid), self.until):
            if side:
                # a pinned post is old by nature: it must not end a --since crawl early
                pinned = post.is_pinned or post.via_repost
                reached_since = reached_since or (side < 0 and not pinned)
                continue
            if post.is_long_text:
                long_texts += 1
                yield self._long_text_request(post, uid, number)
            else:
                yield post
        if ended or reached_since or (self.max_pages and number >= self.max_pages):
            self.pages.last_page(uid, number)
        elif problem := self._timeline_came_round(response, next_page, since_id):
            yield problem  # the timeline ends here, recorded; it is never checkpointed "done"
        else:
            yield self._timeline_request(uid, next_page, since_id)
        if unread:
            return  # not checkpointed: --resume asks for this page again
        if long_texts:
            self.long_texts_due[(uid, number)] = long_texts
        else:
            yield from self._page_stored(uid, number)

    def _timeline_came_round(
        self, response: Response, next_page: int, since_id: str | None
    ) -> RejectItem | None:
        """A problem if the timeline's next cursor (weibo.com's since_id, m.weibo.cn's page
        number) was asked for already."""
        part = (response.meta["uid"],)
        if self.web:
            if not since_id:  # none given: the next page is asked by its number, which moves
                return None
            asked = response.meta.get("since_id")
            return self.came_round(response, part, since_id, asked, "since_id")
        return self.came_round(response, part, next_page, response.meta["page"], "page")

    def _page_stored(self, uid: str, page: int) -> Iterator[Checkpoint]:
        """Checkpoints for the pages now stored without a gap (and "done" after the last)."""
        through, done = self.pages.stored(uid, page)
        if through is not None:
            yield Checkpoint(uid, through)
        if done:
            yield Checkpoint(uid, "done")

    def _long_text_settled(self, meta: dict[str, Any]) -> Iterator[Checkpoint]:
        key = (meta["uid"], meta["page"])
        if key not in self.long_texts_due:
            # a cluster worker fetched a long text of a page another worker read: it
            # checkpoints nothing (a cluster crawl goes on from its frontier instead)
            return
        self.long_texts_due[key] -= 1
        if not self.long_texts_due[key]:
            del self.long_texts_due[key]
            yield from self._page_stored(*key)

    def parse_long_text(self, response: Response) -> Iterator[Any]:
        yield from self._long_text(response, parse_long_text)

    def parse_web_long_text(self, response: Response) -> Iterator[Any]:
        yield from self._long_text(response, parse_web_long_text)

    def _long_text(self, response: Response, parse: Any) -> Iterator[Any]:
        post: PostItem = response.meta["post"]
        try:
            post = with_long_text(post, parse(json_payload(response)))
        except Exception as error:  # whatever it is, the post is kept below
            yield self._problem(response, f"long text of {post.post_id}: {why(error)}")
        yield post  # with the truncated text if the full one could not be had
        yield from self._long_text_settled(response.meta)

    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good: record why, and keep the post it was to complete."""
        yield from super().request_failed(failure)
        meta = failed_request(failure).meta
        if (post := meta.get("post")) is not None:
            yield post
            yield from self._long_text_settled(meta)


def _timeline_name(response: Response) -> str:
    return f"timeline of {response.meta['uid']}, page {response.meta['page']}"


def _page_number(checkpoint: object) -> int:
    """The last page stored, from a checkpoint value ("done" or none count as 0)."""
    return checkpoint if isinstance(checkpoint, int) else 0
