"""What smcat's Douyin spiders share: the query every web API call carries, signed requests
with the configured cookie, stopping the crawl, naming the fix, when Douyin refuses it, and
the browser mode (`browser=1`), which opens the site's own pages in Chromium and reads the API
answers they receive instead of asking the API itself."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.browser import Answer, Answers, browser_cookies, browser_settings, find_chromium
from crawler.endpoints import Endpoint
from crawler.middlewares import FETCHED_AT, NO_RAW, RETRY_EMPTY, SIGN
from crawler.parsers.common import PayloadError
from crawler.parsers.douyin_common import FIX, PLATFORM, DouyinBlocked
from crawler.settings import RETRY_HTTP_CODES
from crawler.signing import SignerError
from crawler.spiders.base import SmcatSpider, checked_text, failed_request, flag

# The fixed "webapp" block of the site's own calls (the reference clients send the same).
# A signer signs the whole query, so it must agree with the User-Agent the crawl sends.
WEBAPP_QUERY = {
    "device_platform": "webapp",
    "aid": "6383",
    "channel": "channel_pc_web",
    "pc_client_type": "1",
    "version_code": "290100",
    "version_name": "29.1.0",
    "cookie_enabled": "true",
    "platform": "PC",
    "browser_language": "zh-CN",
}
LIVE_QUERY = {
    "aid": "6383",
    "app_name": "douyin_web",
    "live_id": "1",
    "device_platform": "web",
    "language": "zh-CN",
    "enter_from": "web_live",
    "cookie_enabled": "true",
    "browser_language": "zh-CN",
    "is_need_double_stream": "false",
}
_CAPTCHA_MARKER = "验证码"  # the title of Douyin's captcha page (验证码中间页)
if TYPE_CHECKING:
    from playwright.async_api import Page

_REFUSALS = (403, 429)  # Douyin's firewall, once the retries have not got past it
# what the site's scripts add to an API call to sign it or to track the browser: kept out of
# the raw store and the logs, as a signer's tokens are
_TOKENS = frozenset({"a_bogus", "X-Bogus", "msToken", "verifyFp", "fp", "webid", "uifid"})
_ANSWERS = "smcat_answers"


class DouyinSpider(SmcatSpider):
    """A spider of Douyin's web API: a refusal (empty body, login wanted, a verification or a
    captcha, a firewall that retries did not get past, a signer that failed) stops the crawl."""

    platform = PLATFORM
    fatal = (DouyinBlocked,)
    # Douyin's firewall answers 403 for a while when a client goes too fast: worth a retry.
    # Not a ClassVar: Scrapy declares custom_settings an instance attribute.
    custom_settings = {"RETRY_HTTP_CODES": [*RETRY_HTTP_CODES, 403]}  # noqa: RUF012

    def __init__(self, browser: str | bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.browser = flag(browser)
        self.pages_open = 0  # pages opened in the browser and not read to their end yet

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.browser:
            chromium = find_chromium(crawler.settings.get("SMCAT_BROWSER") or "")
            crawler.settings.setdict(browser_settings(chromium), priority="spider")
            # scrapy-playwright logs every URL a page fetches at DEBUG, signature tokens and all
            logging.getLogger("scrapy-playwright").setLevel(logging.INFO)
            spider.crawl_args = {**spider.crawl_args, "browser": True}
        return spider

    def payload(self, response: Response) -> Any:
        """The decoded JSON of a response; DouyinBlocked for an empty body or a captcha page,
        PayloadError for anything else that is not JSON."""
        text = checked_text(response)
        if not text.strip():
            raise DouyinBlocked(f"Douyin answered with an empty body: {FIX}")
        try:
            return json.loads(text)
        except ValueError as error:
            if _CAPTCHA_MARKER in text:
                message = f"Douyin shows a captcha page: solve it in a browser; {FIX}"
                raise DouyinBlocked(message) from None
            raise PayloadError(f"response is not JSON ({error})") from None

    def site_url(self, path: str) -> str:
        """An address on douyin.com (or what DOUYIN_URL names instead, such as a replay
        server)."""
        return f"{self.settings.get('DOUYIN_URL').rstrip('/')}{path}"

    def douyin_request(
        self,
        endpoint: Endpoint,
        query: Mapping[str, object],
        callback: Any,
        meta: dict[str, Any],
        referer: str,
        errback: Any = None,
        priority: int = 0,
    ) -> Request:
        """A GET of an endpoint of Douyin's API with `query`, signed, retried when empty, with
        the cookie if configured; a failure goes to `errback`, by default `request_failed`.
        Requests that complete a page already fetched go first with a higher `priority`."""
        headers = {"Accept": "application/json, text/plain, */*", "Referer": referer}
        if cookie := self.settings.get("SMCAT_DOUYIN_COOKIE"):
            headers["Cookie"] = cookie
        return Request(
            self.endpoint_url(endpoint, **query),
            callback=callback,
            errback=errback or self.request_failed,
            # giving up is recorded on the crawl, with the fix: Scrapy's log line would repeat it
            meta={**meta, SIGN: True, RETRY_EMPTY: True, "give_up_log_level": "DEBUG"},
            headers=headers,
            dont_filter=True,  # a live room is asked again and again; posts pages never repeat
            priority=priority,
        )

    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good: record why; a refusal or a signer failure stops the
        crawl, naming the fix."""
        yield from super().request_failed(failure)
        if failure.check(SignerError):
            self.stop_reason = failure.getErrorMessage()
            raise CloseSpider(self.stop_reason)
        if failure.check(HttpError) and failure.value.response.status in _REFUSALS:
            self._refused(failure.value.response.status)

    def _refused(self, status: int) -> None:
        self.stop_reason = f"Douyin kept refusing with HTTP {status}: wait a while, then {FIX}"
        raise CloseSpider(self.stop_reason)

    # --- the browser mode -------------------------------------------------------------------

    def page_request(
        self, url: str, callback: Any, meta: dict[str, Any], paths: Collection[str]
    ) -> Request:
        """A page of the site opened in Chromium; its callback reads the answers the page
        receives from the API `paths` with `read_page`."""
        answers = Answers(paths)
        self.pages_open += 1
        return Request(
            url,
            callback=callback,
            errback=self.page_failed,
            meta={
                **meta,
                _ANSWERS: answers,
                NO_RAW: True,
                "playwright": True,
                "playwright_include_page": True,
                "playwright_page_event_handlers": {"response": answers.receive},
                "playwright_page_init_callback": self._give_cookie,
            },
            dont_filter=True,
        )

    async def read_page(
        self,
        response: Response,
        route: Callable[[Answer], Iterable[Any]],
        done: Callable[[], bool],
    ) -> AsyncIterator[Any]:
        """What `route` makes of each API answer the page receives (scrolling for more) until
        `done()`; the page is closed after. A page that calls no API path read stops the crawl:
        the site no longer works as this spider expects."""
        page: Page = response.meta["playwright_page"]
        answers: Answers = response.meta[_ANSWERS]
        wait = self.settings.getfloat("SMCAT_BROWSER_WAIT")
        read = 0
        try:
            async for answer in answers.read(page, done, wait):
                read += 1
                for item in route(answer):
                    yield item
        finally:
            self.pages_open -= 1
            await page.close()
        if not read:
            self.stop_reason = (
                f"the page {response.url} fetched nothing from Douyin's API in "
                f"{wait:g} s: raise browser_wait, or crawl without --browser and {FIX}"
            )
            raise CloseSpider(self.stop_reason)

    def answer_response(self, answer: Answer, meta: dict[str, Any]) -> TextResponse:
        """An answer the page received as the Scrapy response the spider's callbacks read, kept
        in the raw store like any other, its URL without the tokens the page signed it with. A
        403 or 429 stops the crawl: the firewall refused the browser too."""
        parts = urlsplit(answer.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k not in _TOKENS]  # fmt: skip
        url = urlunsplit(parts._replace(query=urlencode(query)))
        request = Request(url, meta={**meta, FETCHED_AT: answer.fetched_at.isoformat()})
        headers = {"Content-Type": answer.content_type} if answer.content_type else {}
        response = TextResponse(
            url, status=answer.status, headers=headers, body=answer.body, request=request
        )
        self.crawler.signals.send_catch_log(
            signal=signals.response_received, response=response, request=request, spider=self
        )
        if answer.status in _REFUSALS:
            self._refused(answer.status)
        return response

    async def _give_cookie(self, page: Page, request: Request) -> None:
        """The configured cookie for the page's scripts to send (never logged)."""
        if cookie := self.settings.get("SMCAT_DOUYIN_COOKIE"):
            sites = {self.site_url("/"), self.settings.get("DOUYIN_LIVE_URL")}
            await page.context.add_cookies(browser_cookies(cookie, sites))  # type: ignore[arg-type]

    async def page_failed(self, failure: Failure) -> AsyncIterator[Any]:
        """A page that could not be opened: recorded, and stopping the crawl as a refused API
        request would."""
        self.pages_open -= 1
        if (page := failed_request(failure).meta.get("playwright_page")) is not None:
            await page.close()
        for item in self.request_failed(failure):
            yield item
