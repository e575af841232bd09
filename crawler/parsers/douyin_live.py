"""Parser for a Douyin live room's state (live.douyin.com/webcast/room/web/enter/, asked by the
web_rid in live.douyin.com/<web_rid>). Pure functions.

The room object is read by `room_from_object`, which also takes the room of the app API's room
info (the same object with plain-number counts), so one reading serves both."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from crawler.items import LiveRoomItem
from crawler.parsers.common import PayloadError, count_of, inner
from crawler.parsers.douyin_common import PLATFORM, checked, epoch_time

# 2: the owner from data.user, a room-level user_count_str (#19)
PARSER_VERSION = "douyin_live/2"
LIVE = "live"
ENDED = "ended"
# room.status: 2 on air, 4 ended (f2's DY_LIVE_STATUS_MAPPING); others are kept as numbers
_ROOM_STATUS: dict[object, str] = {2: LIVE, 4: ENDED}  # keyed by what the answer holds
# data.room_status, a different scale, for answers that carry no room object: 0 on air, 2 ended
_ENTER_STATUS = {0: LIVE, 2: ENDED}
_ROOM_EXTRA = ("has_commerce_goods", "share_url")


def parse_enter(payload: Any, fetched_at: datetime) -> LiveRoomItem:
    """The room's state and counts from a webcast/room/web/enter answer. A room that is not on
    air may come without a room object: then only its id and status are known."""
    data = checked(payload, "live room").get("data")
    if not isinstance(data, Mapping):
        raise PayloadError("live room answer has no data object")
    rooms = data.get("data")
    if isinstance(rooms, list) and rooms and isinstance(rooms[0], Mapping):
        return room_from_object(rooms[0], fetched_at, data.get("user"))
    room_id = data.get("enter_room_id")
    status = data.get("room_status")
    if not room_id or not isinstance(status, int) or status not in _ENTER_STATUS:
        raise PayloadError("live room answer has neither a room nor a room id with its status")
    return LiveRoomItem(PLATFORM, str(room_id), fetched_at.isoformat(), _ENTER_STATUS[status])


def room_from_object(
    room: Mapping[str, Any], fetched_at: datetime, user: Any = None
) -> LiveRoomItem:
    """A room and its counts from a webcast room object. The web answer gives the counts as
    display strings (stats.user_count_str "1.2万"; in 2022 a room-level user_count_str "400+"),
    the app answer as numbers. `user` is the user the web answer names beside the room
    (data.user): the streamer when the room has no owner, as in 2025 answers; a visitor's
    stand-in (no sec_uid) is no owner."""
    room_id = room.get("id_str") or room.get("id")
    if not room_id:
        raise PayloadError("live room has no id_str")
    stats = inner(room, "stats")
    owner = inner(room, "owner")
    if not owner.get("sec_uid") and isinstance(user, Mapping) and user.get("sec_uid"):
        owner = user
    extra: dict[str, Any] = {k: room[k] for k in _ROOM_EXTRA if room.get(k) not in (None, "", 0)}
    shown = stats.get("user_count_str") or room.get("user_count_str")
    if isinstance(shown, str) and shown.endswith("+"):
        extra["viewers_now_shown"] = shown  # "400+": at least 400, stored as 400
    if finished := epoch_time(room.get("finish_time")):
        extra["finished_at"] = finished
    if owner.get("nickname"):
        extra["owner_nickname"] = owner["nickname"]
    if followers := inner(owner, "follow_info").get("follower_count"):
        extra["owner_followers"] = count_of(followers, "owner's follower_count")
    category = inner(inner(room, "partition_road_map"), "partition")
    if category.get("title"):
        extra["category"] = category["title"]
    return LiveRoomItem(
        platform=PLATFORM,
        room_id=str(room_id),
        observed_at=fetched_at.isoformat(),
        status=_status(room.get("status")),
        account_id=owner.get("sec_uid") or None,
        title=room.get("title") or None,
        started_at=epoch_time(room.get("create_time")),
        viewers_now=_first_count(shown, room.get("user_count")),
        viewers_total=_first_count(stats.get("total_user_str"), stats.get("total_user")),
        # the app's stats.like_count stays 0 while room.like_count counts: read that first
        likes=_first_count(
            stats.get("like_count_str"), room.get("like_count"), stats.get("like_count")
        ),
        extra=extra,
    )


def _status(value: object) -> str:
    """live or ended, or the number Douyin gives for another state."""
    if isinstance(value, int) and value in _ROOM_STATUS:
        return _ROOM_STATUS[value]
    return str(value)


def _first_count(*values: Any) -> int | None:
    """The first of the values that is given, as a count."""
    for value in values:
        if value not in (None, ""):
            return count_of(value, "a count of the room")
    return None
