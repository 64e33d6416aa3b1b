"""The household page's "Events" card: the household's sign-ups (each linked to the event's
page, which every guide may open), and signing it up for a planned or open event of the
region (routes.sign_up_household)."""

from flask import g

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.events.forms import HouseholdSignupForm
from lotsen.events.services import household_events
from lotsen.forms import blank_form
from lotsen.households.models import Household
from lotsen.households.pages import register_panel
from lotsen.i18n import local_dates


def _household_events(household: Household):
    """The household's sign-ups and the events open to it, read once per request."""
    if g.get("household_events_of") != household.id:
        g.household_events = household_events(household, clock.now())
        g.household_events_of = household.id
    return g.household_events


def signup_form_for(household: Household, empty: bool = False) -> HouseholdSignupForm:
    """The sign-up form with the events the household can still be signed up for, soonest
    first, labelled with the Swedish start date; ``empty``: not read from the request."""
    day = local_dates("medium")  # remembered per day: the same few events on every view
    choices = [(e.id, f"{e.name} ({day(e.starts_at)})") for e in _household_events(household)[1]]
    people = max(1, len(household.persons))
    if empty:
        return blank_form(HouseholdSignupForm, events=choices, people=people)
    return HouseholdSignupForm(events=choices, people=people)


def _context(household: Household) -> dict:
    return {
        "event_signups": _household_events(household)[0],
        "event_signup_form": signup_form_for(household, empty=True),
    }


register_panel(
    "events",
    order=30,
    template="events/_household_panel.html",
    context=_context,
    roles={Role.GUIDE, Role.COORDINATOR},
)
