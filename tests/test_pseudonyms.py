"""Pseudonyms of commenters and of the people their comments @mention."""

from __future__ import annotations

import re

import pytest

from crawler.items import CommentItem
from crawler.pseudonyms import Pseudonymizer
from crawler.writer import ItemWriter
from smcat.errors import SmcatError
from smcat.store import Store

SALT = "a-project-salt-of-some-length"
SEEN = "2025-12-01T12:00:00+08:00"


def test_mentions_in_a_text_become_pseudonyms_of_their_names() -> None:
    keys = Pseudonymizer(SALT)
    text = keys.in_text("回复@夏天的风:同意 @不吃香菜 @夏天的风 冲")
    names = re.findall(r"@(p:[0-9a-f]{20})", text or "")
    assert len(names) == 3 and names[0] == names[2] != names[1]  # one name, one pseudonym
    assert "夏天的风" not in text and "不吃香菜" not in text and text.startswith("回复@p:")
    # a name is keyed apart from an account id that happens to be spelled the same
    assert keys.in_text("@5001000001") != f"@{keys.pseudonym('5001000001')}"


def test_the_studys_own_accounts_keep_their_names() -> None:
    keys = Pseudonymizer(SALT)
    assert keys.in_text("回复@澜蔻护肤:好的 @夏天的风", keep={"澜蔻护肤"}).startswith(
        "回复@澜蔻护肤:好的 @p:"
    )
    assert keys.in_text(None) is None and keys.in_text("") == ""


def test_another_salt_gives_other_pseudonyms_and_a_short_one_is_refused() -> None:
    assert Pseudonymizer(SALT).in_text("@某人") != Pseudonymizer(SALT + "2").in_text("@某人")
    with pytest.raises(SmcatError, match="at least 16 characters"):
        Pseudonymizer("short")


def test_a_pseudonymised_comment_keeps_the_names_of_the_stored_accounts(tmp_path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        store.upsert_accounts([{"platform": "weibo", "account_id": "5001000001",
                                "screen_name": "澜蔻护肤", "observed_at": SEEN}])  # fmt: skip
        writer = ItemWriter(store, None, Pseudonymizer(SALT))
        writer.add(CommentItem("weibo", "c1", "p1", SEEN, author_id="6001", author_name="路人甲",
                               text="回复@澜蔻护肤:好 @路人乙"))  # fmt: skip
        writer.flush()
        ((author, name, text),) = store.connection.execute(
            "SELECT author_id, author_name, text FROM comments"
        ).fetchall()
    assert re.fullmatch(r"p:[0-9a-f]{20}", author) and name is None
    assert re.fullmatch(r"回复@澜蔻护肤:好 @p:[0-9a-f]{20}", text)
