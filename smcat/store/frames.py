"""Reads for analysis, as `Rows` ready for a DataFrame: posts, their engagement, follower
counts, topics, account profiles and posts, live sessions."""

from __future__ import annotations

from smcat.store.engine import Engine, Rows
from smcat.store.observations import observation_join


class Frames(Engine):
    """The reads analysis builds its frames from."""

    def account_profiles(self, platform: str) -> Rows:
        """Each account of `platform` with its latest snapshot: account_id, screen_name,
        gender, verified, followers, following, posts, total_likes."""
        sql = (
            "SELECT a.account_id, a.screen_name, a.gender, a.verified, s.followers, s.following,"
            " s.posts, s.total_likes FROM accounts a"
            + observation_join("account_snapshots", "s", "a", ("platform", "account_id"))
            + " WHERE a.platform = ? ORDER BY a.account_id"
        )
        columns = ("account_id", "screen_name", "gender", "verified", "followers", "following",
                   "posts", "total_likes")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, (platform,)).fetchall())

    def account_posts(self, platform: str, since: str, until: str) -> Rows:
        """The posts of `platform` created in [since, until) (ISO times) with their latest
        counts: account_id, post_id, created_at, media_type, likes, comments, shares."""
        sql = (
            "SELECT p.account_id, p.post_id, p.created_at, p.media_type, o.likes, o.comments,"
            " o.shares FROM posts p"
            + observation_join("post_observations", "o", "p", ("platform", "post_id"))
            + " WHERE p.platform = ? AND julianday(p.created_at) >= julianday(?)"
            " AND julianday(p.created_at) < julianday(?)"
        )
        columns = ("account_id", "post_id", "created_at", "media_type", "likes", "comments",
                   "shares")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, (platform, since, until)).fetchall())

    def latest_post_time(self, platform: str) -> str | None:
        """When the newest stored post of `platform` was created (ISO), None without posts."""
        row = self.connection.execute(
            "SELECT created_at FROM posts WHERE platform = ?"
            " ORDER BY julianday(created_at) DESC LIMIT 1",
            (platform,),
        ).fetchone()
        return row[0] if row else None

    def live_sessions(self, platform: str, since: str, until: str) -> Rows:
        """The live rooms of `platform` started in [since, until) with their session's highest
        figures: account_id, room_id, peak_viewers, viewers_total, likes."""
        sql = (
            "SELECT r.account_id, r.room_id, max(o.viewers_now), max(o.viewers_total),"
            " max(o.likes) FROM live_rooms r LEFT JOIN live_observations o"
            " ON o.platform = r.platform AND o.room_id = r.room_id"
            " WHERE r.platform = ? AND julianday(r.started_at) >= julianday(?)"
            " AND julianday(r.started_at) < julianday(?) GROUP BY r.account_id, r.room_id"
        )
        columns = ("account_id", "room_id", "peak_viewers", "viewers_total", "likes")
        return Rows(columns, self.connection.execute(sql, (platform, since, until)).fetchall())

    def posts_for_model(
        self, *, platform: str | None = None, include_reposts: bool = False
    ) -> Rows:
        """One row per post of a platform (every platform's if None; original posts only unless
        `include_reposts`): platform, post_id, account_id, created_at, created_at_precision
        (see smcat.units.TIME_PRECISIONS; None for posts stored before it was recorded),
        text_length (characters), media_type, pic_count, is_repost, topic_count."""
        sql = (
            "SELECT p.platform, p.post_id, p.account_id, p.created_at,"
            f" {self._column_or_null('posts', 'created_at_precision', 'p')},"
            " length(coalesce(p.text, '')), p.media_type, p.pic_count, coalesce(p.is_repost, 0),"
            " (SELECT count(*) FROM post_topics t"
            "   WHERE t.platform = p.platform AND t.post_id = p.post_id)"
            " FROM posts p"
        )
        where, params = ["1"], []
        if platform is not None:
            where.append("p.platform = ?")
            params.append(platform)
        if not include_reposts:
            where.append("coalesce(p.is_repost, 0) = 0")
        sql += " WHERE " + " AND ".join(where)
        columns = ("platform", "post_id", "account_id", "created_at", "created_at_precision",
                   "text_length", "media_type", "pic_count", "is_repost",
                   "topic_count")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, params).fetchall())

    def post_engagement(self, at_age_days: float | None = None) -> Rows:
        """One observation of each observed post: the latest, or with `at_age_days` the one
        nearest that age of the post (the earlier on a tie): platform, post_id, observed_at,
        age_days (at that observation), likes, comments, reposts."""
        age = "julianday(o.observed_at) - julianday(p.created_at)"
        if at_age_days is None:
            latest = observation_join(
                "post_observations", "o", "p", ("platform", "post_id"), left=False
            )
            sql = (
                f"SELECT o.platform, o.post_id, o.observed_at, {age}, o.likes, o.comments,"
                f" o.reposts FROM posts p{latest}"
            )
        else:
            # nearness to an age depends on the post's created_at: SQLite lets no ORDER BY of a
            # subquery name the outer query's columns, so every observation is numbered here
            sql = (
                "SELECT platform, post_id, observed_at, age_days, likes, comments, reposts FROM ("
                f" SELECT o.platform, o.post_id, o.observed_at, {age} AS age_days, o.likes,"
                " o.comments, o.reposts, row_number() OVER (PARTITION BY o.platform, o.post_id"
                f"  ORDER BY abs({age} - ?), julianday(o.observed_at), o.observed_at) AS nth"
                " FROM post_observations o JOIN posts p"
                " ON p.platform = o.platform AND p.post_id = o.post_id) WHERE nth = 1"
            )
        params = () if at_age_days is None else (at_age_days,)
        columns = ("platform", "post_id", "observed_at", "age_days", "likes", "comments",
                   "reposts")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, params).fetchall())

    def follower_snapshots(self) -> Rows:
        """Every account snapshot with a follower count: platform, account_id, observed_at,
        followers."""
        sql = (
            "SELECT platform, account_id, observed_at, followers FROM account_snapshots"
            " WHERE followers IS NOT NULL"
        )
        columns = ("platform", "account_id", "observed_at", "followers")
        return Rows(columns, self.connection.execute(sql).fetchall())

    def topics_by_post(self) -> dict[tuple[str, str], list[str]]:
        """(platform, post_id) -> the post's #micro-topics#, for the posts that have any."""
        topics: dict[tuple[str, str], list[str]] = {}
        for platform, post_id, value in self.connection.execute(
            "SELECT platform, post_id, value FROM post_topics"
        ):
            topics.setdefault((platform, post_id), []).append(value)
        return topics
