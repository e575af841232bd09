"""Coding: codebook versions, coders' codes and the posts each has coded, what a coder reads
of a post, and the samples of posts drawn for coding."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smcat.store.engine import (
    _INT,
    _JSON,
    _TEXT,
    _TIME,
    Engine,
    WriteResult,
    _Batch,
    _json,
    _now,
    _Table,
    _table,
)
from smcat.store.observations import observation_join
from smcat.store.schema import StoreError
from smcat.units import iso_time

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
    created_at_precision: str | None = None
    """How precisely created_at is known (smcat.units.TIME_PRECISIONS); None: not recorded."""


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
    pictures: tuple[str, ...] = ()
    """The addresses of the post's pictures the crawl kept (posts.extra's "pictures")."""


@dataclass(frozen=True)
class Answer:
    """One coder's codes of one post: the version, when, and 0/1 with evidence per subcategory
    (the machine keeps only its 1s)."""

    coder: str
    version: str
    coded_at: str
    codes: dict[str, tuple[int, str | None]]


@dataclass(frozen=True)
class StoredModel:
    """A trained coder as stored: its name and number, the coder and posts it learnt from,
    the scikit-learn version that pickled it, its learning curve, and the pickled model."""

    coder: str
    codebook: str
    codebook_version: str
    number: int
    trained_from: str
    trained_at: str
    sklearn_version: str
    posts: tuple[tuple[str, str], ...]
    learning_curve: list[dict[str, Any]]
    blob: bytes


_VALIDITY_COLUMNS = (
    "subcategory", "n", "support", "threshold", "precision", "recall", "f1", "alpha",
    "rules_precision", "rules_recall", "rules_f1", "rules_alpha", "fit",
)  # fmt: skip


class Coding(Engine):
    """Codebooks, codes, coded posts, the posts coders read, and samples."""

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
            self._post_row_select() + " WHERE (p.platform, p.post_id) > (?, ?) AND NOT EXISTS"
            " (SELECT 1 FROM coded_posts c WHERE c.platform = p.platform"
            "  AND c.post_id = p.post_id AND c.codebook = ? AND c.coder = ?)"
            " ORDER BY p.platform, p.post_id LIMIT ?"
        )
        after = ("", "")
        while rows := self.connection.execute(sql, (*after, codebook, coder, batch)).fetchall():
            yield rows
            after = (rows[-1][0], rows[-1][1])

    def post_rows(self, keys: Iterable[tuple[str, str]]) -> list[tuple]:
        """The rows `post_rows_to_code` gives, of the stored posts among these keys, in the
        keys' order."""
        sql = self._post_row_select() + " WHERE p.platform = ? AND p.post_id = ?"
        execute = self.connection.execute
        return [row for key in keys if (row := execute(sql, key).fetchone()) is not None]

    def _post_row_select(self) -> str:
        return (
            "SELECT p.platform, p.post_id, p.account_id, p.created_at, coalesce(p.text, ''),"
            " coalesce(p.is_repost, 0), p.media_type, p.pic_count, p.video_seconds,"
            f" (SELECT group_concat(t.value, '{_UNIT_SEPARATOR}') FROM post_topics t"
            "   WHERE t.platform = p.platform AND t.post_id = p.post_id),"
            " (SELECT count(*) FROM post_mentions m"
            "   WHERE m.platform = p.platform AND m.post_id = p.post_id),"
            f" {self._column_or_null('posts', 'created_at_precision', 'p')}"
            " FROM posts p"
        )

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

    def save_notes(
        self, codebook: str, coder: str, notes: Mapping[tuple[str, str], str], noted_at: str
    ) -> None:
        """A coder's notes on posts (a sheet's), replacing earlier ones and keeping each post's
        flag; an empty note on an unflagged post removes what was kept."""
        rows = [(*key, codebook, coder, note, noted_at) for key, note in notes.items()]
        with self.transaction():
            self.connection.executemany(
                "INSERT INTO coder_notes (platform, post_id, codebook, coder, note, noted_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, post_id, codebook, coder)"
                " DO UPDATE SET note = excluded.note, noted_at = excluded.noted_at",
                rows,
            )
            self._drop_empty_notes()

    def coder_notes(self, codebook: str, coder: str) -> dict[tuple[str, str], str]:
        """A coder's notes on posts: (platform, post_id) -> note."""
        rows = self.connection.execute(
            "SELECT platform, post_id, note FROM coder_notes"
            " WHERE codebook = ? AND coder = ? AND note != ''",
            (codebook, coder),
        )
        return {(platform, post_id): note for platform, post_id, note in rows}

    def post_keys(self, sample_id: str | None = None) -> list[tuple[str, str]]:
        """(platform, post_id) of every stored post, or of a sample's stored posts, sorted; a
        StoreError if no sample of that id is recorded."""
        params: tuple[str, ...] = ()
        if sample_id is None:
            sql = "SELECT platform, post_id FROM posts"
        else:
            known = "SELECT 1 FROM samples WHERE sample_id = ?"
            if self.connection.execute(known, (sample_id,)).fetchone() is None:
                raise StoreError(f"no such sample {sample_id!r}: name a recorded sample "
                                 "(`smcat db export samples` lists them)")  # fmt: skip
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
            " p.video_seconds, coalesce(p.is_repost, 0), o.likes, o.comments, o.reposts,"
            " CASE WHEN json_valid(p.extra) THEN json_extract(p.extra, '$.pictures') END"
            " FROM posts p LEFT JOIN accounts a"
            " ON a.platform = p.platform AND a.account_id = p.account_id"
            + observation_join("post_observations", "o", "p", ("platform", "post_id"))
            + " WHERE p.platform = ? AND p.post_id = ?"
        )
        found = {}
        for key in keys:
            row = self.connection.execute(sql, key).fetchone()
            if row is not None:
                values = list(row)
                values[9] = bool(values[9])  # is_repost, kept as 0/1
                values[13] = _pictures(values[13])
                found[key] = PostForCoder(*values)
        return found

    def save_note(
        self, key: tuple[str, str], codebook: str, coder: str, memo: str, flagged: bool
    ) -> None:
        """Keep a coder's memo on a post and whether it is flagged for discussion (replacing
        what was kept; an empty memo and no flag remove the note)."""
        with self.transaction():
            self.connection.execute(
                "INSERT OR REPLACE INTO coder_notes"
                " (platform, post_id, codebook, coder, note, flagged, noted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, codebook, coder, memo, int(flagged), _now()),
            )
            self._drop_empty_notes()

    def _drop_empty_notes(self) -> None:
        self.connection.execute("DELETE FROM coder_notes WHERE note = '' AND flagged = 0")

    def notes(self, codebook: str, coder: str) -> dict[tuple[str, str], tuple[str, bool]]:
        """A coder's notes on posts: (platform, post_id) -> (memo, flagged)."""
        rows = self.connection.execute(
            "SELECT platform, post_id, note, flagged FROM coder_notes"
            " WHERE codebook = ? AND coder = ?",
            (codebook, coder),
        )
        return {(platform, post_id): (memo, bool(flag)) for platform, post_id, memo, flag in rows}

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
        account_ids: Iterable[str] | None,
        *,
        since: str | None = None,
        until: str | None = None,
        include_reposts: bool = False,
    ) -> dict[tuple[str, str], list[str]]:
        """Post ids of the accounts (None: every account of the platform) grouped by
        (account_id, "YYYY-MM" of created_at, in the post's own offset), each list sorted;
        `since`/`until` are inclusive days."""
        return self._posts_by_account_period(
            platform, account_ids, 7, since=since, until=until, include_reposts=include_reposts
        )

    def posts_by_account_day(
        self,
        platform: str,
        account_ids: Iterable[str] | None,
        *,
        since: str | None = None,
        until: str | None = None,
        include_reposts: bool = False,
    ) -> dict[tuple[str, str], list[str]]:
        """As `posts_by_account_month`, grouped by the day ("YYYY-MM-DD") instead."""
        return self._posts_by_account_period(
            platform, account_ids, 10, since=since, until=until, include_reposts=include_reposts
        )

    def _posts_by_account_period(
        self,
        platform: str,
        account_ids: Iterable[str] | None,
        width: int,
        *,
        since: str | None,
        until: str | None,
        include_reposts: bool,
    ) -> dict[tuple[str, str], list[str]]:
        """Post ids grouped by account and the first `width` characters of created_at."""
        sql = f"SELECT account_id, substr(created_at, 1, {int(width)}), post_id FROM posts"
        sql += " WHERE platform = ?"
        params: list[object] = [platform]
        if account_ids is not None:
            accounts = list(account_ids)
            sql += f" AND account_id IN ({', '.join('?' * len(accounts))})"
            params += accounts
        if not include_reposts:
            sql += " AND coalesce(is_repost, 0) = 0"
        if since:
            sql += " AND substr(created_at, 1, 10) >= ?"
            params.append(since)
        if until:
            sql += " AND substr(created_at, 1, 10) <= ?"
            params.append(until)
        groups: dict[tuple[str, str], list[str]] = {}
        for account, period, post_id in self.connection.execute(sql + " ORDER BY post_id", params):
            groups.setdefault((account, period), []).append(post_id)
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

    def _has_models(self) -> bool:
        # a database opened read-only is not migrated: it may predate trained models
        row = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'model_validity'"
        ).fetchone()
        return row is not None

    def model_number(self, codebook: str) -> int:
        """The number the next trained model of a codebook gets: one more than the last."""
        row = self.connection.execute(
            "SELECT max(number) FROM models WHERE codebook = ?", (codebook,)
        ).fetchone()
        return int(row[0] or 0) + 1

    def save_model(self, model: StoredModel, validity: Iterable[Mapping[str, Any]]) -> None:
        """Keep a trained model and its validity rows (subcategory, n, support, threshold,
        precision, recall, f1, alpha, and the rules_ figures, fit), in one transaction."""
        columns = _VALIDITY_COLUMNS
        with self.transaction():
            self.connection.execute(
                "INSERT INTO models (coder, codebook, codebook_version, number, trained_from,"
                " trained_at, sklearn_version, posts, learning_curve, model)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (model.coder, model.codebook, model.codebook_version, model.number,
                 model.trained_from, model.trained_at, model.sklearn_version,
                 _json([list(key) for key in model.posts]), _json(model.learning_curve),
                 model.blob),
            )  # fmt: skip
            self.connection.executemany(
                f"INSERT INTO model_validity (coder, {', '.join(columns)})"
                f" VALUES (?, {', '.join('?' * len(columns))})",
                [(model.coder, *(row[c] for c in columns)) for row in validity],
            )

    def model_coders(self, codebook: str) -> list[str]:
        """The trained models of a codebook, by coder name, oldest first."""
        if not self._has_models():
            return []
        rows = self.connection.execute(
            "SELECT coder FROM models WHERE codebook = ? ORDER BY number", (codebook,)
        )
        return [coder for (coder,) in rows]

    def stored_model(self, coder: str) -> StoredModel | None:
        """A trained model by its coder name, or None."""
        row = self.connection.execute(
            "SELECT coder, codebook, codebook_version, number, trained_from, trained_at,"
            " sklearn_version, posts, learning_curve, model FROM models WHERE coder = ?",
            (coder,),
        ).fetchone()
        if row is None:
            return None
        posts = tuple((platform, post_id) for platform, post_id in json.loads(row[7]))
        coder, codebook, version, number, trained_from, trained_at, sklearn_version = row[:7]
        return StoredModel(coder, codebook, version, number, trained_from, trained_at,
                           sklearn_version, posts, json.loads(row[8] or "[]"), row[9])  # fmt: skip

    def model_validity(self, coder: str) -> list[dict[str, Any]]:
        """A trained model's validity rows, as `save_model` took them, in stored order."""
        cursor = self.connection.execute(
            f"SELECT {', '.join(_VALIDITY_COLUMNS)} FROM model_validity WHERE coder = ?",
            (coder,),
        )
        return [dict(zip(_VALIDITY_COLUMNS, row, strict=True)) for row in cursor]

    def unfit_subcategories(self, coder: str) -> dict[str, float | None]:
        """The subcategories a trained model codes that its validation marked not fit for use,
        with their cross-validated alpha; none for a coder that is no trained model."""
        if not self._has_models():
            return {}
        rows = self.connection.execute(
            "SELECT subcategory, alpha FROM model_validity WHERE coder = ? AND fit = 0",
            (coder,),
        )
        return dict(rows.fetchall())


def post_to_code(row: tuple) -> PostToCode:
    """A row of `Store.post_rows_to_code` as the post a coder reads."""
    (platform, post_id, account, created, text, repost, media, pics, video, topics, mentions,
     precision) = row  # fmt: skip
    return PostToCode(
        platform,
        post_id,
        account,
        created,
        text,
        bool(repost),
        media,
        pics,
        video,
        tuple(topics.split(_UNIT_SEPARATOR)) if topics else (),
        mentions,
        precision,
    )


def _pictures(listed: str | None) -> tuple[str, ...]:
    """The web addresses in a JSON list of picture addresses, as https (the platforms' image
    servers answer both, and the review screen loads only https); anything else is left out."""
    try:
        urls = json.loads(listed) if listed else []
    except ValueError:
        return ()
    if not isinstance(urls, list):
        return ()
    secure = (u.replace("http://", "https://", 1) for u in urls if isinstance(u, str))
    return tuple(u for u in secure if u.startswith("https://"))
