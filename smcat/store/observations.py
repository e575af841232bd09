"""The latest observation of a thing, for reads that take one.

Observation tables (post_observations, account_snapshots, live_observations) are keyed by the
thing and its observed_at, a time kept in the offset it was seen in. Across offsets text order
is not time order ("...T10:00:00+08:00" is three hours before "...T05:00:00+00:00"), so the
latest is the latest by julianday(); of two spellings of one instant, the first in text
order, so that a read gives the same row every time.
"""

from __future__ import annotations

_LATEST = "julianday(observed_at) DESC, observed_at"


def observation_join(
    table: str, alias: str, outer: str, key: tuple[str, ...], *, left: bool = True
) -> str:
    """SQL that joins the latest observation in `table` (as `alias`) to each row of `outer`
    (an alias of the query) with the same `key` columns. A LEFT JOIN keeps the rows never
    observed, with NULLs; `left=False` drops them.

    The observation is found per row through the table's primary key (key, observed_at),
    which reads only that thing's observations: twice as fast over 200,000 posts as numbering
    every observation with row_number() and keeping the first."""
    on = " AND ".join(f"{alias}.{column} = {outer}.{column}" for column in key)
    same = " AND ".join(f"{column} = {outer}.{column}" for column in key)
    return (
        f" {'LEFT JOIN' if left else 'JOIN'} {table} {alias} ON {on}"
        f" AND {alias}.observed_at = (SELECT observed_at FROM {table} WHERE {same}"
        f" ORDER BY {_LATEST} LIMIT 1)"
    )
