"""The smcat store: one SQLite file per research project.

This is the only module that knows table and column names. Everything else reads and writes
through `Store`. The schema is created and upgraded by the numbered `MIGRATIONS` under
`PRAGMA user_version`; every write is an upsert on the table's natural key, so re-running a
crawl adds observations and never duplicates rows. Rows that cannot be stored go to `rejects`
with the reason and their payload.
"""

from __future__ import annotations

import functools
import gc
import gzip
import itertools
import json
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils

from smcat import __version__
from smcat.errors import SmcatError
from smcat.units import iso_time, parse_count

MIGRATIONS: tuple[str, ...] = (
    # 1: the schema of DESIGN.md. Tables of small rows keyed by composite keys are WITHOUT
    # ROWID (one b-tree instead of two); bench/bench_ingest.py measured that on the hot path.
    """
    CREATE TABLE crawls (
        crawl_id INTEGER PRIMARY KEY AUTOINCREMENT,
        spider TEXT NOT NULL,
        args TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        counts TEXT,
        version TEXT
    );
    CREATE TABLE raw_responses (
        id INTEGER PRIMARY KEY,
        crawl_id INTEGER,
        url TEXT NOT NULL,
        status INTEGER,
        fetched_at TEXT NOT NULL,
        content_type TEXT,
        body BLOB,
        parser_version TEXT
    );
    CREATE INDEX raw_responses_url ON raw_responses (url);
    CREATE INDEX raw_responses_crawl ON raw_responses (crawl_id);
    CREATE TABLE accounts (
        platform TEXT NOT NULL,
        account_id TEXT NOT NULL,
        screen_name TEXT,
        description TEXT,
        gender TEXT,
        location TEXT,
        verified INTEGER,
        verified_type INTEGER,
        verified_reason TEXT,
        created_at TEXT,
        url TEXT,
        avatar_url TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, account_id)
    );
    CREATE TABLE account_snapshots (
        platform TEXT NOT NULL,
        account_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        followers INTEGER CHECK (followers >= 0),
        following INTEGER CHECK (following >= 0),
        posts INTEGER CHECK (posts >= 0),
        total_likes INTEGER CHECK (total_likes >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, account_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE posts (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        account_id TEXT,
        created_at TEXT NOT NULL,
        text TEXT,
        is_repost INTEGER,
        origin_post_id TEXT,
        media_type TEXT,
        pic_count INTEGER CHECK (pic_count >= 0),
        video_seconds REAL,
        source TEXT,
        region TEXT,
        url TEXT,
        is_long_text INTEGER,
        is_pinned INTEGER,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, post_id)
    );
    CREATE TABLE post_observations (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        likes INTEGER CHECK (likes >= 0),
        comments INTEGER CHECK (comments >= 0),
        reposts INTEGER CHECK (reposts >= 0),
        shares INTEGER CHECK (shares >= 0),
        collects INTEGER CHECK (collects >= 0),
        plays INTEGER CHECK (plays >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, post_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE post_topics (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, value)
    ) WITHOUT ROWID;
    CREATE INDEX post_topics_value ON post_topics (value);
    CREATE TABLE post_mentions (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, value)
    ) WITHOUT ROWID;
    CREATE INDEX post_mentions_value ON post_mentions (value);
    CREATE TABLE comments (
        platform TEXT NOT NULL,
        comment_id TEXT NOT NULL,
        post_id TEXT NOT NULL,
        parent_id TEXT,
        root_id TEXT,
        author_id TEXT,
        author_name TEXT,
        created_at TEXT,
        text TEXT,
        likes INTEGER CHECK (likes >= 0),
        replies INTEGER CHECK (replies >= 0),
        region TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, comment_id)
    );
    CREATE INDEX comments_post ON comments (platform, post_id);
    CREATE TABLE hot_search (
        platform TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        rank INTEGER NOT NULL,
        word TEXT NOT NULL,
        heat INTEGER CHECK (heat >= 0),
        category TEXT,
        label TEXT,
        is_ad INTEGER,
        crawl_id INTEGER,
        PRIMARY KEY (platform, observed_at, rank)
    );
    CREATE INDEX hot_search_word ON hot_search (word);
    CREATE TABLE live_rooms (
        platform TEXT NOT NULL,
        room_id TEXT NOT NULL,
        account_id TEXT,
        title TEXT,
        status TEXT,
        started_at TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, room_id)
    );
    CREATE TABLE live_observations (
        platform TEXT NOT NULL,
        room_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        status TEXT,
        viewers_now INTEGER CHECK (viewers_now >= 0),
        viewers_total INTEGER CHECK (viewers_total >= 0),
        likes INTEGER CHECK (likes >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, room_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE streamer_stats (
        source TEXT NOT NULL,
        account TEXT NOT NULL,
        period TEXT NOT NULL,
        platform TEXT,
        account_id TEXT,
        nickname TEXT,
        sales_volume INTEGER CHECK (sales_volume >= 0),
        sales_amount REAL,
        live_sales_amount REAL,
        video_sales_amount REAL,
        extra TEXT,
        imported_at TEXT,
        PRIMARY KEY (source, account, period)
    );
    CREATE TABLE codebooks (
        codebook TEXT NOT NULL,
        version TEXT NOT NULL,
        yaml TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        PRIMARY KEY (codebook, version)
    );
    CREATE TABLE codes (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        codebook TEXT NOT NULL,
        subcategory TEXT NOT NULL,
        coder TEXT NOT NULL,
        codebook_version TEXT NOT NULL,
        value INTEGER NOT NULL,
        evidence TEXT,
        coded_at TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, codebook, subcategory, coder)
    );
    CREATE INDEX codes_coder ON codes (codebook, coder);
    CREATE TABLE samples (
        sample_id TEXT PRIMARY KEY,
        purpose TEXT,
        seed INTEGER,
        params TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sample_posts (
        sample_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        PRIMARY KEY (sample_id, platform, post_id)
    ) WITHOUT ROWID;
    CREATE TABLE rejects (
        id INTEGER PRIMARY KEY,
        crawl_id INTEGER,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT,
        rejected_at TEXT NOT NULL
    );
    CREATE INDEX rejects_crawl ON rejects (crawl_id);
    """,
    # 2: where each part of a crawl had got to (for --resume), e.g. {"5001000001": 3}
    """
    ALTER TABLE crawls ADD COLUMN checkpoint TEXT;
    """,
    # 3: how far an account's posts are known complete: set only by a crawl that finished
    # cleanly, so that `--new` can fetch just what came after
    """
    ALTER TABLE accounts ADD COLUMN crawled_up_to TEXT;
    ALTER TABLE accounts ADD COLUMN crawled_up_to_crawl INTEGER;
    """,
    # 4: which posts a coder (above all the machine, which stores only the codes that apply)
    # has coded, so that a 0 is told from "not coded" and `code auto` is incremental
    """
    CREATE TABLE coded_posts (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        codebook TEXT NOT NULL,
        coder TEXT NOT NULL,
        codebook_version TEXT NOT NULL,
        coded_at TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, codebook, coder)
    ) WITHOUT ROWID;
    CREATE INDEX coded_posts_coder ON coded_posts (codebook, coder);
    """,
    # 5: commerce data that users import (smcat import orders|products|choices): order lines,
    # products with their attributes, and choice situations with the alternatives offered.
    # Attributes are free-form columns of the user's file, so they are kept as JSON.
    """
    CREATE TABLE products (
        product_id TEXT PRIMARY KEY,
        name TEXT,
        brand TEXT,
        category TEXT,
        list_price REAL CHECK (list_price >= 0),
        attributes TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE orders (
        order_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        ordered_at TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        price REAL NOT NULL CHECK (price >= 0),
        list_price REAL CHECK (list_price >= 0),
        imported_at TEXT NOT NULL,
        PRIMARY KEY (order_id, product_id)
    ) WITHOUT ROWID;
    CREATE INDEX orders_customer ON orders (customer_id, ordered_at);
    CREATE TABLE choices (
        choice_id TEXT NOT NULL,
        alternative TEXT NOT NULL,
        chosen INTEGER NOT NULL CHECK (chosen IN (0, 1)),
        customer_id TEXT,
        attributes TEXT,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (choice_id, alternative)
    ) WITHOUT ROWID;
    """,
    # 6: streamer figures as sales platforms export them: followers, category, the live and
    # video split of volumes too, and every figure as the low and high ends of the range the
    # export gives (equal when it gives one number, which is then also in the plain column)
    """
    ALTER TABLE streamer_stats ADD COLUMN category TEXT;
    ALTER TABLE streamer_stats ADD COLUMN followers INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN followers_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN followers_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN sales_amount_high REAL;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_amount_high REAL;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_amount_high REAL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
TABLES: tuple[str, ...] = (
    "crawls",
    "raw_responses",
    "accounts",
    "account_snapshots",
    "posts",
    "post_observations",
    "post_topics",
    "post_mentions",
    "comments",
    "hot_search",
    "live_rooms",
    "live_observations",
    "streamer_stats",
    "products",
    "orders",
    "choices",
    "codebooks",
    "codes",
    "coded_posts",
    "samples",
    "sample_posts",
    "rejects",
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ROWS_PER_STATEMENT = 100
_PAGE_SIZE = 16384  # bytes, for new databases
_PLANS_MAX = 1024  # kinds of row remembered per table


class StoreError(SmcatError):
    """A database that cannot be used; the message is one line that names the fix."""


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _real(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {value!r}") from None


def _flag(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | int):
        return int(bool(value))
    if value in ("0", "1"):  # a spreadsheet cell read as text
        return int(value)
    raise ValueError(f"not a yes/no flag: {value!r}")


def _json(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a whole number: {value!r}")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"not a whole number: {value!r}") from None


Converter = Callable[[object], object]


_NONE = type(None)
# Per column kind: the converter, and the types that are stored as they are on the hot path
# (a row whose values all have such types skips the converters; times are always checked).
_TEXT = (_text, frozenset({str, _NONE}))
_COUNT = (parse_count, frozenset({int, _NONE}))
_INT = (_int, frozenset({int, _NONE}))
_FLAG = (_flag, frozenset({bool, _NONE}))
# A converter's cheaper equal for values of one type.
_SHORTCUTS: dict[tuple[Converter, type], Converter] = {(_flag, bool): int}
_TIME = (iso_time, frozenset({str, _NONE}))
_REAL = (_real, frozenset({float, int, _NONE}))
_JSON = (_json, frozenset({str, _NONE}))


@dataclass(frozen=True)
class _Table:
    """How rows of one table are checked and written: converters per column, the natural key."""

    name: str
    names: tuple[str, ...]
    converters: tuple[Converter, ...]
    ready: tuple[frozenset[type], ...]
    checked: tuple[int, ...]  # positions whose type is checked on the hot path
    always: tuple[int, ...]  # positions always converted (see `_table`)
    required: tuple[int, ...]  # positions of the columns that may not be empty
    key: tuple[str, ...]
    on_conflict: str | None  # see `_upsert_sql`

    @functools.cached_property
    def required_values(self) -> Callable[[list], tuple]:
        """Pick the required values out of a converted row, as a tuple."""
        return _picker(self.required)

    def position(self, column: str) -> int:
        """Where a column stands in the tuples `convert` returns."""
        return self.names.index(column)

    def converter(
        self,
        defaults: tuple[tuple[int, object], ...] = (),
        overrides: tuple[tuple[int, object], ...] = (),
    ) -> Callable[[Mapping[str, Any]], list]:
        """A function that returns a row as a list in column order, or raises ValueError
        naming the bad column. (A list, because copying it into a tuple cost a tenth of the
        conversion, bench/bench_ingest.py.)

        `defaults` fill positions the row leaves empty, `overrides` replace them; both hold
        values that are already in stored form. Everything the hot path needs is bound here,
        once per batch (bench/bench_ingest.py).
        """
        names, required_values, missing = self.names, self.required_values, self._missing
        plans, plan_for = self._plans, self._plan

        def convert(row: Mapping[str, Any]) -> list:
            values = list(map(row.get, names))
            if (plan := plans.get(kinds := tuple(map(type, values)))) is None:
                plan = plan_for(kinds)
            try:
                for position, converter in plan:
                    values[position] = converter(values[position])
            except (ValueError, TypeError) as error:
                raise ValueError(f"{names[position]}: {error}") from None
            for position, value in defaults:
                if values[position] is None:
                    values[position] = value
            for position, value in overrides:
                values[position] = value
            required = required_values(values)
            if None in required or "" in required:
                raise missing(required)
            return values

        return convert

    @functools.cached_property
    def _plans(self) -> dict[tuple[type, ...], tuple[tuple[int, Converter], ...]]:
        """The converters to run on a row, by the types of its values (see `_plan`)."""
        return {}

    def _plan(self, kinds: tuple[type, ...]) -> tuple[tuple[int, Converter], ...]:
        """The converters a row with values of these types needs, by position: if every
        checked value has a type stored as it is, only the present values of the columns
        always converted; else every present value. Rows of one source share their types, so
        this is worked out once per kind of row (bench/bench_ingest.py)."""
        if all(kinds[p] in self.ready[p] for p in self.checked):
            positions: Iterable[int] = self.always
        else:
            positions = range(len(self.names))
        plan = tuple(
            (p, _SHORTCUTS.get((self.converters[p], kinds[p]), self.converters[p]))
            for p in positions
            if kinds[p] is not _NONE
        )
        if len(self._plans) >= _PLANS_MAX:
            self._plans.clear()
        self._plans[kinds] = plan
        return plan

    def _missing(self, required: tuple) -> ValueError:
        position = next(p for p, v in zip(self.required, required, strict=True) if v in (None, ""))
        return ValueError(f"{self.names[position]} is missing")


@functools.cache
def _multi_row_sql(sql: str, width: int, rows: int) -> str:
    """The INSERT of `sql` with `rows` rows of `width` parameters in its VALUES clause."""
    one = f"({', '.join('?' * width)})"
    return sql.replace(f"VALUES {one}", f"VALUES {', '.join([one] * rows)}", 1)


@functools.cache
def _sharing_sql(sql: str, names: tuple[str, ...], shared: tuple[str, ...], rows: int) -> str:
    """The upsert of `sql` (on columns `names`) with the `shared` columns' values bound once,
    as ?1, ?2, ..., and the other columns' values from `rows` rows of VALUES after them."""
    own = [name for name in names if name not in shared]
    picked = [
        f"?{shared.index(name) + 1}" if name in shared else f"column{own.index(name) + 1}"
        for name in names
    ]
    number = itertools.count(len(shared) + 1)
    values = ", ".join(f"({', '.join(f'?{next(number)}' for _ in own)})" for _ in range(rows))
    head, tail = sql.split(" VALUES (", 1)
    upsert = tail.split(")", 1)[1]  # what follows the row of placeholders: ON CONFLICT ...
    # WHERE true: SQLite's grammar needs it between an INSERT's SELECT and ON CONFLICT
    return f"{head} SELECT {', '.join(picked)} FROM (VALUES {values}) WHERE true{upsert}"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is converted and written.

    A batch keeps one list per row alive until it is written, and so many new objects set off
    full collections, each walking every object of the process: three in an update pass of
    200,000 posts, 0.25 s of 2.1 (bench/bench_ingest.py). Converted rows hold no cycles, so
    the pause leaves nothing for the collector; whether it was on is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _filled(rows: list[Sequence[object]], positions: tuple[int, ...]) -> tuple[int, ...]:
    """Which of these positions (by their index in `positions`) hold a value (not None) in at
    least one of the rows."""
    # column by column, stopping at the first value; zip(*rows) would make an iterator per
    # row, and so many objects wake the garbage collector
    return tuple(
        i
        for i, position in enumerate(positions)
        if any(map(operator.is_not, map(operator.itemgetter(position), rows), _NONES))
    )


_NONES = itertools.repeat(None)


def _same_in_all(rows: list[Sequence[object]], position: int) -> bool:
    """Whether every row holds the first row's value at this position."""
    first = rows[0][position]
    return all(map(operator.eq, itertools.repeat(first), map(operator.itemgetter(position), rows)))


def _picker(positions: tuple[int, ...]) -> Callable[[list], tuple]:
    """A function that picks these positions out of a list, always as a tuple."""
    if not positions:
        return lambda values: ()
    getter = operator.itemgetter(*positions)
    return getter if len(positions) > 1 else lambda values: (getter(values),)


def _table(
    name: str,
    key: tuple[str, ...],
    columns: dict[str, tuple[Converter, frozenset[type]]],
    required: tuple[str, ...] = (),
    on_conflict: str | None = "update",
) -> _Table:
    """Describe a table. on_conflict "update" keeps known values when a later row lacks them;
    "ignore" keeps the first row (observations at one time do not change); None describes
    rows that are only checked, not written as they are."""
    names = tuple(columns)
    # Always converted: times (checked and spelled one way), JSON (so dicts stay fast), and
    # flags, because the sqlite3 module binds a bool through its slow adapter lookup.
    always_kinds = (_TIME, _JSON, _FLAG)
    return _Table(
        name=name,
        names=names,
        converters=tuple(convert for convert, _ in columns.values()),
        ready=tuple(ready for _, ready in columns.values()),
        checked=tuple(i for i, kind in enumerate(columns.values()) if kind not in always_kinds),
        always=tuple(i for i, kind in enumerate(columns.values()) if kind in always_kinds),
        required=tuple(names.index(c) for c in key + required),
        key=key,
        on_conflict=on_conflict,
    )


@functools.cache
def _upsert_sql(
    name: str, names: tuple[str, ...], key: tuple[str, ...], on_conflict: str | None
) -> str:
    """The INSERT of one row of these columns. on_conflict "update" keeps known values when a
    later row lacks them; "ignore" keeps the first row; None gives no statement."""
    if on_conflict is None:
        return ""
    sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    if on_conflict == "ignore":
        return sql + " ON CONFLICT DO NOTHING"
    updates = ", ".join(
        f"{c} = coalesce(excluded.{c}, {name}.{c})"
        for c in names
        if c not in key and c != "first_seen_at"
    )
    return sql + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


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
_POST_COLUMNS: dict[str, tuple[Converter, frozenset[type]]] = {
    "platform": _TEXT,
    "post_id": _TEXT,
    "crawl_id": _INT,
    "account_id": _TEXT,
    "created_at": _TIME,
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
_COUNTS_SEEN: dict[str, tuple[Converter, frozenset[type]]] = {
    "likes": _COUNT,
    "comments": _COUNT,
    "reposts": _COUNT,
    "shares": _COUNT,
    "collects": _COUNT,
    "plays": _COUNT,
}
_POST_OBSERVATIONS_COLUMNS: dict[str, tuple[Converter, frozenset[type]]] = {
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
# the figures of streamer_stats that an export may give as a range (migration 5), and the
# suffixes of its two ends
_RANGE_ENDS = ("low", "high")
_STREAMER_FIGURES = {
    "followers": _COUNT, "sales_volume": _COUNT, "sales_amount": _REAL,
    "live_sales_volume": _COUNT, "live_sales_amount": _REAL,
    "video_sales_volume": _COUNT, "video_sales_amount": _REAL,
}  # fmt: skip
_STREAMER_STATS = _table(
    "streamer_stats",
    ("source", "account", "period"),
    {
        "source": _TEXT,
        "account": _TEXT,
        "period": _TEXT,
        "platform": _TEXT,
        "account_id": _TEXT,
        "nickname": _TEXT,
        "sales_volume": _COUNT,
        "sales_amount": _REAL,
        "live_sales_amount": _REAL,
        "video_sales_amount": _REAL,
        "extra": _JSON,
        "imported_at": _TIME,
        "category": _TEXT,
        "followers": _COUNT,
        "live_sales_volume": _COUNT,
        "video_sales_volume": _COUNT,
        **{
            f"{figure}_{end}": kind
            for figure, kind in _STREAMER_FIGURES.items()
            for end in _RANGE_ENDS
        },
    },
)
_PRODUCTS = _table(
    "products",
    ("product_id",),
    {
        "product_id": _TEXT,
        "name": _TEXT,
        "brand": _TEXT,
        "category": _TEXT,
        "list_price": _REAL,
        "attributes": _JSON,
        "imported_at": _TIME,
    },
)
_ORDERS = _table(
    "orders",
    ("order_id", "product_id"),
    {
        "order_id": _TEXT,
        "product_id": _TEXT,
        "customer_id": _TEXT,
        "ordered_at": _TIME,
        "quantity": _INT,
        "price": _REAL,
        "list_price": _REAL,
        "imported_at": _TIME,
    },
    required=("customer_id", "ordered_at", "price"),
)
_CHOICES = _table(
    "choices",
    ("choice_id", "alternative"),
    {
        "choice_id": _TEXT,
        "alternative": _TEXT,
        "chosen": _FLAG,
        "customer_id": _TEXT,
        "attributes": _JSON,
        "imported_at": _TIME,
    },
    required=("chosen",),
)
# What each commerce import reads from a file's columns (the rest of a products or choices
# file are attributes; an orders file has no others)
COMMERCE_COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: tuple(c for c in table.names if c not in ("attributes", "imported_at"))
    for table in (_PRODUCTS, _ORDERS, _CHOICES)
}
COMMERCE_REQUIRED: dict[str, tuple[str, ...]] = {
    table.name: tuple(table.names[p] for p in table.required)
    for table in (_PRODUCTS, _ORDERS, _CHOICES)
}

_CODES = _table(
    "codes",
    ("platform", "post_id", "codebook", "subcategory", "coder"),
    {
        "platform": _TEXT,
        "post_id": _TEXT,
        "codebook": _TEXT,
        "subcategory": _TEXT,
        "coder": _TEXT,
        "codebook_version": _TEXT,
        "value": _INT,
        "evidence": _JSON,
        "coded_at": _TIME,
    },
    required=("codebook_version", "value", "coded_at"),
)

_CODED_POSTS = _table(
    "coded_posts",
    ("platform", "post_id", "codebook", "coder"),
    {
        "platform": _TEXT,
        "post_id": _TEXT,
        "codebook": _TEXT,
        "coder": _TEXT,
        "codebook_version": _TEXT,
        "coded_at": _TIME,
    },
    required=("codebook_version", "coded_at"),
)
# the columns of add_coded_batch's code rows: the rest are the same for the whole batch
_CODE_OWN = ("platform", "post_id", "subcategory", "evidence")
assert tuple(name for name in _CODES.names if name in _CODE_OWN) == _CODE_OWN
_UNIT_SEPARATOR = "\x1f"  # joins a post's topics in one column; never inside a topic


@dataclass(frozen=True)
class PostToCode:
    """What a coder (the machine) reads of a post."""

    platform: str
    post_id: str
    account_id: str | None
    created_at: str
    text: str
    is_repost: bool
    media_type: str | None
    pic_count: int | None
    video_seconds: float | None
    topics: tuple[str, ...]
    mention_count: int


@dataclass(frozen=True)
class PostForCoder:
    """What a person coding a post reads of it: in a coding sheet or on the review screen."""

    platform: str
    post_id: str
    account: str | None
    created_at: str
    text: str
    url: str | None
    media_type: str | None = None
    pic_count: int | None = None
    video_seconds: float | None = None
    is_repost: bool = False
    likes: int | None = None
    comments: int | None = None
    reposts: int | None = None


@dataclass(frozen=True)
class Answer:
    """One coder's codes of one post: the version, when, and 0/1 with evidence per subcategory
    (the machine keeps only its 1s)."""

    coder: str
    version: str
    coded_at: str
    codes: dict[str, tuple[int, str | None]]


@dataclass(frozen=True)
class Rows:
    """Rows of a read for analysis: the column names and the tuples, ready for a DataFrame."""

    columns: tuple[str, ...]
    rows: list[tuple]


class _Batch(NamedTuple):
    """Converted rows for one table; `columns` says where its columns stand in the rows, if
    the rows are wider than the table or in another order."""

    table: _Table
    rows: list[Sequence[object]]
    columns: tuple[int, ...] | None = None


@dataclass
class WriteResult:
    """What a write did: rows stored (inserted or updated) and rows sent to `rejects`."""

    stored: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    rejected_rows: list[Mapping[str, Any]] = field(default_factory=list)  # beside `reasons`

    def add(self, other: WriteResult) -> None:
        """Fold another result into this one."""
        self.stored += other.stored
        self.rejected += other.rejected
        self.reasons.extend(other.reasons)
        self.rejected_rows.extend(other.rejected_rows)


@dataclass(frozen=True)
class CrawlRecord:
    """One row of `crawls`, as `db info` shows it."""

    crawl_id: int
    spider: str
    args: dict[str, Any]
    started_at: str
    ended_at: str | None
    status: str
    reason: str | None
    counts: dict[str, int]
    version: str | None


@dataclass(frozen=True)
class StoreInfo:
    """A summary of a store: path, schema version, row counts per table, the latest crawls."""

    path: Path
    schema_version: int
    row_counts: dict[str, int]
    crawls: list[CrawlRecord]


def check_database_file(path: Path) -> int:
    """Return the schema version of an existing smcat database without modifying the file.

    Raises StoreError if the file is not SQLite or has a newer schema than this smcat knows.
    """
    with path.open("rb") as handle:
        header = handle.read(100)
    if header and not header.startswith(_SQLITE_MAGIC):
        raise StoreError(
            f"{path} is not an SQLite database: point --db at an smcat database or a new file name"
        )
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            tables = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"{path} cannot be read as SQLite ({error}): point --db at an smcat database"
        ) from None
    if version == 0 and tables:
        raise StoreError(
            f"{path} is an SQLite database but not an smcat one: give --db a new file name"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version} but this smcat {__version__} knows up to "
            f"{SCHEMA_VERSION}: upgrade smcat (pip install -U smcat)"
        )
    return version


