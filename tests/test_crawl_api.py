"""crawler.crawl, the Python API under `smcat crawl`: typed arguments, their checks, the plan
(resume and marks read from the store), and a real crawl from Python. The crawl runs in a child
process, as Scrapy's reactor starts once per process, against the loopback replay server."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from crawler import crawl
from crawler.crawl import CrawlArgumentError
from crawler.spiders.weibo_user import WeiboUserSpider
from smcat.config import Settings
from smcat.store import Store
from tests.conftest import ROOT, clean_env
from tests.test_weibo_crawl import BRAND, fixture_days, query

OTHER = "5001000002"
# the crawl from Python, in a child; every base URL is the replay server's
CHILD = """
import dataclasses, json, sys
from datetime import date
from pathlib import Path

from crawler import crawl
from smcat.config import Settings

db, server = Path(sys.argv[1]), sys.argv[2]
settings = Settings(
    db=db, weibo_mobile_url=server, weibo_url=server, weibo_search_url=server,
    weibo_cn_url=server, douyin_url=server, douyin_live_url=server, download_delay=0.0,
    retry_backoff=0.0,
)
result = crawl.weibo_user(
    settings, [sys.argv[3]], since=date(2025, 10, 1), until="2025-11-10",
    sample_per_month=2, seed=7,
)
sample = result.sample
print(json.dumps({
    "record": dataclasses.asdict(result.record),
    "sample": {"sample_id": sample.sample_id, "posts": sample.posts,
               "per_group": [[*group, n] for group, n in sample.per_group.items()]},
}))
"""


def test_a_crawl_from_python_returns_its_record_and_sample(demo_server, tmp_path: Path) -> None:
    db = tmp_path / "api.db"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), demo_server.url, BRAND],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    returned = json.loads(child.stdout.splitlines()[-1])
    record, sample = returned["record"], returned["sample"]
    assert (record["spider"], record["status"], record["reason"]) == (
        "weibo_user", "finished", "finished"
    )  # fmt: skip
    assert record["args"] == {"uids": [BRAND], "since": "2025-10-01", "until": "2025-11-10"}
    ((crawl_id, status, counts),) = query(db, "SELECT crawl_id, status, counts FROM crawls")
    assert (crawl_id, status, json.loads(counts)) == (
        record["crawl_id"],
        "finished",
        record["counts"],
    )
    days = [
        d[:10] for (d,) in query(db, "SELECT created_at FROM posts WHERE account_id = ?", BRAND)
    ]
    assert sorted(days) == sorted(fixture_days(BRAND, "2025-10-01", "2025-11-10"))
    assert record["counts"]["rejected"] == 0 and record["counts"]["stored"] >= len(days)
    # the sample: at most 2 of the account's own posts per month, recorded in the store
    assert sample["sample_id"] == f"weibo-monthly-k2-seed7-{BRAND}"
    groups = {(account, month): n for account, month, n in sample["per_group"]}
    assert set(groups) <= {(BRAND, "2025-10"), (BRAND, "2025-11")} and groups
    assert all(1 <= n <= 2 for n in groups.values())
    assert len(sample["posts"]) == sum(groups.values())
    drawn = query(db, "SELECT post_id FROM sample_posts WHERE sample_id = ?", sample["sample_id"])
    assert sorted(p for (p,) in drawn) == sorted(post_id for _, post_id in sample["posts"])


def settings_for(tmp_path: Path) -> Settings:
    """Settings whose every base URL is a closed loopback port: nothing here may be fetched."""
    closed = "http://127.0.0.1:9"
    return Settings(
        db=tmp_path / "plan.db", weibo_mobile_url=closed, weibo_url=closed,
        weibo_search_url=closed, weibo_cn_url=closed, douyin_url=closed, douyin_live_url=closed,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("plan", "params", "message"),
    [
        (lambda s: crawl.plan_weibo_user(s, ["abc"]), ("uids",), "'abc' is not a numeric"),
        (lambda s: crawl.plan_weibo_user(s, ["５００１"]), ("uids",), "is not a numeric"),
        (lambda s: crawl.plan_weibo_user(s, BRAND), ("uids",), "not one string"),
        (lambda s: crawl.plan_weibo_user(s, [BRAND], since="x"), ("since",),
         "since must be a day like 2025-09-01, not 'x'"),
        (lambda s: crawl.plan_weibo_user(s, [BRAND], sample_per_month=3), ("seed",), "seed"),
        (lambda s: crawl.plan_weibo_search(s, ["澜蔻"], since="2025-03-05", until=date(2025, 3, 1)),
         ("since", "until"), "since 2025-03-05 is after until 2025-03-01"),
        (lambda s: crawl.plan_weibo_hot(s, every=timedelta(minutes=10)), ("every", "duration"),
         "together"),
        (lambda s: crawl.plan_weibo_hot(s, every=timedelta(0), duration=timedelta(hours=1)),
         ("every",), "longer than nothing"),
        (lambda s: crawl.plan_weibo_comments(s, ["1"], api="html"), ("api",), "not 'html'"),
        (lambda s: crawl.plan_douyin_user(s, ["MS4wLjABAAAAxyz"], resume=True, browser=True),
         ("resume", "browser"), "resume works without browser only"),
        (lambda s: crawl.plan_douyin_live(s, "80240", duration=timedelta(hours=1)),
         ("duration", "every"), "duration needs every"),
    ],
)  # fmt: skip
def test_arguments_that_cannot_be_right_name_their_parameter(tmp_path, plan, params, message):
    settings = settings_for(tmp_path)
    with pytest.raises(CrawlArgumentError) as raised:
        plan(settings)
    assert raised.value.params == params and message in str(raised.value)
    assert "--" not in str(raised.value)  # the library speaks of parameters, not of options
    assert not settings.db.exists()


def test_a_plan_resumes_from_the_checkpoints_as_one_mapping(tmp_path):
    settings = settings_for(tmp_path)
    marks = {BRAND: "2025-10-15T15:59:59.999999+00:00"}
    described = WeiboUserSpider.describe([BRAND, OTHER], "2025-09-01", None, marks)
    with Store.open(settings.db) as store:
        store.upsert_accounts([{"platform": "weibo", "account_id": BRAND,
                                "observed_at": "2025-10-16T00:00:00+00:00"}])  # fmt: skip
        store.advance_crawled_up_to("weibo", marks, 1)
        crawl_id = store.start_crawl("weibo_user", described)
        store.save_checkpoint(crawl_id, BRAND, 2)
        store.save_checkpoint(crawl_id, OTHER, "done")
    plan = crawl.plan_weibo_user(
        settings, [BRAND, OTHER], since=date(2025, 9, 1), resume=True, new=True
    )
    assert plan.after == marks
    assert plan.resumes is not None and plan.resumes.crawl_id == crawl_id
    assert plan.arguments["resume_from"] == {BRAND: 2, OTHER: "done"}
    # the spider reads the same checkpoints given as a mapping or, from `scrapy crawl -a`, as JSON
    for given in (plan.arguments["resume_from"], json.dumps(plan.arguments["resume_from"])):
        spider = WeiboUserSpider(**{**plan.arguments, "resume_from": given})
        assert spider.pages.through == {BRAND: 2, OTHER: 0} and spider.finished == {OTHER}
        assert spider.crawl_args == described and spider.resume_crawl_id == crawl_id
