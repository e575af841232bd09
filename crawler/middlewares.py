"""Downloader middlewares."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached

from crawler.parsers.common import PayloadError
from crawler.parsers.weibo_visitor import (
    GENVISITOR_FORM,
    GENVISITOR_PATH,
    is_visitor_page,
    parse_visitor_cookie,
)
from crawler.signing import Sign, load_signer

logger = logging.getLogger(__name__)

# how sites say "too fast": Weibo answers 418, and 432 to anonymous clients it throttles;
# Douyin's firewall answers 403 (spiders that do not retry 403 never get here with it)
TOO_FAST = frozenset({403, 418, 429, 432})

FETCHED_AT = "smcat_fetched_at"
RETRY_EMPTY = "smcat_retry_empty"
"""Request meta: an empty 200 answer is retried like a "too fast" one (Douyin's risk control)."""
SIGN = "smcat_sign"
"""Request meta: the request goes out signed by the configured signer."""
NO_RAW = "smcat_no_raw"
"""Request meta: the response is not kept in raw_responses (a page a browser crawl reads API
answers from: the answers are kept, the page holds no rows)."""
_VISITOR_TRIED = "smcat_visitor_tried"
_UNSIGNED = "smcat_unsigned_url"
_REDIRECT_KEYS = ("redirect_urls", "redirect_times", "redirect_ttl", "redirect_reasons")


class FetchTime:
    """Stamps each response with the time it arrived (`response.meta[FETCHED_AT]`, ISO 8601).

    The spider's observations and the kept raw payload carry this one time, so a payload
    reparsed later yields the very same observation instead of a new one.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        request.meta[FETCHED_AT] = datetime.now(UTC).isoformat()
        return response


def fetched_at(response: Response) -> datetime:
    """When the response arrived (stamped by FetchTime; now, for a response built by hand)."""
    stamp = response.meta.get(FETCHED_AT) if response.request is not None else None
    return datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)


class BackoffRetry(RetryMiddleware):
    """Scrapy's retries, each after a longer wait (SMCAT_RETRY_BACKOFF seconds, doubling, up to
    SMCAT_RETRY_BACKOFF_MAX); a "too fast" answer also doubles the delay of the whole site."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("SMCAT_RETRY_BACKOFF", 5.0)
        self.backoff_max = settings.getfloat("SMCAT_RETRY_BACKOFF_MAX", 300.0)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        result = super().process_response(request, response)
        if result is response and _empty(request, response):
            result = self._retry(request, "empty body") or response
        if isinstance(result, Request):
            if response.status in TOO_FAST or not response.body:
                self._slow_down(request)
            await self._wait(result)
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result)
        return result

    async def _wait(self, retry: Request) -> None:
        attempt = retry.meta.get("retry_times", 1)
        await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), self.backoff_max))

    def _slow_down(self, request: Request) -> None:
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        slot = downloader.slots.get(key) if downloader else None
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, self.backoff), self.backoff_max)


def _empty(request: Request, response: Response) -> bool:
    return (
        request.meta.get(RETRY_EMPTY, False)
        and not request.meta.get("dont_retry", False)
        and response.status == 200
        and not response.body.strip()
    )


class Signer:
    """Signs the requests whose meta asks for it (SIGN) with the signer that SMCAT_DOUYIN_SIGNER
    names (see crawler.signing), just before they are sent.

    The request carries the signed URL only while it is downloaded: its unsigned URL is put
    back before any other middleware, the spider, the logs or the raw store see it, because a
    signer may add tokens (msToken) that must not be logged or stored, and so that each retry
    is signed afresh. Scrapy has no public way to change a request's URL without sending it
    through the scheduler again, hence Request._set_url.
    """

    def __init__(self, sign: Sign) -> None:
        self.sign = sign

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Signer:
        sign = load_signer(crawler.settings.get("SMCAT_DOUYIN_SIGNER") or "")
        if sign is None:
            raise NotConfigured  # no message: Scrapy would log one as a warning
        return cls(sign)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(SIGN):
            unsigned = request.url
            request._set_url(await self.sign(unsigned))
            request.meta[_UNSIGNED] = unsigned

    def process_response(self, request: Request, response: Response) -> Response:
        unsigned = request.meta.pop(_UNSIGNED, None)
        if unsigned is None:
            return response
        request._set_url(unsigned)
        return response.replace(url=unsigned)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if (unsigned := request.meta.pop(_UNSIGNED, None)) is not None:
            request._set_url(unsigned)


class VisitorCookie:
    """Weibo's visitor-cookie handshake, for crawls without a signed-in cookie.

    When Weibo redirects a request to its visitor system, ask passport's genvisitor2 for an
    anonymous visitor cookie, then send the request again with it; later requests carry it
    too. If that fails, or the site still redirects, the visitor page goes on to the spider,
    which stops the crawl naming the fix (a signed-in cookie). The visitor cookie lives in
    memory only: never logged, never stored. Off when SMCAT_WEIBO_VISITOR is false or a
    signed-in cookie is configured (spiders send that one themselves).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.cookie = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VisitorCookie:
        settings = crawler.settings
        if not settings.getbool("SMCAT_WEIBO_VISITOR", True) or settings.get("SMCAT_WEIBO_COOKIE"):
            raise NotConfigured  # no message: Scrapy would log one as a warning
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.cookie and b"Cookie" not in request.headers:
            request.headers["Cookie"] = self.cookie

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        redirected_from = request.meta.get("redirect_urls")
        if not redirected_from or not is_visitor_page(response.url):
            return response
        if request.meta.get(_VISITOR_TRIED):
            return response  # a visitor cookie did not help: the spider stops, naming the fix
        passport = urlsplit(response.url)
        self.cookie = await self._visitor_cookie(f"{passport.scheme}://{passport.netloc}")
        if not self.cookie:
            return response
        meta = {k: v for k, v in request.meta.items() if k not in _REDIRECT_KEYS}
        meta[_VISITOR_TRIED] = True
        headers = {**request.headers.to_unicode_dict(), "Cookie": self.cookie}
        return request.replace(url=redirected_from[0], meta=meta, headers=headers, dont_filter=True)

    async def _visitor_cookie(self, passport: str) -> str:
        """A fresh visitor cookie from passport's genvisitor2 ("" if Weibo will not give one)."""
        handshake = Request(
            f"{passport}{GENVISITOR_PATH}",
            method="POST",
            body=urlencode(GENVISITOR_FORM),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            dont_filter=True,
            # its answer sets the visitor cookie, which lives in memory only: not kept
            meta={_VISITOR_TRIED: True, NO_RAW: True},
        )
        engine = self.crawler.engine
        if engine is None:
            return ""
        answer = await engine.download_async(handshake)
        try:
            return parse_visitor_cookie(answer.text)
        except (PayloadError, AttributeError) as error:
            logger.warning("no Weibo visitor cookie (%s): set SMCAT_WEIBO_COOKIE instead", error)
            return ""
