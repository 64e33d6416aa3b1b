"""The household page's "Homes and jobs" panel: its context, apart from the page."""

from dataclasses import dataclass

from lotsen.db import utcnow
from lotsen.households.models import Household
from lotsen.matching.services import job_suggestions, listing_suggestions, matches_of
from lotsen.workdays import local_date


@dataclass
class HouseholdPanel:
    matches: list
    listings: list
    jobs: list


def household_panel(household: Household) -> HouseholdPanel:
    """Context of templates/matching/_household_panel.html (``matching_panel``)."""
    today = local_date(utcnow())
    return HouseholdPanel(
        matches=matches_of(household_id=household.id),
        listings=listing_suggestions(household, today),
        jobs=job_suggestions(household, today),
    )
