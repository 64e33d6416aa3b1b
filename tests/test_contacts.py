import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lotsen import clock
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from tests import factories
from tests.conftest import login

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_guide_logs_a_contact_with_next_follow_up(client, region, frozen):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    shown = re.search(r'id="at"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="at"', page)
    shown = datetime.fromisoformat(shown.group(1) or shown.group(2)).replace(tzinfo=STOCKHOLM)
    assert shown == datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)  # now, Swedish time
    due = clock.today() + timedelta(days=7)
    response = client.post(
        f"/households/{h.id}/contacts",
        data={
            "channel": "video",
            "direction": "in",
            "at": "2026-03-29T10:30",
            "summary": "Pratade om skolor.",
            "next_followup_on": due.isoformat(),
        },
    )
    assert response.status_code == 302
    contact = db.session.scalars(select(Contact)).one()
    # 10:30 in Stockholm on the day summer time starts is 08:30 UTC
    assert contact.at == datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
    assert (contact.channel, contact.direction, contact.by_id) == (
        "video",
        "in",
        region.norsjo_guide.id,
    )
    db.session.refresh(h)
    assert h.last_contact_at == contact.at
    followup = db.session.scalars(select(FollowUp)).one()
    assert (followup.due_on, followup.assignee_id, followup.status) == (
        due,
        region.norsjo_guide.id,
        "open",
    )
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Pratade om skolor." in page and "Videosamtal" in page and "De kontaktade oss" in page
    assert "2026-03-29 10:30" in page  # shown in Swedish time, Swedish format


def test_older_contact_does_not_move_last_contact_back(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    for at in ("2026-05-02T09:00", "2026-04-01T09:00"):
        client.post(
            f"/households/{h.id}/contacts",
            data={"channel": "phone", "direction": "out", "at": at, "summary": "x"},
        )
    db.session.refresh(h)
    assert h.last_contact_at == datetime(2026, 5, 2, 7, 0, tzinfo=UTC)


def test_contact_without_time_is_now(client, region, frozen):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    client.post(
        f"/households/{h.id}/contacts",
        data={"channel": "phone", "direction": "out", "summary": "Kort samtal"},
    )
    contact = db.session.scalars(select(Contact)).one()
    assert contact.at == clock.now()


def test_bad_contact_input_saves_nothing_and_keeps_the_text(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    future = (clock.local_now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    yesterday = (clock.today() - timedelta(days=2)).isoformat()
    for data, message in (
        ({"summary": ""}, "Det här fältet är obligatoriskt."),
        ({"summary": "Behåll mig", "at": future}, "En kontakt kan inte ligga i framtiden."),
        ({"summary": "Behåll mig", "at": "igår"}, "Inte ett giltigt datum"),
        (
            {"summary": "Behåll mig", "next_followup_on": yesterday},
            "Nästa uppföljning kan inte ligga bakåt i tiden.",
        ),
        ({"summary": "x" * 2001}, "2000"),
        ({"summary": "Behåll mig", "channel": "pigeon"}, "Inte ett giltigt val"),
    ):
        response = client.post(
            f"/households/{h.id}/contacts", data={"channel": "phone", "direction": "out", **data}
        )
        assert response.status_code == 400, data
        page = response.get_data(as_text=True)
        assert message in page, data
        if data["summary"] == "Behåll mig":
            assert "Behåll mig</textarea>" in page
    assert db.session.scalars(select(Contact)).all() == []
    assert db.session.scalars(select(FollowUp)).all() == []


def test_a_double_click_logs_one_contact(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)
    data = {"channel": "phone", "direction": "out", "summary": "Ett samtal", "once": once}
    for _ in range(2):
        assert client.post(f"/households/{h.id}/contacts", data=data).status_code == 302
    assert len(db.session.scalars(select(Contact)).all()) == 1
