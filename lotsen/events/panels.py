"""The household page's "Events" card: the household's sign-ups (each linked to the event's
page, which every guide may open), and signing it up for a planned or open event of the
region (routes.sign_up_household)."""

from flask import g
from flask_babel import format_date

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.events.forms import HouseholdSignupForm
from lotsen.events.services import events_open_for_signup, signups_of_household
from lotsen.households.models import Household
from lotsen.households.pages import register_panel


def signup_form_for(household: Household, empty: bool = False) -> HouseholdSignupForm:
    """The sign-up form with the events the household can still be signed up for, soonest
    first (labelled with the Swedish start date); ``formdata=None``: the empty form."""
    if "event_choices" not in g:
        g.event_choices = [
            (e.id, f"{e.name} ({format_date(e.starts_at, 'medium')})")
            for e in events_open_for_signup(clock.now(), household)
        ]
    people = max(1, len(household.persons)) if household.persons else 1
    extra = {"formdata": None} if empty else {}
    return HouseholdSignupForm(events=g.event_choices, people=people, **extra)


def _context(household: Household) -> dict:
    return {
        "event_signups": signups_of_household(household),
        "event_signup_form": signup_form_for(household, empty=True),
    }


register_panel(
    "events",
    order=30,
    template="events/_household_panel.html",
    context=_context,
    roles={Role.GUIDE, Role.COORDINATOR},
)
