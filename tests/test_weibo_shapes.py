"""Weibo's less common real shapes lose nothing (#19): reposts of deleted originals, reposts
that carry their original's card, video play counts, image-only comments, and s.weibo.com's
2018-2020 result-page markup. Fixtures are invented content in the real shapes."""

from __future__ import annotations

import json
from datetime import datetime

from crawler.parsers.common import CHINA
from crawler.parsers.weibo_comments import parse_comment_page
from crawler.parsers.weibo_mobile import parse_timeline
from crawler.parsers.weibo_search import parse_search_page
from crawler.parsers.weibo_web import parse_mymblog
from crawler.pseudonyms import Pseudonymizer
from crawler.writer import ItemWriter
from smcat.demo.replay import ReplayServer
from smcat.store import Store
from tests.conftest import FIXTURES, needs_samples, read_sample
from tests.test_weibo_crawl import query
from tests.test_weibo_search import search

WEIBO = FIXTURES / "weibo"
FETCHED = datetime(2025, 12, 3, 9, 0, tzinfo=CHINA)


def load(path: str) -> dict:
    return json.loads((WEIBO / path).read_text(encoding="utf-8"))


def mobile_posts() -> dict[str, object]:
    page = parse_timeline(load("mobile/timeline_odd_shapes.json"), FETCHED)
    assert page.rejects == []
    return {p.post_id: p for p in page.posts}


def web_posts() -> dict[str, object]:
    page = parse_mymblog(load("web/mymblog_odd_shapes.json"), FETCHED)
    assert page.rejects == []
    return {p.post_id: p for p in page.posts}


def test_a_repost_of_a_deleted_original_is_kept_and_the_original_marked_deleted():
    posts = mobile_posts()
    repost = posts["5210012000000101"]
    assert (repost.is_repost, repost.origin_post_id, repost.text) == (
        True, "5210011999000001", "转发微博",
    )  # fmt: skip
    assert repost.created_at == "2025-12-02T09:14:03+08:00" and repost.likes == 3
    assert repost.extra["origin_state"] == "deleted"
    assert repost.extra["origin_notice"].startswith("抱歉，此微博已被作者删除。查看帮助：")
    # no row for the original: it has no time, no author, and its text is Weibo's notice
    assert "5210011999000001" not in posts
    hidden = posts["5210012000000102"]
    assert hidden.origin_post_id == "5210011999000002" and "5210011999000002" not in posts
    assert hidden.extra["origin_state"] == "unavailable"
    assert hidden.extra["origin_notice"] == "抱歉，作者已设置仅展示半年内微博，此微博已不可见。"
    # weibo.com's stub: created_at "" and user null beside a deleted flag
    web = web_posts()
    repost = web["5210012000000205"]
    assert (repost.origin_post_id, repost.extra["origin_state"]) == ("5210011999000003", "deleted")
    assert (
        repost.extra["origin_notice"] == "抱歉，此微博已被作者删除。查看帮助：http://t.cn/Rfd3rQV"
    )
    assert "5210011999000003" not in web


def test_a_text_repost_takes_no_media_type_from_its_original():
    posts = web_posts()
    # the article card weibo.com hangs on the repost names no author
    repost, original = posts["5210012000000201"], posts["5210011980000001"]
    assert (repost.media_type, original.media_type) == ("text", "article")
    assert original.via_repost and not repost.via_repost
    # both carry the video card: the original keeps its own, the repost is text
    repost, original = posts["5210012000000202"], posts["5210011980000002"]
    assert (repost.media_type, repost.video_seconds, repost.plays) == ("text", None, None)
    assert (original.media_type, original.video_seconds, original.plays) == ("video", 95.0, 12034)


def test_video_play_counts_are_stored_as_plays():
    assert mobile_posts()["5210012000000103"].plays == 3_450_000  # page_info.play_count 345万次播放
    posts = web_posts()
    assert posts["5210012000000203"].plays == 3_452_317  # online_users_number beside 345.2万次观看
    assert posts["5210012000000204"].plays == 3_450_000  # only online_users: 345万次播放
    assert posts["5210012000000203"].media_type == "video"
    # wording with no play count before it costs the count, not the post
    payload = load("mobile/timeline_odd_shapes.json")
    payload["data"]["cards"][2]["mblog"]["page_info"]["play_count"] = "34人正在看"
    page = parse_timeline(payload, FETCHED)
    assert page.rejects == [] and page.posts[-1].plays is None


