"""The household page's card "Who has accessed": recent views and changes, and the
right-of-access export."""

from lotsen.access import HOUSEHOLD_ROLES
from lotsen.audit.services import recent_access
from lotsen.households.pages import register_panel

PANEL_ENTRIES = 10


def _accessed(household) -> dict:
    return {"audit_entries": recent_access(household.id, PANEL_ENTRIES)}


register_panel(
    "audit",
    order=90,
    template="audit/_panel.html",
    context=_accessed,
    roles=HOUSEHOLD_ROLES,
)
