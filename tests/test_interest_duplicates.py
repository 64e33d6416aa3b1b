"""A confirmed interest form writes into an existing household only when the e-mail address
it was confirmed from is that household's; a phone number alone (anyone can type one) gives
a new household marked as a possible duplicate (issue 15, item 3)."""

import pytest
from sqlalchemy import select

from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.models import Household, HouseholdEvent
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.conftest import login
from tests.test_interest import confirmation_link, form_data, public  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("public")


def submit_and_confirm(client, smtp, **overrides) -> None:
    assert client.post("/interest?lang=nl", data=form_data(**overrides)).status_code == 302
    dispatch_outbox(utcnow())
    assert client.post(confirmation_link(smtp).split("127.0.0.1:5000")[1]).status_code == 200
    dispatch_outbox(utcnow())


def test_phone_number_alone_gives_a_new_household_marked_as_possible_duplicate(
    app_ctx, make_client, region, smtp
):
    existing = factories.household(
        factories.NORSJO,
        guide=region.norsjo_guide,
        name="Familjen de Vries",
        email="family@devries.nl",
        phone="+31612345678",
    )
    db.session.commit()
    events_before = db.session.query(HouseholdEvent).filter_by(household_id=existing.id).count()

    visitor = make_client()
    submit_and_confirm(visitor, smtp, email="stranger@example.org", message="Ändra allt!")

    new = db.session.scalars(select(Household).where(Household.id != existing.id)).one()
    assert new.email == "stranger@example.org"
    assert db.session.query(HouseholdEvent).filter_by(household_id=existing.id).count() == (
        events_before
    )  # nothing written into the family's record
    flag = db.session.scalars(
        select(HouseholdEvent).where(
            HouseholdEvent.household_id == new.id, HouseholdEvent.kind == "possible_duplicate"
        )
    ).one()
    assert flag.data["of_id"] == existing.id

    guide = make_client()
    login(guide, region.norsjo_guide)
    page = guide.get(f"/households/{new.id}").get_data(as_text=True)
    assert "Möjlig dubblett av" in page
    assert f'href="/households/{existing.id}">Familjen de Vries</a>' in page
    assert "Skickat och bekräftat från stranger@example.org." in page

    (notice,) = [m for m in smtp.messages if m["X-Lotsen-Key"].startswith("interest:")]
    assert str(notice["Subject"]) == "Ny intresseanmälan (möjlig dubblett): Familjen de Vries"
    body = notice.get_content()
    assert "En intresseanmälan skickades och bekräftades från stranger@example.org." in body
    assert f"hushåll nummer {existing.id}" in body
    assert "har bekräftat intresseanmälan" not in body  # not as if the family wrote it


def test_confirmed_same_email_is_attached_and_shows_the_address(app_ctx, make_client, region, smtp):
    existing = factories.household(
        factories.NORSJO,
        guide=region.norsjo_guide,
        name="Familjen de Vries",
        email="sanne@example.nl",
        phone="+31699999999",
    )
    db.session.commit()
    submit_and_confirm(make_client(), smtp)
    assert db.session.query(Household).count() == 1
    event = db.session.scalars(
        select(HouseholdEvent).where(HouseholdEvent.kind == "interest_again")
    ).one()
    assert event.household_id == existing.id and event.data["email"] == "sanne@example.nl"

    guide = make_client()
    login(guide, region.norsjo_guide)
    page = guide.get(f"/households/{existing.id}").get_data(as_text=True)
    assert "Skickat och bekräftat från sanne@example.nl." in page
    (notice,) = [m for m in smtp.messages if m["X-Lotsen-Key"].startswith("interest:")]
    assert str(notice["Subject"]) == "Intresseanmälan igen för Familjen de Vries"
    assert "skickades igen från sanne@example.nl" in notice.get_content()
