"""weibo_comments: the comments on Weibo posts, cursor by cursor, with the replies under each
comment on request. Through m.weibo.cn (comments/hotflow, comments/hotFlowChild), or through
weibo.com's API (statuses/buildComments, level 1 for a post, level 2 for a comment's replies)
when a signed-in cookie is configured, or through weibo.cn's HTML pages (/comment/{bid}) with
api=wap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from typing import Any

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawler.endpoints import (
    WEIBO_COMMENTS,
    WEIBO_REPLIES,
    WEIBO_WAP_COMMENTS,
    WEIBO_WEB_COMMENTS,
    WEIBO_WEB_REPLIES,
)
from crawler.items import RejectItem
from crawler.parsers.weibo_cn import parse_wap_comment_page
from crawler.parsers.weibo_comments import CommentPage, parse_comment_page
from crawler.parsers.weibo_posts import bid_from_mid
from crawler.spiders.base import CommentPaging, WeiboSpider, checked_text, flag, listed

WAP_PAGE_CAP = 50  # weibo.cn lists a post's newest 50 comment pages, however many it has


class WeiboCommentsSpider(WeiboSpider, CommentPaging):
    """Comments of posts (numeric mids), every page, and their replies with `replies=1`."""

    name = "weibo_comments"
    totals = alike = frozenset({"raw_kept", "posts"})

    def __init__(
        self, post_ids: str | Sequence[str] = "", replies: str | bool = False,
        max_pages: str | int = 0, api: str = "auto", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.post_ids = listed(post_ids)
        if not self.post_ids or not all(p.isdigit() for p in self.post_ids):
            raise ValueError("weibo_comments needs post_ids=MID[,MID...] (numeric post ids)")
        self.replies = flag(replies)
        self.max_pages = int(max_pages or 0)
        if api not in ("auto", "web", "mobile", "wap"):
            raise ValueError(
                "weibo_comments api= is auto, web (weibo.com, needs a cookie), mobile, or wap "
                "(weibo.cn, needs a weibo.cn cookie)"
            )
        self.api = api
        self.web = False  # decided in start(), once the settings (the cookie) are known
        self.cookie = ""
        self.crawl_args = {"post_ids": self.post_ids, "replies": self.replies}
        self.extra_counts = {"posts": len(self.post_ids), "pages": 0}

    async def start(self) -> AsyncIterator[Request]:
        self.keep_raw_unless_pseudonymised()
        self.cookie = self.settings.get("SMCAT_WEIBO_COOKIE") or ""
        self.web = self.api == "web" or (self.api == "auto" and bool(self.cookie))
        if self.api in ("web", "wap") and not self.cookie:
            raise CloseSpider(f"api={self.api} needs a Weibo cookie: set SMCAT_WEIBO_COOKIE")
        for post_id in self.post_ids:
            yield (
                self._wap_page(post_id, 1) if self.api == "wap" else self._page(post_id, None, 0, 1)
            )

    def _wap_page(self, post_id: str, number: int) -> Request:
        url = self.endpoint_url(WEIBO_WAP_COMMENTS, bid=bid_from_mid(post_id), page=number)
        referer = f"{self.settings.get(WEIBO_WAP_COMMENTS.site).rstrip('/')}/"
        headers = {"Cookie": self.cookie, "Referer": referer}
        meta = {"post_id": post_id, "page": number}
        return Request(url, callback=self.parse_wap, errback=self.request_failed, meta=meta,
                       headers=headers)  # fmt: skip

    def parse_wap(self, response: Response) -> Iterator[Any]:
        """A weibo.cn comment page; the first one says how many there are. Replies are among
        the comments there (回复@...), so --replies asks for nothing more."""
        post_id, number = response.meta["post_id"], response.meta["page"]
        page = yield from self._parsed(
            response,
            lambda html, when: parse_wap_comment_page(html, post_id, when),
            f"comments of {post_id}, page {number}",
            checked_text,
        )
        if page is None:
            return
        self.extra_counts["pages"] += 1
        self.all_rejected(page.comments, page.rejects)
        yield from page.rejects
        yield from page.comments
        last = min(page.page_count, self.max_pages or WAP_PAGE_CAP, WAP_PAGE_CAP)
        if number == 1 and page.page_count > WAP_PAGE_CAP:
            self.extra_counts["wap_pages_out_of_reach"] = page.page_count - WAP_PAGE_CAP
            self.logger.warning(
                "weibo.cn shows only the newest %d of %d comment pages of %s: "
                "use --api mobile or web for the rest", WAP_PAGE_CAP, page.page_count, post_id,
            )  # fmt: skip
        # one page after another: past its cap weibo.cn answers with empty pages, not an error
        if (page.comments or page.rejects) and number < last:
            yield self._wap_page(post_id, number + 1)

    def _page(self, post_id: str, max_id: int | None, max_id_type: int, number: int) -> Request:
        query: dict[str, object]
        if self.web:
            endpoint = WEIBO_WEB_COMMENTS
            query = {"is_reload": 1, "id": post_id, "is_show_bulletin": 2, "is_mix": 0}
            query["count"] = 20
        else:
            endpoint, query = WEIBO_COMMENTS, {"id": post_id, "mid": post_id}
        if max_id:
            query["max_id"] = max_id
        if not self.web:
            query["max_id_type"] = max_id_type
        meta = {"post_id": post_id, "page": number, "max_id": max_id}
        return self._request(self.endpoint_url(endpoint, **query), self.parse, meta)

    def _replies(self, post_id: str, root: str, max_id: int, number: int) -> Request:
        if self.web:
            url = self.endpoint_url(
                WEIBO_WEB_REPLIES, is_reload=1, id=root, is_show_bulletin=2, is_mix=1,
                max_id=max_id, count=20,
            )  # fmt: skip
        else:
            url = self.endpoint_url(WEIBO_REPLIES, cid=root, max_id=max_id, max_id_type=0)
        meta = {"post_id": post_id, "root": root, "page": number, "max_id": max_id}
        return self._request(url, self.parse_replies, meta)

    def _request(self, url: str, callback: Any, meta: dict[str, Any]) -> Request:
        headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        if self.web:
            base = self.settings.get("WEIBO_URL").rstrip("/")
            headers.update(Referer=f"{base}/", Cookie=self.cookie)
        else:
            base = self.settings.get("WEIBO_MOBILE_URL").rstrip("/")
            headers.update({"Referer": f"{base}/detail/{meta['post_id']}", "MWeibo-Pwa": "1"})
        return Request(url, callback=callback, errback=self.request_failed, meta=meta,
                       headers=headers)  # fmt: skip

    def parse(self, response: Response) -> Iterator[Any]:
        post_id, number = response.meta["post_id"], response.meta["page"]
        page = yield from self._read(response, f"comments of {post_id}, page {number}")
        if page is None:
            return
        if self.replies:
            for root in page.more_replies:
                yield self._replies(post_id, root, 0, 1)
        if (yield from self._goes_on(page, response, number)):
            yield self._page(post_id, page.max_id, page.max_id_type, number + 1)

    def parse_replies(self, response: Response) -> Iterator[Any]:
        post_id, root, number = (response.meta[k] for k in ("post_id", "root", "page"))
        page = yield from self._read(response, f"replies to {root}, page {number}")
        if page is not None and (yield from self._goes_on(page, response, number)):
            yield self._replies(post_id, root, page.max_id, number + 1)

    def _read(self, response: Response, what: str) -> Generator[Any, None, CommentPage | None]:
        return (yield from self._read_comments(response, parse_comment_page, what))

    def _goes_on(
        self, page: CommentPage, response: Response, number: int
    ) -> Generator[RejectItem, None, bool]:
        if page.ended or (self.max_pages and number >= self.max_pages):
            return False
        thread, asked = self._thread(response), response.meta["max_id"]
        if problem := self.came_round(response, thread, page.max_id, asked, "max_id"):
            yield problem
            return False
        return True