class Store:
    """A connection to one smcat database, with the named reads and writes the toolkit uses."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self.db = sqlite_utils.Database(connection)
        self._variable_limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open (and create or upgrade) the database at `path`.

        With `readonly`, the file must exist and is neither migrated nor written.
        """
        path = Path(path)
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            check_database_file(path)
        elif readonly:
            raise StoreError(
                f"no database at {path}: run a crawl or `smcat demo` first, or fix --db"
            )
        if readonly:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if not exists:
                # bigger pages than SQLite's 4 KiB: 6-8% more posts/s on bench/bench_ingest.py,
                # and fewer pages to read in the analysts' full-table scans
                connection.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA busy_timeout = 10000")
        store = cls(connection, path)
        if not readonly:
            store._migrate()
        return store

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The database's `PRAGMA user_version`."""
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # executescript commits first, so run the statements inside one explicit transaction
            try:
                self.connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.Error as error:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise StoreError(
                    f"{self.path}: migration {number} failed ({error}); the file is unchanged:"
                    " report this as a bug"
                ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction; nested use joins the outer one."""
        if self.connection.in_transaction:
            yield
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # -- crawls and raw payloads -------------------------------------------------------------

    def start_crawl(self, spider: str, args: Mapping[str, Any]) -> int:
        """Record a crawl as running and return its crawl_id."""
        cursor = self.connection.execute(
            "INSERT INTO crawls (spider, args, started_at, status, version)"
            " VALUES (?, ?, ?, 'running', ?)",
            (spider, _json(dict(args)), _now(), __version__),
        )
        return int(cursor.lastrowid)

    def finish_crawl(
        self, crawl_id: int, status: str, reason: str | None, counts: Mapping[str, int]
    ) -> None:
        """Record how a crawl ended: status (finished, stopped, interrupted, failed) and why."""
        self.connection.execute(
            "UPDATE crawls SET ended_at = ?, status = ?, reason = ?, counts = ? WHERE crawl_id = ?",
            (_now(), status, reason, _json(dict(counts)), crawl_id),
        )

    def save_checkpoint(self, crawl_id: int, part: str, value: object) -> None:
        """Record how far one part of a crawl (an account's timeline, a post's comments) got."""
        self.connection.execute(
            "UPDATE crawls SET checkpoint = json_set(coalesce(checkpoint, '{}'), ?, json(?))"
            " WHERE crawl_id = ?",
            (f'$."{part}"', json.dumps(value), crawl_id),
        )

    def checkpoint(self, crawl_id: int) -> dict[str, Any]:
        """How far each part of a crawl got."""
        row = self.connection.execute(
            "SELECT checkpoint FROM crawls WHERE crawl_id = ?", (crawl_id,)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def unfinished_crawl(self, spider: str, args: Mapping[str, Any]) -> CrawlRecord | None:
        """The latest crawl of this spider with these arguments that did not finish, if the
        latest such crawl did not finish (a crawl that was killed is still 'running')."""
        wanted = json.loads(_json(dict(args)) or "{}")
        for record in self.crawls(limit=200):
            if record.spider == spider and record.args == wanted:
                return None if record.status == "finished" else record
        return None

    def reopen_crawl(self, crawl_id: int) -> None:
        """Mark a crawl as running again, to resume it."""
        self.connection.execute(
            "UPDATE crawls SET status = 'running', ended_at = NULL, reason = NULL"
            " WHERE crawl_id = ?",
            (crawl_id,),
        )

    def advance_crawled_up_to(self, platform: str, marks: Mapping[str, str], crawl_id: int) -> None:
        """Record that each account's posts up to its time (ISO) are stored, by this crawl.

        A mark only moves forward, and only for accounts already stored. Marks are kept in UTC
        so that they compare as text."""
        rows = [(_utc(up_to), crawl_id, platform, account) for account, up_to in marks.items()]
        with self.transaction():
            self.connection.executemany(
                "UPDATE accounts SET crawled_up_to = ?1, crawled_up_to_crawl = ?2"
                " WHERE platform = ?3 AND account_id = ?4"
                " AND (crawled_up_to IS NULL OR crawled_up_to < ?1)",
                rows,
            )

    def crawled_up_to(self, platform: str, account_ids: Iterable[str]) -> dict[str, str]:
        """The marks of those accounts that have one."""
        ids = list(account_ids)
        rows = self.connection.execute(
            "SELECT account_id, crawled_up_to FROM accounts WHERE platform = ?"
            f" AND crawled_up_to IS NOT NULL AND account_id IN ({', '.join('?' * len(ids))})",
            (platform, *ids),
        )
        return dict(rows.fetchall())

    def crawls(self, limit: int = 10) -> list[CrawlRecord]:
        """The latest crawls, newest first."""
        rows = self.connection.execute(
            f"SELECT {_CRAWL_COLUMNS} FROM crawls ORDER BY crawl_id DESC LIMIT ?", (limit,)
        )
        return [_crawl_record(row) for row in rows]

    def crawl(self, crawl_id: int) -> CrawlRecord | None:
        """One crawl by its id."""
        row = self.connection.execute(
            f"SELECT {_CRAWL_COLUMNS} FROM crawls WHERE crawl_id = ?", (crawl_id,)
        ).fetchone()
        return _crawl_record(row) if row else None

    def add_raw_response(
        self,
        *,
        url: str,
        status: int,
        fetched_at: str,
        body: bytes,
        content_type: str | None = None,
        parser_version: str | None = None,
        crawl_id: int | None = None,
    ) -> int:
        """Keep a response body (gzipped) so rows can be rebuilt from it later."""
        cursor = self.connection.execute(
            "INSERT INTO raw_responses"
            " (crawl_id, url, status, fetched_at, content_type, body, parser_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                crawl_id,
                url,
                status,
                iso_time(fetched_at),
                content_type,
                gzip.compress(body, compresslevel=6),
                parser_version,
            ),
        )
        return int(cursor.lastrowid)

    def raw_responses(self, crawl_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield stored responses (oldest first) with their bodies unzipped."""
        sql = (
            "SELECT id, crawl_id, url, status, fetched_at, content_type, body, parser_version"
            " FROM raw_responses"
        )
        params: tuple = ()
        if crawl_id is not None:
            sql += " WHERE crawl_id = ?"
            params = (crawl_id,)
        for row in self.connection.execute(sql + " ORDER BY id", params):
            yield {
                "id": row[0],
                "crawl_id": row[1],
                "url": row[2],
                "status": row[3],
                "fetched_at": row[4],
                "content_type": row[5],
                "body": gzip.decompress(row[6]) if row[6] is not None else b"",
                "parser_version": row[7],
            }

    # -- rejects -----------------------------------------------------------------------------

    def reject(
        self, kind: str, reason: str, payload: object, *, crawl_id: int | None = None
    ) -> None:
        """Keep what could not be stored, why, and its payload: nothing is dropped silently."""
        self.connection.execute(
            "INSERT INTO rejects (crawl_id, kind, reason, payload, rejected_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (crawl_id, kind, reason, _json(payload), _now()),
        )

    # -- captured rows -----------------------------------------------------------------------

    @_collector_paused()
    def _write(
        self,
        table: _Table,
        rows: Iterable[Mapping[str, Any]],
        crawl_id: int | None,
        defaults: tuple[tuple[int, object], ...] = (),
    ) -> WriteResult:
        result = WriteResult()
        convert = table.converter(defaults, _crawl_override(table, crawl_id))
        good, sources = [], []
        for row in rows:
            try:
                good.append(convert(row))
                sources.append(row)
            except ValueError as error:
                self._reject_row(table.name, str(error), row, crawl_id, result)
        self._write_batches(
            table.name,
            [_Batch(table, good)],
            sources,
            lambda row: self._write(table, [row], crawl_id, defaults),
            crawl_id,
            result,
        )
        return result

    def _write_batches(
        self,
        kind: str,
        batches: list[_Batch],
        sources: list[Mapping[str, Any]],
        write_one: Callable[[Mapping[str, Any]], WriteResult],
        crawl_id: int | None,
        result: WriteResult,
    ) -> None:
        """Insert converted rows in one transaction. If SQLite refuses one (a CHECK failed, or
        an integer too large for it got past the converters' fast path), write the rows one by
        one so that only the refused rows are rejected."""
        try:
            with self._batch_guard():
                for batch in batches:
                    self._insert(batch.table, batch.rows, batch.columns)
        except (sqlite3.IntegrityError, OverflowError) as error:
            if len(sources) == 1:
                self._reject_row(kind, f"refused by SQLite: {error}", sources[0], crawl_id, result)
                return
            with self.transaction():
                for row in sources:
                    result.add(write_one(row))
            return
        result.stored += len(sources)

    def _batch_guard(self) -> AbstractContextManager[None]:
        """What a batch write runs in, so that it is stored whole or not at all: its own
        transaction, or a savepoint inside a caller's. A savepoint costs about a third of the
        update rate (bench/bench_ingest.py), so a batch gets one only where it cannot roll
        back alone."""
        return self._savepoint() if self.connection.in_transaction else self.transaction()

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.connection.execute("SAVEPOINT smcat_write")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK TO smcat_write")
            self.connection.execute("RELEASE smcat_write")
            raise
        self.connection.execute("RELEASE smcat_write")

    def _insert(
        self, table: _Table, rows: list[Sequence[object]], columns: tuple[int, ...] | None = None
    ) -> None:
        """Run the table's upsert over converted rows. `columns` says where the table's columns
        stand in the rows, if not in the table's order.

        Columns that are empty in every row are left out: SQLite then stores NULL just as if
        it were bound (no column has a DEFAULT, and the upserts keep known values), while the
        sqlite3 module binds each None through its slow adapter lookup, about 0.35 µs a value.
        Columns with one value in every row (the platform, a crawl's observed_at and crawl_id,
        the write's clock) are bound once per statement (see `_upsert_rows`).
        """
        if not rows:
            return
        columns = tuple(range(len(table.names))) if columns is None else columns
        filled = [(table.names[i], columns[i]) for i in _filled(rows, columns)]
        # the key's last column (the post's id, say) stays in the rows: a statement needs one
        last_key = table.key[-1]
        shared = {
            name: rows[0][position]
            for name, position in filled
            if name != last_key and len(rows) > 1 and _same_in_all(rows, position)
        }
        names = tuple(name for name, _ in filled)
        own = tuple(position for name, position in filled if name not in shared)
        pick = None if own == tuple(range(len(rows[0]))) else _picker(own)
        self._upsert_rows(table, names, shared, rows, pick)

    def _insert_sharing(
        self, table: _Table, shared: Mapping[str, object], rows: list[tuple]
    ) -> None:
        """`_insert` for rows that share the values of some columns, known to the caller: each
        row holds only the other columns, in the table's order."""
        self._upsert_rows(table, table.names, shared, rows, None)

    def _upsert_rows(
        self,
        table: _Table,
        names: tuple[str, ...],
        shared: Mapping[str, object],
        rows: list[Sequence[object]],
        pick: Callable[[Sequence[object]], Sequence[object]] | None,
    ) -> None:
        """The upsert of columns `names` over rows, many rows per statement: the `shared`
        columns' values bound once per statement, the others' from each row (as `pick` takes
        them out of it, if given).

        Multi-row VALUES amortise the per-statement cost of the sqlite3 module (15-20% more
        rows per second than one row per call, bench/bench_ingest.py); binding shared values
        once made a code row bind 4 values instead of 9, and a batch of bench/bench_tag.py's
        posts was written in about 12.5 µs a post instead of 15.
        """
        sql = _upsert_sql(table.name, names, table.key, table.on_conflict)
        width, fixed = len(names) - len(shared), list(shared.values())
        per_statement = min(_ROWS_PER_STATEMENT, (self._variable_limit - len(shared)) // width)

        def statement(count: int) -> str:
            if shared:
                return _sharing_sql(sql, names, tuple(shared), count)
            return _multi_row_sql(sql, width, count)

        # rows are picked one by one as they are bound: a list of picked copies would make
        # the garbage collector walk every object the process holds, several times a batch
        def chunk(start: int, stop: int) -> Iterable[Sequence[object]]:
            return rows[start:stop] if pick is None else map(pick, rows[start:stop])

        whole = len(rows) - len(rows) % per_statement
        if whole:
            self.connection.executemany(
                statement(per_statement),
                (
                    [*fixed, *itertools.chain.from_iterable(chunk(start, start + per_statement))]
                    for start in range(0, whole, per_statement)
                ),
            )
        if whole < len(rows):
            self.connection.executemany(
                statement(1), ([*fixed, *row] for row in chunk(whole, len(rows)))
            )

    def _reject_row(
        self,
        kind: str,
        reason: str,
        row: Mapping[str, Any],
        crawl_id: int | None,
        result: WriteResult,
    ) -> None:
        self.reject(kind, reason, row, crawl_id=crawl_id)
        result.rejected += 1
        result.reasons.append(reason)
        result.rejected_rows.append(row)

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
        result.rejected += snapshots.rejected
        result.reasons.extend(snapshots.reasons)
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

        A row holds the `posts` columns; `observed_at` with the counts seen then (likes,
        comments, reposts, shares, collects, plays), which become a `post_observations` row;
        and `topics` and `mentions` (lists of strings). A row that fails a check is rejected
        whole; the rest are stored.
        """
        result = WriteResult()
        posts, observations, topics, mentions, sources = [], [], [], [], []
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
        result.rejected += observations.rejected
        result.reasons.extend(observations.reasons)
        return result

    def add_live_observations(
        self, rows: Iterable[Mapping[str, Any]], *, crawl_id: int | None = None
    ) -> WriteResult:
        """Add live-room counts (viewers, likes) at their observed_at."""
        return self._write(_LIVE_OBSERVATIONS, rows, crawl_id)

    def upsert_streamer_stats(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update imported third-party streamer sales figures (source, account,
        period; nickname, category, and each figure plain and as `<figure>_low` and
        `<figure>_high`: followers, sales_volume, sales_amount, live_/video_sales_volume and
        live_/video_sales_amount)."""
        return self._write(_STREAMER_STATS, rows, None, _imported_now(_STREAMER_STATS))

    # -- commerce data (smcat import orders|products|choices) ----------------------------------

    def upsert_products(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update products: product_id, name, brand, category, list_price and
        `attributes` (a dict of the file's other columns)."""
        return self._write(_PRODUCTS, rows, None, _imported_now(_PRODUCTS))

    def upsert_orders(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update order lines: order_id, product_id, customer_id, ordered_at, price
        (per unit paid), quantity (1 if not given) and list_price (the undiscounted price)."""
        quantity = ((_ORDERS.position("quantity"), 1),)
        return self._write(_ORDERS, rows, None, _imported_now(_ORDERS) + quantity)

    def upsert_choices(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Insert or update the alternatives of choice situations: choice_id, alternative,
        chosen (0/1), customer_id and `attributes` (a dict of the file's other columns)."""
        return self._write(_CHOICES, rows, None, _imported_now(_CHOICES))

    def order_lines(self) -> Rows:
        """Every order line with its product's name, brand, category and list price: order_id,
        customer_id, product_id, ordered_at, quantity, price, list_price (the line's, else the
        product's), name, brand, category."""
        sql = (
            "SELECT o.order_id, o.customer_id, o.product_id, o.ordered_at, o.quantity, o.price,"
            " coalesce(o.list_price, p.list_price), p.name, p.brand, p.category"
            " FROM orders o LEFT JOIN products p ON p.product_id = o.product_id"
            " ORDER BY o.ordered_at, o.order_id, o.product_id"
        )
        columns = ("order_id", "customer_id", "product_id", "ordered_at", "quantity", "price",
                   "list_price", "name", "brand", "category")  # fmt: skip
        return Rows(columns, self.connection.execute(sql).fetchall())

    def products(self) -> Rows:
        """Every product: product_id, name, brand, category, list_price, attributes (a dict)."""
        sql = "SELECT product_id, name, brand, category, list_price, attributes FROM products"
        rows = [(*row[:-1], json.loads(row[-1] or "{}")) for row in self.connection.execute(sql)]
        return Rows(("product_id", "name", "brand", "category", "list_price", "attributes"), rows)

    def choices(self) -> Rows:
        """Every alternative of every choice situation: choice_id, alternative, chosen,
        customer_id, attributes (a dict)."""
        sql = (
            "SELECT choice_id, alternative, chosen, customer_id, attributes FROM choices"
            " ORDER BY choice_id, alternative"
        )
        rows = [(*row[:-1], json.loads(row[-1] or "{}")) for row in self.connection.execute(sql)]
        return Rows(("choice_id", "alternative", "chosen", "customer_id", "attributes"), rows)

    def account_handles(self, platform: str) -> list[tuple[str, str | None, dict[str, Any]]]:
        """(account_id, screen_name, extra) of a platform's stored accounts: what a row from
        elsewhere (a sales platform's export) can be matched on."""
        rows = self.connection.execute(
            "SELECT account_id, screen_name, extra FROM accounts WHERE platform = ?"
            " ORDER BY account_id",
            (platform,),
        )
        return [(account, name, json.loads(extra or "{}")) for account, name, extra in rows]

    # -- streamers (analysis/streamers.py) -----------------------------------------------------

    def linked_streamer_sales(self, platform: str) -> Rows:
        """The imported sales rows linked to a crawled account of `platform`: account_id,
        source, period, nickname, and each of sales_amount and sales_volume plain and as
        `_low`/`_high` (an export's range)."""
        figures = [
            f"{f}{end}"
            for f in ("sales_amount", "sales_volume")
            for end in ("", *(f"_{e}" for e in _RANGE_ENDS))
        ]
        sql = (
            f"SELECT account_id, source, period, nickname, {', '.join(figures)}"
            " FROM streamer_stats WHERE platform = ? AND account_id IS NOT NULL"
            " ORDER BY account_id, period, source"
        )
        columns = ("account_id", "source", "period", "nickname", *figures)
        return Rows(columns, self.connection.execute(sql, (platform,)).fetchall())

    def account_profiles(self, platform: str) -> Rows:
        """Each account of `platform` with its latest snapshot: account_id, screen_name,
        gender, verified, followers, following, posts, total_likes."""
        sql = (
            "SELECT a.account_id, a.screen_name, a.gender, a.verified, s.followers, s.following,"
            " s.posts, s.total_likes FROM accounts a LEFT JOIN ("
            "  SELECT *, row_number() OVER (PARTITION BY platform, account_id"
            "   ORDER BY julianday(observed_at) DESC) AS nth FROM account_snapshots"
            " ) s ON s.platform = a.platform AND s.account_id = a.account_id AND s.nth = 1"
            " WHERE a.platform = ? ORDER BY a.account_id"
        )
        columns = ("account_id", "screen_name", "gender", "verified", "followers", "following",
                   "posts", "total_likes")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, (platform,)).fetchall())

    def account_posts(self, platform: str, since: str, until: str) -> Rows:
        """The posts of `platform` created in [since, until) (ISO times) with their latest
        counts: account_id, post_id, created_at, media_type, likes, comments, shares."""
        sql = (
            "SELECT p.account_id, p.post_id, p.created_at, p.media_type, o.likes, o.comments,"
            " o.shares FROM posts p LEFT JOIN ("
            "  SELECT *, row_number() OVER (PARTITION BY platform, post_id"
            "   ORDER BY julianday(observed_at) DESC) AS nth FROM post_observations"
            " ) o ON o.platform = p.platform AND o.post_id = p.post_id AND o.nth = 1"
            " WHERE p.platform = ? AND julianday(p.created_at) >= julianday(?)"
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

    # -- samples -----------------------------------------------------------------------------

    def save_codebook(self, codebook: str, version: str, yaml_text: str) -> None:
        """Keep the text of a codebook version that codes name. A version is kept once; a
        different text under a version already kept is refused (give the edit a new version)."""
        row = self.connection.execute(
            "SELECT yaml FROM codebooks WHERE codebook = ? AND version = ?", (codebook, version)
        ).fetchone()
        if row is not None and row[0] != yaml_text:
            raise StoreError(
                f"codebook {codebook} version {version} is already stored with other rules: "
                "give the edited codebook a new version"
            )
        if row is None:
            with self.transaction():
                self.connection.execute(
                    "INSERT INTO codebooks (codebook, version, yaml, stored_at)"
                    " VALUES (?, ?, ?, ?)",
                    (codebook, version, yaml_text, _now()),
                )

    def codebook_text(self, codebook: str, version: str) -> str | None:
        """The YAML of a stored codebook version, or None."""
        row = self.connection.execute(
            "SELECT yaml FROM codebooks WHERE codebook = ? AND version = ?", (codebook, version)
        ).fetchone()
        return row[0] if row else None

    def upsert_codes(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Codes (platform, post_id, codebook, subcategory, coder, codebook_version, value,
        evidence, coded_at); a coder's code for a post and subcategory is replaced."""
        return self._write(_CODES, rows, None)

    def code_rows(
        self, codebook: str, coders: Iterable[str] | None = None
    ) -> Iterator[tuple[str, str, str, str, int]]:
        """(platform, post_id, subcategory, coder, value) of a codebook's codes, of some coders."""
        sql = "SELECT platform, post_id, subcategory, coder, value FROM codes WHERE codebook = ?"
        params: list[Any] = [codebook]
        if coders is not None:
            chosen = list(coders)
            sql += f" AND coder IN ({', '.join('?' * len(chosen))})"
            params += chosen
        yield from self.connection.execute(sql + " ORDER BY platform, post_id", params)

    def posts_to_code(
        self, codebook: str, coder: str, *, batch: int = 10_000
    ) -> Iterator[list[PostToCode]]:
        """The posts this coder has not coded with this codebook, in batches (by platform and
        id). Each batch is read afresh, so codes written between batches are safe."""
        for rows in self.post_rows_to_code(codebook, coder, batch=batch):
            yield [post_to_code(row) for row in rows]

    def post_rows_to_code(
        self, codebook: str, coder: str, *, batch: int = 10_000
    ) -> Iterator[list[tuple]]:
        """`posts_to_code` as the rows SQLite returns, each starting with platform and post_id:
        cheap to send to another process, where `post_to_code` makes each a PostToCode."""
        sql = (
            "SELECT p.platform, p.post_id, p.account_id, p.created_at, coalesce(p.text, ''),"
            " coalesce(p.is_repost, 0), p.media_type, p.pic_count, p.video_seconds,"
            f" (SELECT group_concat(t.value, '{_UNIT_SEPARATOR}') FROM post_topics t"
            "   WHERE t.platform = p.platform AND t.post_id = p.post_id),"
            " (SELECT count(*) FROM post_mentions m"
            "   WHERE m.platform = p.platform AND m.post_id = p.post_id)"
            " FROM posts p WHERE (p.platform, p.post_id) > (?, ?) AND NOT EXISTS"
            " (SELECT 1 FROM coded_posts c WHERE c.platform = p.platform"
            "  AND c.post_id = p.post_id AND c.codebook = ? AND c.coder = ?)"
            " ORDER BY p.platform, p.post_id LIMIT ?"
        )
        after = ("", "")
        while rows := self.connection.execute(sql, (*after, codebook, coder, batch)).fetchall():
            yield rows
            after = (rows[-1][0], rows[-1][1])

    def add_coded(
        self, codes: Iterable[Mapping[str, Any]], coded_posts: Iterable[Mapping[str, Any]]
    ) -> WriteResult:
        """A coder's codes and the posts it coded (platform, post_id, codebook, coder,
        codebook_version, coded_at), in one transaction: a post counts as coded only with its
        codes stored."""
        result = WriteResult()
        converted: dict[_Table, list[Sequence[object]]] = {_CODES: [], _CODED_POSTS: []}
        sources: list[Mapping[str, Any]] = []
        for table, rows in ((_CODES, codes), (_CODED_POSTS, coded_posts)):
            convert, good = table.converter(), converted[table]  # hashing a _Table is slow
            for row in rows:
                try:
                    good.append(convert(row))
                    sources.append(row)
                except ValueError as error:
                    self._reject_row(table.name, str(error), row, None, result)

        def write_one(row: Mapping[str, Any]) -> WriteResult:
            return self._write(_CODES if "subcategory" in row else _CODED_POSTS, [row], None)

        batches = [_Batch(table, rows) for table, rows in converted.items()]
        self._write_batches("codes", batches, sources, write_one, None, result)
        return result

    def add_coded_batch(
        self,
        codes: Iterable[tuple[str, str, str, str]],
        posts: Iterable[tuple[str, str]],
        *,
        codebook: str,
        coder: str,
        codebook_version: str,
        coded_at: str,
    ) -> WriteResult:
        """`add_coded` for a coder that codes many posts at once (the machine): `codes` are
        (platform, post_id, subcategory, evidence) with value 1 and the evidence already JSON
        text, stored as it is; `posts` are the (platform, post_id) of every post coded.

        What the rows share is checked once (ValueError names a bad one) and bound once per
        statement; the rows themselves are not converted one by one. If SQLite refuses a row,
        the batch is written again through `add_coded`, so that only the refused rows go to
        `rejects`."""
        for name, value in (("codebook", codebook), ("coder", coder),
                            ("codebook_version", codebook_version)):  # fmt: skip
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        try:
            coded_at = iso_time(coded_at) or ""
        except ValueError as error:
            raise ValueError(f"coded_at: {error}") from None
        if not coded_at:
            raise ValueError("coded_at is missing")
        marked = {"codebook": codebook, "coder": coder, "codebook_version": codebook_version,
                  "coded_at": coded_at}  # fmt: skip
        coded = {**marked, "value": 1}
        codes, posts = list(codes), list(posts)
        try:
            with self._batch_guard():
                self._insert_sharing(_CODES, coded, codes)
                self._insert_sharing(_CODED_POSTS, marked, posts)
        except (sqlite3.IntegrityError, OverflowError):
            return self.add_coded(
                [{**coded, **dict(zip(_CODE_OWN, code, strict=True))} for code in codes],
                [
                    {**marked, "platform": platform, "post_id": post_id}
                    for platform, post_id in posts
                ],
            )
        return WriteResult(stored=len(codes) + len(posts))

    def hot_words(self, platform: str = "weibo") -> list[tuple[str, str]]:
        """(word, observed_at) of every hot-search entry, ads left out, oldest first."""
        rows = self.connection.execute(
            "SELECT word, observed_at FROM hot_search WHERE platform = ?"
            " AND coalesce(is_ad, 0) = 0 ORDER BY observed_at",
            (platform,),
        )
        return rows.fetchall()

    def code_counts(self, codebook: str, coder: str) -> dict[str, int]:
        """How many posts a coder gave each subcategory (value 1), by subcategory."""
        rows = self.connection.execute(
            "SELECT subcategory, count(*) FROM codes WHERE codebook = ? AND coder = ?"
            " AND value = 1 GROUP BY subcategory",
            (codebook, coder),
        )
        return dict(rows.fetchall())

    def coded_post_count(self, codebook: str, coder: str) -> int:
        """How many posts a coder has coded with a codebook."""
        row = self.connection.execute(
            "SELECT count(*) FROM coded_posts WHERE codebook = ? AND coder = ?", (codebook, coder)
        ).fetchone()
        return int(row[0])

    def coders(self, codebook: str) -> dict[str, int]:
        """Who coded with a codebook (people, "gold", and "auto:..." taggers): codes each."""
        rows = self.connection.execute(
            "SELECT coder, count(*) FROM codes WHERE codebook = ? GROUP BY coder ORDER BY coder",
            (codebook,),
        )
        return dict(rows.fetchall())

    def coded_post_counts(self, codebook: str) -> dict[str, int]:
        """Who coded posts with a codebook (people, "gold", "auto:..." taggers): posts each."""
        rows = self.connection.execute(
            "SELECT coder, count(*) FROM coded_posts WHERE codebook = ? GROUP BY coder"
            " ORDER BY coder",
            (codebook,),
        )
        return dict(rows.fetchall())

    def coded_posts(self, codebook: str, coder: str) -> dict[tuple[str, str], str]:
        """The posts a coder has coded with a codebook: (platform, post_id) -> codebook
        version."""
        rows = self.connection.execute(
            "SELECT platform, post_id, codebook_version FROM coded_posts"
            " WHERE codebook = ? AND coder = ?",
            (codebook, coder),
        )
        return {(platform, post_id): version for platform, post_id, version in rows}

    def coder_codes(
        self, codebook: str, coder: str
    ) -> dict[tuple[str, str], dict[str, tuple[int, str | None]]]:
        """A coder's codes by post: (platform, post_id) -> {subcategory: (value, evidence
        JSON)}."""
        rows = self.connection.execute(
            "SELECT platform, post_id, subcategory, value, evidence FROM codes"
            " WHERE codebook = ? AND coder = ?",
            (codebook, coder),
        )
        codes: dict[tuple[str, str], dict[str, tuple[int, str | None]]] = {}
        for platform, post_id, subcategory, value, evidence in rows:
            codes.setdefault((platform, post_id), {})[subcategory] = (value, evidence)
        return codes

    def post_keys(self, sample_id: str | None = None) -> list[tuple[str, str]]:
        """(platform, post_id) of every stored post, or of a sample's stored posts, sorted."""
        if sample_id is None:
            sql, params = "SELECT platform, post_id FROM posts", ()
        else:
            sql = (
                "SELECT p.platform, p.post_id FROM sample_posts s JOIN posts p"
                " ON p.platform = s.platform AND p.post_id = s.post_id WHERE s.sample_id = ?"
            )
            params = (sample_id,)
        return self.connection.execute(sql + " ORDER BY 1, 2", params).fetchall()

    def missing_posts(self, keys: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The keys among these that name no stored post."""
        sql = "SELECT 1 FROM posts WHERE platform = ? AND post_id = ?"
        return [key for key in keys if self.connection.execute(sql, key).fetchone() is None]

    def posts_for_coders(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], PostForCoder]:
        """What a person coding a post reads of it, for the stored posts among the keys."""
        sql = (
            "SELECT p.platform, p.post_id, coalesce(a.screen_name, p.account_id),"
            " p.created_at, coalesce(p.text, ''), p.url, p.media_type, p.pic_count,"
            " p.video_seconds, coalesce(p.is_repost, 0), o.likes, o.comments, o.reposts"
            " FROM posts p LEFT JOIN accounts a"
            " ON a.platform = p.platform AND a.account_id = p.account_id"
            " LEFT JOIN post_observations o ON o.platform = p.platform AND o.post_id = p.post_id"
            " AND o.observed_at = (SELECT max(observed_at) FROM post_observations"
            "  WHERE platform = p.platform AND post_id = p.post_id)"
            " WHERE p.platform = ? AND p.post_id = ?"
        )
        found = {}
        for key in keys:
            row = self.connection.execute(sql, key).fetchone()
            if row is not None:
                found[key] = PostForCoder(*row[:9], bool(row[9]), *row[10:])
        return found

    def answers(self, key: tuple[str, str], codebook: str) -> dict[str, Answer]:
        """Every coder's codes of one post with a codebook, by coder."""
        marks = self.connection.execute(
            "SELECT coder, codebook_version, coded_at FROM coded_posts"
            " WHERE platform = ? AND post_id = ? AND codebook = ?",
            (*key, codebook),
        ).fetchall()
        found = {coder: Answer(coder, version, at, {}) for coder, version, at in marks}
        rows = self.connection.execute(
            "SELECT coder, subcategory, value, evidence FROM codes"
            " WHERE platform = ? AND post_id = ? AND codebook = ?",
            (*key, codebook),
        )
        for coder, subcategory, value, evidence in rows:
            if coder in found:
                found[coder].codes[subcategory] = (value, evidence)
        return found

    def posts_by_account_month(
        self,
        platform: str,
        account_ids: Iterable[str],
        *,
        since: str | None = None,
        until: str | None = None,
        include_reposts: bool = False,
    ) -> dict[tuple[str, str], list[str]]:
        """Post ids of the accounts grouped by (account_id, "YYYY-MM" of created_at, in the
        post's own offset), each list sorted; `since`/`until` are inclusive days."""
        accounts = list(account_ids)
        sql = (
            "SELECT account_id, substr(created_at, 1, 7), post_id FROM posts"
            f" WHERE platform = ? AND account_id IN ({', '.join('?' * len(accounts))})"
        )
        params: list[object] = [platform, *accounts]
        if not include_reposts:
            sql += " AND coalesce(is_repost, 0) = 0"
        if since:
            sql += " AND substr(created_at, 1, 10) >= ?"
            params.append(since)
        if until:
            sql += " AND substr(created_at, 1, 10) <= ?"
            params.append(until)
        groups: dict[tuple[str, str], list[str]] = {}
        for account, month, post_id in self.connection.execute(sql + " ORDER BY post_id", params):
            groups.setdefault((account, month), []).append(post_id)
        return groups

    def save_sample(
        self,
        sample_id: str,
        *,
        purpose: str,
        seed: int,
        params: Mapping[str, Any],
        posts: Iterable[tuple[str, str]],
    ) -> int:
        """Record a sample and its (platform, post_id) members, replacing one of the same id.

        Returns the number of posts in the sample.
        """
        members = [(sample_id, platform, post_id) for platform, post_id in posts]
        with self.transaction():
            self.connection.execute("DELETE FROM sample_posts WHERE sample_id = ?", (sample_id,))
            self.connection.execute(
                "INSERT INTO samples (sample_id, purpose, seed, params, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (sample_id) DO UPDATE SET"
                " purpose = excluded.purpose, seed = excluded.seed, params = excluded.params,"
                " created_at = excluded.created_at",
                (sample_id, purpose, seed, _json(dict(params)), _now()),
            )
            self.connection.executemany(
                "INSERT INTO sample_posts (sample_id, platform, post_id) VALUES (?, ?, ?)", members
            )
        return len(members)

    def sample_posts(self, sample_id: str) -> list[tuple[str, str]]:
        """(platform, post_id) of a sample's posts, sorted."""
        return self.connection.execute(
            "SELECT platform, post_id FROM sample_posts WHERE sample_id = ?"
            " ORDER BY platform, post_id",
            (sample_id,),
        ).fetchall()

    def samples_like(self, prefix: str) -> dict[str, dict[str, Any]]:
        """The recorded samples whose id starts with a prefix: sample_id -> params."""
        rows = self.connection.execute(
            "SELECT sample_id, params FROM samples WHERE substr(sample_id, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return {sample_id: json.loads(params or "{}") for sample_id, params in rows}

    # -- the model frame (analysis/frame.py) ---------------------------------------------------

    def posts_for_model(
        self, *, platform: str | None = None, include_reposts: bool = False
    ) -> Rows:
        """One row per post of a platform (every platform's if None; original posts only unless
        `include_reposts`): platform, post_id, account_id, created_at, text_length
        (characters), media_type, pic_count, is_repost, topic_count."""
        sql = (
            "SELECT p.platform, p.post_id, p.account_id, p.created_at,"
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
        columns = ("platform", "post_id", "account_id", "created_at", "text_length",
                   "media_type", "pic_count", "is_repost", "topic_count")  # fmt: skip
        return Rows(columns, self.connection.execute(sql, params).fetchall())

    def post_engagement(self, at_age_days: float | None = None) -> Rows:
        """One observation of each observed post: the latest, or with `at_age_days` the one
        nearest that age of the post (the earlier on a tie): platform, post_id, observed_at,
        age_days (at that observation), likes, comments, reposts."""
        age = "julianday(o.observed_at) - julianday(p.created_at)"
        when = "julianday(o.observed_at)"
        order = f"{when} DESC" if at_age_days is None else f"abs({age} - ?), {when}"
        sql = (
            "SELECT platform, post_id, observed_at, age_days, likes, comments, reposts FROM ("
            f" SELECT o.platform, o.post_id, o.observed_at, {age} AS age_days, o.likes,"
            " o.comments, o.reposts, row_number() OVER (PARTITION BY o.platform, o.post_id"
            f"  ORDER BY {order}) AS nth"
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

    # -- reading -----------------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        return self.db[_known_table(table)].count

    def info(self, crawls: int = 5) -> StoreInfo:
        """Schema version, row counts of every table, and the latest crawls."""
        present = set(self.db.table_names())
        counts = {t: self.db[t].count if t in present else 0 for t in TABLES}
        recent = self.crawls(crawls) if "crawls" in present else []
        return StoreInfo(self.path, self.schema_version, counts, recent)

    def columns(self, table: str) -> list[str]:
        """Column names of one of the store's tables."""
        return [c.name for c in self.db[_known_table(table)].columns]

    def column_types(self, table: str) -> dict[str, str]:
        """Declared SQLite type (TEXT, INTEGER, REAL, BLOB) of each column of a table."""
        return {c.name: c.type.upper() for c in self.db[_known_table(table)].columns}

    def iter_rows(self, table: str, batch: int = 10_000) -> Iterator[tuple]:
        """Yield the rows of a table as tuples in `columns()` order, without loading it whole."""
        cursor = self.connection.execute(f"SELECT * FROM {_known_table(table)}")
        while chunk := cursor.fetchmany(batch):
            yield from chunk


_CRAWL_COLUMNS = "crawl_id, spider, args, started_at, ended_at, status, reason, counts, version"


def post_to_code(row: tuple) -> PostToCode:
    """A row of `Store.post_rows_to_code` as the post a coder reads."""
    return PostToCode(
        *row[:5],
        bool(row[5]),
        *row[6:9],
        tuple(row[9].split(_UNIT_SEPARATOR)) if row[9] else (),
        row[10],
    )


def _utc(moment: str) -> str:
    return datetime.fromisoformat(str(iso_time(moment))).astimezone(UTC).isoformat()


def _crawl_record(row: tuple) -> CrawlRecord:
    return CrawlRecord(
        crawl_id=row[0],
        spider=row[1],
        args=json.loads(row[2] or "{}"),
        started_at=row[3],
        ended_at=row[4],
        status=row[5],
        reason=row[6],
        counts=json.loads(row[7] or "{}"),
        version=row[8],
    )


def _listed(values: object) -> Iterable[object]:
    """Topics or mentions as a list: one string is one value, not its characters."""
    return (values,) if isinstance(values, str) else values  # type: ignore[return-value]


def _known_table(table: str) -> str:
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")
    return table


def _seen_defaults(table: _Table) -> tuple[tuple[int, object], ...]:
    """First-seen and updated times for entity rows that do not bring their own."""
    now = _now()
    return ((table.position("first_seen_at"), now), (table.position("updated_at"), now))


def _imported_now(table: _Table) -> tuple[tuple[int, object], ...]:
    """The import time for rows that do not bring their own."""
    return ((table.position("imported_at"), _now()),)


def _crawl_override(table: _Table, crawl_id: int | None) -> tuple[tuple[int, object], ...]:
    """Rows written for a crawl name it; rows written outside one keep their own crawl_id."""
    return () if crawl_id is None else ((table.position("crawl_id"), crawl_id),)
