"""The crawls as Python functions, with typed arguments: what `smcat crawl` runs.

    from crawler import crawl
    from smcat.config import load_settings

    result = crawl.weibo_user(load_settings(), ["5001000001"], since="2025-09-01")
    print(result.record.status, result.record.counts)

Each crawl is planned, then run. `plan_<crawl>(settings, ...)` checks the arguments and the
settings the crawl needs (cookie, signer, salt), and reads from the store what the run needs
(the unfinished crawl to resume, the crawled-up-to marks to start after), with no network.
`run(settings, plans)` runs the plans' spiders together and returns a `CrawlResult` for each;
the function named after a crawl (`weibo_user`, ...) plans it and runs it alone. Scrapy's
reactor starts only once in a process: a process calls `run` (or a crawl function) once, with
every crawl it makes planned and run together.

Days are `datetime.date`, or their text (2025-09-01; days are China time); durations are
`timedelta`. An argument that cannot be right raises `CrawlArgumentError`, naming the parameter;
a setting the crawl cannot do without raises `SmcatError`; both before any request. A crawl that
stops (blocked, a page it could not read) is not an error here: its record says how it ended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Concatenate, Literal, ParamSpec, get_args

from crawler.browser import find_chromium
from crawler.pseudonyms import PREFIX as PSEUDONYM_PREFIX
from crawler.pseudonyms import Pseudonymizer
from crawler.reparse import reparse as reparse_payloads
from crawler.runner import SpiderRun, run_spiders
from crawler.settings import weibo_cookie
from crawler.signing import load_signer
from crawler.spiders.base import SmcatSpider
from crawler.spiders.douyin_comments import DouyinCommentsSpider
from crawler.spiders.douyin_live import DouyinLiveSpider
from crawler.spiders.douyin_user import DouyinUserSpider, is_sec_uid
from crawler.spiders.weibo_comments import WeiboCommentsSpider
from crawler.spiders.weibo_hot import WeiboHotSpider
from crawler.spiders.weibo_search import WeiboSearchSpider, checked_split_at
from crawler.spiders.weibo_user import WeiboUserSpider
from smcat.config import Settings
from smcat.errors import SettingError, SmcatError
from smcat.sampling import MonthlySample, monthly_sample
from smcat.store import CrawlRecord, Store

__all__ = [
    "CrawlArgumentError", "CrawlPlan", "CrawlResult", "Day", "MonthlySampling",
    "WeiboCommentsApi", "WeiboUserApi",
    "douyin_comments", "douyin_live", "douyin_user", "plan_douyin_comments", "plan_douyin_live",
    "plan_douyin_user", "plan_weibo_comments", "plan_weibo_hot", "plan_weibo_search",
    "plan_weibo_user", "reparse", "run", "submit", "weibo_comments", "weibo_hot", "weibo_search",
    "weibo_user",
]  # fmt: skip

Day = date | str
"""A day: a date, or its text (2025-09-01)."""
WeiboUserApi = Literal["auto", "web", "mobile"]
"""weibo.com's API with a cookie, else m.weibo.cn (auto); or the one named."""
WeiboCommentsApi = Literal["auto", "mobile", "web", "wap"]
"""As WeiboUserApi, or weibo.cn's HTML pages (wap; needs a weibo.cn cookie)."""
P = ParamSpec("P")  # a plan's parameters after the settings


class CrawlArgumentError(SmcatError):
    """An argument of a crawl that cannot be right. `params` are the parameters the message
    names, the one to change first."""

    def __init__(self, message: str, *params: str) -> None:
        super().__init__(message)
        self.params = params


@dataclass(frozen=True)
class MonthlySampling:
    """A sample to draw once a crawl has finished: `per_month` of each account's own posts per
    calendar month, within the crawl's days."""

    platform: str
    accounts: tuple[str, ...]
    per_month: int
    seed: int
    since: str | None
    until: str | None


@dataclass(frozen=True)
class CrawlPlan:
    """A crawl ready to run: its spider, the spider's arguments and Scrapy settings for it alone;
    and what planning found: the unfinished crawl it resumes, the crawled-up-to marks (ISO
    times) it starts after, the sample to draw after it."""

    spider: type[SmcatSpider]
    arguments: Mapping[str, object]
    overrides: Mapping[str, object] = field(default_factory=dict)
    resumes: CrawlRecord | None = None
    after: Mapping[str, str] = field(default_factory=dict)
    sampling: MonthlySampling | None = None


