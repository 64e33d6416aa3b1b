"""Household data outside the household page follows the one scope rule (issue 15, item 1).

After a hand-over, an unshare or a change of municipalities of interest, the guide who lost
access sees nothing of the household anywhere — my day, the counts in the navigation, the
calendar feed, the digest and reminder e-mails (through a real SMTP server on loopback), the
coordinator's overview — and the open follow-ups they had went to the household's guide.
"""

import re
from datetime import date, time

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from lotsen.access import household_visible, household_visible_to
from lotsen.accounts.models import Role, User
from lotsen.contacts.models import Channel, Direction
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.notify import daily_digest, due_reminders
from lotsen.followups.rules import evaluate_rules
from lotsen.followups.services import create_followup
from lotsen.households.models import Household, household_municipality
from lotsen.households.services import share_household, unshare_household, update_household
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.conftest import login
from tests.test_notifications import at

DAY = date(2026, 11, 23)  # a Monday, before the tests run: overdue on "my day"
SUMMARY = "Hemlig sammanfattning: söker hus nära skolan"
NAME = "Familjen Hoogendoorn"


def household_a_guide_loses(case: str, region, client):
    """Anders (Norsjö) has follow-ups on a household; ``case`` then takes his access away
    the way a user would. Returns the household."""
    anders, sara = region.norsjo_guide, region.mala_guide
    if case == "handover":
        h = factories.household(factories.LYCKSELE, guide=anders, name=NAME)
    elif case == "unshare":
        h = factories.household(factories.MALA, guide=sara, name=NAME)
        share_household(h, anders, by=sara)
    else:  # municipality: Norsjö was a municipality of interest, then is not any more
        h = factories.household(factories.MALA, guide=sara, name=NAME, others=[factories.NORSJO])
    log_contact(h, anders, channel=Channel.PHONE, direction=Direction.OUTGOING, summary=SUMMARY)
    create_followup(h, due_on=DAY, by=anders, assignee=anders, title="Skicka husförslag")
    create_followup(
        h, due_on=DAY, due_time=time(10), by=anders, assignee=anders, title="Videosamtal"
    )
    db.session.commit()

    if case == "handover":
        login(client, region.coordinator)
        response = client.post(f"/households/{h.id}/handover", data={"handover-user_id": sara.id})
    elif case == "unshare":
        login(client, sara)
        response = client.post(f"/households/{h.id}/shares/{anders.id}/delete")
    else:
        data = factories.household_data(name=NAME, municipality=factories.MALA, others=[])
        data.fields["email"] = h.email
        update_household(h, data, by=sara)
        db.session.commit()
        response = None
    if response is not None:
        assert response.status_code == 302
    return h


def assert_sees_nothing(text: str, h: Household) -> None:
    assert NAME not in text
    assert SUMMARY not in text and "söker hus" not in text
    assert f"/households/{h.id}" not in text


def guide_row(page: str, guide: User) -> tuple[int, int]:
    """(overdue, today) in the coordinator's table of the guides' follow-ups."""
    row = re.search(rf"<tr><td>{re.escape(guide.name)}</td>.*?</tr>", page).group(0)
    overdue, today = re.findall(r'<td[^>]* class="num[^"]*"[^>]*>(\d+)</td>', row)
    return int(overdue), int(today)


