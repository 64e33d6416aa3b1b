"""The follow-ups feature's card on the household page."""

from lotsen.followups.forms import FollowUpForm
from lotsen.followups.services import open_followups
from lotsen.households.pages import page_guides, register_panel


def _context(household) -> dict:
    return {
        "followups": open_followups(household),
        "followup_form": FollowUpForm(guides=page_guides(), formdata=None),
    }


register_panel("followups", order=30, template="followups/_panel.html", context=_context)
