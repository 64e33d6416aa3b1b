"""Test fixtures: every test runs against SQLite and against PostgreSQL.

The schema is built once per database by the real migrations; each test then runs inside
a transaction that is rolled back (requests inside it use SAVEPOINTs), so tests are
independent and fast. PostgreSQL runs in a fresh schema of the ``test`` database that is
dropped afterwards. Without a reachable PostgreSQL its tests are skipped with a message;
under CI=true they fail instead.
"""

import contextvars
import os
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestingConfig
from lotsen import create_app
from lotsen.clock import now as utcnow
from lotsen.db import READ_ONLY
from lotsen.extensions import db
from tests import factories

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
USER_AGENT = "lotsen-tests"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("all", "sqlite", "postgresql"),
        default=os.environ.get("TEST_DB", "all"),
        help="which databases to run the suite against (default: both)",
    )


def pytest_generate_tests(metafunc):
    if "database" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        names = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            names = [n for n in names if n == "sqlite"]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            names = [n for n in names if n == "postgresql"]
        metafunc.parametrize("database", names, indirect=True, scope="session")


def _postgres_schema_url():
    admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        message = (
            f"PostgreSQL is not reachable at {PG_URL} ({exc.orig.__class__.__name__}). "
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or set TEST_POSTGRES_URL; the PostgreSQL half of the suite is skipped."
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    schema = f"lotsen_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    return admin, schema, url


@pytest.fixture(scope="session")
def database(request, tmp_path_factory):
    """The URL of an empty database of the requested kind, dropped after the session."""
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@contextmanager
def empty_database(database: str, tmp_path):
    """The URL of an empty database of the kind ``database`` names ("sqlite", "postgresql"
    or a URL; also for a test that commits for real): a file under ``tmp_path``, or a
    PostgreSQL schema of its own, dropped afterwards."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'lotsen.sqlite'}"
        return
    admin, schema, url = _postgres_schema_url()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_config(url: str, **overrides) -> type[TestingConfig]:
    return type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture
def committing_app(database, tmp_path):
    """An app on an empty database of its own (of the kind ``database`` names) whose
    sessions commit for real, as a worker's do: for what the SAVEPOINTs of ``app_ctx`` hide
    (transactions, their modes, other connections committing meanwhile)."""
    with empty_database(database, tmp_path) as url:
        app = create_app(make_config(url))
        with app.app_context():
            upgrade()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# What a request that only reads (GET, HEAD, OPTIONS: lotsen.db.READ_ONLY) must not do before
# it has ended its read with lotsen.db.end_read. On PostgreSQL such a request's transaction
# is READ ONLY (lotsen/db.py), but here every request runs in a SAVEPOINT of the test's
# read-write transaction, so the rule is checked on every statement of every test instead.
WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
WRITES_IN_A_READ: list[str] = []


def _no_write_in_a_read(conn, cursor, statement, parameters, context, executemany):
    if READ_ONLY.get() and WRITES.match(statement):
        WRITES_IN_A_READ.append(statement[:120])


@pytest.fixture(autouse=True)
def reads_do_not_write():
    yield
    found = list(WRITES_IN_A_READ)
    WRITES_IN_A_READ.clear()
    assert not found, f"a GET request wrote before lotsen.db.end_read: {found}"


@pytest.fixture(scope="session")
def app(database):
    app = create_app(make_config(database))
    with app.app_context():
        upgrade()
        event.listen(db.engine, "before_cursor_execute", _no_write_in_a_read)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    """An app context whose database work is rolled back at the end of the test."""
    READ_ONLY.set(False)  # whatever an earlier test's request left in this thread
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own would pick the engine again.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield app
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a server would: its own ``g``, its own
    session (on the test's connection, inside a SAVEPOINT). The test's session is expired
    afterwards so that it sees what the request saved."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app_ctx):
    app_ctx.test_client_class = IsolatedClient
    client = app_ctx.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    return client


# A Wednesday, 10:00:00 in Sweden: "this week" has days left, nothing depends on the hour.
FROZEN_AT = datetime(2026, 11, 25, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    """Stops the clock (lotsen/clock.py) at FROZEN_AT; ``frozen.move_to(...)`` moves it."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def region(app_ctx):
    """Users of Region 10: a Norsjö and a Malå guide, a coordinator, an admin and a
    communicator."""
    return factories.Region.create()


def login(client, user):
    """Log ``user`` in on ``client`` without the (deliberately slow) password check."""
    now = utcnow().isoformat()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["login_at"] = now
        sess["seen_at"] = now
        sess["mfa"] = True  # the second factor (accounts/two_factor.py) counts as given


@pytest.fixture
def login_as(client):
    def _login(user):
        login(client, user)
        return client

    return _login


@pytest.fixture
def count_queries(app_ctx):
    """``with count_queries() as queries:`` collects the SQL statements run inside."""

    @contextmanager
    def _count():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            head = statement.lstrip().split(None, 1)[0].upper()
            if head not in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return _count


@pytest.fixture
def db_dialect(app):
    with app.app_context():
        return db.engine.dialect.name


def ago(**kwargs):
    return utcnow() - timedelta(**kwargs)


@pytest.fixture
def make_client(app_ctx):
    """More browsers (clients) for one test."""
    app_ctx.test_client_class = IsolatedClient

    def _make():
        c = app_ctx.test_client()
        c.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        return c

    return _make


@pytest.fixture
def smtp(app, monkeypatch):
    """A running loopback SMTP server that the app sends to."""
    from tests.smtp import SmtpServer

    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    yield server
    server.stop()
