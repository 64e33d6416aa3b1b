"""Listings, job openings and matches: the rules. Services only flush; callers commit."""

from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import String, delete, or_, select, type_coerce, update
from sqlalchemy.orm import selectinload

from lotsen.access import can_change_municipal, household_scope
from lotsen.accounts.models import User
from lotsen.audit import audit, diff, snapshot
from lotsen.contacts.models import Channel, Direction
from lotsen.contacts.services import log_contact
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.models import Household, Person, household_municipality
from lotsen.households.search import normalise
from lotsen.households.vocab import HousingType, PersonKind, Stage, Tenure
from lotsen.matching.models import JobOpening, Listing, Match
from lotsen.matching.ranking import (
    BUDGET_SLACK,
    TYPE_FITS,
    Fit,
    Seeker,
    Wishes,
    job_fit,
    listing_fit,
)
from lotsen.matching.vocab import JobStatus, ListingStatus, ListingTenure, ListingType, MatchStatus
from lotsen.regions.models import municipality_refs

LISTING_FIELDS = (
    "municipality_code",
    "title",
    "area",
    "address",
    "tenure",
    "type",
    "rooms",
    "living_area",
    "rent",
    "price",
    "available_from",
    "contact",
    "url",
    "status",
)
JOB_FIELDS = (
    "municipality_code",
    "title",
    "employer",
    "occupation",
    "ssyk_code",
    "extent",
    "employment_type",
    "last_application_date",
    "url",
    "status",
)
ACTIVE_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.PLANNING, Stage.VISIT, Stage.DECIDED)


class MatchError(ValueError):
    """A matching rule was broken; the message is shown to the user."""


def job_search_text(title: str | None, occupation: str | None) -> str:
    return normalise(" ".join(p for p in (title, occupation) if p))[:500]


# --- listings and jobs -------------------------------------------------------------------


def save_listing(data: dict[str, Any], by: User | None, listing: Listing | None = None) -> Listing:
    if by is not None and not can_change_municipal(by, data["municipality_code"]):
        raise MatchError(_("You can only keep listings of your own municipalities."))
    fields = (*LISTING_FIELDS, "external_id")
    before = snapshot(listing, fields) if listing is not None else None
    if listing is None:
        listing = Listing(created_by_id=by.id if by else None)
        db.session.add(listing)
    for name in fields:
        if name in data:
            setattr(listing, name, data[name])
    db.session.flush()
    _audit_saved("listing", listing, by, fields, before)
    return listing


def _audit_saved(kind: str, obj, by: User | None, fields, before: dict | None) -> None:
    """``listing.create``/``job.create`` with the values, or ``.update`` with what changed."""
    if before is None:
        values = {k: v for k, v in snapshot(obj, fields).items() if v not in (None, "")}
        audit(f"{kind}.create", by=by, target=f"{kind}:{obj.id}", changes=values)
    elif changed := diff(obj, fields, before):
        audit(f"{kind}.update", by=by, target=f"{kind}:{obj.id}", changes=changed)


def save_job(data: dict[str, Any], by: User | None, job: JobOpening | None = None) -> JobOpening:
    if by is not None and not can_change_municipal(by, data["municipality_code"]):
        raise MatchError(_("You can only keep job openings of your own municipalities."))
    fields = (*JOB_FIELDS, "source", "external_id")
    before = snapshot(job, fields) if job is not None else None
    if job is None:
        job = JobOpening(created_by_id=by.id if by else None)
        db.session.add(job)
    for name in fields:
        if name in data:
            setattr(job, name, data[name])
    job.search_text = job_search_text(job.title, job.occupation)
    db.session.flush()
    _audit_saved("job", job, by, fields, before)
    return job


# --- ranking -----------------------------------------------------------------------------


def wishes_of(household: Household) -> Wishes:
    adults = sum(1 for p in household.persons if p.kind == PersonKind.ADULT)
    return Wishes(
        codes=frozenset(household.municipality_codes),
        primary=household.primary_municipality_code,
        names={m.code: m.name for m in municipality_refs()},
        tenure=household.housing_tenure,
        type=household.housing_type,
        rooms=household.housing_rooms,
        budget=household.housing_budget,
        move_date=household.move_date,
        adults=adults,
        children=len(household.persons) - adults,
    )


def seekers_of(household: Household) -> list[Seeker]:
    return [
        Seeker(p.id, p.first_name, p.occupation, p.ssyk_code)
        for p in household.persons
        if p.kind == PersonKind.ADULT and p.seeks_job and (p.occupation or p.ssyk_code)
    ]


