"""Politeness holds for the cluster, not per worker: several worker processes keep the site's
delay and the cookie's rate between them (timed at the replay server), and a cookie that
Weibo answers 418 is benched and its request goes out with another."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from crawler.cluster.status import cluster_status
from smcat.demo.replay import ReplayServer
from tests import cluster_support
from tests.cluster_support import finish, start
from tests.test_cluster import BRANDS, crawl_settings

JITTER = 0.02  # seconds: from a claimed turn to the server's clock, on a quiet machine
LATE = 0.35  # seconds a request may be late on this shared 2-core machine (measured: 0.28)

redis_url = cluster_support.redis_url  # the fixture: a Redis server of the test's own


def run_cluster(smcat, server: ReplayServer, tmp_path: Path, url: str, uids: tuple[str, ...],
                workers: int, watch: Callable[[], None] | None = None,
                **more: object) -> str:  # fmt: skip
    """Submit a weibo-user crawl, run it with `workers` workers and a writer (calling `watch`
    while it runs); the writer's output. No process shows a stand-in cookie."""
    db = tmp_path / "cluster.db"
    settings = crawl_settings(server, cluster_redis=url, **more)
    submitted = smcat("crawl", "weibo-user", *uids, "--db", str(db), **settings)
    assert submitted.returncode == 0, submitted.stderr
    running = [start(tmp_path, "worker", "--until-done", "--name", f"w{n}", **settings)
               for n in range(workers)]  # fmt: skip
    writer = start(tmp_path, "cluster", "ingest", "--db", str(db), "--until-done", **settings)
    while watch is not None and writer.poll() is None:
        watch()
        time.sleep(0.05)
    out = finish(writer)
    for worker in running:
        shown = worker.communicate(timeout=60)
        assert worker.returncode == 0, shown[1]
        assert "stand-in" not in "".join(shown)
    return out


def assert_spaced(times: list[float], interval: float) -> None:
    """Requests at least `interval` apart: the typical gap is the interval, and a request late
    (a busy machine: the process did not run at its turn) pushes the next one back, so that
    no run of four requests, late ones included, comes faster than three intervals allow."""
    ordered = sorted(times)
    gaps = sorted(b - a for a, b in pairwise(ordered))
    assert gaps[len(gaps) // 2] >= interval - JITTER, gaps
    spans = [ordered[i + 3] - ordered[i] for i in range(len(ordered) - 3)]
    assert min(spans) >= 3 * interval - LATE, spans


def test_three_workers_keep_the_site_delay_between_them(smcat, demo_server, redis_url, tmp_path):
    run_cluster(smcat, demo_server, tmp_path, redis_url, BRANDS, 3, download_delay=0.3)
    times = [hit.time for hit in demo_server.hits]
    assert len(times) == 14
    assert_spaced(times, 0.3)


def test_three_workers_with_one_cookie_fetch_at_the_cookie_rate(
    smcat,
    demo_server,
    redis_url,
    tmp_path,
):
    cookie = tmp_path / "cookie.txt"
    cookie.write_text("SUB=stand-in-cookie-a\n", encoding="utf-8")
    added = smcat("cluster", "add-cookie", "weibo", str(cookie), cluster_redis=redis_url)
    assert added.returncode == 0, added.stderr
    assert "stand-in" not in added.stdout  # shown by its id only
    run_cluster(smcat, demo_server, tmp_path, redis_url, BRANDS, 3, cookie_interval=0.3)
    sent = [hit for hit in demo_server.hits if hit.cookie == "SUB=stand-in-cookie-a"]
    assert len(sent) == 14  # every request carried the pool's cookie
    assert_spaced([hit.time for hit in sent], 0.3)
    # the cookie lives in Redis only
    assert b"stand-in" not in (tmp_path / "cluster.db").read_bytes()


def test_a_cookie_answered_418_is_benched_and_its_request_goes_out_with_another(
    smcat,
    faults_server,
    redis_url,
    tmp_path,
):
    for name in ("a", "b"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"SUB=stand-in-cookie-{name}", encoding="utf-8")
        assert (
            smcat("cluster", "add-cookie", "weibo", str(path), cluster_redis=redis_url).returncode
            == 0
        )
    # timeline page 1 answers 418 twice: each time the cookie is benched and the next try
    # goes out with the other; with both benched the request waits for the first to return,
    # and `cluster status` says why
    waiting: set[str] = set()

    def watch() -> None:
        waiting.update(crawl.waiting for crawl in cluster_status(redis_url).crawls if crawl.waiting)

    out = run_cluster(smcat, faults_server, tmp_path, redis_url, ("5001000003",), 2, watch,
                      cookie_cooloff=2)  # fmt: skip
    assert "finished" in out
    assert waiting == {"waiting: all 2 weibo cookie(s) benched after 418/432 or a login page"}
    tries = [hit for hit in faults_server.hits if hit.route == "timeline-5001000003-p1"]
    assert [hit.status for hit in tries] == [418, 418, 200]
    first, second, third = (hit.cookie for hit in tries)
    assert first != second and third == first
    assert third is not None and tries[2].time - tries[0].time >= 2 - JITTER  # its cool-off


def test_a_page_that_wants_a_login_with_every_cookie_is_recorded_as_a_local_crawl_does(
    smcat, faults_server, redis_url, tmp_path
):
    for name in ("a", "b"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"SUB=stand-in-cookie-{name}", encoding="utf-8")
        assert (
            smcat("cluster", "add-cookie", "weibo", str(path), cluster_redis=redis_url).returncode
            == 0
        )
    # timeline page 1 always redirects to the login page: each cookie is benched in turn and
    # the page asked again with the other, as often as a request is retried (2), then the
    # spider records the login page and the crawl stops, naming it. The cool-off is long
    # enough that a busy machine's slow retry still finds the first cookie benched
    out = run_cluster(smcat, faults_server, tmp_path, redis_url, ("5001000007",), 2,
                      cookie_cooloff=3, retry_times=2)  # fmt: skip
    assert "stopped" in out
    tries = [hit.cookie for hit in faults_server.hits if hit.route == "timeline-5001000007-p1"]
    assert len(tries) == 3 and tries[0] != tries[1] and tries[2] == tries[0]
    with sqlite3.connect(tmp_path / "cluster.db") as connection:
        (reason,) = connection.execute("SELECT reason FROM crawls").fetchone()
        rejects = [r for (r,) in connection.execute("SELECT reason FROM rejects")]
    assert "login page" in reason and any("login page" in r for r in rejects)
