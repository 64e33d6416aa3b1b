"""Disposal (gallring): rules per record type, run nightly; a disposed household is
anonymised — what identifies anyone goes, what the reports count stays."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, update

from lotsen.accounts.models import User
from lotsen.audit.services import audit, forget_household_values, purge_entries
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.services import create_followup
from lotsen.households.models import Household, HouseholdEvent, StageChange
from lotsen.households.vocab import Stage
from lotsen.imports.models import ImportBatch, ImportRow
from lotsen.interest.models import InterestSubmission
from lotsen.interest.services import purge_unconfirmed
from lotsen.jobs import job
from lotsen.matching.models import Match
from lotsen.notifications.models import OutboxMessage
from lotsen.privacy.models import DisposalHold
from lotsen.workdays import local_date

ANONYMOUS_NAME = "Anonymiserad"
NOTICE_RULE = "disposal"


class DisposalError(ValueError):
    """A disposal rule was broken; the message is shown to the user."""


@dataclass(frozen=True)
class Rule:
    """One disposal rule as configured: what, after how long."""

    record: str
    label: object
    after: str


def rules(config=None) -> list[Rule]:
    """The configured rules, for the admins' page (values from the settings)."""
    cfg = config or current_app.config
    return [
        Rule(
            "interest_submission",
            _l("Unconfirmed form submissions"),
            _l("%(n)d days", n=cfg["INTEREST_CONFIRM_DAYS"]),
        ),
        Rule(
            "closed",
            _l("Closed households"),
            _l("%(n)d months after closing", n=cfg["DISPOSAL_CLOSED_MONTHS"]),
        ),
        Rule(
            "moved_in",
            _l("Moved-in households"),
            _l("%(n)d months after moving in", n=cfg["DISPOSAL_MOVED_IN_MONTHS"]),
        ),
        Rule(
            "audit_entry",
            _l("Audit log entries"),
            _l("%(n)d years", n=cfg["DISPOSAL_AUDIT_YEARS"]),
        ),
    ]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _months_for(stage: Stage) -> int | None:
    cfg = current_app.config
    return {
        Stage.CLOSED: cfg["DISPOSAL_CLOSED_MONTHS"],
        Stage.MOVED_IN: cfg["DISPOSAL_MOVED_IN_MONTHS"],
    }.get(stage)


def hold_until(household_id: int) -> date | None:
    return db.session.scalar(_hold_until_statement(), {"household_id": household_id})


@cache
def _hold_until_statement():
    """Built once: the household page asks on every view of a closed household."""
    return select(func.max(DisposalHold.until)).where(
        DisposalHold.household_id == bindparam("household_id")
    )


def disposal_outlook(household: Household) -> tuple[date | None, date | None]:
    """(when the rules dispose of this household, the hold it is kept until) — (None,
    None) when no rule applies (or it is done); the holds are read only when one does."""
    months = _months_for(household.stage)
    if months is None or household.anonymised_at is not None:
        return None, None
    due = add_months(local_date(household.stage_changed_at), months)
    held = hold_until(household.id)
    return (max(due, held + timedelta(days=1)) if held else due), held


def disposal_date(household: Household) -> date | None:
    """When the rules dispose of this household (None: no rule applies, or done)."""
    return disposal_outlook(household)[0]


def _candidates(cutoffs_before: dict[Stage, datetime]):
    """Households whose stage is old enough for its rule at some cut-off moment."""
    return select(Household).where(
        Household.anonymised_at.is_(None),
        or_(
            *(
                (Household.stage == stage) & (Household.stage_changed_at < cutoff)
                for stage, cutoff in cutoffs_before.items()
            )
        ),
    )


def _cutoffs(day: date) -> dict[Stage, datetime]:
    """Stage changes before these moments make a household due on ``day``."""
    out = {}
    for stage in (Stage.CLOSED, Stage.MOVED_IN):
        months = _months_for(stage)
        back = add_months(day, -months) + timedelta(days=1)
        out[stage] = datetime(back.year, back.month, back.day, tzinfo=UTC)  # a day of margin
    return out


def hold_disposal(household: Household, *, until: date, reason: str, by: User, now) -> None:
    """Keep a household past its disposal date, with a reason, until ``until``."""
    db.session.add(
        DisposalHold(household_id=household.id, until=until, reason=reason, by_id=by.id, at=now)
    )
    db.session.flush()
    audit(  # not the reason: free text, which disposal would have to find again
        "disposal.hold", by=by, household_id=household.id, changes={"until": until.isoformat()}
    )


def _identifying(household: Household) -> list[str]:
    """The values that name this household, to find them in e-mails and import files."""
    values = {household.name, household.email, household.phone}
    for person in household.persons:
        if person.last_name:
            values.add(person.full_name)
    return [v for v in values if v and len(v) >= 4]