@dataclass(frozen=True)
class CrawlResult:
    """How a crawl ended (its record in the store), and the sample drawn after it, if one was
    asked for and the crawl ran to its end (with rejects or not)."""

    record: CrawlRecord
    sample: MonthlySample | None = None


# -- planning --------------------------------------------------------------------------------


def plan_weibo_user(
    settings: Settings,
    uids: Sequence[str],
    *,
    since: Day | None = None,
    until: Day | None = None,
    max_pages: int = 0,
    api: WeiboUserApi = "auto",
    resume: bool = False,
    new: bool = False,
    sample_per_month: int = 0,
    seed: int | None = None,
) -> CrawlPlan:
    """Profiles and timelines of Weibo accounts (numeric uids), long texts in full, posts from
    `since` to `until` (days; either may be open). `max_pages` stops each timeline after so
    many pages (0: all). `resume` continues the last unfinished crawl of the same arguments
    after the pages it stored; `new` fetches only posts after each account's crawled-up-to mark
    (accounts without one in full). `sample_per_month` > 0 draws that many of each account's
    own posts per month into a reproducible sample under `seed`, once the crawl finished."""
    accounts = _numeric(uids, "uids", "Weibo uid")
    first, last = _days(since, until)
    _at_least(0, max_pages, "max_pages")
    _one_of(api, get_args(WeiboUserApi), "api")
    _at_least(0, sample_per_month, "sample_per_month")
    if sample_per_month and seed is None:
        raise CrawlArgumentError("give a seed, so that the sample can be drawn again", "seed")
    if api == "web" and not weibo_cookie(settings):
        raise SmcatError("weibo.com's API needs a Weibo cookie: set SMCAT_WEIBO_COOKIE")
    after: dict[str, str] = {}
    if new:
        with Store.open(settings.db) as store:
            after = store.crawled_up_to("weibo", accounts)
    described = WeiboUserSpider.describe(accounts, first, last, after)
    resumes, resuming = _resumption(settings, resume, WeiboUserSpider, described)
    arguments = {"uids": accounts, "since": first, "until": last, "max_pages": max_pages,
                 "api": api, "after": after, **resuming}  # fmt: skip
    sampling = None
    if sample_per_month and seed is not None:
        sampling = MonthlySampling("weibo", tuple(accounts), sample_per_month, seed, first, last)
    return CrawlPlan(WeiboUserSpider, arguments, resumes=resumes, after=after, sampling=sampling)


def plan_weibo_search(
    settings: Settings, keywords: Sequence[str], *, since: Day, until: Day, resume: bool = False
) -> CrawlPlan:
    """Every post Weibo's search finds for each keyword (or #topic#), searched alone, from
    `since` to `until`. Weibo lists at most about 50 pages of a query, so windows that reach
    `settings.weibo_search_split_at` pages are searched by day, then by hour. `resume` skips
    the windows the last unfinished search of the same arguments finished. Needs a Weibo
    cookie."""
    words = [keyword.strip() for keyword in keywords if keyword.strip()]
    if not words:
        raise CrawlArgumentError("give at least one keyword", "keywords")
    first, last = _days(since, until)
    split_at = checked_split_at(settings.weibo_search_split_at)
    if not weibo_cookie(settings):
        raise SmcatError(
            "Weibo's search needs a signed-in cookie: set SMCAT_WEIBO_COOKIE or weibo_cookie_file"
        )
    described = WeiboSearchSpider.describe(words, first, last, split_at)
    resumes, resuming = _resumption(settings, resume, WeiboSearchSpider, described)
    arguments = {"keywords": words, "since": first, "until": last, **resuming}
    return CrawlPlan(WeiboSearchSpider, arguments, resumes=resumes)


def plan_weibo_hot(
    settings: Settings, *, every: timedelta | None = None, duration: timedelta | None = None
) -> CrawlPlan:
    """Weibo's hot-search list: one snapshot, or one `every` so often for `duration`."""
    if (every is None) != (duration is None):
        raise CrawlArgumentError("give every and duration together", "every", "duration")
    arguments = {"every": _seconds(every, "every"), "duration": _seconds(duration, "duration")}
    return CrawlPlan(WeiboHotSpider, arguments)