@needs_samples("weibo")
def test_real_recordings_give_their_play_counts():
    mobile = read_sample(
        "weibo", "mweibocn_getIndex_107603_timeline_sinceid__nonebot-bison_2021.json"
    )
    videos = [p for p in parse_timeline(mobile, FETCHED).posts if p.media_type == "video"]
    # one video, on its own card and inside a repost: page_info.play_count "87万次播放"
    assert {(p.post_id, p.plays) for p in videos} == {("4645748019299849", 870_000)}
    web = read_sample("weibo", "weibocom_ajax_statuses_mymblog__NBuddha_2022-04.json")
    posts = parse_mymblog(web, FETCHED).posts
    # the video card rides on a text repost: the original gets it, with 53.2万次观看 / 532452
    assert [(p.via_repost, p.plays) for p in posts if p.media_type == "video"] == [(True, 532452)]


def test_an_image_only_comment_keeps_its_picture():
    page = parse_comment_page(load("mobile/hotflow_image_comments.json"), "5210012000000103",
                              FETCHED)  # fmt: skip
    assert page.rejects == []
    comments = {c.comment_id: c for c in page.comments}
    image_only = comments["5210012100000011"]
    assert image_only.text == "" and image_only.likes == 7
    assert image_only.extra["image"] == "https://wx1.sinaimg.cn/large/008lkImg0011.jpg"
    assert image_only.extra["has_image"] is True
    reply = comments["5210012100000012"]  # an inline reply with text and a picture
    assert reply.text == "回复@晒单小能手:同款！"
    assert reply.extra["image"] == "https://wx1.sinaimg.cn/large/008lkReply12.jpg"
    assert "image" not in comments["5210012100000013"].extra
    built = parse_comment_page(load("web/comments_image_comments.json"), "5210012000000203",
                               FETCHED)  # fmt: skip
    assert built.rejects == []
    comments = {c.comment_id: c for c in built.comments}
    assert comments["5210012100000021"].text == ""
    assert comments["5210012100000021"].extra["image"] == (
        "https://wx1.sinaimg.cn/woriginal/008lkImg0021.jpg"
    )
    assert "image" not in comments["5210012100000022"].extra


def old_markup_page():
    html = (WEIBO / "search" / "lankou_2019_markup.html").read_text(encoding="utf-8")
    return parse_search_page(html, datetime(2019, 6, 15, 12, 0, tzinfo=CHINA))


def test_a_search_page_in_the_2018_2020_markup_is_read_in_full():
    page = old_markup_page()
    assert page.rejects == [] and page.page_count == 1
    posts = {(p.post_id, p.via_repost): p for p in page.posts}
    assert list(posts) == [
        ("4383500000000001", False), ("4383500000000002", False), ("4383400000000009", True),
        ("4383500000000003", False),
    ]  # fmt: skip
    post = posts[("4383500000000001", False)]
    assert post.url == "https://weibo.com/5001000001/HzLkOld01"
    assert (post.account_id, post.created_at) == ("5001000001", "2019-06-14T20:15:00+08:00")
    assert (post.source, post.media_type, post.pic_count) == ("iPhone XS Max", "picture", 2)
    assert (post.likes, post.comments, post.reposts) == (12, 3, 5)
    assert post.text == "澜蔻护肤 小蓝瓶打卡第7天，#澜蔻小蓝瓶# 泛红退了不少[笑cry]"
    assert "\ue627" not in post.text
    assert post.topics == ["澜蔻小蓝瓶", "澜蔻护肤"] and post.extra["super_topics"] == ["澜蔻护肤"]
    repost = posts[("4383500000000002", False)]
    assert (repost.url, repost.created_at) == (
        "https://weibo.com/6100000051/HzLkOld02", "2019-06-14T21:40:00+08:00",
    )  # fmt: skip
    assert (repost.likes, repost.comments, repost.reposts) == (0, 0, 0)  # <em></em>, bare labels
    assert (repost.is_repost, repost.origin_post_id) == (True, "4383400000000009")
    original = posts[("4383400000000009", True)]
    assert (original.likes, original.comments, original.reposts) == (2048, 356, 10000)
    assert original.created_at == "2019-06-13T10:05:00+08:00"
    assert original.text == "转发本条抽3位送小蓝瓶正装 澜蔻护肤" and original.topics == ["澜蔻护肤"]
    video = posts[("4383500000000003", False)]  # no player: a thumbnail with the video's source
    assert (video.media_type, video.likes, video.comments) == ("video", 11000, 21)
    assert (
        video.text == "三分钟看懂澜蔻小蓝瓶的成分表"
    )  # the video link is the card's, not the text's


