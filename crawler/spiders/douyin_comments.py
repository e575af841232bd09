"""douyin_comments: the comments on Douyin posts (/aweme/v1/web/comment/list/), page by page
with the cursor each page returns, and with `replies=1` every reply under each comment
(/aweme/v1/web/comment/list/reply/), into comments.

A post's page is checkpointed once its comments and all the replies it led to are stored, and
only after the pages before it, so --resume goes on from the first page not wholly stored. In a
cluster, which keeps no checkpoints, a worker reads only some pages and replies: a thread's
cursors asked so far travel with its requests, and a reply thread whose page another worker
read settles no checkpoint here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.endpoints import DOUYIN_COMMENTS, DOUYIN_REPLIES
from crawler.items import Checkpoint, RejectItem
from crawler.parsers.douyin_comments import DouyinCommentPage, parse_comment_list
from crawler.spiders.base import CommentPaging, PageLedger, decoded, flag, listed, nothing_read
from crawler.spiders.douyin_base import WEBAPP_QUERY, DouyinSpider

PAGE_SIZE = 20  # what the site's own page asks for


class DouyinCommentsSpider(DouyinSpider, CommentPaging):
    """Comments of Douyin posts (aweme ids), every page, and their replies with `replies=1`."""

    name = "douyin_comments"
    totals = alike = frozenset({"raw_kept", "posts"})

    def __init__(
        self, aweme_ids: str | Sequence[str] = "", replies: str | bool = False,
        max_pages: str | int = 0, resume_crawl_id: str | int | None = None,
        resume_from: str | Mapping[str, dict[str, Any]] = "", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.aweme_ids = listed(aweme_ids)
        if not self.aweme_ids or not all(a.isdigit() for a in self.aweme_ids):
            raise ValueError("douyin_comments needs aweme_ids=ID[,ID...] (numeric post ids)")
        self.replies = flag(replies)
        self.max_pages = int(max_pages or 0)
        self.crawl_args = self.describe(self.aweme_ids, self.replies)
        self.extra_counts = {"posts": len(self.aweme_ids), "pages": 0}
        # --resume: the crawl to continue, and each post's checkpoint ({"page", "cursor"} of
        # the last page wholly stored, or {"done": true})
        self.resume_crawl_id = int(resume_crawl_id) if resume_crawl_id else None
        self.marks: dict[str, dict[str, Any]] = decoded(resume_from)
        self.pages = PageLedger({a: self.marks.get(a, {}).get("page", 0) for a in self.aweme_ids})
        self.cursor_after: dict[tuple[str, int], int] = {}  # (post, page) -> the next cursor
        self.threads_due: dict[tuple[str, int], int] = {}  # (post, page) -> reply threads open
        self.unread: set[tuple[str, int]] = set()  # (post, page) with rows all rejected

    @staticmethod
    def describe(aweme_ids: Sequence[str], replies: bool) -> dict[str, Any]:
        """The arguments a crawl is recorded with (and found again by, for --resume)."""
        return {"aweme_ids": list(aweme_ids), "replies": replies}

    async def start(self) -> AsyncIterator[Request]:
        self.keep_raw_unless_pseudonymised()
        for aweme_id in self.aweme_ids:
            mark = self.marks.get(aweme_id, {})
            if not mark.get("done"):
                first = self.pages.through[aweme_id] + 1
                yield self._page(aweme_id, int(mark.get("cursor", 0)), first, ())

    def _page(self, aweme_id: str, cursor: int, number: int, asked: Sequence[int]) -> Request:
        """A page of a post's comments; `asked`: the cursors its list was asked with before."""
        query = {**WEBAPP_QUERY, "aweme_id": aweme_id, "cursor": cursor, "count": PAGE_SIZE,
                 "item_type": 0}  # fmt: skip
        meta = {"post_id": aweme_id, "page": number, "cursor": cursor,
                "cursors": [*asked, cursor]}  # fmt: skip
        referer = self._referer(aweme_id)
        return self.douyin_request(DOUYIN_COMMENTS, query, self.parse, meta, referer)

    def _replies(
        self, aweme_id: str, root: str, cursor: int, number: int, origin: int,
        asked: Sequence[int],
    ) -> Request:  # fmt: skip
        """A page of a comment's replies (`origin`: the page of the comment; `asked` as for
        _page)."""
        query = {**WEBAPP_QUERY, "item_id": aweme_id, "comment_id": root, "cursor": cursor,
                 "count": PAGE_SIZE, "item_type": 0}  # fmt: skip
        meta = {"post_id": aweme_id, "root": root, "page": number, "cursor": cursor,
                "origin": origin, "cursors": [*asked, cursor]}  # fmt: skip
        referer = self._referer(aweme_id)
        # replies complete a page already fetched: before the next page, so that it is
        # checkpointed soon after it came
        return self.douyin_request(
            DOUYIN_REPLIES, query, self.parse_replies, meta, referer, priority=1
        )

    def _referer(self, aweme_id: str) -> str:
        return self.site_url(f"/video/{aweme_id}")

    def parse(self, response: Response) -> Iterator[Any]:
        aweme_id, number = response.meta["post_id"], response.meta["page"]
        page = yield from self._read(response, f"comments of {aweme_id}, page {number}")
        if page is None:
            return  # not checkpointed: a resumed crawl asks for this page again
        self.cursor_after[(aweme_id, number)] = page.cursor
        if nothing_read(page.comments, page.rejects):
            self.unread.add((aweme_id, number))
        threads = page.more_replies if self.replies else []
        for root in threads:
            yield self._replies(aweme_id, root, 0, 1, number, ())
        if (yield from self._goes_on(page, response, number)):
            yield self._page(aweme_id, page.cursor, number + 1, response.meta["cursors"])
        else:
            self.pages.last_page(aweme_id, number)
        if threads:
            self.threads_due[(aweme_id, number)] = len(threads)
        else:
            yield from self._page_settled(aweme_id, number)

    def parse_replies(self, response: Response) -> Iterator[Any]:
        aweme_id, root, number = (response.meta[k] for k in ("post_id", "root", "page"))
        page = yield from self._read(response, f"replies to {root}, page {number}")
        if page is None:
            return
        origin = (aweme_id, response.meta["origin"])
        if nothing_read(page.comments, page.rejects):
            self.unread.add(origin)  # the page vouches for its replies: it is not stored whole
        if (yield from self._goes_on(page, response, number)):
            yield self._replies(aweme_id, root, page.cursor, number + 1, response.meta["origin"],
                                response.meta["cursors"])  # fmt: skip
            return
        if origin not in self.threads_due:
            return  # its page was read by another worker of a cluster: no checkpoint to settle
        # the thread is read to its end: the page it hangs from may now be wholly stored
        self.threads_due[origin] -= 1
        if not self.threads_due[origin]:
            del self.threads_due[origin]
            yield from self._page_settled(*origin)

    def _read(
        self, response: Response, what: str
    ) -> Generator[Any, None, DouyinCommentPage | None]:
        return (yield from self._read_comments(response, parse_comment_list, what))

    def _goes_on(
        self, page: DouyinCommentPage, response: Response, number: int
    ) -> Generator[RejectItem, None, bool]:
        # a page of comments all rejected still has a cursor to follow; an empty one does not
        read = page.comments or page.rejects
        if not page.has_more or not read or (self.max_pages and number >= self.max_pages):
            return False
        if page.cursor in response.meta["cursors"]:
            yield self.cursor_came_round(response, page.cursor, "cursor")
            return False
        return True

    def _page_settled(self, aweme_id: str, number: int) -> Iterator[Checkpoint]:
        """A page whose comments and replies are all in: checkpointed unless some of its
        answers were all rejected (then --resume asks for it again)."""
        if (aweme_id, number) not in self.unread:
            yield from self._page_stored(aweme_id, number)

    def _page_stored(self, aweme_id: str, number: int) -> Iterator[Checkpoint]:
        through, done = self.pages.stored(aweme_id, number)
        if through is not None:
            value = {"page": through, "cursor": self.cursor_after[(aweme_id, through)]}
            yield Checkpoint(aweme_id, value)
        if done:
            yield Checkpoint(aweme_id, {"done": True})
