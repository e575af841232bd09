"""What smcat's Douyin spiders share: the query every web API call carries, signed requests
with the configured cookie, and stopping the crawl, naming the fix, when Douyin refuses it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.middlewares import RETRY_EMPTY, SIGN
from crawler.parsers.common import PayloadError
from crawler.parsers.douyin_common import FIX, PLATFORM, DouyinBlocked
from crawler.settings import RETRY_HTTP_CODES
from crawler.signing import SignerError
from crawler.spiders.base import SmcatSpider, checked_text

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
_REFUSALS = (403, 429)  # Douyin's firewall, once the retries have not got past it


class DouyinSpider(SmcatSpider):
    """A spider of Douyin's web API: a refusal (empty body, login wanted, a verification or a
    captcha, a firewall that retries did not get past, a signer that failed) stops the crawl."""

    platform = PLATFORM
    fatal = (DouyinBlocked,)
    # Douyin's firewall answers 403 for a while when a client goes too fast: worth a retry
    custom_settings: ClassVar[dict[str, Any]] = {"RETRY_HTTP_CODES": [*RETRY_HTTP_CODES, 403]}

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
        self, url: str, query: Mapping[str, Any], callback: Any, meta: dict[str, Any], referer: str
    ) -> Request:
        """A GET of Douyin's API, signed, retried when empty, with the cookie if configured."""
        headers = {"Accept": "application/json, text/plain, */*", "Referer": referer}
        if cookie := self.settings.get("SMCAT_DOUYIN_COOKIE"):
            headers["Cookie"] = cookie
        return Request(
            f"{url}?{urlencode(query)}",
            callback=callback,
            errback=self.request_failed,
            # giving up is recorded on the crawl, with the fix: Scrapy's log line would repeat it
            meta={**meta, SIGN: True, RETRY_EMPTY: True, "give_up_log_level": "DEBUG"},
            headers=headers,
            dont_filter=True,  # a live room is asked again and again; posts pages never repeat
        )

    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good: record why; a refusal or a signer failure stops the
        crawl, naming the fix."""
        yield from super().request_failed(failure)
        if failure.check(SignerError):
            self.stop_reason = failure.getErrorMessage()
            raise CloseSpider(self.stop_reason)
        if failure.check(HttpError) and failure.value.response.status in _REFUSALS:
            status = failure.value.response.status
            self.stop_reason = f"Douyin kept refusing with HTTP {status}: wait a while, then {FIX}"
            raise CloseSpider(self.stop_reason)