def plan_weibo_comments(
    settings: Settings,
    post_ids: Sequence[str],
    *,
    replies: bool = False,
    pseudonymize: bool = False,
    max_pages: int = 0,
    api: WeiboCommentsApi = "auto",
) -> CrawlPlan:
    """The comments of Weibo posts (numeric mids), every page (`max_pages` > 0 stops each post
    there), and with `replies` every reply under each. `pseudonymize` stores commenters as
    keyed hashes, without names and without the raw pages (needs settings.pseudonym_salt)."""
    ids = _numeric(post_ids, "post_ids", "post id")
    _at_least(0, max_pages, "max_pages")
    _one_of(api, get_args(WeiboCommentsApi), "api")
    if api in ("web", "wap") and not weibo_cookie(settings):
        raise SmcatError(f"the {api} API needs a Weibo cookie: set SMCAT_WEIBO_COOKIE")
    _check_salt(settings, pseudonymize)
    _check_one_mode(settings, "weibo", pseudonymize)
    arguments = {"post_ids": ids, "replies": replies, "max_pages": max_pages, "api": api}
    return CrawlPlan(WeiboCommentsSpider, arguments, {"SMCAT_PSEUDONYMIZE": pseudonymize})


def plan_douyin_user(
    settings: Settings,
    sec_uids: Sequence[str],
    *,
    max_pages: int = 0,
    resume: bool = False,
    browser: bool = False,
) -> CrawlPlan:
    """Profiles and posts of Douyin creators (sec_uids), each post list page by page
    (`max_pages` > 0 stops there). `resume` goes on after the pages the last unfinished crawl
    of the same creators stored. Douyin wants signed requests: a signer (settings.douyin_signer),
    or with `browser` the site's own pages in Chromium (which cannot resume)."""
    creators = list(sec_uids)
    if not creators:
        raise CrawlArgumentError("give at least one sec_uid", "sec_uids")
    if bad := [creator for creator in creators if not is_sec_uid(creator)]:
        raise CrawlArgumentError(
            f"{bad[0]!r} is not a sec_uid (the MS4wLjABAAAA... in douyin.com/user/<sec_uid>)",
            "sec_uids",
        )
    _at_least(0, max_pages, "max_pages")
    if resume and browser:
        # a creator's page lists posts from the newest: it cannot start at a stored cursor
        raise CrawlArgumentError("resume works without browser only", "resume", "browser")
    _check_signing(settings, browser)
    described = DouyinUserSpider.describe(creators)
    resumes, resuming = _resumption(settings, resume, DouyinUserSpider, described)
    arguments = {"sec_uids": creators, "max_pages": max_pages, "browser": browser, **resuming}
    return CrawlPlan(DouyinUserSpider, arguments, resumes=resumes)


def plan_douyin_comments(
    settings: Settings,
    aweme_ids: Sequence[str],
    *,
    replies: bool = False,
    pseudonymize: bool = False,
    max_pages: int = 0,
    resume: bool = False,
) -> CrawlPlan:
    """The comments of Douyin posts (numeric aweme ids), every page (`max_pages` > 0 stops
    each post there), with `replies` every reply under each. `pseudonymize` as for Weibo's;
    `resume` goes on after the pages the last unfinished crawl of the same posts stored with
    all their replies. Douyin wants signed requests (settings.douyin_signer)."""
    ids = _numeric(aweme_ids, "aweme_ids", "aweme id")
    _at_least(0, max_pages, "max_pages")
    _check_signing(settings, browser=False)
    _check_salt(settings, pseudonymize)
    _check_one_mode(settings, "douyin", pseudonymize)
    described = DouyinCommentsSpider.describe(ids, replies)
    resumes, resuming = _resumption(settings, resume, DouyinCommentsSpider, described)
    arguments = {"aweme_ids": ids, "replies": replies, "max_pages": max_pages, **resuming}
    overrides = {"SMCAT_PSEUDONYMIZE": pseudonymize}
    return CrawlPlan(DouyinCommentsSpider, arguments, overrides, resumes=resumes)


def plan_douyin_live(
    settings: Settings,
    web_rid: str,
    *,
    every: timedelta | None = None,
    duration: timedelta | None = None,
    browser: bool = False,
) -> CrawlPlan:
    """A Douyin live room's state (live.douyin.com/<web_rid>): once, or every so often until
    it goes off the air, or `duration` has passed. Signed as for douyin_user, or with
    `browser` through the room's page in Chromium."""
    if not web_rid.isdigit():
        raise CrawlArgumentError(f"{web_rid!r} is not a numeric web_rid", "web_rid")
    if duration is not None and every is None:
        raise CrawlArgumentError("duration needs every", "duration", "every")
    _check_signing(settings, browser)
    arguments = {"web_rid": web_rid, "every": _seconds(every, "every"),
                 "duration": _seconds(duration, "duration"), "browser": browser}  # fmt: skip
    return CrawlPlan(DouyinLiveSpider, arguments)


