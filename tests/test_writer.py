"""The ItemWriter: one observation per post a run, and a post's own card over embedded copies."""

from __future__ import annotations

import pytest

from crawler.items import PostItem, RejectItem
from crawler.writer import ItemWriter
from smcat.store import Store

SEEN = "2025-12-01T12:00:00+08:00"


def item(**fields: object) -> PostItem:
    base = {"platform": "weibo", "post_id": "1", "created_at": "2025-11-01T10:00:00+08:00",
            "observed_at": SEEN, "text": "本帖全文", "likes": 5}  # fmt: skip
    return PostItem(**{**base, **fields})


def own_card() -> PostItem:
    return item(is_pinned=True, text="完整的置顶原文")


def embedded_copy() -> PostItem:
    return item(is_pinned=None, via_repost=True, text="截断的…全文", likes=4)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "w.db") as opened:
        yield opened


def stored(store: Store) -> tuple:
    post = store.connection.execute("SELECT is_pinned, text FROM posts").fetchall()
    likes = store.connection.execute("SELECT likes FROM post_observations").fetchall()
    return post, likes


@pytest.mark.parametrize("flush_between", [False, True])
def test_own_card_replaces_an_earlier_embedded_copy(store: Store, flush_between: bool) -> None:
    writer = ItemWriter(store, None)
    writer.add(embedded_copy())
    if flush_between:
        writer.flush()
    writer.add(own_card())
    writer.flush()
    posts, observations = stored(store)
    assert posts == [(1, "完整的置顶原文")]
    assert len(observations) == 1  # one observation a run, whichever copy gave it
    assert writer.duplicates == 1


def test_an_embedded_copy_after_the_own_card_changes_nothing(store: Store) -> None:
    writer = ItemWriter(store, None)
    writer.add(own_card())
    writer.add(embedded_copy())
    writer.flush()
    assert stored(store) == ([(1, "完整的置顶原文")], [(5,)])


def test_rejects_are_written_at_once_and_unknown_items_refused(store: Store) -> None:
    writer = ItemWriter(store, None)
    writer.add(RejectItem("weibo_response", "ok=0", {"url": "u"}))
    assert store.count("rejects") == 1 and writer.written.rejected == 1
    with pytest.raises(TypeError):
        writer.add(object())


def test_a_row_the_store_fails_on_costs_that_row_only(store: Store, monkeypatch) -> None:
    real = store.upsert_posts

    def failing_on_post_2(rows, *, crawl_id=None):
        if any(row["post_id"] == "2" for row in rows):
            raise RuntimeError("nothing the store's checks foresaw")
        return real(rows, crawl_id=crawl_id)

    monkeypatch.setattr(store, "upsert_posts", failing_on_post_2)
    writer = ItemWriter(store, None)
    for post_id in ("1", "2", "3"):
        writer.add(item(post_id=post_id))
    writer.flush()
    ids = store.connection.execute("SELECT post_id FROM posts ORDER BY post_id").fetchall()
    assert ids == [("1",), ("3",)]
    ((kind, reason, payload),) = store.connection.execute(
        "SELECT kind, reason, payload FROM rejects"
    ).fetchall()
    assert (kind, reason) == (
        "post_row",
        "not stored: RuntimeError: nothing the store's checks foresaw",
    )
    assert '"post_id": "2"' in payload
    assert (writer.written.stored, writer.written.rejected) == (2, 1)
    writer.add(item(post_id="4"))  # the buffer was emptied: the next flush writes only post 4
    writer.flush()
    assert writer.written.stored == 3 and writer.written.rejected == 1
