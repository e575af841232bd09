"""Items to store rows: what the store pipeline and `smcat crawl reparse` share. No Scrapy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from crawler.items import (
    AccountItem,
    Checkpoint,
    CommentItem,
    HotSearchItem,
    Item,
    LiveRoomItem,
    PostItem,
    RejectItem,
)
from crawler.pseudonyms import Pseudonymizer
from smcat.store import Store, StoreFull, WriteResult

BATCH = 500
Write = Callable[..., WriteResult]  # a store write: rows and the crawl id in, its result out
_OBSERVATION_FIELDS = ("observed_at", "likes", "comments", "reposts", "shares", "collects", "plays")
_PSEUDONYMOUS_REJECT_FIELDS = ("url", "status", "id")  # where it came from, not who wrote it
_IDENTIFYING_EXTRA = ("image",)  # what a pseudonymised comment's extra leaves out


class ItemWriter:
    """Buffers items and writes them to the store in batches, each post or comment once a run."""

    def __init__(
        self,
        store: Store,
        crawl_id: int | None,
        pseudonymizer: Pseudonymizer | None = None,
        batch: int = BATCH,
    ) -> None:
        self.store = store
        self.crawl_id = crawl_id
        self.pseudonymizer = pseudonymizer
        self.batch = batch
        self.written = WriteResult()
        self.duplicates = 0
        self._posts: list[dict[str, Any]] = []
        self._accounts: list[dict[str, Any]] = []
        self._comments: list[dict[str, Any]] = []
        self._hot_search: list[dict[str, Any]] = []
        self._live_rooms: list[dict[str, Any]] = []
        self._seen: dict[tuple[str, ...], bool] = {}  # key -> seen only via a repost so far
        self._buffered_posts: dict[tuple[str, ...], int] = {}  # key -> index in self._posts
        self._subject_names: dict[str, frozenset[str]] = {}  # platform -> account names

    def add(self, item: Item) -> Item:
        """Take one item; write the buffers when they are full. Returns the item as it is
        stored (pseudonymised, redacted), which is all that may be shown of it, in logs too."""
        item = self._as_stored(item)
        if isinstance(item, PostItem):
            self._add_post(item)
        elif isinstance(item, CommentItem):
            key = ("comment", item.platform, item.comment_id)
            if key in self._seen:  # met twice in one run (paging shifted): observed once
                self.duplicates += 1
                return item
            self._seen[key] = False
            self._comments.append(_row(item))
        elif isinstance(item, HotSearchItem):
            self._hot_search.append(_row(item))
        elif isinstance(item, LiveRoomItem):
            # a room is seen once a minute or so: stored at once, so that a session cut short
            # keeps every observation made
            self._live_rooms.append(_row(item))
            self.flush()
        elif isinstance(item, AccountItem):
            self._accounts.append(_row(item))
        elif isinstance(item, RejectItem):
            self.store.reject(
                item.kind, item.reason, item.payload, crawl_id=self.crawl_id, status=item.status
            )
            self.written.rejected += 1
        elif isinstance(item, Checkpoint):
            # the rows the checkpoint vouches for must be stored before it is
            self.flush()
            if self.crawl_id is not None:
                self.store.save_checkpoint(self.crawl_id, item.part, item.value)
        else:
            raise TypeError(f"the store does not take {type(item).__name__} items")
        if len(self._posts) + len(self._accounts) + len(self._comments) >= self.batch:
            self.flush()
        return item

    def observed_already(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Take these posts ("post", platform, id) and comments ("comment", platform, id) as
        observed in this run already: for a writer that takes over a crawl midway (the
        cluster's ingester after a restart), so each is still observed once a crawl."""
        for key in keys:
            self._seen.setdefault(key, False)

    def _as_stored(self, item: Item) -> Item:
        if self.pseudonymizer is None:
            return item
        if isinstance(item, CommentItem):
            author = self.pseudonymizer.pseudonym(item.author_id)
            # other people's @names too; the study's own accounts (stored) keep theirs
            text = self.pseudonymizer.in_text(item.text, self._subjects(item.platform))
            # a picture's URL names its uploader (a sinaimg id starts with the uid in base 62)
            extra = {k: v for k, v in item.extra.items() if k not in _IDENTIFYING_EXTRA}
            return replace(item, author_id=author, author_name=None, text=text, extra=extra)
        if isinstance(item, RejectItem):
            return replace(item, payload=_redacted(item.payload))
        return item

    def _subjects(self, platform: str) -> frozenset[str]:
        """The names of the platform's accounts in the store: the study's subjects."""
        if platform not in self._subject_names:
            handles = self.store.account_handles(platform)
            self._subject_names[platform] = frozenset(name for _, name, _ in handles if name)
        return self._subject_names[platform]

    def _add_post(self, item: PostItem) -> None:
        row = _row(item)
        del row["via_repost"]
        self.add_post_row(row, item.via_repost)

    def add_post_row(self, row: dict[str, Any], via_repost: bool = False) -> None:
        """Take a post as a store row (a PostItem's fields but `via_repost`), as `add` takes
        its item: a bulk import builds no item per row (bench/bench_import_posts.py). A post is
        observed once a run; its own card beats a copy embedded in a repost. The row is the
        writer's own from here on."""
        key = ("post", row["platform"], row["post_id"])
        if key not in self._seen:
            self._seen[key] = via_repost
            self._buffered_posts[key] = len(self._posts)
            self._posts.append(row)
        else:
            self._add_again(key, row, via_repost)
        if len(self._posts) + len(self._accounts) + len(self._comments) >= self.batch:
            self.flush()

    def _add_again(self, key: tuple[str, ...], row: dict[str, Any], via_repost: bool) -> None:
        self.duplicates += 1
        if not self._seen[key] or via_repost:
            return
        self._seen[key] = False
        if key in self._buffered_posts:
            self._posts[self._buffered_posts[key]] = row
        else:  # the embedded copy is written already, with its observation: add the fields
            self._posts.append({k: v for k, v in row.items() if k not in _OBSERVATION_FIELDS})

    def flush(self) -> None:
        """Write what is buffered. A batch that fails in a way the store's checks did not
        foresee is written again row by row, so that only the rows that fail are lost, to
        `rejects` with the error; the buffers are emptied whatever happens."""
        writes = (
            ("account", self._accounts, self.store.upsert_accounts),
            ("post", self._posts, self.store.upsert_posts),
            ("comment", self._comments, self.store.upsert_comments),
            ("hot_search", self._hot_search, self.store.add_hot_search),
            ("live_room", self._live_rooms, self.store.upsert_live_rooms),
        )
        try:
            for kind, rows, write in writes:
                if rows:
                    self.written.add(self._write(kind, rows, write))
        finally:
            for _, rows, _ in writes:
                rows.clear()
            self._buffered_posts.clear()

    def _write(self, kind: str, rows: list[dict[str, Any]], write: Write) -> WriteResult:
        try:
            return write(rows, crawl_id=self.crawl_id)
        except StoreFull:  # no row can be stored: the crawl stops
            raise
        except Exception:  # the batch was rolled back: which row failed is found below
            pass
        result = WriteResult()
        for row in rows:
            try:
                result.add(write([row], crawl_id=self.crawl_id))
            except Exception as error:  # one bad row costs one row, whatever its error
                reason = f"not stored: {type(error).__name__}: {error}"
                self.store.reject(f"{kind}_row", reason, row, crawl_id=self.crawl_id)
                result.refused(reason, row)
        return result


def _redacted(payload: Any) -> dict[str, Any]:
    """What a pseudonymised crawl keeps of a reject's payload: bodies and comment objects hold
    real account ids and names, so only where the payload came from is kept."""
    kept = payload if isinstance(payload, Mapping) else {}
    return {
        **{key: kept[key] for key in _PSEUDONYMOUS_REJECT_FIELDS if key in kept},
        "redacted": "pseudonymised crawl: the payload held real account ids",
    }


def _row(item: object) -> dict[str, Any]:
    """An item's fields as a row. Shallow: the store reads the values and keeps none, and
    dataclasses.asdict's deep copy was a tenth of a crawl's time (bench/bench_crawl.py)."""
    return dict(vars(item))
