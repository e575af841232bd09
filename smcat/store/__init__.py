"""The smcat store: one SQLite file per research project.

This is the only package that knows table and column names. Everything else reads and writes
through `Store`. The schema is created and upgraded by the numbered `MIGRATIONS` under
`PRAGMA user_version` (`schema`); every write is an upsert on the table's natural key, so
re-running a crawl adds observations and never duplicates rows (`engine`). Rows that cannot be
stored go to `rejects` with the reason and their payload. Each area's reads and writes live in
a module of their own, combined in the one `Store`.
"""

from smcat.store.coding import Answer, PostForCoder, PostToCode, StoredModel, post_to_code
from smcat.store.commerce import COMMERCE_COLUMNS, COMMERCE_REQUIRED
from smcat.store.crawls import FINISHED, FINISHED_WITH_REJECTS, PAGES_ALL_REJECTED, CrawlRecord
from smcat.store.database import Store, StoreInfo
from smcat.store.engine import Rows, WriteResult
from smcat.store.linkage import CUSTOMER_FIELDS, MATCH, NON_MATCH, LinkRun, RecordPair
from smcat.store.people import DEVICE, EVENT_TYPES, RECORD, PersonLink
from smcat.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    StoreError,
    StoreFull,
    check_database_file,
)

__all__ = [
    "COMMERCE_COLUMNS",
    "COMMERCE_REQUIRED",
    "CUSTOMER_FIELDS",
    "DEVICE",
    "EVENT_TYPES",
    "FINISHED",
    "FINISHED_WITH_REJECTS",
    "MATCH",
    "MIGRATIONS",
    "NON_MATCH",
    "PAGES_ALL_REJECTED",
    "RECORD",
    "SCHEMA_VERSION",
    "TABLES",
    "Answer",
    "CrawlRecord",
    "LinkRun",
    "PersonLink",
    "PostForCoder",
    "PostToCode",
    "RecordPair",
    "Rows",
    "Store",
    "StoreError",
    "StoreFull",
    "StoreInfo",
    "StoredModel",
    "WriteResult",
    "check_database_file",
    "post_to_code",
]
