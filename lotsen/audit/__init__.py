"""The audit log: who looked at or changed what, when, from where (append-only).

    from lotsen.audit import audit

    audit("household.update", by=user, household_id=h.id, changes={"name": ["A", "B"]})

See lotsen/audit/services.py and the README's "Audit log" section for the action names.
"""

from lotsen.audit.services import (
    ORIGIN,
    audit,
    commit_keeping_loaded,
    diff,
    purge_entries,
    record_view,
    snapshot,
)

__all__ = [
    "ORIGIN",
    "audit",
    "commit_keeping_loaded",
    "diff",
    "purge_entries",
    "record_view",
    "snapshot",
]
