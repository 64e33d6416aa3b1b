from datetime import date, datetime, time

from icalendar import Calendar
from sqlalchemy import select

from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.followups.services import complete_followup, create_followup
from lotsen.households.services import share_household
from lotsen.workdays import STOCKHOLM
from tests import factories
from tests.conftest import login


def test_private_calendar_feed_of_open_follow_ups(make_client, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, name="Familjen Bakker")
    create_followup(h, due_on=date(2026, 12, 3), by=g, title="Skicka länkar")
    create_followup(
        h,
        due_on=date(2026, 12, 4),
        due_time=time(14, 30),
        by=g,
        title="Videomöte",
        note="Hela familjen",
    )
    done = create_followup(h, due_on=date(2026, 12, 2), by=g, title="Klar redan")
    complete_followup(done, g)
    share_household(h, region.mala_guide, by=g)  # an assignee must see the household
    create_followup(h, due_on=date(2026, 12, 3), by=g, title="Malås", assignee=region.mala_guide)
    db.session.commit()

    browser = make_client()
    login(browser, g)
    assert browser.post("/settings/calendar").status_code == 302
    token = db.session.scalar(select(User.ical_token).where(User.id == g.id))
    assert token and len(token) >= 40
    settings = browser.get("/settings").get_data(as_text=True)
    assert f"/calendar/{token}.ics" in settings

    calendar_app = make_client()  # not logged in: the token is the key
    response = calendar_app.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Familjen Bakker: Skicka länkar", "Familjen Bakker: Videomöte"}
    all_day = events["Familjen Bakker: Skicka länkar"]
    assert all_day.decoded("DTSTART") == date(2026, 12, 3)
    timed = events["Familjen Bakker: Videomöte"]
    assert timed.decoded("DTSTART") == datetime(2026, 12, 4, 14, 30, tzinfo=STOCKHOLM)
    assert str(timed["DESCRIPTION"]) == "Hela familjen"
    assert str(timed["URL"]).endswith(f"/households/{h.id}")

    # a new link revokes the old one; switching off revokes every link
    browser.post("/settings/calendar")
    assert calendar_app.get(f"/calendar/{token}.ics").status_code == 404
    new_token = db.session.scalar(select(User.ical_token).where(User.id == g.id))
    assert calendar_app.get(f"/calendar/{new_token}.ics").status_code == 200
    browser.post("/settings/calendar/delete")
    assert calendar_app.get(f"/calendar/{new_token}.ics").status_code == 404
    assert calendar_app.get("/calendar/short.ics").status_code == 404


def test_deactivated_users_feed_stops(client, region):
    g = region.norsjo_guide
    g.ical_token = "x" * 43
    db.session.commit()
    assert client.get(f"/calendar/{'x' * 43}.ics").status_code == 200
    g.active = False
    db.session.commit()
    assert client.get(f"/calendar/{'x' * 43}.ics").status_code == 404