@pytest.mark.parametrize("case", ["handover", "unshare", "municipality"])
def test_former_guide_sees_nothing_of_the_household_anywhere(
    case, make_client, region, smtp, client
):
    anders, sara = region.norsjo_guide, region.mala_guide
    anders.ical_token = "a" * 43
    h = household_a_guide_loses(case, region, client)

    browser = make_client()
    login(browser, anders)
    assert browser.get(f"/households/{h.id}").status_code == 404
    my_day = browser.get("/my-day").get_data(as_text=True)
    assert_sees_nothing(my_day, h)
    assert 'class="badge' not in my_day  # the counts in the navigation
    assert_sees_nothing(browser.get("/households").get_data(as_text=True), h)
    feed = make_client().get(f"/calendar/{anders.ical_token}.ics")
    assert feed.status_code == 200
    assert_sees_nothing(feed.get_data(as_text=True), h)
    assert Calendar.from_ical(feed.data).walk("VEVENT") == []

    # the e-mails: digest at 07:00 and the reminder at 10:00, sent over real SMTP
    daily_digest(at("2026-11-23T07:00"))
    due_reminders(at("2026-11-23T10:00"))
    db.session.commit()
    assert dispatch_outbox(at("2026-11-23T10:00"))["failed"] == 0
    to_anders = [m for m in smtp.messages if m["To"].addresses[0].addr_spec == anders.email]
    for mail in to_anders:
        assert_sees_nothing(str(mail["Subject"]) + mail.get_content(), h)
    to_sara = [m for m in smtp.messages if m["To"].addresses[0].addr_spec == sara.email]
    assert {m["X-Lotsen-Key"].split(":")[0] for m in to_sara} == {"digest", "reminder"}
    assert all(NAME in str(m["Subject"]) + m.get_content() for m in to_sara)

    # the coordinator's overview counts the follow-ups with the guide who can act on them
    coordinator = make_client()
    login(coordinator, region.coordinator)
    overview = coordinator.get("/my-day").get_data(as_text=True)
    assert guide_row(overview, anders) == (0, 0)
    assert guide_row(overview, sara)[0] == 2
    # ... and the household's timeline says where they went
    page = coordinator.get(f"/households/{h.id}").get_data(as_text=True)
    assert (
        f"Öppna uppföljningar för {anders.name}, som inte längre ser hushållet, har flyttats "
        f"till {sara.name}:" in page
    )
    assert "Skicka husförslag; Videosamtal" in page
    assignees = db.session.scalars(
        select(FollowUp.assignee_id).where(FollowUp.household_id == h.id)
    )
    assert set(assignees) == {sara.id}

    # the new guide sees and can work with them on her own day
    mine = make_client()
    login(mine, sara)
    assert NAME in mine.get("/my-day").get_data(as_text=True)


def test_follow_ups_that_outlived_access_earlier_are_hidden_and_handed_back(
    make_client, region, smtp
):
    """Rows left behind before the fix (or by any path that changes scope without the
    service): the read side hides them, the nightly rule run gives them to the guide."""
    anders, sara = region.norsjo_guide, region.mala_guide
    anders.ical_token = "b" * 43
    h = factories.household(factories.MALA, guide=sara, name=NAME, others=[factories.NORSJO])
    log_contact(h, anders, channel=Channel.PHONE, direction=Direction.OUTGOING, summary=SUMMARY)
    create_followup(h, due_on=DAY, due_time=time(10), by=anders, assignee=anders, title="Ring")
    db.session.execute(  # behind the services' back, as the old code left it
        delete(household_municipality).where(
            household_municipality.c.household_id == h.id,
            household_municipality.c.municipality_code == factories.NORSJO,
        )
    )
    db.session.commit()

    browser = make_client()
    login(browser, anders)
    my_day = browser.get("/my-day").get_data(as_text=True)
    assert_sees_nothing(my_day, h)
    assert 'class="badge' not in my_day
    assert_sees_nothing(make_client().get(f"/calendar/{anders.ical_token}.ics").text, h)
    daily_digest(at("2026-11-23T07:00"))
    due_reminders(at("2026-11-23T10:00"))
    db.session.commit()
    dispatch_outbox(at("2026-11-23T10:00"))
    assert smtp.messages == []  # nobody who may see it has it yet

    evaluate_rules(at("2026-11-24T06:00"))
    db.session.commit()
    followup = db.session.scalars(select(FollowUp).where(FollowUp.household_id == h.id)).one()
    assert followup.assignee_id == sara.id


