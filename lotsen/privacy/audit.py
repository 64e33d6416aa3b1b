"""Where the privacy feature and the second factor meet the audit log (lotsen.audit,
built beside this feature): the three functions below are the only places they touch it."""

from datetime import datetime
from typing import Any


def _audit(
    action: str,
    *,
    by,
    household_id: int | None = None,
    target: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record one action (``consent.create``, ``consent.withdraw``, ``disposal.hold``,
    ``disposal.anonymise``, ``household.update``, ``login.failure``, ``user.update``) in
    the audit log: the integrator connects this to ``lotsen.audit.audit``, which has the
    same signature."""
    return None


def _purge_audit_entries(before: datetime) -> int:
    """Dispose of audit entries older than ``before`` (the DISPOSAL_AUDIT_YEARS rule): the
    integrator connects this to ``lotsen.audit.purge_entries``. Returns how many went."""
    return 0


def _forget_household_audit(household_id: int) -> None:
    """Remove the old and new values (names, e-mail, note texts) that audit entries about
    an anonymised household hold in ``changes``: the integrator connects this to the audit
    log's disposal door (the PostgreSQL trigger lets only that through)."""
    return None
