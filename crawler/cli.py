"""`smcat crawl`: capture posts, accounts and live rooms into the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from crawler import crawl
from crawler.crawl import CrawlArgumentError, CrawlPlan, CrawlResult
from smcat.cli_common import DbOption, naming_options, settings, stdout, sub_cli
from smcat.config import Settings
from smcat.errors import SmcatError
from smcat.store import CrawlRecord

crawl_app = sub_cli()

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
# the option of the crawls that can run in a cluster (crawl.CLUSTER_SPIDERS)
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Do not crawl here: put the crawl into this cluster's shared frontier "
        "(redis://:PASSWORD@HOST:6379/0) for `smcat worker`s (default: cluster_redis "
        "in smcat.toml, if set).",
        show_default=False,
    ),
]
# the option of the Douyin crawls that can read the site's own pages
BrowserOption = Annotated[
    bool,
    typer.Option(
        "--browser",
        help="Open the site's pages in headless Chromium and read the API answers they get, "
        "signed by the site's own scripts: no signer needed (see the README).",
    ),
]


# the API's parameters as the options that set them, for its errors to name
_FLAGS = {
    "since": "--since", "until": "--until", "max_pages": "--max-pages", "seed": "--seed",
    "sample_per_month": "--sample-per-month", "resume": "--resume", "new": "--new",
    "every": "--every", "duration": "--for", "browser": "--browser", "api": "--api",
}  # fmt: skip
# where a comment crawl would mix pseudonymised and real commenters in one database
_COMMENT_OPTIONS = {"pseudonymize": "--pseudonymize", "db": "--db"}


@contextmanager
def _usage() -> Iterator[None]:
    """A crawl argument that cannot be right as bad usage (exit 2), in the words of the command
    line: the parameters it names become their options."""
    try:
        yield
    except CrawlArgumentError as error:
        message = str(error)
        for param in error.params:
            if param in _FLAGS:
                message = re.sub(rf"\b{param}\b", _FLAGS[param], message)
        first = error.params[0] if error.params else ""
        raise typer.BadParameter(message, param_hint=_FLAGS.get(first, first.upper())) from None


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
    cluster: ClusterOption = None,
) -> None:
    """Profiles and timelines of Weibo accounts, with long texts in full: through m.weibo.cn,
    or weibo.com's API when a Weibo cookie is configured (SMCAT_WEIBO_COOKIE)."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage():
        plan = crawl.plan_weibo_user(
            resolved, uids, since=since, until=until, max_pages=max_pages, resume=resume,
            new=new, sample_per_month=sample_per_month, seed=seed,
        )  # fmt: skip
    if new:
        for uid in uids:
            mark = plan.after.get(uid)
            stdout.print(f"{uid}: " + (f"after {mark}" if mark else "no mark: all"))
    result = _run(resolved, plan, resume, resumable=True)
    if result.sample is not None:
        stdout.print(f"sample {result.sample.sample_id}: {len(result.sample.posts)} posts")
        for (account, month), count in result.sample.per_group.items():
            stdout.print(f"  {account} {month}: {count}")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str | None, flag: str) -> timedelta | None:
    """A duration such as 30s, 10m, 2h or 1d."""
    if value is None:
        return None
    number, unit = value[:-1], value[-1:].lower()
    if unit not in _UNITS or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise typer.BadParameter(
            f"{value!r} is not a duration: use e.g. 30s, 10m, 2h, 1d", param_hint=flag
        )
    return timedelta(seconds=float(number) * _UNITS[unit])


