"""Downloader middlewares."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached

# how sites say "too fast": Weibo answers 418, and 432 to anonymous clients it throttles
TOO_FAST = frozenset({418, 429, 432})

FETCHED_AT = "smcat_fetched_at"


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
        if isinstance(result, Request):
            if response.status in TOO_FAST:
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
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname
        slot = downloader.slots.get(key) if downloader else None
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, self.backoff), self.backoff_max)
