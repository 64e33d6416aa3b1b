"""How well a listing fits a household, and a job an adult: a score and its reasons in words.

Pure functions of plain values (no database), so the rules are easy to read and test. A
``None`` fit means the household's wishes exclude the item: it is never suggested, so it
can never rank above one that fits. Every other rule adds points and, when asked to
explain, a sentence the guide (or the household, in the suggestion e-mail) can read.
Reasons are only worded for the items shown (``explain=True``): ranking thousands of
listings must not cost thousands of translations.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lotsen.households.search import words
from lotsen.households.vocab import HousingType, Tenure
from lotsen.matching.vocab import ListingTenure, ListingType, mlabel

# With "rent or buy" (or no tenure) a budget below this is read as monthly rent.
MONTHLY_BUDGET_BELOW = 100_000
BUDGET_SLACK = 1.10  # up to 10 % over budget is shown, with fewer points
LATE_DAYS = 60  # available this long after the planned move still counts a little
SHORT_WORDS = 4  # occupation words shorter than this say too little to match on
STOP_WORDS = frozenset({"inom", "med", "och", "eller", "till", "for", "with", "and", "the"})


@dataclass(frozen=True)
class Wishes:
    """What matching needs to know of a household, as plain values."""

    codes: frozenset[str]  # municipalities of interest; empty: "not sure yet"
    primary: str | None
    names: dict[str, str]  # municipality code -> name, for the reasons
    tenure: str | None = None
    type: str | None = None
    rooms: int | None = None
    budget: int | None = None
    move_date: date | None = None
    adults: int = 1
    children: int = 0

    @property
    def size(self) -> int:
        return max(1, self.adults + self.children)

    @property
    def rooms_needed(self) -> int:
        """The wish if given; else a room each for the adults together and each child,
        and a living room ("4 rum och kök" for a couple with two children)."""
        if self.rooms:
            return self.rooms
        return 1 + (1 if self.adults else 0) + self.children

    @property
    def budget_is_monthly(self) -> bool | None:
        if not self.budget:
            return None
        if self.tenure == Tenure.RENT:
            return True
        if self.tenure == Tenure.BUY:
            return False
        return self.budget < MONTHLY_BUDGET_BELOW


@dataclass(frozen=True)
class Seeker:
    """A job-seeking adult."""

    person_id: int
    name: str
    occupation: str | None
    ssyk_code: str | None

    @cached_property
    def words(self) -> tuple[str, ...]:
        return occupation_words(self.occupation)


@dataclass
class Fit:
    score: int
    reasons: list[str] = field(default_factory=list)


def occupation_words(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(
        dict.fromkeys(w for w in words(text) if len(w) >= SHORT_WORDS and w not in STOP_WORDS)
    )


def kr(amount: int) -> str:
    return f"{format_decimal(amount)} kr"


def _municipality(w: Wishes, code: str, fit: Fit, explain: bool, points=(20, 10)) -> bool:
    if not w.codes:
        return True  # not sure yet: every municipality is possible
    if code not in w.codes:
        return False
    first = code == w.primary
    fit.score += points[0] if first else points[1]
    if explain:
        name = w.names.get(code, code)
        fit.reasons.append(
            _("in %(name)s, their first choice", name=name)
            if first
            else _("in %(name)s, one of their municipalities of interest", name=name)
        )
    return True


EXACT_TYPE = {
    ListingType.APARTMENT: _l("an apartment, as they wish"),
    ListingType.HOUSE: _l("a house, as they wish"),
    ListingType.FARM: _l("a farm, as they wish"),
}
TYPE_FITS = {  # wish -> {listing type: points}
    HousingType.APARTMENT: {ListingType.APARTMENT: 15},
    HousingType.HOUSE: {ListingType.HOUSE: 15, ListingType.FARM: 5},
    HousingType.FARM: {ListingType.FARM: 15, ListingType.HOUSE: 5},
    HousingType.RENOVATION: {ListingType.HOUSE: 10, ListingType.FARM: 10},
}


def listing_fit(w: Wishes, listing, today: date, explain: bool = False) -> Fit | None:
    """``listing``: anything with the listing's attributes (an ORM row or a plain row)."""
    fit = Fit(0)
    if not _municipality(w, listing.municipality_code, fit, explain):
        return None
    tenure, kind = listing.tenure, listing.type  # StrEnum members or their plain values

    if w.tenure == Tenure.RENT:
        if tenure == ListingTenure.BUY:
            return None
        fit.score += 15 if tenure == ListingTenure.RENT else 10
        if explain:
            fit.reasons.append(
                _("for rent, as they wish")
                if tenure == ListingTenure.RENT
                else _("a sublet; they want to rent")
            )
    elif w.tenure == Tenure.BUY:
        if tenure != ListingTenure.BUY:
            return None
        fit.score += 15
        if explain:
            fit.reasons.append(_("for sale, as they wish"))

    if w.type in TYPE_FITS:
        points = TYPE_FITS[HousingType(w.type)].get(kind)
        if points is None:
            return None
        fit.score += points
        if explain:
            fit.reasons.append(
                str(EXACT_TYPE[ListingType(kind)])
                if points == 15
                else _(
                    "%(kind)s – they wish for: %(wish)s",
                    kind=mlabel(kind),
                    wish=_wish_label(w.type),
                )
            )

    if kind == ListingType.ROOM and w.size > 1:
        return None  # a room is a home for one
    if listing.rooms:
        needed = w.rooms_needed
        if listing.rooms >= needed:
            fit.score += 15
            if explain:
                fit.reasons.append(
                    ngettext(
                        "%(num)d room for a household of %(size)d",
                        "%(num)d rooms for a household of %(size)d",
                        listing.rooms,
                        size=w.size,
                    )
                )
        elif listing.rooms == needed - 1:
            if explain:
                fit.reasons.append(
                    _(
                        "%(rooms)d rooms, one fewer than the %(needed)d they need",
                        rooms=listing.rooms,
                        needed=needed,
                    )
                )
        else:
            return None

    monthly = w.budget_is_monthly
    cost = listing.price if tenure == ListingTenure.BUY else listing.rent
    if monthly is not None and cost and monthly == (tenure != ListingTenure.BUY):
        what = (_("rent") if monthly else _("price")) if explain else ""
        if cost <= w.budget:
            fit.score += 15
            if explain:
                fit.reasons.append(
                    _(
                        "%(what)s %(cost)s within the budget of %(budget)s",
                        what=what,
                        cost=kr(cost),
                        budget=kr(w.budget),
                    )
                )
        elif cost <= w.budget * BUDGET_SLACK:
            fit.score += 5
            if explain:
                fit.reasons.append(
                    _(
                        "%(what)s %(cost)s, a little over the budget of %(budget)s",
                        what=what,
                        cost=kr(cost),
                        budget=kr(w.budget),
                    )
                )
        else:
            return None

    if w.move_date:
        available = listing.available_from or today
        if available <= w.move_date:
            fit.score += 10
            if explain:
                fit.reasons.append(
                    _(
                        "available from %(day)s, before the planned move (%(move)s)",
                        day=format_date(available),
                        move=format_date(w.move_date),
                    )
                )
        elif (available - w.move_date).days <= LATE_DAYS:
            fit.score += 3
            if explain:
                fit.reasons.append(
                    _(
                        "available from %(day)s, shortly after the planned move (%(move)s)",
                        day=format_date(available),
                        move=format_date(w.move_date),
                    )
                )
        elif explain:
            fit.reasons.append(
                _(
                    "available only from %(day)s, long after the planned move",
                    day=format_date(available),
                )
            )
    return fit


