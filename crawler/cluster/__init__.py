"""Crawling from several machines: a shared frontier in Redis (scrapy-redis), many workers,
one writer.

- `submit` (`smcat crawl ... --cluster URL`): records the crawl in the database, puts its
  start requests into the crawl's frontier and registers it; it fetches nothing.
- `worker` (`smcat worker`): runs the same spiders, each crawl's requests taken from its
  frontier by scrapy-redis' scheduler (persistent, with its duplicate filter), and sends
  items, kept responses and counts to Redis instead of SQLite.
- `ingest` (`smcat cluster ingest`): the one writer into SQLite, through the same code as a
  local crawl; it also closes crawls that are done (see `ingest.done`).
- `politeness`: the per-site delay and the cookie pool's per-cookie rate, shared by all
  workers through Redis.
- `keys`: the Redis keys they share, and the messages they pass.
"""
