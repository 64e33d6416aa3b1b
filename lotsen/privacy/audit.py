"""Where the privacy feature's actions are written to the audit log."""

from typing import Any


def _audit(
    action: str,
    *,
    by=None,
    household_id: int | None = None,
    target: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record one privacy action (consent withdrawn, household anonymised, second-factor
    failure or reuse) in the audit log: the integrator connects this one function to
    ``lotsen.audit.audit`` with the same arguments; nothing else here writes audit entries."""
    return None
