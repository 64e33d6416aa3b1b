"""The household page's "Homes and jobs" panel: its context, apart from the page."""

from dataclasses import dataclass

from lotsen import clock
from lotsen.households.models import Household
from lotsen.households.pages import register_panel
from lotsen.matching.services import job_suggestions, listing_suggestions, matches_of


@dataclass
class HouseholdPanel:
    matches: list
    listings: list
    jobs: list


def household_panel(household: Household) -> HouseholdPanel:
    """Context of templates/matching/_household_panel.html (``matching_panel``)."""
    today = clock.today()
    return HouseholdPanel(
        matches=matches_of(household_id=household.id),
        listings=listing_suggestions(household, today),
        jobs=job_suggestions(household, today),
    )


register_panel(
    "matching",
    order=15,
    column="main",
    template="matching/_household_panel.html",
    context=lambda household: {"matching_panel": household_panel(household)},
)
