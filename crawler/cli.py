"""`smcat crawl`: capture posts, accounts and live rooms into the store."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from crawler.browser import find_chromium
from crawler.parsers.weibo_search import PAGE_CAP
from crawler.pseudonyms import Pseudonymizer
from crawler.reparse import reparse
from crawler.runner import run_spiders
from crawler.settings import weibo_cookie
from crawler.signing import load_signer
from crawler.spiders.douyin_comments import DouyinCommentsSpider
from crawler.spiders.douyin_live import DouyinLiveSpider
from crawler.spiders.douyin_user import DouyinUserSpider
from crawler.spiders.weibo_comments import WeiboCommentsSpider
from crawler.spiders.weibo_hot import WeiboHotSpider
from crawler.spiders.weibo_search import WeiboSearchSpider
from crawler.spiders.weibo_user import WeiboUserSpider
from smcat.cli_common import DbOption, settings, stdout
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.sampling import monthly_sample
from smcat.store import CrawlRecord, Store

crawl_app = typer.Typer(
    help="Run crawls of Weibo and Douyin into the project database. A crawl "
    "records how it ended in `smcat db info`; re-running adds observations, never duplicates.",
    no_args_is_help=True,
)
# the options of both comment crawls
RepliesOption = Annotated[
    bool, typer.Option("--replies", help="Also every reply under each comment.")
]
PseudonymizeOption = Annotated[
    bool,
    typer.Option(
        "--pseudonymize",
        help="Store commenters as keyed hashes (needs SMCAT_PSEUDONYM_SALT), without names "
        "and without the raw pages (they hold the real ids).",
    ),
]
CommentPagesOption = Annotated[int, typer.Option(help="Stop each post after N pages (0 = all).")]
# the option of the Douyin crawls that can read the site's own pages
BrowserOption = Annotated[
    bool,
    typer.Option(
        "--browser",
        help="Open the site's pages in headless Chromium and read the API answers they get, "
        "signed by the site's own scripts: no signer needed (see the README).",
    ),
]


def _douyin_signing(resolved: Settings, browser: bool) -> None:
    """Fail before any request if the crawl cannot sign: a signer that does not load, or with
    --browser a Chromium that is not there (the site's scripts sign then)."""
    if browser:
        find_chromium(resolved.browser)
    else:
        load_signer(resolved.douyin_signer)


def _day(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: use YYYY-MM-DD", param_hint=flag
        ) from None


@crawl_app.command("weibo-user")
def weibo_user(
    uids: Annotated[
        list[str],
        typer.Argument(help="Numeric Weibo user ids.", show_default=False),
    ],
    since: Annotated[
        str | None, typer.Option(help="Only posts from this day on (YYYY-MM-DD, China time).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only posts up to this day (YYYY-MM-DD).")
    ] = None,
    max_pages: Annotated[int, typer.Option(help="Stop each timeline after N pages (0 = all).")] = 0,
    sample_per_month: Annotated[
        int,
        typer.Option(
            help="After the crawl, draw K of each account's own posts per calendar month "
            "(reposts left out) into a reproducible sample for coding (0 = none).",
            min=0,
        ),
    ] = 0,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the sample; the same seed draws the same posts.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the last unfinished crawl of the same accounts and dates (stopped, "
            "interrupted or killed) after the last pages it had stored.",
        ),
    ] = False,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Only posts after each account's crawled-up-to mark (left by the last crawl "
            "that finished cleanly; see `smcat db export accounts`); accounts without one are "
            "crawled in full.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Profiles and timelines of Weibo accounts, with long texts in full: through m.weibo.cn,
    or weibo.com's API when a Weibo cookie is configured (SMCAT_WEIBO_COOKIE)."""
    if sample_per_month and seed is None:
        raise typer.BadParameter(
            "give --seed so that the sample can be drawn again", param_hint="--seed"
        )
    bad = [uid for uid in uids if not uid.isdigit()]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not a numeric Weibo uid", param_hint="UIDS")
    arguments = {
        "uids": ",".join(uids),
        "since": _day(since, "--since"),
        "until": _day(until, "--until"),
        "max_pages": max_pages,
    }
    resolved = settings(db=db)
    if new:
        with Store.open(resolved.db) as store:
            marks = store.crawled_up_to("weibo", uids)
        arguments["after"] = json.dumps(marks) if marks else ""
        for uid in uids:
            stdout.print(f"{uid}: " + (f"after {marks[uid]}" if uid in marks else "no mark: all"))
    if resume:
        described = WeiboUserSpider.describe(
            uids, arguments["since"], arguments["until"], arguments.get("after", "")
        )
        if found := _resumption(resolved.db, WeiboUserSpider.name, described):
            crawl_id, checkpoint = found
            arguments["resume_crawl_id"] = crawl_id
            arguments["resume_from"] = ",".join(f"{k}:{v}" for k, v in checkpoint.items())
    records = run_spiders([(WeiboUserSpider, arguments)], resolved)
    report(records)
    if sample_per_month and seed is not None:  # the seed was required above
        with Store.open(resolved.db) as store:
            sample = monthly_sample(
                store, "weibo", uids, k=sample_per_month, seed=seed,
                since=arguments["since"], until=arguments["until"],
            )  # fmt: skip
        stdout.print(f"sample {sample.sample_id}: {len(sample.posts)} posts")
        for (account, month), count in sample.per_group.items():
            stdout.print(f"  {account} {month}: {count}")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: str | None, flag: str) -> float:
    """A duration such as 30s, 10m, 2h or 1d, in seconds (0 when not given)."""
    if value is None:
        return 0.0
    number, unit = value[:-1], value[-1:].lower()
    if unit not in _UNITS or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise typer.BadParameter(
            f"{value!r} is not a duration: use e.g. 30s, 10m, 2h, 1d", param_hint=flag
        )
    return float(number) * _UNITS[unit]


