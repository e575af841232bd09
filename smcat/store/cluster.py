"""What the cluster's one writer (`smcat cluster ingest`) needs of the store: which batches it
wrote already, and which posts and comments a crawl observed already."""

from __future__ import annotations

from smcat.store.engine import Engine, _now


class ClusterBatches(Engine):
    """Ingested batches, and a crawl's observations so far."""

    def batch_ingested(self, token: str) -> bool:
        """Whether the batch of that token was written (its transaction committed)."""
        row = self.connection.execute(
            "SELECT 1 FROM cluster_batches WHERE token = ?", (token,)
        ).fetchone()
        return row is not None

    def mark_batch_ingested(self, token: str) -> None:
        """Record a batch as written: call it inside the transaction that writes its rows."""
        self.connection.execute(
            "INSERT OR IGNORE INTO cluster_batches (token, ingested_at) VALUES (?, ?)",
            (token, _now()),
        )

    def observed_in_crawl(self, crawl_id: int) -> set[tuple[str, str, str]]:
        """The posts ("post", platform, post_id) observed by a crawl and the comments
        ("comment", platform, comment_id) it stored: a writer that starts again mid-crawl
        observes each once a crawl, as one that ran throughout."""
        posts = self.connection.execute(
            "SELECT DISTINCT platform, post_id FROM post_observations WHERE crawl_id = ?",
            (crawl_id,),
        )
        seen = {("post", platform, post_id) for platform, post_id in posts}
        comments = self.connection.execute(
            "SELECT platform, comment_id FROM comments WHERE crawl_id = ?", (crawl_id,)
        )
        return seen | {("comment", platform, comment_id) for platform, comment_id in comments}
