"""Declarative base, column types, and the connection settings of SQLite and PostgreSQL."""

import contextlib
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import DateTime, Engine, MetaData, bindparam, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from lotsen import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def written_in(name: str, value=None, type_=None):
    """A bound value that is written into the statement's text when it runs
    (``literal_execute``), not sent as a parameter: for values of few forms (a page's size
    and offset, a count's cap, today's date, a status). psycopg prepares a statement run five
    times on a connection, and PostgreSQL planned some of ours anew on every run because its
    plan for any value of such a parameter looked dearer than the one for the value at hand
    (``pg_prepared_statements``: custom plans only). Never for what a user typed."""
    return bindparam(name, value, type_=type_, literal_execute=True)


# Column defaults read the one clock (lotsen/clock.py); the name stays for the models.
utcnow = clock.now


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def include_object(obj, name, type_, reflected, compare_to):
    """For Alembic: leave out what the models cannot describe, the free-text search
    structures (SQLite's FTS5 table and its shadow tables, PostgreSQL's generated tsvector
    column and its GIN index), which the migrations create by hand, and an index whose
    PostgreSQL ordering Alembic cannot compare."""
    if type_ == "table" and name.startswith("household_fts"):
        return False
    if type_ == "column" and name == "search_vector":
        return False
    # ix_household_last_contact_id: Alembic compares its PostgreSQL ``NULLS FIRST`` (a
    # ``postgresql_ops`` in the model) as a changed expression
    return not (
        type_ == "index" and name in ("ix_household_search", "ix_household_last_contact_id")
    )


# True while handling a request that changes nothing (GET, HEAD, OPTIONS): its transactions
# need no write lock (SQLite) and are READ ONLY (PostgreSQL). Set by the first request hook
# (lotsen/__init__.py), not read from the request.
READ_ONLY: ContextVar[bool] = ContextVar("read_only", default=False)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout; write transactions start with BEGIN IMMEDIATE.

    pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves:
    a deferred transaction that reads and then writes fails at once with "database is
    locked" when another writer got in between; IMMEDIATE takes the write lock up front
    and waits (busy_timeout) instead. Read-only requests keep a plain BEGIN so that they
    never queue behind writers (WAL lets readers run beside a writer).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # A page cache of 8 MB per connection (the default is 2 MB) holds what the daily
            # pages read (more did not lower their CPU time at 20 000 households); other pages
            # come from the OS page cache, which connections and workers share. No memory-
            # mapped I/O: every page a worker had touched through the map stayed in its RSS,
            # 21 MB a worker at 20 000 households, for about the same CPU time per page.
            cursor.execute("PRAGMA cache_size=-8192")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if READ_ONLY.get():
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_postgresql(engine: Engine) -> None:
    """A request that only reads runs in a READ ONLY transaction, which ends with COMMIT.

    psycopg prepares a statement once it has run five times on a connection and keeps it for
    the connection's life, but forgets them all (DEALLOCATE ALL) on every ROLLBACK, and every
    request used to end in one (the session's close): PostgreSQL parsed and planned every
    statement of every request anew. A read-only request's transaction is begun READ ONLY
    (psycopg's ``read_only``: ``BEGIN READ ONLY``, in the round trip BEGIN takes anyway), so
    PostgreSQL itself refuses a write in it, and ending such a transaction with COMMIT
    instead of ROLLBACK changes nothing but keeps the prepared statements. A request that
    reads and then writes ends its read first (``end_read``), as on SQLite."""
    import psycopg
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        raw = conn.connection.dbapi_connection
        read_only = True if READ_ONLY.get() else None  # None: the server's default
        if raw.read_only != read_only and raw.info.transaction_status == TransactionStatus.IDLE:
            raw.read_only = read_only

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        if conn.invalidated or conn.closed:  # a lost connection: SQLAlchemy's own handling
            return
        raw = conn.connection.dbapi_connection
        if raw.read_only and raw.info.transaction_status == TransactionStatus.INTRANS:
            # a failed COMMIT (the server ended the session) leaves the ROLLBACK that
            # follows to report it, as before; a good one leaves it nothing to do
            with contextlib.suppress(psycopg.Error):
                raw.commit()


def end_read(session) -> None:
    """In a request that has only read so far (``READ_ONLY``) and now writes (a download's
    log entries, a page view's audit entry, a pending second-factor secret): end the read
    transaction first, keeping what the session loaded, so that the write begins a
    transaction of its own. On SQLite that one begins with BEGIN IMMEDIATE and waits its
    turn: a read transaction that then writes fails at once ("database is locked",
    SQLITE_BUSY_SNAPSHOT: the busy timeout does not apply) when another connection has
    committed since it began. On PostgreSQL the read's transaction is READ ONLY
    (``configure_postgresql``). Nothing to do in a request that writes anyway."""
    if not READ_ONLY.get():
        return
    session.expire_on_commit = False
    try:
        session.commit()  # writes nothing: ends the read
    finally:
        session.expire_on_commit = True
    READ_ONLY.set(False)  # the rest of this request writes
