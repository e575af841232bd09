"""What smcat's spiders share: recording problems so that the crawl ends as "stopped" with the
first one named; and for Weibo's, reading JSON answers (and seeing login pages for what they
are)."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from scrapy import Spider
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.endpoints import Endpoint
from crawler.items import RejectItem
from crawler.middlewares import fetched_at
from crawler.parsers.common import HasComments, Paging, PayloadError
from crawler.parsers.weibo_visitor import is_visitor_page
from smcat.store import PAGES_ALL_REJECTED

LOGIN_MARKERS = ("/signin", "passport.weibo", "login.sina")
Page = TypeVar("Page", bound=HasComments)

# Spider arguments come typed from crawler.crawl, or as strings from `scrapy crawl -a name=value`:
# these read either.


def listed(value: str | Sequence[str]) -> list[str]:
    """A list argument: a sequence, or one comma-separated string."""
    parts = value.split(",") if isinstance(value, str) else value
    return [part.strip() for part in parts if part.strip()]


def flag(value: str | bool) -> bool:
    """A yes/no argument: a bool, or "1", "true" or "yes"."""
    return value if isinstance(value, bool) else value.lower() in ("1", "true", "yes")


def decoded(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A mapping argument: a mapping, or its JSON text ("" for none)."""
    return dict(value) if not isinstance(value, str) else json.loads(value or "{}")


