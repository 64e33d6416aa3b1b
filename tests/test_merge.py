from datetime import date

from sqlalchemy import func, select

from lotsen.contacts.models import Contact
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.services import create_followup
from lotsen.households.models import Household, HouseholdEvent, StageChange
from lotsen.households.services import change_stage
from lotsen.households.vocab import Stage
from tests import factories
from tests.conftest import login


def test_guide_merges_two_records_of_one_household_keeping_all_history(client, region):
    g = region.norsjo_guide
    keep = factories.household(
        guide=g, name="Familjen de Vries", email=None, tags=["vård"], phone="+31612345678"
    )
    other = factories.household(
        guide=g,
        name="Familjen de Vries",
        email="sanne@example.nl",
        phone="+31612345678",
        tags=["barnfamilj"],
    )
    log_contact(keep, g, channel="phone", direction="out", summary="Första samtalet")
    log_contact(other, g, channel="email", direction="in", summary="Mejl från mässan")
    change_stage(other, Stage.PLANNING, g)
    create_followup(
        keep, due_on=date(2026, 12, 1), by=None, rule="first_contact", rule_key="first_contact"
    )
    create_followup(
        other, due_on=date(2026, 12, 2), by=None, rule="first_contact", rule_key="first_contact"
    )
    create_followup(other, due_on=date(2026, 12, 9), by=g, title="Skicka husannonser")
    db.session.commit()
    keep_id, other_id = keep.id, other.id

    login(client, g)
    page = client.get(f"/households/{keep_id}").get_data(as_text=True)
    assert f"(nummer {other_id}, sanne@example.nl)" in page  # offered: the same phone
    response = client.post(f"/households/{keep_id}/merge", data={"other_id": other_id})
    assert response.status_code == 302

    assert db.session.get(Household, other_id) is None
    keep = db.session.get(Household, keep_id)
    assert (keep.email, keep.phone) == ("sanne@example.nl", "+31612345678")  # empty one filled
    assert sorted(t.name for t in keep.tags) == ["barnfamilj", "vård"]
    summaries = db.session.scalars(select(Contact.summary).where(Contact.household_id == keep_id))
    assert sorted(summaries) == ["Första samtalet", "Mejl från mässan"]
    stages = db.session.scalar(select(func.count()).where(StageChange.household_id == keep_id))
    assert stages == 3  # both "new" and the move to planning
    followups = db.session.execute(
        select(FollowUp.title, FollowUp.status)
        .where(FollowUp.household_id == keep_id)
        .order_by(FollowUp.id)
    ).all()
    assert ("Skicka husannonser", "open") in followups
    assert sorted(s for _t, s in followups) == ["cancelled", "open", "open"]  # one rule copy
    assert len(keep.persons) == 4
    merged = db.session.scalars(select(HouseholdEvent).where(HouseholdEvent.kind == "merged")).one()
    assert merged.data["other_id"] == other_id
    assert "sanne" in keep.search_text.split() and "31612345678" in keep.search_text.split()


def test_merge_refuses_itself_and_households_out_of_sight(client, region):
    mine = factories.household(guide=region.norsjo_guide)
    theirs = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(f"/households/{mine.id}/merge", data={"other_id": mine.id})
    assert response.status_code == 400
    assert "Ange numret på ett annat hushåll." in response.get_data(as_text=True)
    assert client.post(f"/households/{mine.id}/merge", data={"other_id": "x"}).status_code == 400
    assert (
        client.post(f"/households/{mine.id}/merge", data={"other_id": theirs.id}).status_code == 404
    )
    assert db.session.get(Household, theirs.id) is not None
