"""Writing, reading and (narrowly) purging the audit log.

``audit(action, by=..., household_id=..., target=..., changes=...)`` adds one entry to the
session; the caller's transaction commits it with the change it describes (a rolled-back
change leaves no entry). The address comes from ``ORIGIN``, a context variable that a
request hook sets (lotsen/audit/routes.py) and that is None in jobs and CLI commands:
services never read the request.
"""

import enum
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Integer, Select, String, bindparam, insert, select, text

from lotsen import clock
from lotsen.audit.models import AuditEntry
from lotsen.db import UTCDateTime, end_read
from lotsen.extensions import db

# What the search page offers to filter on: an action's first part ("household" matches
# household.view, household.update, ...). Actions themselves are listed in the README.
ACTION_GROUPS = {
    "household": _l("Households"),
    "member": _l("Members"),
    "note": _l("Notes"),
    "contact": _l("Contacts"),
    "followup": _l("Follow-ups"),
    "match": _l("Matches"),
    "listing": _l("Homes"),
    "job": _l("Jobs"),
    "export": _l("Exports"),
    "login": _l("Logins"),
    "password": _l("Password changes"),
    "user": _l("Accounts and roles"),
    "settings": _l("Settings"),
    "consent": _l("Consents"),
    "disposal": _l("Disposal"),
    "event": _l("Events"),
    "audience": _l("Audiences"),
}

# Every action recorded today (other features add theirs: consent.*, disposal.*).
ACTIONS = (
    "household.view",
    "household.create",
    "household.update",
    "household.delete",
    "household.stage",
    "household.handover",
    "household.share",
    "household.unshare",
    "household.merge",
    "household.access_export",
    "member.create",
    "member.update",
    "member.delete",
    "note.create",
    "contact.create",
    "followup.create",
    "followup.update",
    "match.create",
    "match.update",
    "listing.create",
    "listing.update",
    "job.create",
    "job.update",
    "export.households",
    "export.funder_report",
    "export.import_report",
    "export.audience",
    "audience.create",
    "audience.update",
    "audience.delete",
    "login.success",
    "login.failure",
    "password.change",
    "user.create",
    "user.update",
    "settings.update",
    "event.create",
    "event.update",
    "event.signup",
    "event.attendance",
)

# The client address of the request being handled (None outside requests).
ORIGIN: ContextVar[str | None] = ContextVar("audit_origin", default=None)


def audit(
    action: str,
    *,
    by,
    household_id: int | None = None,
    target: str | None = None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    wait_for_disk: bool = True,
) -> None:
    """Record that ``by`` (a User, or None for the system/an unknown person) did ``action``.

    ``action`` is a dotted name (``household.update``, ``login.failure``; see README);
    ``target`` names the object when it is not the household itself (``contact:12``);
    ``changes`` is ``{field: [old, new]}`` for updates, or a small dict of facts.

    The row is inserted at once in the caller's transaction (a plain INSERT, not an ORM
    object: it runs on every page view, and the log is never read back in the same
    request), so it is committed or rolled back with the change it describes.

    ``wait_for_disk=False`` is for entries that are the transaction's only write (a page
    view): on PostgreSQL the commit then does not wait for the WAL to reach the disk
    (``SET LOCAL synchronous_commit = off``, this transaction only), which is most of an
    INSERT's cost. A crash of the database server can lose the last fraction of a second
    of such entries; it cannot corrupt or reorder anything. Changes keep the default.
    """
    relaxed = not wait_for_disk and db.session.get_bind().dialect.name == "postgresql"
    db.session.connection().execute(
        _INSERT_NO_WAIT if relaxed else _INSERT,
        _values(action, by, household_id, target, changes, ip, now),
    )


def record_view(
    action: str,
    *,
    by,
    household_id: int | None = None,
    target: str | None = None,
    changes: dict[str, Any] | None = None,
    wait_for_disk: bool = False,
) -> None:
    """Record that ``by`` was shown something (``household.view``: a household page; a
    download) and commit: the end of a request that only read, whose one write is this
    entry. The caller sends its response only after this returns, so nothing leaves
    without its entry, and a failed entry is an error page, not an unlogged view.

    It runs on every household page view, so it is cheap: one INSERT compiled once and
    executed on the session's connection (no ORM unit of work), and a commit that keeps
    what the session loaded (the request log looks at the user afterwards).

    The request's read ends first (``end_read``: its commit writes nothing) and the entry
    gets a short write transaction of its own:
    - PostgreSQL: the read's transaction is READ ONLY; unless ``wait_for_disk`` (a
      handed-out export), the INSERT turns off waiting for the WAL flush for its
      transaction only (see ``audit``).
    - SQLite: a read transaction that then writes fails at once ("database is locked",
      SQLITE_BUSY_SNAPSHOT: the busy timeout does not apply) when another connection
      committed since it began — with two workers showing household pages, most of the
      time; the entry's transaction begins with ``BEGIN IMMEDIATE``, which waits its turn.
      With ``synchronous=NORMAL`` in WAL mode (lotsen/db.py) that commit survives a crash of
      the application; a power cut can lose the last commits, never corrupt the file.
    """
    values = _values(action, by, household_id, target, changes, None, None)
    session = db.session()
    end_read(session)
    connection = session.connection()
    no_wait = connection.dialect.name == "postgresql" and not wait_for_disk
    connection.execute(_INSERT_NO_WAIT if no_wait else _TABLE_INSERT, values)
    _commit_keeping_loaded(session)


def _values(action, by, household_id, target, changes, ip, now) -> dict[str, Any]:
    return {
        "at": now or clock.now(),
        "user_id": getattr(by, "id", None) if getattr(by, "is_authenticated", False) else None,
        "action": action,
        "household_id": household_id,
        "target": target[:120] if target else None,
        "changes": _plain(changes) if changes else None,
        "ip": ip if ip is not None else ORIGIN.get(),
    }


