"""Downloader middlewares."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import Response

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