@crawl_app.command("weibo-hot")
def weibo_hot(
    every: Annotated[
        str | None, typer.Option("--every", help="Take a snapshot this often (30s, 10m, 1h).")
    ] = None,
    for_: Annotated[
        str | None, typer.Option("--for", help="Keep taking snapshots this long (2h, 1d).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Weibo's hot-search list into hot_search: one snapshot, or --every N --for T."""
    if (every is None) != (for_ is None):
        raise typer.BadParameter("give --every and --for together", param_hint="--every/--for")
    arguments = {"every": _seconds(every, "--every"), "duration": _seconds(for_, "--for")}
    report(run_spiders([(WeiboHotSpider, arguments)], settings(db=db)))


class CommentsApi(StrEnum):
    """Where weibo-comments reads comments from."""

    auto = "auto"
    mobile = "mobile"
    web = "web"
    wap = "wap"


@crawl_app.command("weibo-comments")
def weibo_comments(
    post_ids: Annotated[
        list[str], typer.Argument(help="Numeric ids (mid) of Weibo posts.", show_default=False)
    ],
    replies: RepliesOption = False,
    pseudonymize: PseudonymizeOption = False,
    max_pages: CommentPagesOption = 0,
    api: Annotated[
        CommentsApi,
        typer.Option(
            help="auto (weibo.com with a cookie, else m.weibo.cn), mobile, web, or wap "
            "(weibo.cn's HTML pages; needs a weibo.cn cookie)."
        ),
    ] = CommentsApi.auto,
    db: DbOption = None,
) -> None:
    """Comments of Weibo posts, every page, replies on request: through m.weibo.cn, or
    weibo.com's API when a Weibo cookie is configured (SMCAT_WEIBO_COOKIE)."""
    bad = [post_id for post_id in post_ids if not post_id.isdigit()]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not a numeric post id", param_hint="POST_IDS")
    resolved = settings(db=db)
    if api in (CommentsApi.web, CommentsApi.wap) and not weibo_cookie(resolved):
        raise SmcatError(f"--api {api.value} needs a Weibo cookie: set SMCAT_WEIBO_COOKIE")
    if pseudonymize:
        Pseudonymizer(resolved.pseudonym_salt)  # a missing salt fails here, before any request
    arguments = {"post_ids": ",".join(post_ids), "replies": replies, "max_pages": max_pages}
    arguments["api"] = api.value
    overrides = {"SMCAT_PSEUDONYMIZE": pseudonymize}
    report(run_spiders([(WeiboCommentsSpider, arguments)], resolved, overrides))


@crawl_app.command("weibo-search")
def weibo_search(
    keywords: Annotated[
        list[str],
        typer.Argument(
            help='Keywords or #topics# (quote them: "#澜蔻春日焕新#"); each is searched alone.',
            show_default=False,
        ),
    ],
    since: Annotated[str, typer.Option(help="First day searched (YYYY-MM-DD, China time).")],
    until: Annotated[str, typer.Option(help="Last day searched (YYYY-MM-DD).")],
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the last unfinished search of the same keywords and dates, skipping "
            "the time windows it had finished.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Every post Weibo's search (s.weibo.com) finds for each keyword within the days given.
    Weibo shows at most about 50 pages of a query, so windows that reach it are searched day by
    day, then hour by hour; posts found twice are kept once. Needs a Weibo cookie."""
    words = [k.strip() for k in keywords if k.strip()]
    if not words:
        raise typer.BadParameter("give at least one keyword", param_hint="KEYWORDS")
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and first > last:
        raise typer.BadParameter(f"--since {first} is after --until {last}", param_hint="--since")
    arguments: dict[str, Any] = {
        "keywords": json.dumps(words, ensure_ascii=False), "since": first, "until": last,
    }  # fmt: skip
    resolved = settings(db=db)
    if not 2 <= resolved.weibo_search_split_at <= PAGE_CAP:
        raise SmcatError(f"weibo_search_split_at must be 2 to {PAGE_CAP} (pages listed)")
    if not weibo_cookie(resolved):
        raise SmcatError(
            "Weibo's search needs a signed-in cookie: set SMCAT_WEIBO_COOKIE or weibo_cookie_file"
        )
    if resume:
        described = WeiboSearchSpider.describe(words, first, last, resolved.weibo_search_split_at)
        _resume_arguments(arguments, resolved.db, WeiboSearchSpider.name, described)
    report(run_spiders([(WeiboSearchSpider, arguments)], resolved))


@crawl_app.command("douyin-user")
def douyin_user(
    sec_uids: Annotated[
        list[str],
        typer.Argument(
            help="Creators' sec_uids (the MS4wLjABAAAA... in douyin.com/user/<sec_uid>).",
            show_default=False,
        ),
    ],
    max_pages: Annotated[
        int, typer.Option(help="Stop each post list after N pages (0 = all).")
    ] = 0,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the last unfinished crawl of the same creators (stopped, interrupted "
            "or killed) after the last pages it had stored.",
        ),
    ] = False,
    browser: BrowserOption = False,
    db: DbOption = None,
) -> None:
    """Profiles and posts of Douyin creators through douyin.com's web API, with the counts of
    each post; a creator whose list falls short of the posts their profile counts is counted
    under `shortfall`. Douyin wants signed requests: see douyin_signer in the README, or use
    --browser."""
    if resume and browser:
        # a creator's page lists posts from the newest: it cannot start at a stored cursor
        raise typer.BadParameter("--resume works without --browser only", param_hint="--resume")
    resolved = settings(db=db)
    _douyin_signing(resolved, browser)
    arguments: dict[str, Any] = {
        "sec_uids": ",".join(sec_uids), "max_pages": max_pages, "browser": browser,
    }  # fmt: skip
    if resume:
        _resume_arguments(arguments, resolved.db, DouyinUserSpider.name,
                          DouyinUserSpider.describe(sec_uids))  # fmt: skip
    report(run_spiders([(DouyinUserSpider, arguments)], resolved))


@crawl_app.command("douyin-comments")
def douyin_comments(
    aweme_ids: Annotated[
        list[str],
        typer.Argument(
            help="Posts' aweme ids (the number in douyin.com/video/<aweme_id>).",
            show_default=False,
        ),
    ],
    replies: RepliesOption = False,
    pseudonymize: PseudonymizeOption = False,
    max_pages: CommentPagesOption = 0,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the last unfinished crawl of the same posts after the last pages "
            "it had stored with all their replies.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Comments of Douyin posts through douyin.com's web API, every page (cursor by cursor),
    replies on request. Douyin wants signed requests: see douyin_signer in the README."""
    bad = [aweme_id for aweme_id in aweme_ids if not aweme_id.isdigit()]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not a numeric aweme id", param_hint="AWEME_IDS")
    resolved = settings(db=db)
    load_signer(resolved.douyin_signer)
    if pseudonymize:
        Pseudonymizer(resolved.pseudonym_salt)  # a missing salt fails here, before any request
    arguments: dict[str, Any] = {
        "aweme_ids": ",".join(aweme_ids), "replies": replies, "max_pages": max_pages,
    }  # fmt: skip
    if resume:
        described = DouyinCommentsSpider.describe(aweme_ids, replies)
        _resume_arguments(arguments, resolved.db, DouyinCommentsSpider.name, described)
    overrides = {"SMCAT_PSEUDONYMIZE": pseudonymize}
    report(run_spiders([(DouyinCommentsSpider, arguments)], resolved, overrides))


@crawl_app.command("douyin-live")
def douyin_live(
    web_rid: Annotated[
        str,
        typer.Argument(help="The room's number in live.douyin.com/<web_rid>.", show_default=False),
    ],
    every: Annotated[
        str | None,
        typer.Option(
            "--every", help="Observe the room this often (30s, 1m) until it goes off air."
        ),
    ] = None,
    for_: Annotated[
        str | None,
        typer.Option("--for", help="Stop observing after this long (2h), at the latest."),
    ] = None,
    browser: BrowserOption = False,
    db: DbOption = None,
) -> None:
    """A Douyin live room's state (status, title, viewers now and in total, likes) into
    live_rooms and live_observations: once, or --every N until the room goes off air."""
    if not web_rid.isdigit():
        raise typer.BadParameter(f"{web_rid!r} is not a numeric web_rid", param_hint="WEB_RID")
    if for_ is not None and every is None:
        raise typer.BadParameter("--for needs --every", param_hint="--for")
    resolved = settings(db=db)
    _douyin_signing(resolved, browser)
    duration = _seconds(for_, "--for")
    arguments = {"web_rid": web_rid, "every": _seconds(every, "--every"), "duration": duration,
                 "browser": browser}  # fmt: skip
    report(run_spiders([(DouyinLiveSpider, arguments)], resolved))


@crawl_app.command("reparse")
def reparse_command(
    crawl: Annotated[
        int | None, typer.Option("--crawl", help="Only the payloads of this crawl (default: all).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Rebuild rows from the kept raw payloads with the current parsers, with no network."""
    with Store.open(settings(db=db).db) as store:
        if crawl is not None and store.crawl(crawl) is None:
            raise SmcatError(f"there is no crawl {crawl}: see `smcat db info` for the crawl ids")
        result = reparse(store, crawl_id=crawl)
        record = store.crawl(result.crawl_id)
    report([record] if record else [])


def _resume_arguments(
    arguments: dict[str, Any], db: Path, spider: str, described: dict[str, Any]
) -> None:
    """Add the crawl to resume and its checkpoints (as JSON) to a spider's arguments, if there
    is an unfinished crawl of these arguments."""
    if found := _resumption(db, spider, described):
        arguments["resume_crawl_id"], checkpoint = found
        arguments["resume_from"] = json.dumps(checkpoint, ensure_ascii=False)


def _resumption(
    db: Path, spider: str, described: dict[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    """The unfinished crawl of this spider with these arguments, and its checkpoints, if any."""
    with Store.open(db) as store:
        unfinished = store.unfinished_crawl(spider, described)
        if unfinished is None:
            stdout.print("nothing to resume with these arguments: starting a new crawl")
            return None
        checkpoint = store.checkpoint(unfinished.crawl_id)
    stdout.print(f"resuming crawl {unfinished.crawl_id} ({unfinished.status})")
    return unfinished.crawl_id, checkpoint


def report(records: list[CrawlRecord]) -> None:
    """Print how each crawl ended; fail (exit 1) if one did not finish cleanly."""
    for record in records:
        counts = ", ".join(f"{k} {v}" for k, v in record.counts.items())
        stdout.print(f"crawl {record.crawl_id} ({record.spider}): {record.status}; {counts}")
        if record.status != "finished":
            stdout.print(f"  why: {record.reason}")
    unfinished = [r for r in records if r.status != "finished"]
    if unfinished:
        first = unfinished[0]
        why = " ".join(str(first.reason).split())  # the error stays one line
        raise SmcatError(
            f"crawl {first.crawl_id} {first.status} ({why}): see `smcat db info` and the rejects "
            "table, then run the same command again"
        )
