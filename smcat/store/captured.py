"""What crawls capture: accounts and their snapshots, posts with their observations, topics
and mentions, comments, hot-search lists, live rooms and their observations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smcat.store.engine import (
    _COUNT,
    _FLAG,
    _INT,
    _JSON,
    _REAL,
    _TEXT,
    _TIME,
    Engine,
    WriteResult,
    _Batch,
    _collector_paused,
    _crawl_override,
    _Kind,
    _seen_defaults,
    _table,
)

_ACCOUNTS = _table(
    "accounts",
    ("platform", "account_id"),
    {
        "platform": _TEXT,
        "account_id": _TEXT,
        "screen_name": _TEXT,
        "description": _TEXT,
        "gender": _TEXT,
        "location": _TEXT,
        "verified": _FLAG,
        "verified_type": _INT,
        "verified_reason": _TEXT,
        "created_at": _TIME,
        "url": _TEXT,
        "avatar_url": _TEXT,
        "extra": _JSON,
        "first_seen_at": _TIME,
        "updated_at": _TIME,
        "crawl_id": _INT,
    },
)
_ACCOUNT_SNAPSHOTS = _table(
    "account_snapshots",
    ("platform", "account_id", "observed_at"),
    {
        "platform": _TEXT,
        "account_id": _TEXT,
        "observed_at": _TIME,
        "followers": _COUNT,
        "following": _COUNT,
        "posts": _COUNT,
        "total_likes": _COUNT,
        "crawl_id": _INT,
    },
    on_conflict="ignore",
)
_SNAPSHOT_COUNTS = _ACCOUNT_SNAPSHOTS.names[3:-1]  # followers, following, posts, total_likes
_POST_COLUMNS: dict[str, _Kind] = {
    "platform": _TEXT,
    "post_id": _TEXT,
    "crawl_id": _INT,
    "account_id": _TEXT,
    "created_at": _TIME,
    "created_at_precision": _TEXT,
    "text": _TEXT,
    "is_repost": _FLAG,
    "origin_post_id": _TEXT,
    "media_type": _TEXT,
    "pic_count": _COUNT,
    "video_seconds": _REAL,
    "source": _TEXT,
    "region": _TEXT,
    "url": _TEXT,
    "is_long_text": _FLAG,
    "is_pinned": _FLAG,
    "extra": _JSON,
    "first_seen_at": _TIME,
    "updated_at": _TIME,
}
_POSTS = _table("posts", ("platform", "post_id"), _POST_COLUMNS, required=("created_at",))
_COUNTS_SEEN: dict[str, _Kind] = {
    "likes": _COUNT,
    "comments": _COUNT,
    "reposts": _COUNT,
    "shares": _COUNT,
    "collects": _COUNT,
    "plays": _COUNT,
}
_POST_OBSERVATIONS_COLUMNS: dict[str, _Kind] = {
    "platform": _TEXT,
    "post_id": _TEXT,
    "observed_at": _TIME,
    **_COUNTS_SEEN,
    "crawl_id": _INT,
}
_POST_OBSERVATIONS = _table(
    "post_observations",
    ("platform", "post_id", "observed_at"),
    _POST_OBSERVATIONS_COLUMNS,
    on_conflict="ignore",
)
# What upsert_posts takes: a post as seen at one time, checked in one pass and then split.
# Its order makes the split cheap: the first ten values are the post_observations row, and
# the first two with the rest from the tenth (crawl_id) on are the posts row.
_POST_SEEN = _table(
    "posts",
    ("platform", "post_id"),
    {
        **_POST_OBSERVATIONS_COLUMNS,
        **{k: v for k, v in _POST_COLUMNS.items() if k not in ("platform", "post_id", "crawl_id")},
    },
    required=("created_at",),
    on_conflict=None,
)
_COUNTS = slice(3, len(_POST_OBSERVATIONS_COLUMNS) - 1)
# Where the posts and post_observations columns stand in a converted _POST_SEEN row, which is
# written to both tables as it is, with no split copies (bench/bench_ingest.py).
_POSTS_IN_SEEN = tuple(map(_POST_SEEN.names.index, _POSTS.names))
_OBSERVATIONS_IN_SEEN = tuple(map(_POST_SEEN.names.index, _POST_OBSERVATIONS.names))
_POST_TOPICS = _table(
    "post_topics",
    ("platform", "post_id", "value"),
    {"platform": _TEXT, "post_id": _TEXT, "value": _TEXT},
    on_conflict="ignore",
)
_POST_MENTIONS = _table(
    "post_mentions",
    ("platform", "post_id", "value"),
    {"platform": _TEXT, "post_id": _TEXT, "value": _TEXT},
    on_conflict="ignore",
)
_COMMENTS = _table(
    "comments",
    ("platform", "comment_id"),
    {
        "platform": _TEXT,
        "comment_id": _TEXT,
        "post_id": _TEXT,
        "parent_id": _TEXT,
        "root_id": _TEXT,
        "author_id": _TEXT,
        "author_name": _TEXT,
        "created_at": _TIME,
        "text": _TEXT,
        "likes": _COUNT,
        "replies": _COUNT,
        "region": _TEXT,
        "extra": _JSON,
        "first_seen_at": _TIME,
        "updated_at": _TIME,
        "crawl_id": _INT,
    },
    required=("post_id",),
)
_HOT_SEARCH = _table(
    "hot_search",
    ("platform", "observed_at", "rank"),
    {
        "platform": _TEXT,
        "observed_at": _TIME,
        "rank": _INT,
        "word": _TEXT,
        "heat": _COUNT,
        "category": _TEXT,
        "label": _TEXT,
        "is_ad": _FLAG,
        "crawl_id": _INT,
    },
    required=("word",),
)
_LIVE_ROOMS = _table(
    "live_rooms",
    ("platform", "room_id"),
    {
        "platform": _TEXT,
        "room_id": _TEXT,
        "account_id": _TEXT,
        "title": _TEXT,
        "status": _TEXT,
        "started_at": _TIME,
        "extra": _JSON,
        "first_seen_at": _TIME,
        "updated_at": _TIME,
        "crawl_id": _INT,
    },
)
_LIVE_OBSERVATIONS = _table(
    "live_observations",
    ("platform", "room_id", "observed_at"),
    {
        "platform": _TEXT,
        "room_id": _TEXT,
        "observed_at": _TIME,
        "status": _TEXT,
        "viewers_now": _COUNT,
        "viewers_total": _COUNT,
        "likes": _COUNT,
        "crawl_id": _INT,
    },
    on_conflict="ignore",
)


class Captured(Engine):
    """Writes of captured rows (each an upsert on its natural key), and the hot-word series."""

    def upsert_accounts(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Insert or update accounts, each as seen at one time.

        A row holds the `accounts` columns (latest fields win; missing fields keep old values)
        and may carry `observed_at` with the counts seen then (followers, following, posts,
        total_likes), which become an `account_snapshots` row.
        """
        rows = list(rows)
        result = self._write(_ACCOUNTS, rows, crawl_id, _seen_defaults(_ACCOUNTS))
        seen = [
            row
            for row in rows
            if row.get("account_id") is not None
            and row.get("observed_at") is not None
            and any(row.get(count) is not None for count in _SNAPSHOT_COUNTS)
        ]
        snapshots = self._write(_ACCOUNT_SNAPSHOTS, seen, crawl_id)
        snapshots.stored = 0  # part of its account's row, counted once (as a post's observation)
        result.add(snapshots)
        return result

    def add_account_snapshots(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Add follower/following/post/like counts of accounts at their observed_at."""
        return self._write(_ACCOUNT_SNAPSHOTS, rows, crawl_id)

    @_collector_paused()
    def upsert_posts(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Insert or update posts, each with what was seen of it at one time.

        A row holds the `posts` columns, `created_at_precision` among them (see
        `smcat.units.TIME_PRECISIONS`: a DAY time is a date stored as its midnight, a DERIVED
        one was worked out from the post's id); `observed_at` with the counts seen then (likes,
        comments, reposts, shares, collects, plays), which become a `post_observations` row;
        and `topics` and `mentions` (lists of strings). A row that fails a check is rejected
        whole; the rest are stored.
        """
        result = WriteResult()
        posts, observations, sources = [], [], []
        topics: list[tuple[object, object, str]] = []
        mentions: list[tuple[object, object, str]] = []
        convert = _POST_SEEN.converter(
            _seen_defaults(_POST_SEEN), _crawl_override(_POST_SEEN, crawl_id)
        )
        for row in rows:
            try:
                values = convert(row)
                if values[2] is None and any(v is not None for v in values[_COUNTS]):
                    raise ValueError("observed_at is missing for the counts")
            except ValueError as error:
                self._reject_row("posts", str(error), row, crawl_id, result)
                continue
            posts.append(values)
            sources.append(row)
            if values[2] is not None:
                observations.append(values)
            if topic_values := row.get("topics"):
                topics.extend((values[0], values[1], str(v)) for v in _listed(topic_values))
            if mention_values := row.get("mentions"):
                mentions.extend((values[0], values[1], str(v)) for v in _listed(mention_values))
        self._write_batches(
            "posts",
            [
                _Batch(_POSTS, posts, _POSTS_IN_SEEN),
                _Batch(_POST_OBSERVATIONS, observations, _OBSERVATIONS_IN_SEEN),
                _Batch(_POST_TOPICS, topics),
                _Batch(_POST_MENTIONS, mentions),
            ],
            sources,
            lambda row: self.upsert_posts([row], crawl_id=crawl_id),
            crawl_id,
            result,
        )
        return result

    def comment_authors(self, platform: str, pseudonym_prefix: str) -> tuple[int, int]:
        """How many stored comments of a platform name their author by a pseudonym (an id
        starting with `pseudonym_prefix`), and how many by a real id."""
        pseudonymous, real = self.connection.execute(
            "SELECT count(*) FILTER (WHERE author_id LIKE ? || '%'),"
            " count(*) FILTER (WHERE author_id NOT LIKE ? || '%')"
            " FROM comments WHERE platform = ?",
            (pseudonym_prefix, pseudonym_prefix, platform),
        ).fetchone()
        return int(pseudonymous), int(real)

    def upsert_comments(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Insert or update comments (likes and replies are the latest seen)."""
        return self._write(_COMMENTS, rows, crawl_id, _seen_defaults(_COMMENTS))

    def add_hot_search(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Add hot-search entries (one list at one observed_at, ranked)."""
        return self._write(_HOT_SEARCH, rows, crawl_id)

    def upsert_live_rooms(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Insert or update live rooms (latest state).

        A row holds the `live_rooms` columns and may carry `observed_at` with the status and
        counts seen then (viewers_now, viewers_total, likes), which become a
        `live_observations` row, as an account's counts become a snapshot.
        """
        rows = list(rows)
        result = self._write(_LIVE_ROOMS, rows, crawl_id, _seen_defaults(_LIVE_ROOMS))
        seen = [
            row
            for row in rows
            if row.get("room_id") is not None and row.get("observed_at") is not None
        ]
        observations = self._write(_LIVE_OBSERVATIONS, seen, crawl_id)
        observations.stored = 0  # part of its room's row, counted once (as a post's observation)
        result.add(observations)
        return result

    def add_live_observations(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Add live-room counts (viewers, likes) at their observed_at."""
        return self._write(_LIVE_OBSERVATIONS, rows, crawl_id)

    def hot_words(self, platform: str = "weibo") -> list[tuple[str, str]]:
        """(word, observed_at) of every hot-search entry, ads left out, oldest first."""
        rows = self.connection.execute(
            "SELECT word, observed_at FROM hot_search WHERE platform = ?"
            " AND coalesce(is_ad, 0) = 0 ORDER BY observed_at",
            (platform,),
        )
        return rows.fetchall()


def _listed(values: object) -> Iterable[object]:
    """Topics or mentions as a list: one string is one value, not its characters."""
    return (values,) if isinstance(values, str) else values  # type: ignore[return-value]
