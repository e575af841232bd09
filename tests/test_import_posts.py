"""`smcat import posts` and `smcat import comments`: other crawlers' output files (our own
fixtures, written in each tool's documented shape) into the store, field by field, as a crawl
would store them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from crawler.parsers.douyin_user import parse_post_list
from crawler.pseudonyms import Pseudonymizer
from crawler.writer import ItemWriter
from smcat.errors import SmcatError
from smcat.imports.posts import import_comments, import_posts
from smcat.store import Store
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "imports"
WEIBO_CRAWLER = IMPORTS / "weibo-crawler/5001000001.csv"
MEDIACRAWLER = IMPORTS / "mediacrawler"
CRAWLED_AT = "2025-11-20T18:00:00+08:00"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "smcat.db") as opened:
        yield opened


def rows(store: Store, sql: str, *params: object) -> list[tuple]:
    return store.connection.execute(sql, params).fetchall()


def post_row(store: Store, post_id: str) -> dict[str, object]:
    cursor = store.connection.execute(
        "SELECT platform, post_id, account_id, created_at, created_at_precision, text,"
        " is_repost, origin_post_id, media_type, pic_count, source, region, url, extra"
        " FROM posts WHERE post_id = ?",
        (post_id,),
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def observations(store: Store, post_id: str) -> list[tuple]:
    return rows(
        store,
        "SELECT observed_at, likes, comments, reposts, shares, collects FROM post_observations"
        " WHERE post_id = ? ORDER BY observed_at",
        post_id,
    )


def topics(store: Store, post_id: str) -> set[str]:
    return {v for (v,) in rows(store, "SELECT value FROM post_topics WHERE post_id = ?", post_id)}


def mediacrawler_db(tmp_path: Path) -> Path:
    """MediaCrawler's SQLite database, built from the fixture's SQL."""
    path = tmp_path / "mediacrawler.db"
    with sqlite3.connect(path) as connection:
        connection.executescript((MEDIACRAWLER / "sqlite_tables.sql").read_text("utf-8"))
    connection.close()
    return path


def test_weibo_crawler_csv_rows_become_posts_with_counts_topics_and_a_repost(store):
    [result] = import_posts(store, [WEIBO_CRAWLER], "weibo-crawler", observed_at=CRAWLED_AT)
    assert post_row(store, "5210003412800001") == {
        "platform": "weibo",
        "post_id": "5210003412800001",
        "account_id": "5001000001",  # the file's name: weibo-crawler writes <uid>.csv
        "created_at": "2025-10-08T20:15:31+08:00",  # 完整日期, in China time
        "created_at_precision": "second",
        "text": "#秋冬护肤# 新品水乳上市，@澜蔻护肤小助手 带你试用",
        "is_repost": 0,
        "origin_post_id": None,
        "media_type": "picture",
        "pic_count": 2,
        "source": "iPhone客户端",
        "region": None,
        "url": "https://weibo.com/5001000001/Q1aBcDeFg",
        "extra": json.dumps(
            {
                "bid": "Q1aBcDeFg",
                "edit_count": 0,
                "pictures": [
                    "https://wx1.sinaimg.cn/large/aaa.jpg",
                    "https://wx1.sinaimg.cn/large/bbb.jpg",
                ],
                "location": "上海·静安寺",
            },
            ensure_ascii=False,
        ),
    }
    assert observations(store, "5210003412800001") == [(CRAWLED_AT, 12000, 356, 89, None, None)]
    assert topics(store, "5210003412800001") == {"秋冬护肤"}
    assert rows(store, "SELECT value FROM post_mentions WHERE post_id = '5210003412800001'") == [
        ("澜蔻护肤小助手",)
    ]
    # a repost, its original stored as a post of its own account; "10万+" read as a floor
    repost = post_row(store, "5210003412800002")
    assert (repost["is_repost"], repost["origin_post_id"]) == (1, "5210003412700009")
    assert observations(store, "5210003412800002") == [(CRAWLED_AT, 100000, 10000, 0, None, None)]
    assert topics(store, "5210003412800002") == {"双十一"}
    original = post_row(store, "5210003412700009")
    assert (original["account_id"], original["text"]) == ("5001000009", "早秋的第一瓶精华")
    assert rows(store, "SELECT screen_name FROM accounts WHERE account_id = '5001000009'") == [
        ("路人甲",)
    ]
    # an older version's 日期 is a date alone: its midnight, marked as a day
    dated = post_row(store, "5210003412800003")
    assert (dated["created_at"], dated["created_at_precision"]) == (
        "2025-09-01T00:00:00+08:00",
        "day",
    )
    assert dated["media_type"] == "video"
    # the unreadable row is rejected with its row number; the import is recorded as a crawl
    assert result.rejected == [(5, "likes: not a count: '很多'")]
    [reject] = list(store.rejects())
    assert reject["reason"] == "row 5: PayloadError: likes: not a count: '很多'"
    assert json.loads(reject["payload"])["row"] == 5
    [crawl] = store.crawls()
    assert crawl.spider == "import posts"
    assert (crawl.args["format"], crawl.args["file"]) == ("weibo-crawler", "5001000001.csv")
    assert reject["crawl_id"] == crawl.crawl_id == result.crawl_id
    assert rows(store, "SELECT DISTINCT crawl_id FROM posts") == [(crawl.crawl_id,)]


def test_weibo_crawler_json_gives_the_account_its_counts_at_the_crawl(store):
    path = IMPORTS / "weibo-crawler/5001000002.json"
    import_posts(store, [path], "weibo-crawler", observed_at="2025-11-20 18:00")
    assert rows(
        store,
        "SELECT account_id, observed_at, followers, following, posts FROM account_snapshots",
    ) == [("5001000002", CRAWLED_AT, 254000, 88, 1320)]
    video = post_row(store, "5210006901200301")
    assert (video["media_type"], video["created_at"]) == ("video", "2025-11-15T19:30:12+08:00")
    assert topics(store, "5210006901200301") == {"跑者日记"}
    assert observations(store, "5210006901200302") == [(CRAWLED_AT, 10000, 12, 3, None, None)]
    assert post_row(store, "5210006901200302")["origin_post_id"] == "5210006901100001"
    assert post_row(store, "5210006901100001")["account_id"] == "5001000003"


def test_weibospider_short_ids_become_the_numeric_ids_crawled_posts_have(store):
    [result] = import_posts(
        store, [IMPORTS / "weibospider/5001000002.csv"], "weibospider", observed_at=CRAWLED_AT
    )
    # weibo.cn's short id Q2xYzAbCd is the mid the crawler keys the post by
    assert sorted(result.stored) == ["5206072638624461", "5206072638624463"]
    posted = post_row(store, "5206072638624461")
    assert posted["created_at"] == "2025-11-15T19:30:00+08:00"
    assert posted["created_at_precision"] == "minute"
    assert (posted["media_type"], posted["source"]) == ("video", "微博视频号")
    assert json.loads(str(posted["extra"])) == {"bid": "Q2xYzAbCd"}
    assert observations(store, "5206072638624461") == [(CRAWLED_AT, 3400, 210, 56, None, None)]
    repost = post_row(store, "5206072638624463")
    assert (repost["is_repost"], json.loads(str(repost["extra"]))["location"]) == (
        1,
        "北京·朝阳公园",
    )
    # the header the tool writes again on each run is no row; the bad time is, on line 5
    assert result.rejected == [(5, "unrecognised Weibo time: '明天吧'")]
    # its JSON holds the same post: the same row
    import_posts(
        store, [IMPORTS / "weibospider/5001000002.json"], "weibospider", observed_at=CRAWLED_AT
    )
    assert rows(store, "SELECT count(*) FROM posts") == [(2,)]


@pytest.mark.parametrize(
    "name", ["search_contents_2025-11-21.json", "search_contents_2025-11-21.csv", "sqlite"]
)
def test_mediacrawler_weibo_notes_in_each_form_are_the_same_rows(store, tmp_path, name):
    path = mediacrawler_db(tmp_path) if name == "sqlite" else MEDIACRAWLER / name
    [result] = import_posts(store, [path], "mediacrawler-weibo")
    assert sorted(result.stored) == ["5210003412800001", "5210003412800005"]
    crawled = "2025-11-21T10:00:00+08:00"  # last_modify_ts, its crawl time in milliseconds
    assert observations(store, "5210003412800005") == [(crawled, 1000000, 10000, 0, None, None)]
    note = post_row(store, "5210003412800005")
    # create_date_time, not MediaCrawler's create_time (8 hours late)
    assert note["created_at"] == "2025-10-09T16:53:20+08:00"
    assert note["text"] == "#澜蔻小蓝瓶# 三周年快乐"  # its HTML read as the crawler reads it
    assert topics(store, "5210003412800005") == {"澜蔻小蓝瓶"}
    assert (post_row(store, "5210003412800001")["region"], note["account_id"]) == (
        "上海",
        "5001000001",
    )


def test_mediacrawler_weibo_comments_keep_their_thread(store):
    path = MEDIACRAWLER / "search_comments_2025-11-21.jsonl"
    import_comments(store, [path], "mediacrawler-weibo")
    assert rows(
        store,
        "SELECT comment_id, post_id, parent_id, root_id, author_id, created_at, likes, replies,"
        " region FROM comments ORDER BY comment_id",
    ) == [
        ("5210100000000001", "5210003412800001", None, "5210100000000001", "6000000001",
         "2025-10-10T06:46:40+08:00", 15, 2, "浙江"),
        ("5210100000000002", "5210003412800001", "5210100000000001", "5210100000000001",
         "5001000001", "2025-10-10T07:46:40+08:00", 3, 0, "上海"),
    ]  # fmt: skip


def test_mediacrawler_douyin_awemes_are_the_rows_the_crawler_stored(store, tmp_path):
    """The demo's Douyin posts as the crawler parsed and stored them, then MediaCrawler's export
    of the same posts a day later: the same rows, one more observation, the same hashtags."""
    page = json.loads((FIXTURES / "douyin/user/posts_lankou_p1.json").read_text("utf-8"))
    crawled_at = datetime.fromisoformat("2025-11-21T10:00:00+08:00")
    writer = ItemWriter(store, crawl_id=None)
    for item in parse_post_list(page, crawled_at).posts:
        writer.add(item)
    writer.flush()
    before = {p: post_row(store, p) for p in ("7430000000000000102", "7430000000000000103")}
    crawled_topics = {p: topics(store, p) for p in before}
    posts = rows(store, "SELECT count(*) FROM posts")

    import_posts(store, [MEDIACRAWLER / "creator_contents_2025-11-22.csv"], "mediacrawler-douyin")

    assert rows(store, "SELECT count(*) FROM posts") == posts
    for post_id, crawled in before.items():
        imported = post_row(store, post_id)
        assert {k: imported[k] for k in crawled if k != "extra"} == {
            k: v for k, v in crawled.items() if k != "extra"
        }
        assert topics(store, post_id) == crawled_topics[post_id]
    assert observations(store, "7430000000000000102") == [
        ("2025-11-21T10:00:00+08:00", 23456, 1890, None, 902, 3310),
        ("2025-11-22T10:00:00+08:00", 24000, 1901, None, 910, 3400),
    ]
    assert rows(store, "SELECT extra FROM accounts") == [
        ('{"uid": "91000000000001", "unique_id": "lankou_skin"}',)
    ]
    # its SQLite database holds the same rows: nothing new
    import_posts(store, [mediacrawler_db(tmp_path)], "mediacrawler-douyin")
    assert len(observations(store, "7430000000000000103")) == 2


def test_mediacrawler_douyin_comments_keep_their_thread(store, tmp_path):
    [result] = import_comments(store, [mediacrawler_db(tmp_path)], "mediacrawler-douyin")
    assert sorted(result.stored) == ["7432000000000100001", "7432000000000199999"]
    assert rows(
        store,
        "SELECT comment_id, parent_id, root_id, author_id, created_at, likes FROM comments"
        " ORDER BY comment_id",
    ) == [
        ("7432000000000100001", None, "7432000000000100001", "MS4wLjABAAAAfan_chenxi_000011",
         "2025-10-31T16:00:00+08:00", 360),
        ("7432000000000199999", "7432000000000100001", "7432000000000100001",
         "MS4wLjABAAAAfictional_LANKOU_beauty_0001", "2025-10-31T16:40:00+08:00", 12),
    ]  # fmt: skip


def test_a_table_with_a_mapping_reads_bids_dates_and_its_own_crawl_time(store):
    [result] = import_posts(
        store,
        [IMPORTS / "table/posts.csv"],
        "table",
        mapping=IMPORTS / "table/posts.toml",
    )
    bid_post = post_row(store, "5202790749351166")  # Q1aBcDeFg, as the crawler keys it
    assert (bid_post["created_at"], bid_post["created_at_precision"]) == (
        "2025-10-08T20:15:00+08:00",
        "minute",
    )
    assert observations(store, "5202790749351166") == [
        ("2025-11-25T09:00:00+08:00", 15000, 400, 95, None, None)
    ]
    # "11-02" is a day of the year before the crawl
    dated = post_row(store, "5210003412800009")
    assert (dated["created_at"], dated["created_at_precision"]) == (
        "2025-11-02T00:00:00+08:00",
        "day",
    )
    assert result.rejected == [(4, "post_id is missing")]


def test_importing_a_file_again_adds_nothing_and_a_newer_one_adds_observations(store, tmp_path):
    path = MEDIACRAWLER / "search_contents_2025-11-21.json"
    import_posts(store, [path], "mediacrawler-weibo")
    import_posts(store, [WEIBO_CRAWLER], "weibo-crawler", observed_at=CRAWLED_AT)
    tables = ("posts", "post_observations", "post_topics", "accounts", "crawls", "rejects")
    before = {t: store.count(t) for t in tables}
    import_posts(store, [path], "mediacrawler-weibo")
    import_posts(store, [WEIBO_CRAWLER], "weibo-crawler", observed_at=CRAWLED_AT)
    assert {t: store.count(t) for t in tables} == before

    newer = json.loads(path.read_text("utf-8"))
    for note in newer:
        note["last_modify_ts"] += 86_400_000
        note["liked_count"] = "2万"
    later = tmp_path / "search_contents_2025-11-22.json"
    later.write_text(json.dumps(newer, ensure_ascii=False), "utf-8")
    import_posts(store, [later], "mediacrawler-weibo")
    assert store.count("posts") == before["posts"]
    assert observations(store, "5210003412800001")[-1] == (
        "2025-11-22T10:00:00+08:00", 20000, 360, 90, None, None,
    )  # fmt: skip
    assert len(observations(store, "5210003412800001")) == 3


def _nothing_stored(store: Store) -> None:
    for table in ("posts", "post_observations", "accounts", "comments", "crawls", "rejects"):
        assert store.count(table) == 0, table


@pytest.mark.parametrize(
    ("name", "format", "kwargs", "message"),
    [
        ("weibo-crawler/5001000001.csv", "mediacrawler-weibo", {},
         "no column 'note_id', which a MediaCrawler weibo posts file has: check --format"),
        ("mediacrawler/search_contents_2025-11-21.csv", "weibo-crawler",
         {"observed_at": CRAWLED_AT}, "no column 'id', which a weibo-crawler CSV has"),
        ("weibo-crawler/gbk/5001000001.csv", "weibo-crawler", {"observed_at": CRAWLED_AT},
         "GBK-encoded (a Chinese-Windows save): import it as gbk"),
        ("weibo-crawler/excel/5001000001.csv", "weibo-crawler", {"observed_at": CRAWLED_AT},
         "'5.21E+15' was turned into a number by a spreadsheet"),
        ("weibo-crawler/5001000001.csv", "weibo-crawler", {},
         "the file does not record when it was crawled"),
        ("weibospider/5001000002.txt", "weibospider", {"observed_at": CRAWLED_AT},
         "names no post ids"),
        ("table/posts.csv", "table", {}, "no column holds 'post_id'"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_imported_gives_one_line_and_stores_nothing(
    store, name, format, kwargs, message
):
    with pytest.raises(SmcatError) as raised:
        import_posts(store, [IMPORTS / name], format, **kwargs)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    _nothing_stored(store)


def test_a_gbk_file_imports_with_its_encoding_named(store):
    path = IMPORTS / "weibo-crawler/gbk/5001000001.csv"
    import_posts(store, [path], "weibo-crawler", observed_at=CRAWLED_AT, encoding="gbk")
    assert post_row(store, "5210003412800001")["text"] == (
        "#秋冬护肤# 新品水乳上市，@澜蔻护肤小助手 带你试用"
    )


def test_truncated_json_files_store_nothing_even_after_good_records(store, tmp_path):
    whole = (MEDIACRAWLER / "search_contents_2025-11-21.json").read_text("utf-8")
    cut = tmp_path / "search_contents_cut.json"
    cut.write_text(whole[: len(whole) // 2], "utf-8")
    with pytest.raises(SmcatError, match=r"not whole JSON .*export it again"):
        import_posts(store, [cut], "mediacrawler-weibo")
    lines = (MEDIACRAWLER / "search_comments_2025-11-21.jsonl").read_text("utf-8")
    cut_lines = tmp_path / "search_comments_cut.jsonl"
    cut_lines.write_text(lines + lines[:40], "utf-8")  # two good comments, then a cut line
    with pytest.raises(SmcatError, match="its last line is cut short"):
        import_comments(store, [cut_lines], "mediacrawler-weibo")
    _nothing_stored(store)


def test_ids_damaged_halfway_down_a_file_store_nothing(store, tmp_path):
    text = WEIBO_CRAWLER.read_text("utf-8-sig").replace("5210003412800003\t", "5210003412800003.0")
    damaged = tmp_path / "5001000001.csv"
    damaged.write_text(text, "utf-8-sig")
    with pytest.raises(SmcatError, match=r"'5210003412800003\.0' was turned into a number"):
        import_posts(store, [damaged], "weibo-crawler", observed_at=CRAWLED_AT)
    _nothing_stored(store)


def test_a_broken_sqlite_file_or_the_wrong_table_stores_nothing(store, tmp_path):
    broken = tmp_path / "sqlite_tables.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    with pytest.raises(SmcatError, match="not a readable SQLite database"):
        import_posts(store, [broken], "mediacrawler-douyin")
    with pytest.raises(SmcatError, match="has no table 'weibo_note_comment'"):
        import_comments(store, [mediacrawler_db(tmp_path)], "mediacrawler-weibo")
    _nothing_stored(store)


def test_the_command_prints_what_it_stored_and_the_rejected_rows(smcat, tmp_path):
    db = tmp_path / "smcat.db"
    result = smcat(
        "import", "posts", str(WEIBO_CRAWLER), str(IMPORTS / "weibo-crawler/5001000002.json"),
        "--format", "weibo-crawler", "--observed-at", CRAWLED_AT, "--db", str(db),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "5001000001.csv: 4 posts of 2 account(s) stored from weibo-crawler" in result.stdout
    assert "row 5: likes: not a count: '很多'" in result.stdout
    assert "5001000002.json: 3 posts of 2 account(s) stored" in result.stdout
    missing = smcat("import", "posts", str(WEIBO_CRAWLER), "--format", "weibo-crawler",
                    "--db", str(db))  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith("(--observed-at)")
    gbk_file = str(IMPORTS / "weibo-crawler/gbk/5001000001.csv")
    gbk = smcat("import", "posts", gbk_file, "--format", "weibo-crawler",
                "--observed-at", CRAWLED_AT, "--db", str(db))  # fmt: skip
    assert gbk.returncode == 1
    assert gbk.stderr.strip().endswith("(--encoding gbk)")


def test_comments_imported_pseudonymised_keep_no_names_and_do_not_mix(store, tmp_path):
    salt = Pseudonymizer("a project salt of some length")
    path = MEDIACRAWLER / "search_comments_2025-11-21.jsonl"
    import_comments(store, [path], "mediacrawler-weibo", pseudonymizer=salt)
    assert rows(store, "SELECT author_id, author_name, text FROM comments ORDER BY comment_id") == [
        (salt.pseudonym("6000000001"), None, "敏感肌可以用吗"),
        (salt.pseudonym("5001000001"), None, f"回复@{salt.pseudonym('name:小鹿')}:可以的"),
    ]
    with pytest.raises(SmcatError, match="comments under pseudonyms: import these pseudonymised"):
        import_comments(store, [path], "mediacrawler-weibo")
    real = Store.open(tmp_path / "real.db")
    import_comments(real, [path], "mediacrawler-weibo")
    with pytest.raises(SmcatError, match="under their authors' real ids"):
        import_comments(real, [path], "mediacrawler-weibo", pseudonymizer=salt)
    real.close()


def test_mediacrawler_writes_none_for_a_count_douyin_did_not_give(store, tmp_path):
    awemes = json.loads((MEDIACRAWLER / "creator_contents_2025-11-22.json").read_text("utf-8"))
    awemes[0]["collected_count"] = "None"  # str(statistics.get("collect_count")) of no count
    path = tmp_path / "creator_contents_2025-11-23.json"
    path.write_text(json.dumps(awemes, ensure_ascii=False), "utf-8")
    [result] = import_posts(store, [path], "mediacrawler-douyin")
    assert result.rejected == []
    assert observations(store, "7430000000000000102") == [
        ("2025-11-22T10:00:00+08:00", 24000, 1901, None, 910, None)
    ]


def test_a_table_reads_from_xlsx_and_json_lines_alike(store, tmp_path):
    sheet = openpyxl.Workbook()
    sheet.active.append(["platform", "post_id", "account_id", "created_at", "text", "likes"])
    sheet.active.append(["douyin", "7430000000000000199", "MS4w_x", "2025-11-01 16:00:00",
                         "新品 #澜蔻小蓝瓶 #双十一", 1200])  # fmt: skip
    sheet.save(tmp_path / "posts.xlsx")
    lines = tmp_path / "posts.jsonl"
    record = {"platform": "weibo", "post_id": 5210003412800011, "created_at": "2025-11-02",
              "likes": "3万", "text": "#双十一# 来了"}  # fmt: skip
    relative = {"platform": "weibo", "post_id": "5210003412800012", "created_at": "3小时前"}
    lines.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (record, relative)), "utf-8"
    )
    import_posts(store, [tmp_path / "posts.xlsx", lines], "table", observed_at=CRAWLED_AT)
    assert topics(store, "7430000000000000199") == {"澜蔻小蓝瓶", "双十一"}
    assert observations(store, "7430000000000000199") == [
        (CRAWLED_AT, 1200, None, None, None, None)
    ]
    dated = post_row(store, "5210003412800011")
    assert (dated["created_at_precision"], topics(store, "5210003412800011")) == ("day", {"双十一"})
    assert observations(store, "5210003412800011") == [(CRAWLED_AT, 30000, None, None, None, None)]
    # a relative time is read against the crawl time, as the crawler reads it
    hours_ago = post_row(store, "5210003412800012")
    assert (hours_ago["created_at"], hours_ago["created_at_precision"]) == (
        "2025-11-20T15:00:00+08:00",
        "hour",
    )


def test_a_table_of_comments(store, tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text(
        "platform,comment_id,post_id,parent_id,author_id,created_at,text,likes\n"
        "weibo,5210100000000001,Q1aBcDeFg,,6000000001,2025-10-10 06:46:40,好用,1.1万\n",
        "utf-8",
    )
    import_comments(store, [path], "table", observed_at=CRAWLED_AT)
    assert rows(store, "SELECT comment_id, post_id, root_id, created_at, likes FROM comments") == [
        ("5210100000000001", "5202790749351166", "5210100000000001",
         "2025-10-10T06:46:40+08:00", 11000),
    ]  # fmt: skip


def test_a_weibo_crawler_csv_renamed_stores_its_posts_without_an_account(store, tmp_path):
    renamed = tmp_path / "澜蔻护肤.csv"
    renamed.write_bytes(WEIBO_CRAWLER.read_bytes())
    [result] = import_posts(store, [renamed], "weibo-crawler", observed_at=CRAWLED_AT)
    assert result.notes == ["澜蔻护肤.csv names no account (weibo-crawler calls it <uid>.csv)"]
    assert post_row(store, "5210003412800001")["account_id"] is None