# -- running ---------------------------------------------------------------------------------


def run(settings: Settings, plans: Sequence[CrawlPlan]) -> list[CrawlResult]:
    """Run the planned crawls together in this process (once per process: Scrapy's reactor
    does not start again), then draw the samples of those that finished."""
    runs = [SpiderRun(plan.spider, plan.arguments, plan.overrides) for plan in plans]
    records = run_spiders(runs, settings)
    results = []
    for plan, record in zip(plans, records, strict=True):
        sample = None
        if plan.sampling is not None and record.ran_to_end:
            with Store.open(settings.db) as store:
                sample = _draw(store, plan.sampling)
        results.append(CrawlResult(record, sample))
    return results


CLUSTER_SPIDERS = frozenset({
    WeiboUserSpider.name, WeiboCommentsSpider.name, WeiboSearchSpider.name, WeiboHotSpider.name,
    DouyinUserSpider.name, DouyinCommentsSpider.name, DouyinLiveSpider.name,
})  # fmt: skip
"""The crawls a cluster runs: those whose spiders keep no state that one worker would need
from another (checked with several workers in tests/test_cluster.py and
tests/test_cluster_spiders.py); weibo_hot and douyin_live as one round, not a schedule."""


def submit(settings: Settings, plans: Sequence[CrawlPlan]) -> list[CrawlRecord]:
    """Put the planned crawls into the shared frontier of the cluster in
    settings.cluster_redis, for `smcat worker`s to crawl and `smcat cluster ingest` to write
    and close; records them in the store (status running). Fetches nothing."""
    from crawler.cluster.submit import submit as submit_to_cluster  # scrapy-redis, when used

    for plan in plans:
        if plan.spider.name not in CLUSTER_SPIDERS:
            raise SmcatError(
                f"{plan.spider.name} crawls do not run in a cluster yet: run it without --cluster"
                " (and without cluster_redis in smcat.toml)"
            )
        if plan.arguments.get("every"):
            # a schedule is kept by the process that makes the requests: a submitter would wait
            # out the whole schedule, and every worker would keep it again
            raise CrawlArgumentError(
                "a cluster crawl is one round: run a schedule (every, duration) without --cluster",
                "every", "duration",
            )  # fmt: skip
        if plan.arguments.get("browser"):
            # a page held open in one worker's Chromium cannot be shared through the frontier
            raise CrawlArgumentError(
                "a cluster crawl asks Douyin's API itself: leave out browser (or run it "
                "without --cluster)",
                "browser",
            )
        if plan.resumes is not None or plan.sampling is not None:
            raise CrawlArgumentError(
                "a cluster crawl goes on from its frontier and draws no sample: leave out "
                "resume and sample_per_month",
                "resume", "sample_per_month",
            )  # fmt: skip
    runs = [(plan.spider, dict(plan.arguments), dict(plan.overrides)) for plan in plans]
    return submit_to_cluster(settings, settings.cluster_redis, runs)


def _now(
    plan: Callable[Concatenate[Settings, P], CrawlPlan],
) -> Callable[Concatenate[Settings, P], CrawlResult]:
    """The crawl that `plan` plans, run at once and alone, with the plan's parameters."""

    def crawl_now(settings: Settings, /, *args: P.args, **kwargs: P.kwargs) -> CrawlResult:
        (result,) = run(settings, [plan(settings, *args, **kwargs)])
        return result

    name = plan.__name__.removeprefix("plan_")
    crawl_now.__name__ = crawl_now.__qualname__ = name
    crawl_now.__doc__ = f"Plan the crawl (`{plan.__name__}`) and run it now, alone."
    return crawl_now


weibo_user = _now(plan_weibo_user)
weibo_search = _now(plan_weibo_search)
weibo_hot = _now(plan_weibo_hot)
weibo_comments = _now(plan_weibo_comments)
douyin_user = _now(plan_douyin_user)
douyin_comments = _now(plan_douyin_comments)
douyin_live = _now(plan_douyin_live)


def reparse(settings: Settings, *, crawl_id: int | None = None) -> CrawlResult:
    """Rebuild rows from the kept raw payloads (of one crawl, or all) with the current
    parsers, with no network; recorded as a crawl of its own."""
    with Store.open(settings.db) as store:
        if crawl_id is not None and store.crawl(crawl_id) is None:
            raise SmcatError(f"there is no crawl {crawl_id}: see `smcat db info` for the crawl ids")
        record = store.crawl(reparse_payloads(store, crawl_id=crawl_id).crawl_id)
    if record is None:  # reparse_payloads records its run
        raise SmcatError("the reparse was not recorded")
    return CrawlResult(record)


