"""The schema of an smcat database: its tables, the numbered migrations that create and upgrade
it under `PRAGMA user_version`, and the check that a file is an smcat database this smcat can
open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smcat import __version__
from smcat.errors import SettingError

MIGRATIONS: tuple[str, ...] = (
    # 1: the schema of DESIGN.md. Tables of small rows keyed by composite keys are WITHOUT
    # ROWID (one b-tree instead of two); bench/bench_ingest.py measured that on the hot path.
    """
    CREATE TABLE crawls (
        crawl_id INTEGER PRIMARY KEY AUTOINCREMENT,
        spider TEXT NOT NULL,
        args TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        counts TEXT,
        version TEXT
    );
    CREATE TABLE raw_responses (
        id INTEGER PRIMARY KEY,
        crawl_id INTEGER,
        url TEXT NOT NULL,
        status INTEGER,
        fetched_at TEXT NOT NULL,
        content_type TEXT,
        body BLOB,
        parser_version TEXT
    );
    CREATE INDEX raw_responses_url ON raw_responses (url);
    CREATE INDEX raw_responses_crawl ON raw_responses (crawl_id);
    CREATE TABLE accounts (
        platform TEXT NOT NULL,
        account_id TEXT NOT NULL,
        screen_name TEXT,
        description TEXT,
        gender TEXT,
        location TEXT,
        verified INTEGER,
        verified_type INTEGER,
        verified_reason TEXT,
        created_at TEXT,
        url TEXT,
        avatar_url TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, account_id)
    );
    CREATE TABLE account_snapshots (
        platform TEXT NOT NULL,
        account_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        followers INTEGER CHECK (followers >= 0),
        following INTEGER CHECK (following >= 0),
        posts INTEGER CHECK (posts >= 0),
        total_likes INTEGER CHECK (total_likes >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, account_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE posts (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        account_id TEXT,
        created_at TEXT NOT NULL,
        text TEXT,
        is_repost INTEGER,
        origin_post_id TEXT,
        media_type TEXT,
        pic_count INTEGER CHECK (pic_count >= 0),
        video_seconds REAL,
        source TEXT,
        region TEXT,
        url TEXT,
        is_long_text INTEGER,
        is_pinned INTEGER,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, post_id)
    );
    CREATE TABLE post_observations (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        likes INTEGER CHECK (likes >= 0),
        comments INTEGER CHECK (comments >= 0),
        reposts INTEGER CHECK (reposts >= 0),
        shares INTEGER CHECK (shares >= 0),
        collects INTEGER CHECK (collects >= 0),
        plays INTEGER CHECK (plays >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, post_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE post_topics (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, value)
    ) WITHOUT ROWID;
    CREATE INDEX post_topics_value ON post_topics (value);
    CREATE TABLE post_mentions (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, value)
    ) WITHOUT ROWID;
    CREATE INDEX post_mentions_value ON post_mentions (value);
    CREATE TABLE comments (
        platform TEXT NOT NULL,
        comment_id TEXT NOT NULL,
        post_id TEXT NOT NULL,
        parent_id TEXT,
        root_id TEXT,
        author_id TEXT,
        author_name TEXT,
        created_at TEXT,
        text TEXT,
        likes INTEGER CHECK (likes >= 0),
        replies INTEGER CHECK (replies >= 0),
        region TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, comment_id)
    );
    CREATE INDEX comments_post ON comments (platform, post_id);
    CREATE TABLE hot_search (
        platform TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        rank INTEGER NOT NULL,
        word TEXT NOT NULL,
        heat INTEGER CHECK (heat >= 0),
        category TEXT,
        label TEXT,
        is_ad INTEGER,
        crawl_id INTEGER,
        PRIMARY KEY (platform, observed_at, rank)
    );
    CREATE INDEX hot_search_word ON hot_search (word);
    CREATE TABLE live_rooms (
        platform TEXT NOT NULL,
        room_id TEXT NOT NULL,
        account_id TEXT,
        title TEXT,
        status TEXT,
        started_at TEXT,
        extra TEXT,
        first_seen_at TEXT,
        updated_at TEXT,
        crawl_id INTEGER,
        PRIMARY KEY (platform, room_id)
    );
    CREATE TABLE live_observations (
        platform TEXT NOT NULL,
        room_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        status TEXT,
        viewers_now INTEGER CHECK (viewers_now >= 0),
        viewers_total INTEGER CHECK (viewers_total >= 0),
        likes INTEGER CHECK (likes >= 0),
        crawl_id INTEGER,
        PRIMARY KEY (platform, room_id, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE streamer_stats (
        source TEXT NOT NULL,
        account TEXT NOT NULL,
        period TEXT NOT NULL,
        platform TEXT,
        account_id TEXT,
        nickname TEXT,
        sales_volume INTEGER CHECK (sales_volume >= 0),
        sales_amount REAL,
        live_sales_amount REAL,
        video_sales_amount REAL,
        extra TEXT,
        imported_at TEXT,
        PRIMARY KEY (source, account, period)
    );
    CREATE TABLE codebooks (
        codebook TEXT NOT NULL,
        version TEXT NOT NULL,
        yaml TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        PRIMARY KEY (codebook, version)
    );
    CREATE TABLE codes (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        codebook TEXT NOT NULL,
        subcategory TEXT NOT NULL,
        coder TEXT NOT NULL,
        codebook_version TEXT NOT NULL,
        value INTEGER NOT NULL,
        evidence TEXT,
        coded_at TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, codebook, subcategory, coder)
    );
    CREATE INDEX codes_coder ON codes (codebook, coder);
    CREATE TABLE samples (
        sample_id TEXT PRIMARY KEY,
        purpose TEXT,
        seed INTEGER,
        params TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sample_posts (
        sample_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        PRIMARY KEY (sample_id, platform, post_id)
    ) WITHOUT ROWID;
    CREATE TABLE rejects (
        id INTEGER PRIMARY KEY,
        crawl_id INTEGER,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT,
        rejected_at TEXT NOT NULL
    );
    CREATE INDEX rejects_crawl ON rejects (crawl_id);
    """,
    # 2: where each part of a crawl had got to (for --resume), e.g. {"5001000001": 3}
    """
    ALTER TABLE crawls ADD COLUMN checkpoint TEXT;
    """,
    # 3: how far an account's posts are known complete: set only by a crawl that finished
    # cleanly, so that `--new` can fetch just what came after
    """
    ALTER TABLE accounts ADD COLUMN crawled_up_to TEXT;
    ALTER TABLE accounts ADD COLUMN crawled_up_to_crawl INTEGER;
    """,
    # 4: which posts a coder (above all the machine, which stores only the codes that apply)
    # has coded, so that a 0 is told from "not coded" and `code auto` is incremental
    """
    CREATE TABLE coded_posts (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        codebook TEXT NOT NULL,
        coder TEXT NOT NULL,
        codebook_version TEXT NOT NULL,
        coded_at TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, codebook, coder)
    ) WITHOUT ROWID;
    CREATE INDEX coded_posts_coder ON coded_posts (codebook, coder);
    """,
    # 5: commerce data that users import (smcat import orders|products|choices): order lines,
    # products with their attributes, and choice situations with the alternatives offered.
    # Attributes are free-form columns of the user's file, so they are kept as JSON.
    """
    CREATE TABLE products (
        product_id TEXT PRIMARY KEY,
        name TEXT,
        brand TEXT,
        category TEXT,
        list_price REAL CHECK (list_price >= 0),
        attributes TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE orders (
        order_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        ordered_at TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        price REAL NOT NULL CHECK (price >= 0),
        list_price REAL CHECK (list_price >= 0),
        imported_at TEXT NOT NULL,
        PRIMARY KEY (order_id, product_id)
    ) WITHOUT ROWID;
    CREATE INDEX orders_customer ON orders (customer_id, ordered_at);
    CREATE TABLE choices (
        choice_id TEXT NOT NULL,
        alternative TEXT NOT NULL,
        chosen INTEGER NOT NULL CHECK (chosen IN (0, 1)),
        customer_id TEXT,
        attributes TEXT,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (choice_id, alternative)
    ) WITHOUT ROWID;
    """,
    # 6: streamer figures as sales platforms export them: followers, category, the live and
    # video split of volumes too, and every figure as the low and high ends of the range the
    # export gives (equal when it gives one number, which is then also in the plain column)
    """
    ALTER TABLE streamer_stats ADD COLUMN category TEXT;
    ALTER TABLE streamer_stats ADD COLUMN followers INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN followers_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN followers_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN sales_amount_high REAL;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN live_sales_amount_high REAL;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume_low INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_volume_high INTEGER;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_amount_low REAL;
    ALTER TABLE streamer_stats ADD COLUMN video_sales_amount_high REAL;
    """,
    # 7: how precisely a post's created_at is known (smcat.units.TIME_PRECISIONS): second,
    # minute, hour, day (a date-only time such as "06-14", stored as its midnight) or derived
    # (worked out from the post's id: a Douyin post without create_time); NULL for the posts
    # stored before, read as the time they say
    """
    ALTER TABLE posts ADD COLUMN created_at_precision TEXT;
    """,
    # 8: the HTTP status of the response a reject came from; a long payload is kept gzipped
    # (a BLOB in `payload`, which reads of rejects give back as text)
    """
    ALTER TABLE rejects ADD COLUMN status INTEGER;
    """,
    # 9: trained coders (`smcat code train`): each model version with the posts it learnt
    # from, the pickled classifiers and the scikit-learn version that pickled them, and its
    # cross-validated validity per subcategory beside the rules' on the same posts
    """
    CREATE TABLE models (
        coder TEXT PRIMARY KEY,
        codebook TEXT NOT NULL,
        codebook_version TEXT NOT NULL,
        number INTEGER NOT NULL,
        trained_from TEXT NOT NULL,
        trained_at TEXT NOT NULL,
        sklearn_version TEXT NOT NULL,
        posts TEXT NOT NULL,
        learning_curve TEXT,
        model BLOB NOT NULL,
        UNIQUE (codebook, number)
    );
    CREATE TABLE model_validity (
        coder TEXT NOT NULL,
        subcategory TEXT NOT NULL,
        n INTEGER NOT NULL,
        support INTEGER NOT NULL,
        threshold REAL,
        precision REAL,
        recall REAL,
        f1 REAL,
        alpha REAL,
        rules_precision REAL,
        rules_recall REAL,
        rules_f1 REAL,
        rules_alpha REAL,
        fit INTEGER NOT NULL CHECK (fit IN (0, 1)),
        PRIMARY KEY (coder, subcategory)
    ) WITHOUT ROWID;
    """,
    # 10: a coder's note on a post, kept apart from the codes (so that the machine's batch
    # writes of coded_posts stay as they are, and a post can be flagged before it is answered):
    # a memo (the review screen's, or the 备注 column of a coding sheet) and a mark "flag for
    # discussion"
    """
    CREATE TABLE coder_notes (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        codebook TEXT NOT NULL,
        coder TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
        noted_at TEXT NOT NULL,
        PRIMARY KEY (platform, post_id, codebook, coder)
    ) WITHOUT ROWID;
    """,
    # 11: one view of people across a company's systems (seed 001): behaviour events per
    # system (a member id when signed in, else only a device or cookie id), the system an order
    # line came from, the people `smcat link people` makes with every record's and device's
    # link to its person, and the labels computed per person (a series: each run adds its own)
    """
    CREATE TABLE events (
        system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        event_type TEXT NOT NULL CHECK (event_type IN
            ('view', 'click', 'cart', 'favourite', 'purchase', 'contact', 'response')),
        record_id TEXT,
        device_id TEXT,
        item TEXT,
        campaign TEXT,
        amount REAL CHECK (amount >= 0),
        imported_at TEXT NOT NULL,
        CHECK (record_id IS NOT NULL OR device_id IS NOT NULL),
        PRIMARY KEY (system, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX events_record ON events (system, record_id, occurred_at);
    CREATE INDEX events_device ON events (system, device_id, occurred_at);
    ALTER TABLE orders ADD COLUMN system TEXT;
    CREATE TABLE people (
        person_id TEXT PRIMARY KEY,
        records INTEGER NOT NULL CHECK (records > 0),
        systems INTEGER NOT NULL CHECK (systems > 0),
        linked_at TEXT NOT NULL
    );
    CREATE TABLE person_links (
        system TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('record', 'device')),
        source_id TEXT NOT NULL,
        person_id TEXT NOT NULL REFERENCES people (person_id),
        probability REAL NOT NULL CHECK (probability BETWEEN 0 AND 1),
        rule TEXT NOT NULL,
        linked_at TEXT NOT NULL,
        PRIMARY KEY (system, kind, source_id)
    ) WITHOUT ROWID;
    CREATE INDEX person_links_person ON person_links (person_id);
    CREATE TABLE person_labels (
        person_id TEXT NOT NULL,
        label TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        value TEXT,
        score REAL,
        method TEXT,
        PRIMARY KEY (person_id, label, computed_at)
    ) WITHOUT ROWID;
    """,
    # 12: the batches of items that `smcat cluster ingest` took from Redis, each written in the
    # same transaction as its rows: a batch seen here after a crash is not written twice
    """
    CREATE TABLE cluster_batches (
        token TEXT PRIMARY KEY,
        ingested_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 13: record linkage (`smcat link`): customer records of each system, their personal data as
    # keyed hashes beside the comparison features linkage needs (clear values only if imported
    # with --keep-pii); the last run's model and its pairs for clerical review; the reviewers'
    # decisions on pairs, which every later run respects
    """
    CREATE TABLE customer_records (
        system TEXT NOT NULL,
        record_id TEXT NOT NULL,
        name_hash TEXT,
        phone_hash TEXT,
        email_hash TEXT,
        address_hash TEXT,
        name_pinyin TEXT,
        surname TEXT,
        phone_tail TEXT,
        city TEXT,
        district TEXT,
        birth_year INTEGER,
        registered_at TEXT,
        name TEXT,
        phone TEXT,
        email TEXT,
        address TEXT,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (system, record_id)
    ) WITHOUT ROWID;
    CREATE TABLE link_runs (
        run_id INTEGER PRIMARY KEY,
        linked_at TEXT NOT NULL,
        threshold REAL NOT NULL,
        review_low REAL NOT NULL,
        model TEXT NOT NULL
    );
    CREATE TABLE link_candidates (
        left_system TEXT NOT NULL,
        left_id TEXT NOT NULL,
        right_system TEXT NOT NULL,
        right_id TEXT NOT NULL,
        probability REAL NOT NULL CHECK (probability BETWEEN 0 AND 1),
        match_weight REAL,
        PRIMARY KEY (left_system, left_id, right_system, right_id)
    ) WITHOUT ROWID;
    CREATE TABLE link_decisions (
        left_system TEXT NOT NULL,
        left_id TEXT NOT NULL,
        right_system TEXT NOT NULL,
        right_id TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('match', 'non-match')),
        reviewer TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (left_system, left_id, right_system, right_id)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
TABLES: tuple[str, ...] = (
    "crawls",
    "raw_responses",
    "accounts",
    "account_snapshots",
    "posts",
    "post_observations",
    "post_topics",
    "post_mentions",
    "comments",
    "hot_search",
    "live_rooms",
    "live_observations",
    "streamer_stats",
    "products",
    "orders",
    "choices",
    "events",
    "people",
    "person_links",
    "person_labels",
    "customer_records",
    "link_runs",
    "link_candidates",
    "link_decisions",
    "codebooks",
    "codes",
    "coded_posts",
    "coder_notes",
    "samples",
    "sample_posts",
    "rejects",
    "models",
    "model_validity",
    "cluster_batches",
)
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(SettingError):
    """A database that cannot be used; the message is one line that names the fix (and
    `settings` holds db where the fix is another database file)."""


class StoreFull(StoreError):
    """The disk holding the database is full (or the database reached its size limit): free
    space, then run the command again. A crawl stops at once on it, resumable."""


def check_database_file(path: Path, *, whole: bool = False) -> int:
    """Return the schema version of an existing smcat database without modifying the file.

    Raises StoreError if the file is not SQLite, is cut short or damaged where its schema is
    (with `whole`: anywhere, PRAGMA quick_check), is another program's database or has a
    newer schema than this smcat knows.
    """
    with path.open("rb") as handle:
        header = handle.read(100)
    if header and not header.startswith(_SQLITE_MAGIC):
        raise StoreError(
            f"{path} is not an SQLite database: use an smcat database or a new file name", db=None
        )
    _check_length(path, header)
    try:
        probe = connect_read_only(path)
        try:
            version = schema_version(probe)
            tables = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            found = probe.execute("PRAGMA quick_check(1)").fetchone()[0] if whole else "ok"
            if found != "ok":  # "*** in database main ***\nOn tree page 62 ...": one line
                raise sqlite3.DatabaseError(" ".join(found.split()))
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"{path} cannot be read as SQLite ({error}): restore it from a backup, or use"
            " another smcat database",
            db=None,
        ) from None
    if version == 0 and tables:
        raise StoreError(
            f"{path} is an SQLite database but not an smcat one: use a new file name", db=None
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version} but this smcat {__version__} knows up to "
            f"{SCHEMA_VERSION}: upgrade smcat (pip install -U smcat)"
        )
    return version


def _check_length(path: Path, header: bytes) -> None:
    """StoreError if the file is shorter than its header says (a copy or download cut short):
    SQLite itself would notice only on reading a missing page, maybe halfway through a write.
    The header's page count holds only if its version-valid-for number is the change counter;
    while a -wal file is beside it, a checkpoint may be writing the file: not checked then."""
    if len(header) < 100 or header[92:96] != header[24:28] or Path(f"{path}-wal").exists():
        return
    page_size = int.from_bytes(header[16:18], "big")
    expected = int.from_bytes(header[28:32], "big") * (65536 if page_size == 1 else page_size)
    if path.stat().st_size < expected:
        raise StoreError(
            f"{path} is cut short ({path.stat().st_size:,} of {expected:,} bytes): restore it"
            " from a backup, or use another smcat database",
            db=None,
        )


def connect_read_only(
    path: Path, factory: type[sqlite3.Connection] = sqlite3.Connection
) -> sqlite3.Connection:
    """A read-only connection to the database at `path`. Where SQLite cannot make a WAL
    database's -shm file (a folder the user cannot write to), the file is opened as immutable,
    and what its -wal file holds, if any, is not seen."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, factory=factory)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as error:
        connection.close()
        if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            raise
        connection = sqlite3.connect(
            f"{uri}&immutable=1", uri=True, isolation_level=None, factory=factory
        )
    return connection


def schema_version(connection: sqlite3.Connection) -> int:
    """The database's `PRAGMA user_version`."""
    return connection.execute("PRAGMA user_version").fetchone()[0]


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Run the migrations the database at `path` has not had yet, in one transaction.

    The version is read again once the write lock is held: another process opening the same
    new file at the same moment waits for this one's migrations and then finds them done."""
    if schema_version(connection) >= len(MIGRATIONS):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(connection)
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # statement by statement: executescript would commit the transaction first
            for statement in _statements(script):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise StoreError(
            f"{path}: migration failed ({error}); the file is unchanged: report this as a bug"
        ) from None


def _statements(script: str) -> list[str]:
    """The SQL statements of a migration script, each whole (sqlite3.complete_statement)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"a migration ends in an unfinished statement: {pending.strip()[:60]}")
    return statements