def test_a_search_crawl_of_the_2018_2020_markup_stores_every_card(smcat, tmp_path):
    db = tmp_path / "old.db"
    with ReplayServer(WEIBO / "search_2019.toml") as server:
        result = search(smcat, server, db, "澜蔻", "--since", "2019-06-14", "--until", "2019-06-14")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM rejects") == [(0,)]
    assert query(db, "SELECT post_id FROM posts ORDER BY post_id") == [
        ("4383400000000009",), ("4383500000000001",), ("4383500000000002",),
        ("4383500000000003",),
    ]  # fmt: skip
    assert query(db, "SELECT likes FROM post_observations WHERE post_id = '4383500000000001'") == [
        (12,)
    ]
    assert query(db, "SELECT value FROM post_topics WHERE post_id = '4383500000000001' "
                     "ORDER BY value") == [("澜蔻小蓝瓶",), ("澜蔻护肤",)]  # fmt: skip


def test_a_deleted_flag_of_zero_is_no_deleted_original():
    payload = load("web/mymblog_odd_shapes.json")
    repost = next(m for m in payload["data"]["list"] if m["id"] == 5210012000000202)
    repost["retweeted_status"]["deleted"] = "0"
    posts = {p.post_id: p for p in parse_mymblog(payload, FETCHED).posts}
    assert posts["5210011980000002"].via_repost
    assert "origin_state" not in posts["5210012000000202"].extra


def test_a_pseudonymised_crawl_keeps_that_a_comment_had_a_picture_but_not_its_url(tmp_path):
    # a sinaimg picture id starts with its uploader's uid in base 62: the URL names the commenter
    page = parse_comment_page(load("mobile/hotflow_image_comments.json"), "5210012000000103",
                              FETCHED)  # fmt: skip
    for name, pseudonymizer in (("plain", None), ("pseudo", Pseudonymizer("s" * 16))):
        with Store.open(tmp_path / f"{name}.db") as store:
            writer = ItemWriter(store, None, pseudonymizer)
            for comment in page.comments:
                writer.add(comment)
            writer.flush()
            rows = store.connection.execute(
                "SELECT extra FROM comments WHERE comment_id = '5210012100000011'"
            ).fetchall()
        extra = json.loads(rows[0][0])
        assert extra["has_image"] is True
        assert ("image" in extra) == (pseudonymizer is None)


def test_a_post_s_pictures_reach_the_coder_from_either_api(tmp_path) -> None:
    # m.weibo.cn lists a post's pictures in pics, weibo.com in pic_infos ordered by pic_ids:
    # both give the same thumbnails, in order, and the review screen reads them from the store
    mobile = parse_timeline(load("mobile/timeline_5001000002_p1.json"), FETCHED).posts
    web = parse_mymblog(load("web/mymblog_5001000002_p1.json"), FETCHED).posts
    pictures = {post.post_id: post.extra.get("pictures") for post in mobile}
    assert pictures == {post.post_id: post.extra.get("pictures") for post in web}
    cards = load("mobile/timeline_5001000002_p1.json")["data"]["cards"]
    listed = {card["mblog"]["id"]: [pic["url"] for pic in card["mblog"].get("pics") or []]
              for card in cards if "mblog" in card}  # fmt: skip
    for post_id, urls in listed.items():
        assert pictures[post_id] == (urls or None)
    assert sum(bool(urls) for urls in listed.values()) >= 2
    with Store.open(tmp_path / "pictures.db") as store:
        writer = ItemWriter(store, None)
        for post in mobile:
            writer.add(post)
        writer.flush()
        shown = store.posts_for_coders([("weibo", post_id) for post_id in listed])
    assert {key[1]: list(post.pictures) for key, post in shown.items()} == listed