# -- the parts -------------------------------------------------------------------------------


def _numeric(ids: Sequence[str], name: str, what: str) -> list[str]:
    """Ids that must be numbers, given as a list (a lone string would be split into digits)."""
    if isinstance(ids, str):
        raise CrawlArgumentError(f"{name} must be a list of {what}s, not one string", name)
    listed = [str(value).strip() for value in ids]
    if not listed:
        raise CrawlArgumentError(f"give at least one {what}", name)
    if bad := [value for value in listed if not (value.isascii() and value.isdigit())]:
        raise CrawlArgumentError(f"{bad[0]!r} is not a numeric {what}", name)
    return listed


def _days(since: Day | None, until: Day | None) -> tuple[str | None, str | None]:
    """The days as YYYY-MM-DD, checked: real days, the first not after the last."""
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and first > last:
        raise CrawlArgumentError(f"since {first} is after until {last}", "since", "until")
    return first, last


def _day(value: Day | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # a date too, but a moment: which day it is depends on where
        raise CrawlArgumentError(f"{name} must be a day (a date), not a time", name)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise CrawlArgumentError(
            f"{name} must be a day like 2025-09-01, not {value!r}", name
        ) from None


def _seconds(value: timedelta | None, name: str) -> float:
    """A duration in seconds, as the spiders take it (0 when not given)."""
    if value is None:
        return 0.0
    if value <= timedelta(0):
        raise CrawlArgumentError(f"{name} must be longer than nothing, not {value}", name)
    return value.total_seconds()


def _at_least(least: int, value: int, name: str) -> None:
    if value < least:
        raise CrawlArgumentError(f"{name} must be {least} or more, not {value}", name)


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise CrawlArgumentError(f"{name} must be one of {', '.join(allowed)}, not {value!r}", name)


def _check_signing(settings: Settings, browser: bool) -> None:
    """Fail before any request if a Douyin crawl cannot sign: a signer that does not load, or in
    the browser a Chromium that is not there (the site's scripts sign then)."""
    if browser:
        find_chromium(settings.browser)
    else:
        load_signer(settings.douyin_signer)


def _check_salt(settings: Settings, pseudonymize: bool) -> None:
    """A missing or short salt fails here, before any request."""
    if pseudonymize:
        Pseudonymizer(settings.pseudonym_salt)


def _check_one_mode(settings: Settings, platform: str, pseudonymize: bool) -> None:
    """Refuse a comment crawl that would mix commenters under real ids and under pseudonyms in
    one database: a comment stored both ways would tie a pseudonym to the person, and a
    pseudonymised upsert would keep the earlier real name beside it."""
    with Store.open(settings.db) as store:  # the crawl makes the file anyway, as resume does
        pseudonymous, real = store.comment_authors(platform, PSEUDONYM_PREFIX)
    if pseudonymize and real:
        raise SettingError(
            f"{settings.db} holds {real:,} {platform} comments under their authors' real ids: "
            "pseudonymised comments go into a database of their own",
            db=None,
        )
    if not pseudonymize and pseudonymous:
        raise SettingError(
            f"{settings.db} holds {pseudonymous:,} {platform} comments under pseudonyms: crawl "
            "these pseudonymised too, or into another database",
            pseudonymize=True,
            db=None,
        )


def _resumption(
    settings: Settings, resume: bool, spider: type[SmcatSpider], described: Mapping[str, Any]
) -> tuple[CrawlRecord | None, dict[str, object]]:
    """If asked to resume: the last crawl of the spider with these arguments, if it did not
    finish, and the spider arguments that resume it after its checkpoints (none if there is
    no such crawl)."""
    if not resume:
        return None, {}
    with Store.open(settings.db) as store:
        record = store.unfinished_crawl(spider.name, described)
        if record is None:
            return None, {}
        checkpoint = store.checkpoint(record.crawl_id)
    return record, {"resume_crawl_id": record.crawl_id, "resume_from": checkpoint}


def _draw(store: Store, sampling: MonthlySampling) -> MonthlySample:
    return monthly_sample(
        store, sampling.platform, sampling.accounts, k=sampling.per_month, seed=sampling.seed,
        since=sampling.since, until=sampling.until,
    )  # fmt: skip