_INSERT = insert(AuditEntry)
_TABLE_INSERT = insert(AuditEntry.__table__)  # Core: no ORM bulk-insert step
# The same INSERT that also sets synchronous_commit off for its transaction, in one round
# trip (a SET LOCAL first would be a second one).
_INSERT_NO_WAIT = text(
    "INSERT INTO audit_entry (at, user_id, action, household_id, target, changes, ip) "
    "SELECT :at, :user_id, :action, :household_id, :target, :changes, :ip "
    "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
).bindparams(
    bindparam("at", type_=UTCDateTime),
    bindparam("user_id", type_=Integer),
    bindparam("action", type_=String),
    bindparam("household_id", type_=Integer),
    bindparam("target", type_=String),
    bindparam("changes", type_=JSON(none_as_null=True)),
    bindparam("ip", type_=String),
)


def _plain(value):
    """JSON-safe copy of ``value`` (dates as ISO text, enums as their value)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def diff(obj, fields, before: dict[str, Any]) -> dict[str, list]:
    """``{field: [old, new]}`` for the ``fields`` of ``obj`` that differ from ``before``."""
    changed = {}
    for name in fields:
        new = getattr(obj, name)
        if _plain(before.get(name)) != _plain(new):
            changed[name] = [before.get(name), new]
    return changed


def snapshot(obj, fields) -> dict[str, Any]:
    """The current values of ``fields`` of ``obj``, to ``diff`` against after a change."""
    return {name: getattr(obj, name) for name in fields}


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: for a request that has done its
    work (a page view that wrote only its audit entry), so that the request log's look at
    the current user afterwards does not reload it from the database."""
    _commit_keeping_loaded(db.session())


def _commit_keeping_loaded(session) -> None:
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


# -- reading ---------------------------------------------------------------------------------


@dataclass
class AuditQuery:
    user_id: int | None = None
    household_id: int | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def search_entries(query: AuditQuery) -> Select:
    """The entries matching ``query``, newest first (a statement, for paging)."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if query.user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == query.user_id)
    if query.household_id is not None:
        stmt = stmt.where(AuditEntry.household_id == query.household_id)
    if query.action:
        # "household" matches every household.* action; "household.view" only that one.
        if "." in query.action:
            stmt = stmt.where(AuditEntry.action == query.action)
        else:
            stmt = stmt.where(AuditEntry.action.like(f"{query.action}.%"))
    if query.start is not None:
        stmt = stmt.where(AuditEntry.at >= query.start)
    if query.end is not None:
        stmt = stmt.where(AuditEntry.at < query.end)
    return stmt


def entries_about(household_id: int, limit: int | None = None) -> list[AuditEntry]:
    """The entries about a household, newest first, with their users."""
    from sqlalchemy.orm import joinedload

    stmt = search_entries(AuditQuery(household_id=household_id)).options(
        joinedload(AuditEntry.user)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Access:
    at: datetime
    action: str
    user_name: str | None

    @property
    def local_time(self) -> str:
        """Swedish wall-clock time, formatted cheaply (the panel shows ten per page view)."""
        return self.at.astimezone(clock.ZONE).strftime("%Y-%m-%d %H:%M")


def recent_access(household_id: int, limit: int = 10) -> list[Access]:
    """Who recently looked at or changed a household, newest first: the page's panel.

    It runs on every view of the page, so it is one compiled-once Core statement on the
    session's connection, returning plain rows (no ORM layer: that was two thirds of its
    time), read from the index ``ix_audit_entry_household_at`` alone — on PostgreSQL an
    index-only scan, as the index carries the user and action (migration 0025_p11)."""
    rows = db.session.connection().execute(
        _recent_access_statement(), {"household_id": household_id, "limit": limit}
    )
    return [Access(*row) for row in rows]


@cache
def _recent_access_statement() -> Select:
    from lotsen.accounts.models import User

    entry, user = AuditEntry.__table__, User.__table__
    return (
        select(entry.c.at, entry.c.action, user.c.name)
        .select_from(entry.outerjoin(user, user.c.id == entry.c.user_id))
        .where(entry.c.household_id == bindparam("household_id"))
        .order_by(entry.c.at.desc(), entry.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


# -- disposal ----------------------------------------------------------------------------------


def purge_entries(before: datetime) -> int:
    """Delete the entries older than ``before``: the one way entries ever leave the log,
    for the disposal rules (gallring). On PostgreSQL the append-only trigger lets a
    DELETE through only while ``lotsen.audit_purge`` is on, which ``SET LOCAL`` limits to
    this transaction; the caller commits (or rolls back) as usual."""
    from sqlalchemy import delete

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL lotsen.audit_purge = 'on'"))
    result = db.session.execute(
        delete(AuditEntry)
        .where(AuditEntry.at < before)
        .execution_options(synchronize_session=False)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL lotsen.audit_purge = 'off'"))
    return result.rowcount


def forget_household_values(household_id: int) -> int:
    """Empty ``changes`` (old and new values: names, addresses, note texts) of the entries
    about an anonymised household; who did what, when and from where stays. On PostgreSQL
    the append-only trigger lets exactly this UPDATE through while ``lotsen.audit_forget``
    is on for this transaction."""
    from sqlalchemy import update

    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("SET LOCAL lotsen.audit_forget = 'on'"))
    result = db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.household_id == household_id, AuditEntry.changes.is_not(None))
        .values(changes=None)
        .execution_options(synchronize_session=False)
    )
    if postgresql:
        db.session.execute(text("SET LOCAL lotsen.audit_forget = 'off'"))
    return result.rowcount
