"""`smcat demo`: the main job on the bundled fixtures, as a new user runs it."""

from __future__ import annotations

import sqlite3

from coding.codebook import default_codebook_path, load_codebook
from smcat.store import Store
from tests.test_report import html_table, png_size


def counts(db) -> tuple[int, int]:
    with sqlite3.connect(db) as connection:
        posts = connection.execute("SELECT count(*) FROM posts").fetchone()[0]
        observations = connection.execute("SELECT count(*) FROM post_observations").fetchone()[0]
    return posts, observations


def test_demo_twice_gives_the_same_posts_and_twice_the_observations(smcat, tmp_path):
    first = smcat("demo")
    assert first.returncode == 0, first.stderr
    db = tmp_path / "smcat-demo.db"
    assert f"wrote {db.name}" in first.stdout and "finished" in first.stdout
    posts, observations = counts(db)
    assert posts > 0 and observations == posts
    with sqlite3.connect(db) as connection:
        snapshots = connection.execute("SELECT count(DISTINCT observed_at) FROM hot_search")
        assert snapshots.fetchone()[0] == 2
        commented = connection.execute(
            "SELECT platform, count(DISTINCT post_id) FROM comments GROUP BY 1"
        )
        assert dict(commented.fetchall()) == {"weibo": 2, "douyin": 1}
        searched = connection.execute("SELECT count(*) FROM posts WHERE post_id LIKE '51401%'")
        assert searched.fetchone()[0] == 7  # the keyword search's posts
        coded = connection.execute("SELECT count(*) FROM coded_posts").fetchone()[0]
        assert coded == posts  # every post machine-coded, once
    # Douyin: two creators with their posts, a live session until off air, a sales export
    with sqlite3.connect(db) as connection:
        creators = connection.execute(
            "SELECT account_id, count(*) FROM posts WHERE platform = 'douyin' GROUP BY 1"
        )
        assert sorted(n for _, n in creators.fetchall()) == [3, 7]
        live = connection.execute("SELECT status FROM live_observations ORDER BY observed_at")
        assert [s for (s,) in live.fetchall()] == ["live", "live", "ended"]
        linked = connection.execute(
            "SELECT count(*), count(account_id) FROM streamer_stats WHERE source = 'chanmama'"
        )
        assert linked.fetchone() == (4, 2)
    assert "4 streamer rows, 2 linked to the crawled Douyin creators" in first.stdout
    assert "rows 5, 6, 7 rejected" in first.stdout
    # the summary shows how many posts each subcategory got, e.g. the giveaways (B3)
    giveaways = next(line for line in first.stdout.splitlines() if line.startswith("B3 "))
    with sqlite3.connect(db) as connection:
        b3 = connection.execute("SELECT count(*) FROM codes WHERE subcategory = 'B3'").fetchone()
    assert giveaways.split()[-2] == str(b3[0]) and b3[0] > 0
    # it ends with the effects report next to the database, and says where
    page = tmp_path / "smcat-demo-report" / "index.html"
    assert f"report: {page.relative_to(tmp_path)}" in first.stdout
    table = html_table(page)
    assert list(table.columns) == ["NB2 (auto:brand_posts@1)", "Poisson (auto:brand_posts@1)"]
    assert {"giveaway", "hot_words", "topic_count", "N"} <= set(table.index)
    fitted = table.loc["N"].astype(int)  # original posts whose account has a follower count
    assert 30 <= fitted.min() == fitted.max() < posts
    for name in ("irr.png", "distribution.png", "subcategories.png"):
        assert png_size(page.parent / name)[0] >= 600

    again = smcat("demo", "--db", str(db), "--report", "elsewhere")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "elsewhere" / "index.html").exists()
    assert counts(db) == (posts, 2 * observations)

    info = smcat("db", "info", "--db", str(db))
    assert info.returncode == 0
    lines = {line.split()[0]: line.split()[1] for line in info.stdout.splitlines() if line.strip()}
    assert lines["posts"] == str(posts) and lines["post_observations"] == str(2 * observations)


def test_a_demo_db_coded_with_another_text_of_the_codebook_is_refused_before_crawling(
    smcat, tmp_path
):
    db = tmp_path / "old.db"
    codebook = load_codebook(default_codebook_path())
    with Store.open(db) as store:
        store.save_codebook(codebook.name, codebook.version, codebook.yaml_text + "# older\n")
    result = smcat("demo", "--db", str(db))
    assert result.returncode != 0
    assert (
        "delete it or write the demo to another file (--db)" in result.stderr
        and "Traceback" not in result.stderr
    )
    assert counts(db) == (0, 0)  # nothing crawled into it