# Plain strings, not enum members: ranking reads thousands of these rows per page.
LISTING_COLUMNS = (
    Listing.id,
    Listing.municipality_code,
    type_coerce(Listing.tenure, String).label("tenure"),
    type_coerce(Listing.type, String).label("type"),
    Listing.rooms,
    Listing.rent,
    Listing.price,
    Listing.available_from,
)


def listing_suggestions(
    household: Household, today: date, limit: int = 8
) -> list[tuple[Listing, Fit]]:
    """Available listings that fit the household, best first, with reasons; those already
    matched with it are left out (they are in its matches)."""
    w = wishes_of(household)
    stmt = select(*LISTING_COLUMNS).where(
        Listing.status == ListingStatus.AVAILABLE,
        Listing.id.not_in(
            select(Match.listing_id).where(
                Match.household_id == household.id, Match.listing_id.is_not(None)
            )
        ),
    )
    stmt = stmt.where(*listing_prefilter(w))
    # Score the light rows, then load and word the few that are shown.
    scored = []
    for row in db.session.execute(stmt):
        fit = listing_fit(w, row, today)
        if fit is not None:
            scored.append((-fit.score, row.id))
    top = [listing_id for _, listing_id in sorted(scored)[:limit]]
    if not top:
        return []
    rows = {
        x.id: x
        for x in db.session.scalars(
            select(Listing).where(Listing.id.in_(top)).options(selectinload(Listing.municipality))
        )
    }
    return [(rows[i], listing_fit(w, rows[i], today, explain=True)) for i in top]


def listing_prefilter(w: Wishes) -> list:
    """The exclusions of ``listing_fit`` as SQL, so that only listings that may fit are
    read; ``listing_fit`` still decides (a test holds the two together)."""
    conditions = []
    if w.codes:
        conditions.append(Listing.municipality_code.in_(sorted(w.codes)))
    if w.tenure == Tenure.RENT:
        conditions.append(Listing.tenure != ListingTenure.BUY)
    elif w.tenure == Tenure.BUY:
        conditions.append(Listing.tenure == ListingTenure.BUY)
    if w.type in TYPE_FITS:
        conditions.append(Listing.type.in_(sorted(TYPE_FITS[HousingType(w.type)])))
    if w.size > 1:
        conditions.append(Listing.type != ListingType.ROOM)
    conditions.append(or_(Listing.rooms.is_(None), Listing.rooms >= w.rooms_needed - 1))
    monthly = w.budget_is_monthly
    if monthly is not None:
        ceiling = int(w.budget * BUDGET_SLACK)
        if monthly:
            conditions.append(
                or_(
                    Listing.tenure == ListingTenure.BUY,
                    Listing.rent.is_(None),
                    Listing.rent <= ceiling,
                )
            )
        else:
            conditions.append(
                or_(
                    Listing.tenure != ListingTenure.BUY,
                    Listing.price.is_(None),
                    Listing.price <= ceiling,
                )
            )
    return conditions


JOB_COLUMNS = (
    JobOpening.id,
    JobOpening.municipality_code,
    JobOpening.title,
    JobOpening.ssyk_code,
    JobOpening.search_text,
)


def job_suggestions(
    household: Household, today: date, per_person: int = 5
) -> list[tuple[Seeker, list[tuple[JobOpening, Fit]]]]:
    """Open jobs for each job-seeking adult of the household, best first, with reasons."""
    w = wishes_of(household)
    seekers = seekers_of(household)
    if not seekers:
        return []
    wanted = []
    for s in seekers:
        if s.ssyk_code:
            wanted.append(JobOpening.ssyk_code.startswith(s.ssyk_code[:3]))
        wanted.extend(JobOpening.search_text.contains(word) for word in s.words)
    stmt = select(*JOB_COLUMNS).where(
        JobOpening.status == JobStatus.OPEN,
        or_(JobOpening.last_application_date.is_(None), JobOpening.last_application_date >= today),
        or_(*wanted),
    )
    if w.codes:
        stmt = stmt.where(JobOpening.municipality_code.in_(sorted(w.codes)))
    rows = list(db.session.execute(stmt))
    matched = {
        (row.job_id, row.person_id)
        for row in db.session.execute(
            select(Match.job_id, Match.person_id).where(
                Match.household_id == household.id, Match.job_id.is_not(None)
            )
        )
    }
    picks: list[tuple[Seeker, list[int]]] = []
    for s in seekers:
        scored = []
        for row in rows:
            if (row.id, s.person_id) in matched:
                continue
            fit = job_fit(w, s, row)
            if fit is not None:
                scored.append((-fit.score, row.id))
        picks.append((s, [job_id for _, job_id in sorted(scored)[:per_person]]))
    ids = {i for _, chosen in picks for i in chosen}
    jobs = {
        j.id: j
        for j in db.session.scalars(
            select(JobOpening)
            .where(JobOpening.id.in_(ids))
            .options(selectinload(JobOpening.municipality))
        )
    }
    return [
        (s, [(jobs[i], job_fit(w, s, jobs[i], explain=True)) for i in chosen])
        for s, chosen in picks
    ]


