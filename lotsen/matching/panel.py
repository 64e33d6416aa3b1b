"""The household page's "Homes and jobs" panel: its context, apart from the page.

The matches are shown on every view; the suggestions are ranked only when the guide asks
for them (``?suggestions=1``, a link in the card): ranking reads every available listing and
open job of the household's municipalities, which is most of the page's cost for a card
most views do not look at.
"""

from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace

from flask import request
from sqlalchemy import bindparam, select
from sqlalchemy.sql import Select

from lotsen import clock
from lotsen.extensions import db
from lotsen.households.models import Household, Person
from lotsen.households.pages import register_panel
from lotsen.matching.models import JobOpening, Listing, Match
from lotsen.matching.services import job_suggestions, listing_suggestions

SUGGESTIONS_ARG = "suggestions"


@dataclass
class HouseholdPanel:
    matches: list
    listings: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    suggested: bool = True  # False: the suggestions were not ranked (a link offers them)


def household_panel(household: Household, suggest: bool = True) -> HouseholdPanel:
    """Context of templates/matching/_household_panel.html (``matching_panel``)."""
    matches = household_matches(household.id)
    if not suggest:
        return HouseholdPanel(matches=matches, suggested=False)
    today = clock.today()
    return HouseholdPanel(
        matches=matches,
        listings=listing_suggestions(household, today),
        jobs=job_suggestions(household, today),
    )


def household_matches(household_id: int) -> list[SimpleNamespace]:
    """The household's matches, newest first, as templates/matching/_matches.html's
    ``match_list`` reads them (``m.listing.title``, ``m.person.first_name`` …) without its
    household: plain values from one statement built once, not Match objects with four
    select-in loads."""
    rows = db.session.connection().execute(_matches_statement(), {"household_id": household_id})
    return [
        SimpleNamespace(
            id=row.id,
            household_id=row.household_id,
            listing_id=row.listing_id,
            job_id=row.job_id,
            person_id=row.person_id,
            status=row.status,
            decline_reason=row.decline_reason,
            created_at=row.created_at,
            sent_at=row.sent_at,
            accepted_at=row.accepted_at,
            listing=None if row.listing_id is None else SimpleNamespace(title=row.listing_title),
            job=None if row.job_id is None else SimpleNamespace(title=row.job_title),
            person=None if row.person_id is None else SimpleNamespace(first_name=row.first_name),
        )
        for row in rows
    ]


@cache
def _matches_statement() -> Select:
    return (
        select(
            Match.id,
            Match.household_id,
            Match.listing_id,
            Match.job_id,
            Match.person_id,
            Match.status,
            Match.decline_reason,
            Match.created_at,
            Match.sent_at,
            Match.accepted_at,
            Listing.title.label("listing_title"),
            JobOpening.title.label("job_title"),
            Person.first_name,
        )
        .outerjoin(Listing, Listing.id == Match.listing_id)
        .outerjoin(JobOpening, JobOpening.id == Match.job_id)
        .outerjoin(Person, Person.id == Match.person_id)
        .where(Match.household_id == bindparam("household_id"))
        .order_by(Match.created_at.desc(), Match.id.desc())
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
