"""Rules that create follow-ups by themselves, each switchable and with parameters."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError

from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus, RuleSetting
from lotsen.followups.services import create_followup, hand_back_followups
from lotsen.households.models import Household
from lotsen.households.vocab import Stage
from lotsen.jobs import job
from lotsen.workdays import add_working_days, local_date

ACTIVE_STAGES = (Stage.CONTACTED, Stage.PLANNING, Stage.VISIT, Stage.DECIDED)


@dataclass(frozen=True)
class Rule:
    name: str
    label: object
    help: object
    params: dict[str, int]  # defaults; every parameter is a whole number
    param_labels: dict[str, object]


RULES = {
    "first_contact": Rule(
        "first_contact",
        _l("First contact with a new household"),
        _l(
            "A household registered at stage New, without contact, gets a follow-up due "
            "within the given number of Swedish working days."
        ),
        {"working_days": 2},
        {"working_days": _l("Working days")},
    ),
    "no_contact": Rule(
        "no_contact",
        _l("No contact for a while"),
        _l(
            "An active household (contacted, planning, visit, decided) without contact for "
            "the given number of days, and without a planned follow-up, gets one for its guide."
        ),
        {"days": 30},
        {"days": _l("Days without contact")},
    ),
    "before_move": Rule(
        "before_move",
        _l("Before the moving date"),
        _l(
            "A household that has decided to move gets a follow-up the given number of days "
            "before its planned moving date."
        ),
        {"days_before": 14},
        {"days_before": _l("Days before the move")},
    ),
}


def rule_settings() -> dict[str, tuple[bool, dict[str, int]]]:
    """Each rule's (enabled, parameters), stored values over the defaults."""
    stored = {r.name: r for r in db.session.scalars(select(RuleSetting))}
    settings = {}
    for name, rule in RULES.items():
        row = stored.get(name)
        params = {**rule.params, **(row.params if row else {})}
        settings[name] = (row.enabled if row else True, params)
    return settings


def save_rule(name: str, enabled: bool, params: dict[str, int], by) -> None:
    row = db.session.get(RuleSetting, name) or RuleSetting(name=name)
    row.enabled = enabled
    row.params = {k: int(v) for k, v in params.items() if k in RULES[name].params}
    row.updated_by_id = by.id if by else None
    db.session.add(row)
    db.session.flush()


def _has_rule_followup(rule_key: str):
    """Whether the household ever had a follow-up from this rule (open or not)."""
    return exists().where(
        and_(FollowUp.household_id == Household.id, FollowUp.rule_key == rule_key)
    )


def _add(household: Household, rule: str, key: str, due, title: str) -> bool:
    """Create the rule's follow-up; False when a concurrent run already did."""
    try:
        with db.session.begin_nested():
            create_followup(household, due_on=due, by=None, title=title, rule=rule, rule_key=key)
    except IntegrityError:
        return False
    return True


def _swedish(text) -> str:
    with force_locale("sv"):  # follow-ups are shared records: written in Swedish
        return str(text)


@job("evaluate-rules")
def evaluate_rules(now: datetime) -> dict[str, int]:
    """Create the follow-ups the enabled rules ask for; safe to run any number of times."""
    settings = rule_settings()
    today = local_date(now)
    created = dict.fromkeys(RULES, 0)
    # Follow-ups whose assignee can no longer see the household (left by any path that
    # changed scope, or from before the services handed them back) go to its guide.
    hand_back_followups(None)

    enabled, params = settings["first_contact"]
    if enabled:
        new = select(Household).where(
            Household.stage == Stage.NEW,
            Household.last_contact_at.is_(None),
            ~_has_rule_followup("first_contact"),
        )
        for h in db.session.scalars(new):
            due = add_working_days(local_date(h.created_at), params["working_days"])
            created["first_contact"] += _add(
                h, "first_contact", "first_contact", due, _swedish(_l("First contact"))
            )

    enabled, params = settings["no_contact"]
    if enabled:
        cutoff = now - timedelta(days=params["days"])
        quiet = select(Household).where(
            Household.stage.in_(ACTIVE_STAGES),
            Household.guide_id.is_not(None),
            func.coalesce(Household.last_contact_at, Household.created_at) < cutoff,
            ~exists().where(
                and_(FollowUp.household_id == Household.id, FollowUp.status == FollowUpStatus.OPEN)
            ),
        )
        for h in db.session.scalars(quiet):
            created["no_contact"] += _add(
                h,
                "no_contact",
                "no_contact",
                today,
                _swedish(_l("No contact for %(days)d days", days=params["days"])),
            )

    enabled, params = settings["before_move"]
    if enabled:
        horizon = today + timedelta(days=params["days_before"])
        moving = select(Household).where(
            Household.stage == Stage.DECIDED,
            Household.move_date.is_not(None),
            Household.move_date >= today,
            Household.move_date <= horizon,
        )
        for h in db.session.scalars(moving):
            key = f"before_move:{h.move_date.isoformat()}"
            if db.session.scalar(
                select(FollowUp.id).where(FollowUp.household_id == h.id, FollowUp.rule_key == key)
            ):
                continue
            due = max(today, h.move_date - timedelta(days=params["days_before"]))
            created["before_move"] += _add(
                h,
                "before_move",
                key,
                due,
                _swedish(
                    _l(
                        "Moving on %(date)s: check that everything is ready",
                        date=h.move_date.isoformat(),
                    )
                ),
            )
    return created
