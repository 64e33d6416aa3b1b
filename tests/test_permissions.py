"""Route × role permission matrix, generated from the app's URL map.

Every route must declare who may call it (``@allow``). For each route and method this test
calls it as anonymous, as a Norsjö guide, as a coordinator, as an admin and as a
communicator, with the ids of objects that belong to Malå, and checks the answer against
the declaration. A new route without a rule, or with a rule this matrix cannot satisfy,
fails here.

The communicator sees events and builds newsletter audiences, never a household: a route
that lets them in must be in a blueprint of COMMUNICATOR_BLUEPRINTS, and no answer they get
(on any route, allowed or not) may contain the Malå household's name or e-mail address,
except the audience export, which exists to hand out e-mail addresses with consent.
"""

import pytest
from sqlalchemy import func, select

from lotsen import clock
from lotsen.access import PUBLIC
from lotsen.accounts.models import Role
from lotsen.audiences.services import save_audience
from lotsen.clock import now as utcnow
from lotsen.contacts.models import Contact
from lotsen.events.models import Event, EventSignup
from lotsen.events.signups import sign_up
from lotsen.events.vocab import SignupChannel
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.services import create_followup
from lotsen.households.models import Household, HouseholdEvent, HouseholdShare, StageChange
from lotsen.households.services import share_household
from lotsen.imports.services import upload
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import Mail, enqueue
from tests import factories
from tests.conftest import login
from tests.test_event_capture import make_event

ROLES = ("anonymous", "guide", "coordinator", "admin", "communicator")
SCOPED = {
    "household_id",
    "followup_id",
    "batch_id",
    "listing_id",
    "job_id",
    "match_id",
    "event_id",
}  # objects that belong to a municipality
# Where a communicator may be let in: their account, events (no household behind them),
# audiences, the public newsletter pages. Anything else that admits them fails.
COMMUNICATOR_BLUEPRINTS = {"accounts", "events", "audiences", "newsletter"}
# Routes that show a household to a communicator by design: the newsletter tool's CSV.
PERSONAL_DATA_BY_DESIGN = {"audiences.export"}
# Ids that name a household's row: a communicator gets a 403 or a 404, never the row.
HOUSEHOLD_ROWS = SCOPED | {"signup_id", "capture_id"}
SECRET_NAME, SECRET_EMAIL = "Familjen Hemligsson", "hemligsson@example.nl"
# Pages of a scoped object that every role allowed on them may open (what they show inside
# is scoped): the event page shows any event, its sign-ups as far as the household rule
# reaches (a communicator: counts only; the secret household must not appear).
OPEN_TO_EVERY_ALLOWED_ROLE = {"events.view"}


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_who_may_use_it(app):
    missing = [
        rule.endpoint
        for rule, _ in routes(app)
        if getattr(app.view_functions[rule.endpoint], "access", None) is None
    ]
    assert missing == []


