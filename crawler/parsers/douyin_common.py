"""What Douyin's web API answers share: the status envelope, the ways it refuses a client, and
epoch times. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from crawler.parsers.common import CHINA, PayloadError

PLATFORM = "douyin"
LOGIN_REQUIRED = 2483
# Both remedies, named in every refusal: which one applies cannot be told from the answer.
FIX = "configure a signer (SMCAT_DOUYIN_SIGNER) or refresh the cookie (SMCAT_DOUYIN_COOKIE)"
_LOGIN_MESSAGES = ("用户未登录", "请先登录")
_MILLISECONDS_FROM = 10**12  # 13 digits


class DouyinBlocked(PayloadError):
    """Douyin refused the client (unsigned or stale request, login wanted, a verification
    ticket): no later request of the crawl will fare better, so the crawl stops."""


def checked(payload: Any, what: str) -> Mapping[str, Any]:
    """The payload if it is a successful answer (status_code 0); DouyinBlocked if Douyin
    refused the client, PayloadError for any other error."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{what}: expected a JSON object, got {type(payload).__name__}")
    if _verify_ticket(payload):
        raise DouyinBlocked(f"{what}: Douyin asks for a verification (verify_ticket): {FIX}")
    status = payload.get("status_code")
    message = str(payload.get("status_msg") or "")
    if status == LOGIN_REQUIRED or any(m in message for m in _LOGIN_MESSAGES):
        raise DouyinBlocked(
            f"{what}: Douyin wants a signed-in client (status_code {status}): {FIX}"
        )
    if status != 0:
        raise PayloadError(f"{what}: status_code {status!r}: {message or 'no message'}")
    return payload


def _verify_ticket(payload: Mapping[str, Any]) -> bool:
    # the ticket arrives at the top level or inside the risk-control block of the envelope
    blocks = (payload, payload.get("extra"), payload.get("not_login_module"))
    return any(isinstance(b, Mapping) and b.get("verify_ticket") for b in blocks)


def epoch_time(value: Any) -> str | None:
    """An epoch time in seconds as ISO 8601 in China time; None for a missing or zero time.
    A time in milliseconds (13 digits: in seconds that would be the year 33658 or later) is
    read as such. PayloadError for anything that is not such a time."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PayloadError(f"time {value!r} is not an epoch time")
    seconds = value // 1000 if value >= _MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, CHINA).isoformat()
    except (OverflowError, OSError, ValueError):  # past the year 9999
        raise PayloadError(f"time {value!r} is not an epoch time") from None


def id_time(aweme_id: str) -> str | None:
    """The upload second an aweme id holds in its upper 32 bits, as ISO 8601 in China time;
    None for an id that holds none. It matched create_time within 30 s for 16 of 18 real posts
    (the 2023 recording: 15 s before it); a scheduled post was uploaded days before it was
    published, so a time read this way is stored as DERIVED."""
    if not aweme_id.isascii() or not aweme_id.isdigit():
        return None
    return epoch_time(int(aweme_id) >> 32)


def first_url(image: Any) -> str | None:
    """The first address of one of Douyin's image objects ({uri, url_list})."""
    urls = image.get("url_list") if isinstance(image, Mapping) else None
    return urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else None
