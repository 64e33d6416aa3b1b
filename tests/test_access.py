from sqlalchemy import select

from lotsen.accounts.models import Role
from lotsen.extensions import db
from lotsen.households.models import HouseholdEvent
from tests import factories
from tests.conftest import login


def test_sharing_lets_another_municipalitys_guide_work_with_the_household(make_client, region):
    h = factories.household(factories.MALA, guide=region.mala_guide, name="Familjen Delad")
    db.session.commit()
    mala, norsjo = make_client(), make_client()
    login(mala, region.mala_guide)
    login(norsjo, region.norsjo_guide)
    assert norsjo.get(f"/households/{h.id}").status_code == 404

    response = mala.post(
        f"/households/{h.id}/shares", data={"share-user_id": region.norsjo_guide.id}
    )
    assert response.status_code == 302
    assert norsjo.get(f"/households/{h.id}").status_code == 200
    assert "Familjen Delad" in norsjo.get("/households").get_data(as_text=True)
    page = mala.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Delat med Anders Norsjö." in page

    mala.post(f"/households/{h.id}/shares/{region.norsjo_guide.id}/delete")
    assert norsjo.get(f"/households/{h.id}").status_code == 404
    kinds = db.session.scalars(select(HouseholdEvent.kind).order_by(HouseholdEvent.id)).all()
    assert kinds == ["created", "share", "unshare"]


def test_handover_moves_responsibility_and_is_on_the_timeline(make_client, region):
    h = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    mala, norsjo = make_client(), make_client()
    login(mala, region.mala_guide)
    login(norsjo, region.norsjo_guide)
    response = mala.post(
        f"/households/{h.id}/handover", data={"handover-user_id": region.norsjo_guide.id}
    )
    # Malå still sees it (Malå is its municipality), so the guide stays on the page.
    assert response.headers["Location"] == f"/households/{h.id}"
    db.session.refresh(h)
    assert h.guide_id == region.norsjo_guide.id
    page = norsjo.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Överlämnat från Sara Malå till Anders Norsjö." in page


def test_handing_over_out_of_sight_returns_to_the_list(client, region):
    lycksele_guide = factories.user(Role.GUIDE, factories.LYCKSELE)
    h = factories.household(factories.LYCKSELE, guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(
        f"/households/{h.id}/handover", data={"handover-user_id": lycksele_guide.id}
    )
    assert response.headers["Location"] == "/households"
    assert client.get(f"/households/{h.id}").status_code == 404


def test_handover_to_a_non_guide_is_refused(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(
        f"/households/{h.id}/handover", data={"handover-user_id": region.coordinator.id}
    )
    assert response.status_code == 400
    db.session.refresh(h)
    assert h.guide_id == region.norsjo_guide.id


def test_guide_granted_more_municipalities_sees_them(client, region):
    both = factories.user(Role.GUIDE, factories.NORSJO, extra=[factories.MALA])
    h = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    login(client, both)
    assert client.get(f"/households/{h.id}").status_code == 200


def test_guide_sees_households_interested_in_their_municipality(client, region):
    h = factories.household(factories.MALA, guide=region.mala_guide, others=[factories.NORSJO])
    db.session.commit()
    login(client, region.norsjo_guide)
    assert client.get(f"/households/{h.id}").status_code == 200


def test_admin_manages_users_but_sees_no_households(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.admin)
    assert client.get("/households").status_code == 403
    assert client.get(f"/households/{h.id}").status_code == 403
    assert client.get("/admin/users").status_code == 200


def test_guide_and_coordinator_cannot_manage_users(client, region):
    for user in (region.norsjo_guide, region.coordinator):
        login(client, user)
        assert client.get("/admin/users").status_code == 403
        assert client.post("/admin/users/new", data={"email": "x@example.org"}).status_code == 403


def test_list_scope_and_single_household_check_agree(app_ctx, region):
    from lotsen.access import household_scope, household_visible
    from lotsen.households.models import Household
    from lotsen.households.services import share_household

    lycksele = factories.user(Role.GUIDE, factories.LYCKSELE)
    made = [
        factories.household(factories.NORSJO, guide=region.norsjo_guide),
        factories.household(factories.MALA, guide=region.mala_guide),
        factories.household(factories.MALA, guide=region.mala_guide, others=[factories.NORSJO]),
        factories.household(factories.LYCKSELE, guide=region.norsjo_guide),
        factories.household(None),
    ]
    share_household(made[1], lycksele, region.mala_guide)
    for user in (
        region.norsjo_guide,
        region.mala_guide,
        lycksele,
        region.coordinator,
        region.admin,
    ):
        listed = set(db.session.scalars(select(Household.id).where(household_scope(user))))
        one_by_one = {
            h.id
            for h in made
            if db.session.scalar(
                select(Household.id).where(Household.id == h.id, household_visible(user))
            )
        }
        assert listed == one_by_one, user.name
        if user is region.norsjo_guide:  # own, interested in Norsjö, and guided elsewhere
            assert listed == {made[0].id, made[2].id, made[3].id}
