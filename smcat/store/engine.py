"""The row engine: how rows are checked and written, fast.

Each table's columns have a converter (text, count, whole number, flag, time, real, JSON) and
a natural key (`_table`); a batch of rows is converted in one pass, written many rows per
statement with the values every row shares bound once, and stored whole or not at all, with
only the rows SQLite refuses sent to `rejects`. This is the part bench/bench_ingest.py tunes:
its comments say what each measure bought. Names with a leading underscore belong to the
smcat.store package: its area modules use them, code outside it does not.
"""

from __future__ import annotations

import functools
import gc
import gzip
import itertools
import json
import operator
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from smcat.store.schema import schema_version
from smcat.units import iso_time, parse_count

if TYPE_CHECKING:
    import sqlite_utils

_ROWS_PER_STATEMENT = 100
_PLANS_MAX = 1024  # kinds of row remembered per table


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
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"not a whole number: {value!r}") from None


Converter = Callable[[object], object]


_NONE = type(None)
# Per column kind: the converter, and the types that are stored as they are on the hot path
# (a row whose values all have such types skips the converters; times are always checked).
_Kind = tuple[Converter, frozenset[type]]
_TEXT: _Kind = (_text, frozenset({str, _NONE}))
_COUNT: _Kind = (parse_count, frozenset({int, _NONE}))
_INT: _Kind = (_int, frozenset({int, _NONE}))
_FLAG: _Kind = (_flag, frozenset({bool, _NONE}))
# A converter's cheaper equal for values of one type.
_SHORTCUTS: dict[tuple[Converter, type], Callable[..., object]] = {(_flag, bool): int}
_TIME: _Kind = (iso_time, frozenset({str, _NONE}))
_REAL: _Kind = (_real, frozenset({float, int, _NONE}))
_JSON: _Kind = (_json, frozenset({str, _NONE}))


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


def _filled(rows: Sequence[Sequence[object]], positions: tuple[int, ...]) -> tuple[int, ...]:
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


def _same_in_all(rows: Sequence[Sequence[object]], position: int) -> bool:
    """Whether every row holds the first row's value at this position."""
    first = rows[0][position]
    return all(map(operator.eq, itertools.repeat(first), map(operator.itemgetter(position), rows)))


def _picker(positions: tuple[int, ...]) -> Callable[[Sequence[object]], tuple]:
    """A function that picks these positions out of a list, always as a tuple."""
    if not positions:
        return lambda values: ()
    getter = operator.itemgetter(*positions)
    return getter if len(positions) > 1 else lambda values: (getter(values),)


