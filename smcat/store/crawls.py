"""Crawls: their records, how far each part got (checkpoints and the accounts' crawled-up-to
marks), and the raw responses kept to rebuild rows from."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from smcat import __version__
from smcat.store.engine import Engine, _json, _now
from smcat.units import iso_time

FINISHED = "finished"
FINISHED_WITH_REJECTS = "finished_with_rejects"
"""A crawl that ran to its end but rejected rows: what it rejected is missing, so it moves no
crawled-up-to mark, and --resume continues it (asking again the pages it could not read)."""
PAGES_ALL_REJECTED = "pages_all_rejected"
"""The count of pages that stored nothing the parser could read: every row on them rejected."""
RejectKey = tuple[str, str, str | None]


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

    @property
    def ran_to_end(self) -> bool:
        """Whether the crawl went through everything it was to fetch (rows rejected or not)."""
        return self.status in (FINISHED, FINISHED_WITH_REJECTS)

    @property
    def pages_all_rejected(self) -> int:
        """How many pages stored nothing it could read (see PAGES_ALL_REJECTED)."""
        return self.counts.get(PAGES_ALL_REJECTED, 0)


class Crawls(Engine):
    """Crawl records, checkpoints, crawled-up-to marks and raw responses."""

    def start_crawl(self, spider: str, args: Mapping[str, Any]) -> int:
        """Record a crawl as running and return its crawl_id."""
        cursor = self.connection.execute(
            "INSERT INTO crawls (spider, args, started_at, status, version)"
            " VALUES (?, ?, ?, 'running', ?)",
            (spider, _json(dict(args)), _now(), __version__),
        )
        return cast(int, cursor.lastrowid)  # typed optional; an INSERT always sets it

    def finish_crawl(
        self, crawl_id: int, status: str, reason: str | None, counts: Mapping[str, int]
    ) -> None:
        """Record how a crawl ended: status (finished, finished_with_rejects, stopped,
        interrupted, failed) and why."""
        self.connection.execute(
            "UPDATE crawls SET ended_at = ?, status = ?, reason = ?, counts = ? WHERE crawl_id = ?",
            (_now(), status, reason, _json(dict(counts)), crawl_id),
        )

    def save_counts(self, crawl_id: int, counts: Mapping[str, int]) -> None:
        """Record a running crawl's counts so far (a crawl killed outright keeps them)."""
        self.connection.execute(
            "UPDATE crawls SET counts = ? WHERE crawl_id = ?", (_json(dict(counts)), crawl_id)
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
        """The latest crawl of this spider with these arguments that did not finish cleanly, if
        the latest such crawl did not (a crawl that was killed is still 'running'; one that
        finished with rejects may have pages to ask again)."""
        wanted = json.loads(_json(dict(args)) or "{}")
        for record in self.crawls(limit=200):
            if record.spider == spider and record.args == wanted:
                return None if record.status == FINISHED else record
        return None

    def crawl_with(self, spider: str, args: Mapping[str, Any]) -> CrawlRecord | None:
        """The latest crawl of this spider with exactly these arguments, however it ended (an
        import of the same file is recorded once)."""
        row = self.connection.execute(
            f"SELECT {_CRAWL_COLUMNS} FROM crawls WHERE spider = ? AND args = ?"
            " ORDER BY crawl_id DESC LIMIT 1",
            (spider, _json(dict(args))),
        ).fetchone()
        return _crawl_record(row) if row else None

    def stored_rejects(self, crawl_id: int | None, rerun: str) -> set[RejectKey]:
        """The rejects stored for a crawl, and by the runs of spider `rerun` over it (or over
        every crawl), as `reject_key` gives them: so that reading a crawl's payloads again does
        not store its rejects again."""
        rows = self.connection.execute(
            "SELECT r.kind, r.reason, r.payload FROM rejects AS r"
            " LEFT JOIN crawls AS c ON c.crawl_id = r.crawl_id"
            " WHERE r.crawl_id IS ?1 OR (c.spider = ?2"
            " AND coalesce(json_extract(c.args, '$.crawl_id'), ?1) IS ?1)",
            (crawl_id, rerun),
        )
        return {(kind, reason, payload) for kind, reason, payload in rows}

    @staticmethod
    def reject_key(kind: str, reason: str, payload: object) -> RejectKey:
        """A reject as `stored_rejects` gives it: kind, reason and the payload's stored text."""
        return kind, reason, _json(payload)

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
        return cast(int, cursor.lastrowid)  # typed optional; an INSERT always sets it

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


_CRAWL_COLUMNS = "crawl_id, spider, args, started_at, ended_at, status, reason, counts, version"


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