def _snapshot():
    """What a forbidden request must not have changed."""
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Household, Contact, StageChange, HouseholdEvent, HouseholdShare, FollowUp)
    )
    versions = tuple(db.session.scalars(select(Household.version).order_by(Household.id)))
    followups = tuple(db.session.execute(select(FollowUp.status, FollowUp.due_on)).all())
    events = tuple(db.session.execute(select(Event.name, Event.status).order_by(Event.id)).all())
    signups = tuple(db.session.execute(select(EventSignup.id, EventSignup.status)).all())
    return counts, versions, followups, events, signups


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(app, client, region, role):
    mala = factories.household(
        factories.MALA, guide=region.mala_guide, name=SECRET_NAME, email=SECRET_EMAIL
    )
    other_mala_guide = factories.user(Role.GUIDE, factories.MALA)
    share_household(mala, other_mala_guide, region.mala_guide)
    followup = create_followup(mala, due_on=clock.today(), by=region.mala_guide)
    enqueue(Mail(key="k", kind="test", to="x@example.org", subject="s", body="b"), utcnow())
    message_id = db.session.scalar(select(OutboxMessage.id))
    region.mala_guide.ical_token = "t" * 40
    batch = upload(region.mala_guide, "mala.csv", "Namn;Kommun\nFamiljen Ek;Malå\n".encode())
    listing, job, match = factories.mala_listing_job_match(mala, region.mala_guide)
    event = make_event(factories.MALA)
    signup = sign_up(event, mala, channel=SignupChannel.STAFF, by=region.mala_guide)
    audience = save_audience(None, name="Alla", filters={}, notes=None, by=region.coordinator)
    db.session.commit()
    ids = {
        "household_id": mala.id,
        "user_id": other_mala_guide.id,
        "followup_id": followup.id,
        "message_id": message_id,
        "token": region.mala_guide.ical_token,
        "batch_id": batch.id,
        "listing_id": listing.id,
        "job_id": job.id,
        "match_id": match.id,
        "event_id": event.id,
        "signup_id": signup.id,
        "audience_id": audience.id,
        "slug": "mala-massa",  # an event's public page (public: any answer but a 5xx)
    }
    user = {
        "anonymous": None,
        "guide": region.norsjo_guide,
        "coordinator": region.coordinator,
        "admin": region.admin,
        "communicator": region.communicator,
    }[role]
    if user is not None:
        login(client, user)

    failures = []
    for rule, method in routes(app):
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"{rule.rule}: add an object of another municipality for {missing}"
        url = rule.build({name: ids[name] for name in rule.arguments})[1]
        allowed = app.view_functions[rule.endpoint].access
        before = _snapshot()
        response = client.open(url, method=method, data={})
        status = response.status_code
        if PUBLIC in allowed:
            ok = status < 500
        elif user is None:
            ok = status == 302 and "/login" in response.headers["Location"]
        elif user.role not in allowed:
            ok = status == 403
        elif (
            role == "guide"
            and SCOPED & set(rule.arguments)
            and rule.endpoint not in OPEN_TO_EVERY_ALLOWED_ROLE
        ):
            ok = status == 404  # another municipality's household: no existence leak
        elif role == "communicator":
            if rule.endpoint.split(".")[0] not in COMMUNICATOR_BLUEPRINTS:
                failures.append(f"{rule.endpoint} lets the communicator in: is it household data?")
            if (
                HOUSEHOLD_ROWS & set(rule.arguments)
                and rule.endpoint not in OPEN_TO_EVERY_ALLOWED_ROLE
            ):
                ok = status in (403, 404)
            else:
                ok = status in (200, 302, 400)
        else:
            ok = status in (200, 302, 400)
        if method != "GET" and (status in (302, 403, 404) and not ok or status in (403, 404)):
            ok = ok and _snapshot() == before
        if not ok:
            failures.append(f"{method} {url} as {role}: {status}")
        # (a public route answers a token, not a role: the calendar feed is its owner's)
        by_design = PUBLIC in allowed or rule.endpoint in PERSONAL_DATA_BY_DESIGN
        if role == "communicator" and not by_design:
            body = response.get_data(as_text=True)
            if SECRET_NAME in body or SECRET_EMAIL in body:
                failures.append(f"{method} {url} shows the communicator a household")
        if role != "anonymous" and rule.endpoint == "accounts.logout" and status == 302:
            login(client, user)  # logging out ended the session; carry on as the same user
    assert failures == []


def test_norsjo_guide_cannot_read_or_change_mala_household(client, region):
    mala = factories.household(factories.MALA, guide=region.mala_guide, name="Familjen Malå")
    db.session.commit()
    login(client, region.norsjo_guide)
    before = _snapshot()
    for method, path, data in (
        ("GET", f"/households/{mala.id}", None),
        ("GET", f"/households/{mala.id}/edit", None),
        ("POST", f"/households/{mala.id}/edit", {"name": "Hijacked"}),
        ("POST", f"/households/{mala.id}/stage", {"stage": "closed", "close_reason": "no_job"}),
        ("POST", f"/households/{mala.id}/notes", {"text": "x"}),
        (
            "POST",
            f"/households/{mala.id}/contacts",
            {"channel": "phone", "direction": "out", "summary": "x"},
        ),
        ("POST", f"/households/{mala.id}/handover", {"handover-user_id": region.norsjo_guide.id}),
        ("POST", f"/households/{mala.id}/shares", {"share-user_id": region.norsjo_guide.id}),
    ):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert b"Familjen Mal" not in response.data
    assert _snapshot() == before
    listing = client.get("/households?q=Malå").get_data(as_text=True)
    assert "Familjen Malå" not in listing
