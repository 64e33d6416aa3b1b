"""The household page's "Homes and jobs" panel: its context, apart from the page.

The matches are shown on every view; the suggestions are ranked only when the guide asks
for them (``?suggestions=1``, a link in the card): ranking reads every available listing and
open job of the household's municipalities, which is most of the page's cost for a card
most views do not look at.
"""

from dataclasses import dataclass, field

from flask import request

from lotsen import clock
from lotsen.households.models import Household
from lotsen.households.pages import register_panel
from lotsen.matching.services import job_suggestions, listing_suggestions, matches_of

SUGGESTIONS_ARG = "suggestions"


@dataclass
class HouseholdPanel:
    matches: list
    listings: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    suggested: bool = True  # False: the suggestions were not ranked (a link offers them)


def household_panel(household: Household, suggest: bool = True) -> HouseholdPanel:
    """Context of templates/matching/_household_panel.html (``matching_panel``)."""
    matches = matches_of(household_id=household.id)
    if not suggest:
        return HouseholdPanel(matches=matches, suggested=False)
    today = clock.today()
    return HouseholdPanel(
        matches=matches,
        listings=listing_suggestions(household, today),
        jobs=job_suggestions(household, today),
    )


def _context(household: Household) -> dict:
    suggest = request.args.get(SUGGESTIONS_ARG) == "1"
    return {"matching_panel": household_panel(household, suggest)}


register_panel(
    "matching",
    order=15,
    column="main",
    template="matching/_household_panel.html",
    context=_context,
)
