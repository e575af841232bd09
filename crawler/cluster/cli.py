"""`smcat worker` and `smcat cluster`: crawling from several machines (see crawler.cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from crawler.cluster.ingest import BATCH_SIZE, IngestRun, ingest
from crawler.cluster.status import add_cookie, cluster_status
from crawler.cluster.worker import run_worker
from smcat.cli_common import DbOption, settings, stderr, stdout, sub_cli
from smcat.config import Settings
from smcat.errors import SmcatError

ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="The cluster's Redis: redis://:PASSWORD@HOST:6379/0, or rediss:// for TLS "
        "(default: SMCAT_CLUSTER_REDIS, else cluster_redis in smcat.toml).",
        show_default=False,
    ),
]

worker_app = typer.Typer(add_completion=False, invoke_without_command=True)
cluster_app = sub_cli()


def _url(resolved: Settings) -> str:
    if not resolved.cluster_redis:
        raise SmcatError(
            "no cluster named: give --cluster redis://:PASSWORD@HOST:6379/0 or set cluster_redis"
        )
    return resolved.cluster_redis


@worker_app.callback()
def worker(
    cluster: ClusterOption = None,
    until_done: Annotated[
        bool,
        typer.Option("--until-done", help="Stop once no crawl is open (else run until Ctrl-C)."),
    ] = False,
    name: Annotated[
        str | None, typer.Option(help="This worker's name in `cluster status` (default: HOST-PID).")
    ] = None,
) -> None:
    """Crawl from the cluster's shared frontier: every crawl submitted with `smcat crawl ...
    --cluster`, with the site delays and cookie pool shared by all workers. Results go to
    Redis, for `smcat cluster ingest` to write."""
    resolved = settings(cluster_redis=cluster)
    run = run_worker(
        resolved, _url(resolved), until_done=until_done, name=name,
        on_start=lambda crawl_id, spider: stderr.print(f"crawl {crawl_id} ({spider}): crawling"),
    )  # fmt: skip
    for crawl_id, reason in sorted(run.crawls.items()):
        stdout.print(f"worker {run.worker}: crawl {crawl_id}: {reason}")


@cluster_app.command("ingest")
def ingest_command(
    cluster: ClusterOption = None,
    db: DbOption = None,
    until_done: Annotated[
        bool,
        typer.Option("--until-done", help="Stop once no crawl is open and nothing is queued."),
    ] = False,
    batch: Annotated[
        int, typer.Option(help="Messages written per SQLite transaction.", min=1)
    ] = BATCH_SIZE,
) -> None:
    """Write what the workers crawled into the project database (run one, beside the
    database), and close each crawl once its frontier is empty and no worker holds a request
    of it."""
    resolved = settings(db=db, cluster_redis=cluster)

    def progress(run: IngestRun) -> None:
        if stderr.is_terminal:
            stderr.print(f"{run.messages:,} messages written in {run.batches:,} batches", end="\r")

    run = ingest(resolved, _url(resolved), until_done=until_done, batch=batch, on_batch=progress)
    stdout.print(f"{run.messages:,} messages written; {run.requeued} requests put back")
    for crawl_id, status in sorted(run.closed.items()):
        stdout.print(f"crawl {crawl_id}: {status}")


@cluster_app.command("status")
def status_command(cluster: ClusterOption = None) -> None:
    """Open crawls (frontier, requests held by workers), items waiting for the writer, workers
    seen in the last minute, and the cookie pool."""
    resolved = settings(cluster_redis=cluster)
    state = cluster_status(_url(resolved))
    if not state.crawls:
        stdout.print("no open crawl")
    for crawl in state.crawls:
        line = (
            f"crawl {crawl.crawl_id} ({crawl.spider}): {crawl.frontier:,} requests in the "
            f"frontier, {crawl.held:,} held by workers"
        )
        stdout.print(line)
        for note in (crawl.stopped and f"stopped: {crawl.stopped}", crawl.waiting):
            if note:
                stdout.print(f"  {escape(note)}")
    stdout.print(f"items waiting for the writer: {state.items_waiting:,}")
    stdout.print(f"workers seen in the last minute: {len(state.workers)}"
                 + (f" ({escape(', '.join(state.workers))})" if state.workers else ""))  # fmt: skip
    for cookie in state.cookies:
        rest = f"benched for {cookie.benched_for:.0f} s" if cookie.benched_for else "in use"
        stdout.print(f"cookie {cookie.platform} {cookie.cookie_id}: {rest}")
    if not state.cookies:
        stdout.print("no cookie in the pool")


@cluster_app.command("add-cookie")
def add_cookie_command(
    platform: Annotated[str, typer.Argument(help="weibo or douyin.")],
    file: Annotated[
        Path, typer.Argument(help="A file holding the Cookie header of a signed-in session.")
    ],
    cluster: ClusterOption = None,
) -> None:
    """Add a signed-in cookie to the cluster's pool. It lives in Redis only: never logged,
    never written to the database."""
    resolved = settings(cluster_redis=cluster)
    cookie_id = add_cookie(_url(resolved), platform, file)
    stdout.print(f"cookie {platform} {cookie_id} added")