def iso_day(value: str | date | None) -> str | None:
    """A day argument as YYYY-MM-DD: a date, or its ISO text; ValueError if it is neither."""
    if value is None or value == "":
        return None
    return (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()


class SmcatSpider(Spider):
    """A spider that records its problems: `stop_reason` names the first, and the pipeline
    marks the crawl stopped with it; `extra_counts` go into the crawl's counts. Subclasses
    name their `platform` and read a response's payload with `payload`."""

    platform = ""
    fatal: tuple[type[PayloadError], ...] = ()
    """Problems after which no later request can fare better: the crawl closes at once."""
    totals: frozenset[str] = frozenset({"raw_kept"})
    """The extra counts that hold the crawl's whole figure, not this run's: a resumed crawl's
    counts take these as they are and add the rest to the earlier runs'."""
    alike: frozenset[str] = frozenset({"raw_kept"})
    """The extra counts every worker of a cluster crawl holds alike (set from the arguments):
    the writer takes one of them, and adds up the rest."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stop_reason: str | None = None
        self.problems: list[str] = []
        self.extra_counts: dict[str, int] = {}
        self.crawl_args: dict[str, Any] = {}  # what the crawl is recorded with
        self.resume_crawl_id: int | None = None  # the crawl this one continues
        self.crawl_id: int | None = None  # set by the store pipeline as the crawl starts
        self.keep_raw = True  # the pipeline reads this; see keep_raw_unless_pseudonymised
        self.cursors: set[tuple[object, ...]] = set()  # (list..., cursor) asked for

    def keep_raw_unless_pseudonymised(self) -> None:
        """Keep no raw bodies in a pseudonymised crawl: they hold the real ids. Call it once
        the settings are known (in start())."""
        self.keep_raw = not self.settings.getbool("SMCAT_PSEUDONYMIZE")
        self.extra_counts["raw_kept"] = int(self.keep_raw)

    def endpoint_url(self, endpoint: Endpoint, **values: object) -> str:
        """An address of an endpoint, under the base URL the settings give its site."""
        return endpoint.url(self.settings.get(endpoint.site), **values)

    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good (after retries): record why, with the status and
        body of the answer if there was one (a 418, 429 or 5xx the retries gave up on)."""
        request = failed_request(failure)
        if failure.check(HttpError):
            response = failure.value.response
            reason = f"{request.url}: HTTP {response.status}"
            self._note(reason)
            yield RejectItem(
                f"{self.platform}_request", reason, kept_response(response), response.status
            )
            return
        reason = f"{request.url}: {failure.type.__name__}: {failure.getErrorMessage()}"
        self._note(reason)
        yield RejectItem(f"{self.platform}_request", reason, {"url": request.url})

    def _parsed(
        self,
        response: Response,
        parse: Callable[[Any, datetime], Any],
        what: str,
        read: Callable[[Response], Any] | None = None,
    ) -> Generator[RejectItem, None, Any]:
        """`parse(payload, fetched_at)` of the response (its payload as `read` reads it,
        `self.payload` by default); or, if the parser cannot read it, the reject (yielded) and
        None (returned): `page = yield from ...`. A page whose cursor could not be read is
        returned, and its problem yielded."""
        try:
            page = parse((read or self.payload)(response), fetched_at(response))
        except Exception as error:  # no failure of a parser loses a page silently
            yield self._problem(response, f"{what}: {why(error)}")
            if isinstance(error, self.fatal):
                # the crawl stopped for this reason, whatever problems came before it
                self.stop_reason = f"{what}: {error}"
                raise CloseSpider(self.stop_reason) from None
            return None
        if isinstance(page, Paging) and page.cursor_problem:
            yield self._problem(response, f"{what}: {page.cursor_problem}; its paging ends here")
        return page

    def all_rejected(self, rows: Sequence[object], rejects: Sequence[object]) -> bool:
        """Whether a page stored nothing it could read: it had rows, and every one was
        rejected (a markup or answer shape the parser no longer reads). Counted under
        PAGES_ALL_REJECTED; such a page is not checkpointed, so --resume asks for it again."""
        if not nothing_read(rows, rejects):
            return False
        self.extra_counts[PAGES_ALL_REJECTED] = self.extra_counts.get(PAGES_ALL_REJECTED, 0) + 1
        return True

    def came_round(
        self, response: Response, part: tuple[object, ...], cursor: object, asked: object,
        name: str,
    ) -> RejectItem | None:  # fmt: skip
        """A problem if a list's (`part`'s) next cursor was asked for already, or is the one
        just `asked` with (it would page for ever, or, filtered as a repeat request, end the
        list early without a word); else None, and the cursor is noted."""
        self.cursors.add((*part, asked))
        if (*part, cursor) in self.cursors:
            return self.cursor_came_round(response, cursor, name)
        self.cursors.add((*part, cursor))
        return None

    def cursor_came_round(self, response: Response, cursor: object, name: str) -> RejectItem:
        """The problem of a list whose next cursor was asked for already."""
        return self._problem(
            response, f"{response.url}: the cursor came round again ({name} {cursor})"
        )

    def _problem(self, response: Response, reason: str) -> RejectItem:
        self._note(reason)
        return RejectItem(
            f"{self.platform}_response", reason, kept_response(response), response.status
        )

    def _note(self, reason: str) -> None:
        self.problems.append(reason)
        self.stop_reason = f"{len(self.problems)} problem(s); first: {self.problems[0]}"

    def payload(self, response: Response) -> Any:
        """The decoded payload of a response; PayloadError if it is not what it should be."""
        raise NotImplementedError


class PageLedger:
    """Which pages of each part of a crawl (an account's timeline, a post's comments) are
    stored, so that a checkpoint vouches only for pages stored with none missing before them:
    pages complete out of order when each waits for requests of its own (long texts,
    replies)."""

    def __init__(self, done_through: Mapping[str, int]) -> None:
        self.through = dict(done_through)
        self._stored: defaultdict[str, set[int]] = defaultdict(set)
        self._last: dict[str, int] = {}

    def last_page(self, part: str, page: int) -> None:
        """Record which page is a part's last."""
        self._last[part] = page

    def stored(self, part: str, page: int) -> tuple[int | None, bool]:
        """Record a page as stored. Returns the last page now stored without a gap if that
        moved (else None), and whether the part's last page is among them."""
        self._stored[part].add(page)
        before = through = self.through.get(part, 0)
        while through + 1 in self._stored[part]:
            through += 1
        self.through[part] = through
        done = part in self._last and through >= self._last[part]
        return (through if through > before else None), done


class CommentPaging(SmcatSpider):
    """What comment spiders share: reading a page of comments. Their requests carry the post
    (and, for replies, the comment: root) in their meta."""

    def _read_comments(
        self, response: Response, parse_page: Callable[[Any, str, datetime], Page], what: str
    ) -> Generator[Any, None, Page | None]:
        """`parse_page(payload, post_id, fetched_at)` of the response, its rejects and comments
        yielded; the page returned (None if it could not be read)."""
        post_id = response.meta["post_id"]
        page = yield from self._parsed(
            response, lambda payload, when: parse_page(payload, post_id, when), what
        )
        if page is None:
            return None
        self.extra_counts["pages"] += 1
        self.all_rejected(page.comments, page.rejects)
        yield from page.rejects
        yield from page.comments
        return page

    def _thread(self, response: Response) -> tuple[str, ...]:
        """The comment thread a response is of: the post, and the comment for replies."""
        return (response.meta["post_id"], response.meta.get("root", ""))


def nothing_read(rows: Sequence[object], rejects: Sequence[object]) -> bool:
    """Whether a page's rows were all rejected (see SmcatSpider.all_rejected)."""
    return not rows and bool(rejects)


REJECT_BODY_MAX = 1 << 20
"""Bytes of a response body a reject keeps: a 49 MB page is kept as its first MiB (which the
store gzips), and the reject says how long the body was."""


def kept_response(response: Response) -> dict[str, Any]:
    """What a reject keeps of a response: its URL, status and body, the body as text (base64
    for a binary one) and cut to REJECT_BODY_MAX bytes, with its full length if it was cut."""
    head = response.body[:REJECT_BODY_MAX]
    kept: dict[str, Any] = {"url": response.url, "status": response.status}
    if isinstance(response, TextResponse):
        kept["body"] = head.decode(response.encoding, errors="replace")
    else:
        kept["body_base64"] = base64.b64encode(head).decode("ascii")
    if len(head) < len(response.body):
        kept["body_bytes"] = len(response.body)
        kept["body_kept_bytes"] = len(head)
    return kept


def why(error: Exception) -> str:
    """A parser's failure as a reason: a PayloadError's message (it names the fix), or the
    type and message of anything else (a parser's bug, named so it can be found)."""
    return str(error) if isinstance(error, PayloadError) else f"{type(error).__name__}: {error}"


def failed_request(failure: Failure) -> Request:
    """The request a failure is of: Scrapy hangs it on the failure, where no type declares it."""
    request = getattr(failure, "request", None)
    if not isinstance(request, Request):
        raise TypeError(f"{failure!r} is not of a request")
    return request


class WeiboSpider(SmcatSpider):
    """A spider of Weibo's: JSON answers, with login pages seen for what they are."""

    platform = "weibo"

    def payload(self, response: Response) -> Any:
        """The decoded JSON of a response; PayloadError for a login page or anything not JSON."""
        return json_payload(response)


def checked_text(response: Response) -> str:
    """The text of a response; PayloadError if it is a login page Weibo redirected to."""
    if response.meta.get("redirect_urls") and (
        any(marker in response.url for marker in LOGIN_MARKERS) or is_visitor_page(response.url)
    ):
        raise PayloadError(
            f"redirected to a login page ({response.url}): Weibo wants a signed-in cookie here"
        )
    try:
        return response.text
    except AttributeError:  # a binary response has no text
        raise PayloadError(f"response is not text ({response.url})") from None


def json_payload(response: Response) -> Any:
    """The decoded JSON of a response; PayloadError for a login page or anything not JSON."""
    text = checked_text(response)
    try:
        return json.loads(text)
    except ValueError as error:
        raise PayloadError(f"response is not JSON ({error})") from None
