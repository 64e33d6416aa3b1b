"""Requests that only read (GET) run read-only transactions: on PostgreSQL begun READ ONLY and
ended with COMMIT, so that psycopg keeps the statements it has prepared (a ROLLBACK makes it
drop them all); a GET that then writes (a page view's audit entry) ends its read first.

These tests commit for real, in a database of their own, with the app's own sessions and
one worker thread, as gunicorn runs it: the rest of the suite runs every request inside a
SAVEPOINT of the test's read-write transaction, where none of this shows (its rule,
"no write before end_read", is checked on every statement there: tests/conftest.py)."""

import re

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from lotsen import clock
from lotsen.audit.models import AuditEntry
from lotsen.contacts.models import Contact
from lotsen.db import end_read
from lotsen.extensions import db
from tests import factories
from tests.conftest import PG_URL, login


def guide_client(app, name="Familjen Berg"):
    """A guide of a household of theirs, logged in on a client of ``app``, without the
    second factor a guide need not give (so its hook reads the user): (client, household
    id, guide id)."""
    with app.app_context():
        region = factories.Region.create()
        household = factories.household(guide=region.norsjo_guide, name=name)
        db.session.commit()
        client = app.test_client()
        login(client, region.norsjo_guide)
        with client.session_transaction() as session:
            del session["mfa"]
        ids = household.id, region.norsjo_guide.id
        db.session.remove()
    return client, *ids


def test_a_guide_reads_and_writes_in_turn_in_one_worker(committing_app):
    """Page views (each logged) and a contact saved in between, in one thread: a POST after
    a GET writes (the hooks that read the database run after the request's mode is set),
    and each view's entry is written after the page's read."""
    client, household_id, guide_id = guide_client(committing_app)

    page = client.get(f"/households/{household_id}")
    assert page.status_code == 200 and "Familjen Berg" in page.text
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', page.text).group(1)
    saved = client.post(
        f"/households/{household_id}/contacts",
        data={"channel": "phone", "direction": "out", "summary": "Ringde om visning", "once": once},
    )
    assert saved.status_code == 302
    again = client.get(f"/households/{household_id}")
    assert again.status_code == 200 and "Ringde om visning" in again.text

    with committing_app.app_context():
        views = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "household.view",
                AuditEntry.household_id == household_id,
                AuditEntry.user_id == guide_id,
            )
        )
        summaries = db.session.scalars(select(Contact.summary)).all()
    assert (views, summaries) == (2, ["Ringde om visning"])


@pytest.mark.postgresql_only
def test_a_read_only_request_cannot_write_until_it_ends_its_read(committing_app):
    entry = insert(AuditEntry.__table__).values(at=clock.now(), action="test.entry")
    with committing_app.test_request_context("/", method="GET"):
        committing_app.preprocess_request()
        with pytest.raises(DBAPIError, match="read-only transaction"):
            db.session.execute(entry)
        db.session.rollback()
        db.session.execute(select(1))  # a read, as a page makes
        end_read(db.session())
        db.session.execute(entry)
        db.session.commit()
    with committing_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


@pytest.mark.postgresql_only
def test_prepared_statements_outlive_the_request(committing_app):
    """psycopg prepares a statement run five times on a connection; ended by ROLLBACK, every
    request made it forget them. (A guide without a second factor: the hook that checks it
    reads the user first, so the request must be known to read only before that.)"""
    client, _household_id, _guide_id = guide_client(committing_app)
    for _ in range(6):
        page = client.get("/households")
        assert page.status_code == 200 and "Familjen Berg" in page.text
    with committing_app.app_context():
        # the one connection of the pool, which served the six requests
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    assert prepared >= 3  # the user, the list's count and rows, …


@pytest.mark.postgresql_only
def test_a_lost_connection_still_gets_its_clear_answer(committing_app):
    """A database restart ends the worker's connection: the health check still says so
    (503, "unreachable"), and the next request gets a new connection."""
    client = committing_app.test_client()
    assert client.get("/healthz").status_code == 200
    with committing_app.app_context():
        backend = db.session.connection().connection.dbapi_connection.info.backend_pid
        db.session.remove()
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        admin.dispose()
    lost = client.get("/healthz")
    assert (lost.status_code, lost.json["database"]) == (503, "unreachable")
    assert client.get("/healthz").status_code == 200
