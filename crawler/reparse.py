"""Rebuild rows from the kept raw payloads, with no network (`smcat crawl reparse`).

After a parser fix, or to audit a crawl, every kept response of status 200 is read again by
its endpoint (crawler.endpoints) and written through the same ItemWriter the crawl used, under
the crawl's own arguments (a since/until window still applies). Each row keeps the fetch time
of its payload, so observations that are already stored are not added twice. A payload that
no longer reads is kept as a reject with the reason, and the rest goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.endpoints import CrawlContext, Endpoint, LongText, match
from crawler.items import Item, PostItem, RejectItem
from crawler.parsers.weibo_posts import with_long_text
from crawler.writer import ItemWriter
from smcat.store import FINISHED, FINISHED_WITH_REJECTS, Store

REPARSE = "reparse"  # the spider name a reparse is recorded under
_COUNTS = ("responses", "parsed", "skipped", "failed", "stored", "rejected", "rejects_known")


@dataclass(frozen=True)
class ReparseResult:
    """What a reparse did: its own crawl id and counts of responses and rows."""

    crawl_id: int
    counts: dict[str, int]


class _CrawlRows:
    """The rows of one original crawl, written as that crawl wrote them: a post once, its full
    text joined to it where the crawl fetched one; a reject only if neither the crawl nor an
    earlier reparse of it stored the same one."""

    def __init__(self, store: Store, run_id: int, source: int | None, args: dict[str, Any]) -> None:
        self.store = store
        self.writer = ItemWriter(store, run_id)
        self.context = CrawlContext(args)
        self.long_posts: dict[str, PostItem] = {}
        self.full_texts: dict[str, str] = {}
        self.known_rejects = store.stored_rejects(source, REPARSE)
        self.rejects_known = 0

    def add(self, item: Item | LongText) -> None:
        if isinstance(item, RejectItem) and (
            self.store.reject_key(item.kind, item.reason, item.payload) in self.known_rejects
        ):
            self.rejects_known += 1
        elif isinstance(item, LongText):
            self.full_texts[item.key] = item.text
        elif isinstance(item, PostItem) and item.is_long_text:
            self.long_posts[item.post_id] = item
        else:
            self.writer.add(item)

    def finish(self, counts: Counter[str]) -> None:
        """Write the long posts (with their full text where it was fetched) and flush."""
        for post_id, post in self.long_posts.items():
            full = self.full_texts.get(post_id) or self.full_texts.get(post.extra.get("bid") or "")
            self.writer.add(with_long_text(post, full) if full else post)
        self.writer.flush()
        counts["stored"] += self.writer.written.stored
        counts["rejected"] += self.writer.written.rejected
        counts["rejects_known"] += self.rejects_known


def reparse(store: Store, *, crawl_id: int | None = None) -> ReparseResult:
    """Read the kept payloads (of one crawl, or all) again and write their rows; recorded as
    a crawl of its own, "stopped" if a payload did not read (its reject says why),
    "finished_with_rejects" if rows were rejected (those stored already are not stored
    again: counted under "rejects_known")."""
    run_id = store.start_crawl(REPARSE, {"crawl_id": crawl_id})
    counts: Counter[str] = Counter(dict.fromkeys(_COUNTS, 0))
    rows: _CrawlRows | None = None
    source: int | None = None
    for raw in store.raw_responses(crawl_id):
        counts["responses"] += 1
        if rows is None or raw["crawl_id"] != source:
            # one writer per original crawl: a post is observed once per crawl, as it was
            if rows is not None:
                rows.finish(counts)
            source = raw["crawl_id"]
            record = store.crawl(source) if source is not None else None
            rows = _CrawlRows(store, run_id, source, record.args if record else {})
        matched = match(raw["url"])
        if raw["status"] != 200 or matched is None:
            counts["skipped"] += 1  # error pages never yield rows; no parser reads the others
            continue
        endpoint, values = matched
        try:
            items = _read(endpoint, raw, values, rows.context)
        except Exception as error:  # whatever a payload fails with is its reject
            counts["failed"] += 1
            payload = {"url": raw["url"], "status": raw["status"], "raw_response": raw["id"]}
            rows.add(RejectItem.of(f"{endpoint.platform}_response", error, payload))
            continue
        counts["parsed"] += 1
        for item in items:
            rows.add(item)
    if rows is not None:
        rows.finish(counts)
    if counts["failed"]:
        store.finish_crawl(
            run_id, "stopped", f"{counts['failed']} payload(s) did not parse", dict(counts)
        )
    else:
        rejected = counts["rejected"] + counts["rejects_known"]
        status = FINISHED_WITH_REJECTS if rejected else FINISHED
        store.finish_crawl(run_id, status, "finished", dict(counts))
    return ReparseResult(run_id, dict(counts))


def _read(
    endpoint: Endpoint, raw: dict[str, Any], values: dict[str, str], context: CrawlContext
) -> list[Item | LongText]:
    payload = raw["body"].decode("utf-8") if endpoint.html else json.loads(raw["body"])
    return list(endpoint.read(payload, datetime.fromisoformat(raw["fetched_at"]), values, context))
