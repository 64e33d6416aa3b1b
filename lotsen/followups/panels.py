"""The follow-ups feature's card on the household page."""

from lotsen.followups.forms import FollowUpForm, action_forms
from lotsen.followups.services import open_followups
from lotsen.forms import blank_form
from lotsen.households.pages import guides_who_see, register_panel


def _context(household) -> dict:
    return {
        "followups": open_followups(household),
        "followup_form": blank_form(FollowUpForm, guides=guides_who_see(household)),
        "action_forms": action_forms,
        "failed_action": None,  # (follow-up id, form) when an action did not validate
    }


register_panel("followups", order=30, template="followups/_panel.html", context=_context)