def _candidate_households(user: User, municipality_code: str, limit: int = 2000):
    return list(
        db.session.scalars(
            select(Household)
            .where(
                Household.id.in_(
                    select(household_municipality.c.household_id).where(
                        household_municipality.c.municipality_code == municipality_code
                    )
                ),
                Household.stage.in_(ACTIVE_STAGES),
                household_scope(user),
            )
            .options(selectinload(Household.persons), selectinload(Household.municipalities))
            .order_by(Household.id.desc())
            .limit(limit)
        )
    )


def households_for_listing(
    listing: Listing, user: User, today: date, limit: int = 15
) -> list[tuple[Household, Fit]]:
    """Households (that ``user`` may see) which the listing fits, best first."""
    matched = set(
        db.session.scalars(select(Match.household_id).where(Match.listing_id == listing.id))
    )
    ranked = []
    for h in _candidate_households(user, listing.municipality_code):
        if h.id in matched:
            continue
        fit = listing_fit(wishes_of(h), listing, today)
        if fit is not None:
            ranked.append((h, fit))
    ranked.sort(key=lambda x: (-x[1].score, x[0].id))
    return [(h, listing_fit(wishes_of(h), listing, today, explain=True)) for h, _ in ranked[:limit]]


def households_for_job(
    job: JobOpening, user: User, limit: int = 15
) -> list[tuple[Household, Seeker, Fit]]:
    """Job-seeking adults (of households ``user`` may see) whom the job fits, best first."""
    matched = {
        (row.household_id, row.person_id)
        for row in db.session.execute(
            select(Match.household_id, Match.person_id).where(Match.job_id == job.id)
        )
    }
    ranked = []
    for h in _candidate_households(user, job.municipality_code):
        w = wishes_of(h)
        for s in seekers_of(h):
            if (h.id, s.person_id) in matched:
                continue
            fit = job_fit(w, s, job)
            if fit is not None:
                ranked.append((h, s, fit))
    ranked.sort(key=lambda x: (-x[2].score, x[0].id))
    return [(h, s, job_fit(wishes_of(h), s, job, explain=True)) for h, s, _ in ranked[:limit]]


# --- the match workflow ------------------------------------------------------------------


def suggest(
    household: Household,
    by: User | None,
    *,
    listing: Listing | None = None,
    job: JobOpening | None = None,
    person: Person | None = None,
    today: date,
    now: datetime | None = None,
) -> Match:
    """Record a listing, or a job for one adult, as suggested to the household."""
    if (listing is None) == (job is None):
        raise MatchError(_("Choose a listing or a job."))
    w = wishes_of(household)
    if listing is not None:
        if listing.status != ListingStatus.AVAILABLE:
            raise MatchError(_("The listing is no longer available."))
        fit = listing_fit(w, listing, today)
        existing = select(Match).where(
            Match.household_id == household.id, Match.listing_id == listing.id
        )
    else:
        if person is None or person.household_id != household.id or not person.seeks_job:
            raise MatchError(_("Choose an adult of the household who is looking for a job."))
        if job.status != JobStatus.OPEN:
            raise MatchError(_("The job is no longer open."))
        seeker = Seeker(person.id, person.first_name, person.occupation, person.ssyk_code)
        fit = job_fit(w, seeker, job)
        existing = select(Match).where(
            Match.household_id == household.id,
            Match.job_id == job.id,
            Match.person_id == person.id,
        )
    if db.session.scalars(existing).first() is not None:
        raise MatchError(_("This has been suggested to the household already."))
    match = Match(
        household_id=household.id,
        listing_id=listing.id if listing else None,
        job_id=job.id if job else None,
        person_id=person.id if person else None,
        status=MatchStatus.SUGGESTED,
        score=fit.score if fit else 0,
        created_by_id=by.id if by else None,
        created_at=now or utcnow(),
    )
    db.session.add(match)
    db.session.flush()
    audit(
        "match.create",
        by=by,
        household_id=household.id,
        target=f"match:{match.id}",
        changes={
            "listing_id": match.listing_id,
            "job_id": match.job_id,
            "person_id": match.person_id,
        },
    )
    return match


