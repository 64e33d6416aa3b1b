import phonenumbers
from sqlalchemy import func, select

from lotsen.accounts.models import User
from lotsen.contacts.models import Contact
from lotsen.demo import DEMO_PASSWORD
from lotsen.events.models import Event, EventSignup
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.households.models import Household, StageChange


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (User, Household, Contact, StageChange, FollowUp)
    )


def test_seed_demo_fills_a_living_region_once(app_ctx):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["lotsen", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output and "lots.norsjo@demo.lotsen.example" in result.output
    users, households, contacts, changes, followups = counts()
    assert users == 13 and households == 300
    assert contacts > 600 and changes > households and followups > 50
    stages = dict(
        db.session.execute(select(Household.stage, func.count()).group_by(Household.stage)).all()
    )
    assert set(stages) == {"new", "contacted", "planning", "visit", "decided", "moved_in", "closed"}
    assert (
        db.session.scalar(select(func.count()).where(Household.primary_municipality_code.is_(None)))
        > 0
    )

    events = {e.name: e for e in db.session.scalars(select(Event))}
    assert set(events) == {
        "Emigratiebeurs Utrecht",
        "Webbinarium: att bo och arbeta i inlandet",
        "Besöksweekend i Malå",
    }
    by_event = dict(
        db.session.execute(
            select(EventSignup.event_id, func.count()).group_by(EventSignup.event_id)
        ).all()
    )
    assert all(by_event.get(e.id) for e in events.values())
    statuses = set(db.session.scalars(select(EventSignup.status)))
    assert {"attended", "no_show", "registered", "waitlisted"} <= statuses
    assert events["Emigratiebeurs Utrecht"].status == "held"

    phones = db.session.scalars(select(Household.phone)).all()
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)

    before = counts()
    result = runner.invoke(args=["lotsen", "seed-demo"])
    assert result.exit_code == 0 and "nothing changed" in result.output
    assert counts() == before