@crawl_app.command("weibo-hot")
def weibo_hot(
    every: Annotated[
        str | None, typer.Option("--every", help="Take a snapshot this often (30s, 10m, 1h).")
    ] = None,
    for_: Annotated[
        str | None, typer.Option("--for", help="Keep taking snapshots this long (2h, 1d).")
    ] = None,
    db: DbOption = None,
    cluster: ClusterOption = None,
) -> None:
    """Weibo's hot-search list into hot_search: one snapshot, or --every N --for T."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage():
        plan = crawl.plan_weibo_hot(
            resolved, every=_duration(every, "--every"), duration=_duration(for_, "--for")
        )
    _run(resolved, plan)


@crawl_app.command("weibo-comments")
def weibo_comments(
    post_ids: Annotated[
        list[str], typer.Argument(help="Numeric ids (mid) of Weibo posts.", show_default=False)
    ],
    replies: RepliesOption = False,
    pseudonymize: PseudonymizeOption = False,
    max_pages: CommentPagesOption = 0,
    api: Annotated[
        crawl.WeiboCommentsApi,
        typer.Option(
            help="auto (weibo.com with a cookie, else m.weibo.cn), mobile, web, or wap "
            "(weibo.cn's HTML pages; needs a weibo.cn cookie)."
        ),
    ] = "auto",
    db: DbOption = None,
    cluster: ClusterOption = None,
) -> None:
    """Comments of Weibo posts, every page, replies on request: through m.weibo.cn, or
    weibo.com's API when a Weibo cookie is configured (SMCAT_WEIBO_COOKIE)."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage(), naming_options(**_COMMENT_OPTIONS):
        plan = crawl.plan_weibo_comments(
            resolved, post_ids, replies=replies, pseudonymize=pseudonymize, max_pages=max_pages,
            api=api,
        )  # fmt: skip
    _run(resolved, plan)


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
    cluster: ClusterOption = None,
) -> None:
    """Every post Weibo's search (s.weibo.com) finds for each keyword within the days given.
    Weibo shows at most about 50 pages of a query, so windows that reach it are searched day by
    day, then hour by hour; posts found twice are kept once. Needs a Weibo cookie."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage():
        plan = crawl.plan_weibo_search(resolved, keywords, since=since, until=until, resume=resume)
    _run(resolved, plan, resume, resumable=True)


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
    cluster: ClusterOption = None,
) -> None:
    """Profiles and posts of Douyin creators through douyin.com's web API, with the counts of
    each post; a creator whose list falls short of the posts their profile counts is counted
    under `shortfall`. Douyin wants signed requests: see douyin_signer in the README, or use
    --browser."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage():
        plan = crawl.plan_douyin_user(
            resolved, sec_uids, max_pages=max_pages, resume=resume, browser=browser
        )
    _run(resolved, plan, resume, resumable=True)


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
    cluster: ClusterOption = None,
) -> None:
    """Comments of Douyin posts through douyin.com's web API, every page (cursor by cursor),
    replies on request. Douyin wants signed requests: see douyin_signer in the README."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage(), naming_options(**_COMMENT_OPTIONS):
        plan = crawl.plan_douyin_comments(
            resolved, aweme_ids, replies=replies, pseudonymize=pseudonymize, max_pages=max_pages,
            resume=resume,
        )  # fmt: skip
    _run(resolved, plan, resume, resumable=True)


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
    cluster: ClusterOption = None,
) -> None:
    """A Douyin live room's state (status, title, viewers now and in total, likes) into
    live_rooms and live_observations: once, or --every N until the room goes off air."""
    resolved = settings(db=db, cluster_redis=cluster)
    with _usage():
        plan = crawl.plan_douyin_live(
            resolved, web_rid, every=_duration(every, "--every"),
            duration=_duration(for_, "--for"), browser=browser,
        )  # fmt: skip
    _run(resolved, plan)


@crawl_app.command("reparse")
def reparse_command(
    crawl_id: Annotated[
        int | None, typer.Option("--crawl", help="Only the payloads of this crawl (default: all).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Rebuild rows from the kept raw payloads with the current parsers, with no network."""
    report([crawl.reparse(settings(db=db), crawl_id=crawl_id).record])


def _run(
    resolved: Settings, plan: CrawlPlan, resume: bool = False, *, resumable: bool = False
) -> CrawlResult:
    """Say what the plan resumes (if asked to resume), run it, and report how it ended;
    `resumable`: the command takes --resume."""
    if resolved.cluster_redis:
        with _usage():
            (record,) = crawl.submit(resolved, [plan])
        stdout.print(
            f"crawl {record.crawl_id} ({record.spider}): submitted to the cluster; "
            "`smcat worker` crawls it, `smcat cluster ingest` writes and closes it"
        )
        return CrawlResult(record)
    if resume and (resumed := plan.resumes) is not None:
        stdout.print(f"resuming crawl {resumed.crawl_id} ({resumed.status})")
    elif resume:
        stdout.print("nothing to resume with these arguments: starting a new crawl")
    (result,) = crawl.run(resolved, [plan])
    report([result.record], resumable=resumable)
    return result


def report(records: list[CrawlRecord], *, resumable: bool = False) -> None:
    """Print how each crawl ended; fail (exit 1) if one did not run to its end, or had a page
    whose rows were all rejected (a markup change must never look like success)."""
    for record in records:
        counts = ", ".join(f"{k} {v}" for k, v in record.counts.items())
        stdout.print(f"crawl {record.crawl_id} ({record.spider}): {record.status}; {counts}")
        if not record.ran_to_end:
            stdout.print(f"  why: {record.reason}")
    again = "run the same command again" + (" with --resume" if resumable else "")
    if unfinished := [r for r in records if not r.ran_to_end]:
        first = unfinished[0]
        why = " ".join(str(first.reason).split())  # the error stays one line
        raise SmcatError(
            f"crawl {first.crawl_id} {first.status} ({why}): see `smcat db info` and the rejects "
            f"table, then {again}"
        )
    if unread := [r for r in records if r.pages_all_rejected]:
        first = unread[0]
        raise SmcatError(
            f"crawl {first.crawl_id}: {first.pages_all_rejected} page(s) stored nothing it could "
            "read (every row rejected): the site's markup or answer shape has likely changed; "
            "see why with `smcat db export rejects`"
        )