def _audit_match(match: Match, by: User | None, before: MatchStatus) -> None:
    audit(
        "match.update",
        by=by,
        household_id=match.household_id,
        target=f"match:{match.id}",
        changes={"status": [before, match.status]},
    )


def _title(match: Match) -> str:
    return match.listing.title if match.listing else match.job.title


def send_match(match: Match, by: User | None, now: datetime, today: date) -> None:
    """E-mail the suggestion to the household in its language and log it as a contact."""
    from lotsen.matching.mail import suggestion_mail
    from lotsen.notifications.services import enqueue

    if match.status != MatchStatus.SUGGESTED:
        raise MatchError(_("Only a suggestion that has not been sent can be sent."))
    household = match.household
    if not household.email:
        raise MatchError(_("The household has no e-mail address."))
    enqueue(suggestion_mail(match, today), now)
    _audit_match_to(match, by, MatchStatus.SENT)
    match.status = MatchStatus.SENT
    match.sent_at = now
    with force_locale("sv"):  # the contact log is a shared record: written in Swedish
        summary = _("Suggestion sent by e-mail: %(title)s", title=_title(match))
    log_contact(
        household, by, channel=Channel.EMAIL, direction=Direction.OUTGOING, summary=summary, at=now
    )
    db.session.flush()


def _audit_match_to(match: Match, by: User | None, to: MatchStatus) -> None:
    before = match.status
    match.status = to
    _audit_match(match, by, before)


def respond(
    match: Match, interested: bool, reason: str | None, now: datetime, by: User | None = None
) -> None:
    """The household's answer: interested, or declined with a reason."""
    if match.status not in (MatchStatus.SUGGESTED, MatchStatus.SENT, MatchStatus.INTERESTED):
        raise MatchError(_("This match has been closed already."))
    if not interested and not (reason or "").strip():
        raise MatchError(_("Give the reason why the household declined."))
    _audit_match_to(match, by, MatchStatus.INTERESTED if interested else MatchStatus.DECLINED)
    match.decline_reason = None if interested else reason.strip()[:300]
    match.responded_at = now
    db.session.flush()


def accept(match: Match, now: datetime, by: User | None = None) -> None:
    """The household takes the home or the job; an accepted listing becomes reserved."""
    if match.status not in (MatchStatus.SENT, MatchStatus.INTERESTED):
        raise MatchError(_("Only a sent suggestion the household did not decline can be accepted."))
    if match.listing is not None:
        if match.listing.status != ListingStatus.AVAILABLE:
            raise MatchError(_("The listing is no longer available."))
        match.listing.status = ListingStatus.RESERVED
    _audit_match_to(match, by, MatchStatus.ACCEPTED)
    match.accepted_at = now
    match.responded_at = match.responded_at or now
    db.session.flush()


def move_matches(from_household_id: int, to_household_id: int) -> None:
    """When two households are merged: their matches go along, except those the kept
    household already has (the same listing, or the same job for the same adult)."""
    kept = select(Match.listing_id).where(
        Match.household_id == to_household_id, Match.listing_id.is_not(None)
    )
    kept_jobs = select(Match.job_id).where(
        Match.household_id == to_household_id, Match.job_id.is_not(None)
    )
    db.session.execute(
        delete(Match)
        .where(
            Match.household_id == from_household_id,
            or_(Match.listing_id.in_(kept), Match.job_id.in_(kept_jobs)),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Match)
        .where(Match.household_id == from_household_id)
        .values(household_id=to_household_id)
        .execution_options(synchronize_session=False)
    )


def matches_of(user: User | None = None, **where) -> list[Match]:
    """Matches of a household, listing or job (``household_id=...`` etc.), newest first;
    with ``user``, only those of households that user may see."""
    stmt = select(Match).options(
        selectinload(Match.listing),
        selectinload(Match.job),
        selectinload(Match.person),
        selectinload(Match.household),
    )
    for name, value in where.items():
        stmt = stmt.where(getattr(Match, name) == value)
    if user is not None:
        stmt = stmt.where(Match.household_id.in_(select(Household.id).where(household_scope(user))))
    return list(db.session.scalars(stmt.order_by(Match.created_at.desc(), Match.id.desc())))
