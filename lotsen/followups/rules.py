"""Rules that create follow-ups by themselves, each switchable and with parameters.

A rule is an object: its name, label, help text, parameters (whole numbers with limits) and
``due(now, params)``, which yields the follow-ups it asks for. ``evaluate_rules`` (the
scheduler's job) runs every enabled rule; ``apply_rule`` runs one rule for one household
(the interest form uses it for the first contact), with the coordinator's switch and
parameters. A feature adds a rule with ``register_rule(MyRule())``; the rules page shows
its switch and one field per parameter.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
class Param:
    name: str
    label: object
    default: int
    min: int = 0
    max: int = 365


@dataclass(frozen=True)
class Due:
    """A follow-up a rule asks for. ``key`` is unique among a household's open follow-ups."""

    household: Household
    key: str
    due_on: date
    title: str


class Rule:
    name: str
    label: object
    help: object
    params: tuple[Param, ...] = ()

    @property
    def defaults(self) -> dict[str, int]:
        return {p.name: p.default for p in self.params}

    def due(self, now: datetime, params: dict[str, int]) -> Iterator[Due]:
        """The follow-ups this rule asks for at ``now``."""
        raise NotImplementedError

    def due_for(self, household: Household, now: datetime, params: dict[str, int]) -> Due | None:
        """The follow-up this rule asks for one household just registered (None: none)."""
        return None


def _swedish(text) -> str:
    with force_locale("sv"):  # follow-ups are shared records: written in Swedish
        return str(text)


def _has_rule_followup(rule_key: str):
    """Whether the household ever had a follow-up from this rule (open or not)."""
    return exists().where(
        and_(FollowUp.household_id == Household.id, FollowUp.rule_key == rule_key)
    )


class FirstContact(Rule):
    name = "first_contact"
    label = _l("First contact with a new household")
    help = _l(
        "A household registered at stage New, without contact, gets a follow-up due "
        "within the given number of Swedish working days."
    )
    params = (Param("working_days", _l("Working days"), 2),)

    def due(self, now, params):
        new = select(Household).where(
            Household.stage == Stage.NEW,
            Household.last_contact_at.is_(None),
            ~_has_rule_followup(self.name),
        )
        for h in db.session.scalars(new):
            yield self.due_for(h, now, params)

    def due_for(self, household, now, params):
        due = add_working_days(local_date(household.created_at), params["working_days"])
        return Due(household, self.name, due, _swedish(_l("First contact")))


class NoContact(Rule):
    name = "no_contact"
    label = _l("No contact for a while")
    help = _l(
        "An active household (contacted, planning, visit, decided) without contact for "
        "the given number of days, and without a planned follow-up, gets one for its guide."
    )
    params = (Param("days", _l("Days without contact"), 30),)

    def due(self, now, params):
        cutoff = now - timedelta(days=params["days"])
        quiet = select(Household).where(
            Household.stage.in_(ACTIVE_STAGES),
            Household.guide_id.is_not(None),
            func.coalesce(Household.last_contact_at, Household.created_at) < cutoff,
            ~exists().where(
                and_(FollowUp.household_id == Household.id, FollowUp.status == FollowUpStatus.OPEN)
            ),
        )
        title = _swedish(_l("No contact for %(days)d days", days=params["days"]))
        for h in db.session.scalars(quiet):
            yield Due(h, self.name, local_date(now), title)


class BeforeMove(Rule):
    name = "before_move"
    label = _l("Before the moving date")
    help = _l(
        "A household that has decided to move gets a follow-up the given number of days "
        "before its planned moving date."
    )
    params = (Param("days_before", _l("Days before the move"), 14),)

    def due(self, now, params):
        today = local_date(now)
        days = params["days_before"]
        moving = select(Household).where(
            Household.stage == Stage.DECIDED,
            Household.move_date.is_not(None),
            Household.move_date >= today,
            Household.move_date <= today + timedelta(days=days),
        )
        for h in db.session.scalars(moving):
            key = f"{self.name}:{h.move_date.isoformat()}"
            if db.session.scalar(
                select(FollowUp.id).where(FollowUp.household_id == h.id, FollowUp.rule_key == key)
            ):
                continue
            title = _l(
                "Moving on %(date)s: check that everything is ready", date=h.move_date.isoformat()
            )
            yield Due(h, key, max(today, h.move_date - timedelta(days=days)), _swedish(title))


RULES: dict[str, Rule] = {}


def register_rule(rule: Rule) -> Rule:
    RULES[rule.name] = rule
    return rule


for _rule in (FirstContact(), NoContact(), BeforeMove()):
    register_rule(_rule)


def rule_settings() -> dict[str, tuple[bool, dict[str, int]]]:
    """Each rule's (enabled, parameters), stored values over the defaults."""
    stored = {r.name: r for r in db.session.scalars(select(RuleSetting))}
    settings = {}
    for name, rule in RULES.items():
        row = stored.get(name)
        params = {**rule.defaults, **(row.params if row else {})}
        settings[name] = (row.enabled if row else True, params)
    return settings


def save_rule(name: str, enabled: bool, params: dict[str, int], by) -> None:
    from lotsen.audit import audit

    row = db.session.get(RuleSetting, name)
    before = (row.enabled, dict(row.params)) if row else (True, dict(RULES[name].defaults))
    row = row or RuleSetting(name=name)
    row.enabled = enabled
    row.params = {k: int(v) for k, v in params.items() if k in RULES[name].defaults}
    row.updated_by_id = by.id if by else None
    db.session.add(row)
    db.session.flush()
    after = (row.enabled, {**RULES[name].defaults, **row.params})
    before = (before[0], {**RULES[name].defaults, **before[1]})
    changes = {}
    if before[0] != after[0]:
        changes["enabled"] = [before[0], after[0]]
    for key in after[1]:
        if before[1].get(key) != after[1][key]:
            changes[key] = [before[1].get(key), after[1][key]]
    if changes:  # saving the page unchanged is no settings change
        audit("settings.update", by=by, target=f"rule:{name}", changes=changes)


def _add(rule: Rule, due: Due) -> bool:
    """Create the rule's follow-up; False when a concurrent run already did."""
    try:
        with db.session.begin_nested():
            create_followup(
                due.household,
                due_on=due.due_on,
                by=None,
                title=due.title,
                rule=rule.name,
                rule_key=due.key,
            )
    except IntegrityError:
        return False
    return True


@job("evaluate-rules")
def evaluate_rules(now: datetime) -> dict[str, int]:
    """Create the follow-ups the enabled rules ask for; safe to run any number of times."""
    settings = rule_settings()
    created = dict.fromkeys(RULES, 0)
    # Follow-ups whose assignee can no longer see the household (left by any path that
    # changed scope, or from before the services handed them back) go to its guide.
    hand_back_followups(None)
    for name, rule in RULES.items():
        enabled, params = settings[name]
        if enabled:
            created[name] = sum(_add(rule, due) for due in rule.due(now, params))
    return created


def apply_rule(name: str, household: Household, now: datetime) -> bool:
    """Run one rule for one household now, if a coordinator has not switched it off;
    True when it created a follow-up."""
    enabled, params = rule_settings()[name]
    due = RULES[name].due_for(household, now, params) if enabled else None
    return due is not None and _add(RULES[name], due)
