"""The demo: the main job end to end on the bundled fixtures, with no network.

A replay server on 127.0.0.1 serves the fictional brand accounts and hot-search lists of
fixtures/demo.toml; the Weibo spiders crawl the accounts' timelines, the comments on two of
their posts, a keyword search, and two snapshots of the hot-search list into the demo database;
the Douyin spiders crawl two creators with their posts, the comments on one post and a short
live session; a streamer sales export (fictional, Chanmama's layout, with bad rows) is
imported and linked to the creators; then the machine coder codes the posts with the bundled
codebook, and the effect models are fitted and written as an HTML report.

The demo has about fifty posts of a few accounts, so its report is a small one that always
fits: NB2 and Poisson of engagement on the study's variables, followers and media type, with
heteroskedasticity-robust rather than account-clustered Poisson SEs (a few accounts are far
too few clusters), regressors without variation left out, and a model that fails named in the
page instead of failing the demo.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from coding.autocode import AutoCodeResult, auto_code
from coding.codebook import Codebook, default_codebook_path, load_codebook
from crawler import crawl
from smcat.config import Settings
from smcat.demo.replay import ReplayServer
from smcat.errors import SettingError, SmcatError
from smcat.imports.streamers import CHANMAMA, StreamerImport, import_streamers
from smcat.store import CrawlRecord, Store

if TYPE_CHECKING:
    from analysis.results import Report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEMO_MANIFEST = FIXTURES / "demo.toml"
DEMO_ACCOUNTS = ("5001000001", "5001000002")  # 澜蔻护肤 and 速行运动官方, both fictional
DEMO_COMMENTED = ("5210008539200130", "5210009743400165")  # a giveaway and a launch post
HOT_EVERY = timedelta(seconds=1)  # between the demo's two hot-search snapshots
DEMO_KEYWORD = "澜蔻"
DEMO_SEARCH_DAYS = (date(2025, 3, 1), date(2025, 3, 2))
# search wants a cookie; this stand-in is sent to the loopback replay server only
DEMO_COOKIE = "SUB=smcat-demo"
DEMO_MODELS = ("nb", "poisson")
DEMO_REGRESSORS = ("hot_words", "giveaway", "promotion", "topic_count", "hot_topic",
                   "log_followers", "media_type")  # fmt: skip
DEMO_NOTE = (
    "Demo data: NB2 and Poisson on the study's variables, followers and media type only;"
    " Poisson SEs are robust (HC0), not clustered by account, since the demo has too few"
    " accounts to cluster by."
)
# 澜蔻护肤 and 小鱼家服饰 on Douyin, both fictional; a post of the first; a live room of hers
DEMO_CREATORS = (
    "MS4wLjABAAAAfictional_LANKOU_beauty_0001",
    "MS4wLjABAAAAfictional_XIAOYU_fashion_002",
)
DEMO_DOUYIN_POST = "7430000000000000102"
DEMO_ROOM = "802400000001"
LIVE_EVERY = timedelta(seconds=0.3)  # between the room's observations (off air at the third)
DEMO_EXPORT = FIXTURES / "streamers" / "chanmama.xlsx"
DEMO_EXPORT_PERIOD = "近30天 to 2025-11-03"


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote: the database, its row counts, the crawls, the pages served, the
    machine coding, and the report with the files it was written to (index.html last)."""

    db: Path
    row_counts: dict[str, int]
    crawls: list[CrawlRecord]
    pages_served: int
    streamers: StreamerImport
    codebook: Codebook
    coded: AutoCodeResult
    report: Report
    report_files: list[Path]


def run_demo(settings: Settings, report_folder: Path | None = None) -> DemoResult:
    """Crawl the bundled fixtures into `settings.db` through a loopback replay server, code
    the posts, and write the effects report into `report_folder` (default: next to the
    database, named after it: smcat-demo.db -> smcat-demo-report)."""
    if not DEMO_MANIFEST.exists():
        raise SmcatError(
            f"demo fixtures not found at {DEMO_MANIFEST}: install smcat from its source checkout "
            "(pip install -e .) as the README says"
        )
    codebook = load_codebook(default_codebook_path())
    with Store.open(settings.db) as store:
        stored = store.codebook_text(codebook.name, codebook.version)
    if stored is not None and stored != codebook.yaml_text:
        raise SettingError(
            f"{settings.db} was coded with another text of the bundled codebook "
            f"{codebook.name}@{codebook.version}: delete it or write the demo to another file",
            db=None,
        )
    with ReplayServer(DEMO_MANIFEST) as server:
        replay = dataclasses.replace(
            settings,
            weibo_mobile_url=server.url,
            weibo_url=server.url,
            weibo_search_url=server.url,
            weibo_cookie=DEMO_COOKIE,  # the user's own cookie has no business with the demo
            weibo_cookie_file="",
            douyin_url=server.url,
            douyin_live_url=server.url,
            douyin_cookie="",  # nor the user's Douyin cookie and signer
            douyin_signer="",
            download_delay=0.0,
            retry_backoff=0.0,
        )
        since, until = DEMO_SEARCH_DAYS
        plans = [
            crawl.plan_weibo_user(replay, DEMO_ACCOUNTS, api="mobile"),
            crawl.plan_weibo_comments(replay, DEMO_COMMENTED, replies=True, api="mobile"),
            crawl.plan_weibo_search(replay, [DEMO_KEYWORD], since=since, until=until),
            crawl.plan_weibo_hot(replay, every=HOT_EVERY, duration=1.5 * HOT_EVERY),
            crawl.plan_douyin_user(replay, DEMO_CREATORS),
            crawl.plan_douyin_comments(replay, [DEMO_DOUYIN_POST], replies=True),
            crawl.plan_douyin_live(replay, DEMO_ROOM, every=LIVE_EVERY),
        ]
        crawls = [result.record for result in crawl.run(replay, plans)]
        pages = len(server.hits)
    # the models' libraries take seconds to import: only the demo's last step needs them
    from analysis.report import write_report
    from analysis.suite import run_suite

    with Store.open(settings.db) as store:
        streamers = import_streamers(store, DEMO_EXPORT, "chanmama", CHANMAMA, DEMO_EXPORT_PERIOD)
        coded = auto_code(store, codebook)
        counts = store.info().row_counts
        report = run_suite(
            store,
            models=DEMO_MODELS,
            regressors=DEMO_REGRESSORS,
            se="robust",  # the demo's few accounts are too few clusters
            keep_going=True,
        )
    report = dataclasses.replace(report, notes=[*report.notes, DEMO_NOTE])
    folder = report_folder or settings.db.with_name(f"{settings.db.stem}-report")
    files = write_report(report, folder)
    return DemoResult(settings.db, counts, crawls, pages, streamers, codebook, coded, report, files)