def _table(
    name: str,
    key: tuple[str, ...],
    columns: dict[str, _Kind],
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


@dataclass(frozen=True)
class Rows:
    """Rows of a read for analysis: the column names and the tuples, ready for a DataFrame."""

    columns: tuple[str, ...]
    rows: list[tuple]


class _Batch(NamedTuple):
    """Converted rows for one table; `columns` says where its columns stand in the rows, if
    the rows are wider than the table or in another order."""

    table: _Table
    rows: Sequence[Sequence[object]]
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

    def refused(self, reason: str, row: Mapping[str, Any]) -> None:
        """Count a row sent to `rejects`, with its reason."""
        self.rejected += 1
        self.reasons.append(reason)
        self.rejected_rows.append(row)


class Engine:
    """The connection, its transactions, and the batch writes every area's upserts run on."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self._variable_limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """The connection as a sqlite-utils `Database`, made on first use: sqlite-utils
        imports pandas, which `import smcat.store` and most reads and writes do without."""
        import sqlite_utils

        return sqlite_utils.Database(self.connection)

    @property
    def schema_version(self) -> int:
        """The database's `PRAGMA user_version`."""
        return schema_version(self.connection)

    def _column_or_null(self, table: str, column: str, alias: str) -> str:
        """`alias.column` for a SELECT, or NULL where the table lacks the column: a database
        opened read-only is not migrated, and reads it as the older schema did."""
        found = self.connection.execute(
            "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", (table, column)
        ).fetchone()
        return f"{alias}.{column}" if found else "NULL"

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
            if self.connection.in_transaction:  # SQLite may have rolled back (a full disk)
                self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def reject(
        self,
        kind: str,
        reason: str,
        payload: object,
        *,
        crawl_id: int | None = None,
        status: int | None = None,
    ) -> None:
        """Keep what could not be stored, why, its payload, and the HTTP status of the response
        it came from, if any: nothing is dropped silently. A long payload is kept gzipped;
        `rejects()` and exports give it back as text."""
        sql = (
            "INSERT INTO rejects (crawl_id, kind, reason, payload, status, rejected_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )
        try:
            kept = _stored_payload(_json(payload))
            self.connection.execute(sql, (crawl_id, kind, reason, kept, status, _now()))
        except UnicodeEncodeError:  # a lone surrogate: kept as a \u escape, losing nothing
            kept = _stored_payload(json.dumps(payload, ensure_ascii=True, default=str))
            reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
            self.connection.execute(sql, (crawl_id, kind, reason, kept, status, _now()))

    def rejects(self, crawl_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield the rejects (of one crawl, or all; oldest first), payloads as text."""
        sql = "SELECT id, crawl_id, kind, reason, payload, status, rejected_at FROM rejects"
        params: tuple = ()
        if crawl_id is not None:
            sql, params = sql + " WHERE crawl_id = ?", (crawl_id,)
        names = ("id", "crawl_id", "kind", "reason", "payload", "status", "rejected_at")
        for row in self.connection.execute(sql + " ORDER BY id", params):
            yield {**dict(zip(names, row, strict=True)), "payload": payload_text(row[4])}

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
        """Insert converted rows in one transaction. If SQLite refuses one (a CHECK failed, an
        integer too large for it or a text with a lone surrogate got past the converters' fast
        path), write the rows one by one so that only the refused rows are rejected, and the
        texts with lone surrogates are stored mended."""
        try:
            with self._batch_guard():
                for batch in batches:
                    self._insert(batch.table, batch.rows, batch.columns)
        except (sqlite3.IntegrityError, OverflowError, UnicodeEncodeError) as error:
            if len(sources) == 1:
                mended = _lone_surrogates_replaced(sources[0])
                if isinstance(error, UnicodeEncodeError) and mended != sources[0]:
                    # a text cut mid-character (half an emoji) is stored with U+FFFD for the
                    # half; the raw response keeps what was sent
                    result.add(write_one(mended))
                    return
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
            if self.connection.in_transaction:  # SQLite may have rolled back (a full disk)
                self.connection.execute("ROLLBACK TO smcat_write")
                self.connection.execute("RELEASE smcat_write")
            raise
        self.connection.execute("RELEASE smcat_write")

    def _insert(
        self,
        table: _Table,
        rows: Sequence[Sequence[object]],
        columns: tuple[int, ...] | None = None,
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
        rows: Sequence[Sequence[object]],
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
        result.refused(reason, row)


_PAYLOAD_INLINE = 64 * 1024
"""Characters of a reject's payload kept as plain text: a longer one is gzipped (a 1 MiB HTML
body to about a tenth)."""


def _stored_payload(text: str | None) -> str | bytes | None:
    """A reject's payload as stored: the text, or gzipped UTF-8 if it is long.
    UnicodeEncodeError if it holds a lone surrogate (the caller escapes it)."""
    if text is None or len(text) <= _PAYLOAD_INLINE:
        return text
    return gzip.compress(text.encode("utf-8"), compresslevel=6)


def payload_text(stored: object) -> object:
    """A reject's payload as read back: gzipped ones unzipped to their text."""
    return gzip.decompress(stored).decode("utf-8") if isinstance(stored, bytes) else stored


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates_replaced(value: Any) -> Any:
    """The value with each lone surrogate in its texts (also in lists and mappings) replaced
    by U+FFFD; the value itself where it has none."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {key: _lone_surrogates_replaced(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_lone_surrogates_replaced(item) for item in value)
    return value


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