def _scrub_outbox(values: list[str], email: str | None) -> None:
    conds = [OutboxMessage.body.contains(v) for v in values]
    conds += [OutboxMessage.subject.contains(v) for v in values]
    if email:
        conds.append(func.lower(OutboxMessage.to_address) == email.lower())
    if conds:
        db.session.execute(
            update(OutboxMessage)
            .where(or_(*conds))
            .values(subject="", body="", to_address="-")
            .execution_options(synchronize_session=False)
        )


def _scrub_imports(household_id: int, values: list[str]) -> None:
    batch_ids = select(ImportRow.batch_id).where(ImportRow.household_id == household_id)
    db.session.execute(
        update(ImportRow)
        .where(ImportRow.household_id == household_id)
        .values(message=None)
        .execution_options(synchronize_session=False)
    )
    lowered = [v.lower() for v in values]
    for batch in db.session.scalars(select(ImportBatch).where(ImportBatch.id.in_(batch_ids))):
        batch.rows = [
            ["" for _cell in row]
            if any(v in str(cell).lower() for cell in row for v in lowered)
            else row
            for row in batch.rows
        ]


def anonymise_household(household: Household, *, now: datetime, by: User | None, rule: str) -> None:
    """Remove names, contact details, free text and members' identifying fields; keep the
    municipality, stage history, source, counts of adults and children, and dates, so
    every report figure stays the same. Logged."""
    if household.anonymised_at is not None:
        raise DisposalError(_l("This household has been anonymised already."))
    hid = household.id
    values = _identifying(household)
    email = household.email
    _scrub_outbox(values, email)
    _scrub_imports(hid, values)
    for name in (
        "email",
        "phone",
        "town",
        "housing_area",
        "housing_needs",
        "timeframe",
        "source_detail",
        "notes",
    ):
        setattr(household, name, None)
    household.name = f"{ANONYMOUS_NAME} {hid}"
    household.search_text = ""
    household.anonymised_at = now
    for person in household.persons:
        person.first_name = ""
        for name in ("last_name", "birth_year", "occupation", "languages", "credentials"):
            setattr(person, name, None)
    plain = {"synchronize_session": False}
    for stmt in (
        update(Contact).where(Contact.household_id == hid).values(summary=""),
        update(HouseholdEvent)
        .where(HouseholdEvent.household_id == hid)
        .values(text=None, data=None),
        update(StageChange).where(StageChange.household_id == hid).values(comment=None),
        update(FollowUp).where(FollowUp.household_id == hid).values(title="–", note=None),
        update(Match).where(Match.household_id == hid).values(decline_reason=None),
        update(DisposalHold).where(DisposalHold.household_id == hid).values(reason=""),
        update(InterestSubmission)
        .where(InterestSubmission.household_id == hid)
        .values(email="", phone=None, data={}),
    ):
        db.session.execute(stmt.execution_options(**plain))
    db.session.flush()
    forget_household_values(hid)
    audit("disposal.anonymise", by=by, household_id=hid, changes={"rule": rule})


def _notice(household: Household, due: date, today: date) -> None:
    """The guide's follow-up before disposal: keep it longer, or let it go."""
    key = f"{NOTICE_RULE}:{due.isoformat()}"
    asked = db.session.scalar(
        select(FollowUp.id).where(FollowUp.household_id == household.id, FollowUp.rule_key == key)
    )
    if asked is None:
        create_followup(
            household,
            due_on=max(today, due - timedelta(days=current_app.config["DISPOSAL_NOTICE_DAYS"])),
            by=None,
            title=str(_l("Disposal on %(day)s: keep it longer, with a reason?", day=due)),
            rule=NOTICE_RULE,
            rule_key=key,
        )


@job("dispose")
def dispose(now: datetime) -> dict[str, int]:
    """The nightly disposal run: purge unconfirmed submissions, ask guides about households
    due within DISPOSAL_NOTICE_DAYS, anonymise those due (and not held). Safe to run twice."""
    today = local_date(now)
    counts = {"submissions": purge_unconfirmed(now), "notices": 0, "anonymised": 0}
    years = current_app.config["DISPOSAL_AUDIT_YEARS"]
    counts["audit_entries"] = purge_entries(now - timedelta(days=365 * years + years // 4))
    horizon = today + timedelta(days=current_app.config["DISPOSAL_NOTICE_DAYS"])
    for household in db.session.scalars(_candidates(_cutoffs(horizon))).all():
        due = disposal_date(household)
        if due is None or due > horizon:
            continue
        if due <= today:
            anonymise_household(household, now=now, by=None, rule=str(household.stage))
            counts["anonymised"] += 1
        else:
            _notice(household, due, today)
            counts["notices"] += 1
    db.session.flush()
    return counts