def test_assignee_choice_offers_only_people_who_see_the_household(client, region):
    anders, sara = region.norsjo_guide, region.mala_guide
    lycksele = factories.user(Role.GUIDE, factories.LYCKSELE, name="Lena Lycksele")
    h = factories.household(factories.NORSJO, guide=anders)
    db.session.commit()
    login(client, anders)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    choice = re.search(r'<select[^>]*name="assignee_id".*?</select>', page, re.S).group(0)
    assert anders.name in choice
    assert sara.name not in choice and lycksele.name not in choice

    response = client.post(
        f"/households/{h.id}/followups",
        data={"title": "Ring", "due_on": "2026-12-01", "assignee_id": str(sara.id)},
    )
    assert response.status_code == 400
    assert db.session.scalars(select(FollowUp)).all() == []

    share_household(h, sara, by=anders)
    db.session.commit()
    response = client.post(
        f"/households/{h.id}/followups",
        data={"title": "Ring", "due_on": "2026-12-01", "assignee_id": str(sara.id)},
    )
    assert response.status_code == 302
    assert db.session.scalars(select(FollowUp.assignee_id)).one() == sara.id


@pytest.mark.parametrize("action", ["handover", "share"])
def test_sharing_or_handing_a_household_to_oneself_is_refused(client, region, action):
    anders = region.norsjo_guide
    h = factories.household(factories.NORSJO, guide=region.mala_guide)
    db.session.commit()
    login(client, anders)
    url = f"/households/{h.id}/handover" if action == "handover" else f"/households/{h.id}/shares"
    response = client.post(url, data={f"{action}-user_id": anders.id})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    expected = (
        "Du kan inte lämna över ett hushåll till dig själv."
        if action == "handover"
        else "Du kan inte dela ett hushåll med dig själv."
    )
    assert expected in text
    db.session.refresh(h)
    assert h.guide_id == region.mala_guide.id and h.shares == []


def test_both_forms_of_the_scope_rule_agree(app_ctx, region):
    """``household_visible(user)`` (one user) and ``household_visible_to(column)`` (many
    users in one query) are the same rule: compared over every user and household."""
    anders, sara = region.norsjo_guide, region.mala_guide
    two = factories.user(Role.GUIDE, factories.LYCKSELE, extra=[factories.MALA])
    inactive = factories.user(Role.GUIDE, factories.NORSJO, active=False)
    households = [
        factories.household(factories.NORSJO),
        factories.household(factories.MALA, guide=sara),
        factories.household(factories.LYCKSELE, guide=anders),
        factories.household(factories.LYCKSELE, others=[factories.MALA]),
        factories.household(None),
    ]
    share_household(households[0], two, by=anders)
    db.session.flush()
    users = [anders, sara, two, inactive, region.coordinator, region.admin]
    for user in users:
        one = set(db.session.scalars(select(Household.id).where(household_visible(user))))
        many = set(
            db.session.scalars(
                select(Household.id)
                .join(User, User.id == user.id)
                .where(household_visible_to(User.id))
            )
        )
        assert one == many, user
    assert len(households) == 5


def test_a_reminder_still_in_the_outbox_goes_to_the_new_assignee_instead(app_ctx, region, smtp):
    anders, sara = region.norsjo_guide, region.mala_guide
    h = factories.household(factories.MALA, guide=sara, name=NAME)
    share_household(h, anders, by=sara)
    create_followup(h, due_on=DAY, due_time=time(10), by=anders, assignee=anders, title="Ring")
    db.session.commit()
    assert due_reminders(at("2026-11-23T10:00")) == 1  # queued; SMTP has not taken it yet
    db.session.commit()

    unshare_household(h, anders.id, by=sara)
    db.session.commit()
    assert due_reminders(at("2026-11-23T10:01")) == 1
    db.session.commit()
    dispatch_outbox(at("2026-11-23T10:01"))
    (mail,) = smtp.messages
    assert mail["To"].addresses[0].addr_spec == sara.email
    assert NAME in str(mail["Subject"])