def _wish_label(value) -> str:
    from lotsen.households.vocab import label

    return label(HousingType(value)).lower()


def job_fit(w: Wishes, seeker: Seeker, job, explain: bool = False) -> Fit | None:
    """How well ``job`` fits one adult: SSYK code first, then occupation words. A job that
    fits nothing of the adult's occupation is no suggestion."""
    fit = Fit(0)
    if not _municipality(w, job.municipality_code, fit, explain, points=(10, 5)):
        return None
    code = seeker.ssyk_code
    if code and job.ssyk_code == code:
        fit.score += 50
        if explain:
            fit.reasons.append(
                _(
                    "SSYK %(code)s – matches %(name)s's occupation",
                    code=code,
                    name=seeker.name,
                )
            )
        return fit
    if code and job.ssyk_code and job.ssyk_code[:3] == code[:3]:
        fit.score += 25
        if explain:
            fit.reasons.append(
                _(
                    "SSYK %(code)s, the same occupation group as %(name)s's",
                    code=job.ssyk_code,
                    name=seeker.name,
                )
            )
        return fit
    text = job.search_text or ""
    found = [word for word in seeker.words if word in text]
    if not found:
        return None
    fit.score += 20
    if explain:
        fit.reasons.append(
            _(
                "%(title)s – matches %(name)s's occupation (%(occupation)s)",
                title=job.title,
                name=seeker.name,
                occupation=seeker.occupation,
            )
        )
    return fit
