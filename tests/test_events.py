"""Events on the staff side: the list, the form, one event's page, attendance, and signing
a household up from its page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.audit.models import AuditEntry
from lotsen.events.models import Event, EventSignup
from lotsen.events.services import EventData, make_slug, save_event, slugify
from lotsen.events.signups import set_status, sign_up
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import HouseholdEvent
from lotsen.households.vocab import EventKind
from tests import factories
from tests.conftest import login


def event(by, municipalities=(factories.NORSJO,), days=30, **fields) -> Event:
    """An event ``days`` from now (a two-day fair in Utrecht unless told otherwise)."""
    starts = clock.now().replace(microsecond=0) + timedelta(days=days)
    values = {
        "name": "Emigratiebeurs Utrecht",
        "kind": EventType.FAIR,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=8),
        "status": EventStatus.OPEN,
        "municipality_codes": list(municipalities),
        "place": "Jaarbeurs, Utrecht",
        "country": "NL",
    }
    return save_event(EventData(**(values | fields)), by)


def form(**overrides) -> dict:
    """A valid event form as a browser sends it."""
    return {
        "name": "Besöksweekend i Malå",
        "kind": "visit_trip",
        "starts_at": "2027-03-13T10:00",
        "ends_at": "2027-03-14T15:00",
        "place": "Malå",
        "country": "SE",
        "online_url": "",
        "municipalities": [factories.MALA],
        "capacity": "20",
        "description_sv": "Kom och bo en helg hos oss.",
        "description_en": "",
        "description_de": "",
        "description_nl": "Kom een weekend bij ons wonen.",
        "cost_sek": "12000",
        "status": "open",
    } | overrides


def post_and_follow(client, url, data):
    """POST, then GET where it redirected (the isolated test client follows no redirects)."""
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Event)),
        db.session.scalar(select(func.count()).select_from(EventSignup)),
    )


# -- the form ---------------------------------------------------------------------------------


def test_guide_creates_an_event_in_swedish_time(client, region):
    login(client, region.mala_guide)
    page = client.get("/outreach/events/new").get_data(as_text=True)
    assert f'value="{factories.MALA}"' in page and f'value="{factories.NORSJO}"' not in page
    response = client.post("/outreach/events/new", data=form())
    assert response.status_code == 302
    e = db.session.scalars(select(Event)).one()
    assert response.headers["Location"].endswith(f"/outreach/events/{e.id}")
    # 10:00 in Stockholm in March (winter time) is 09:00 UTC
    assert e.starts_at == datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
    assert e.ends_at == datetime(2027, 3, 14, 14, 0, tzinfo=UTC)
    assert e.municipality_codes == {factories.MALA}
    assert (e.capacity, e.cost_sek, e.status, e.kind) == (20, 12000, "open", "visit_trip")
    assert e.descriptions == {
        "sv": "Kom och bo en helg hos oss.",
        "nl": "Kom een weekend bij ons wonen.",
    }
    assert e.slug == "besoksweekend-i-mala-2027-03-13"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.create")).one()
    assert entry.target == f"event:{e.id}" and entry.user_id == region.mala_guide.id
    page = client.get(f"/outreach/events/{e.id}").get_data(as_text=True)
    assert "Besöksweekend i Malå" in page and "2027-03-13 10:00" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": "2027-03-13T09:00"}, "Slutet måste vara efter starten."),
        ({"capacity": "0"}, "capacity-error"),
        ({"municipalities": [factories.NORSJO]}, "municipalities-error"),
        ({"municipalities": []}, "municipalities-error"),
        ({"online_url": "javascript:alert(1)"}, "online_url-error"),
        ({"place": "", "online_url": ""}, "place-error"),
        ({"place": "Malå", "country": ""}, "country-error"),
        ({"cost_sek": "-5"}, "cost_sek-error"),
        ({"starts_at": "not a time"}, "starts_at-error"),
    ],
)
def test_bad_event_input_is_refused_with_a_message(client, region, overrides, message):
    login(client, region.mala_guide)
    response = client.post("/outreach/events/new", data=form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_coordinator_sets_a_slug_and_a_bad_or_taken_one_is_refused(client, region):
    first = event(region.coordinator, name="Emigration Expo")
    second = event(region.coordinator, name="Webinar", days=40)
    db.session.commit()
    login(client, region.coordinator)
    url = f"/outreach/events/{second.id}/edit"
    assert 'name="slug"' in client.get(url).get_data(as_text=True)
    for slug, error in (
        ("Bad Slug!", "slug-error"),
        (first.slug, "slug-error"),
        ("a--b", "slug-error"),
    ):
        response = client.post(url, data=form(slug=slug, municipalities=[factories.NORSJO]))
        assert response.status_code == 400 and error in response.get_data(as_text=True), slug
    db.session.refresh(second)
    assert second.name == "Webinar"
    response = client.post(url, data=form(slug="vinterwebinar", municipalities=[factories.NORSJO]))
    assert response.status_code == 302
    db.session.refresh(second)
    assert second.slug == "vinterwebinar"
    # a guide does not get the slug field
    login(client, region.norsjo_guide)
    assert 'name="slug"' not in client.get(url).get_data(as_text=True)


def test_slug_follows_the_name_while_planned_and_stays_once_published(app_ctx, region):
    e = event(region.coordinator, name="Mässa", status=EventStatus.PLANNED)
    assert e.slug.startswith("massa-")
    data = EventData(
        name="Stora mässan",
        kind=e.kind,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        status=EventStatus.OPEN,
        municipality_codes=[factories.NORSJO],
        place=e.place,
        country=e.country,
    )
    save_event(data, region.coordinator, e)
    assert e.slug.startswith("stora-massan-")  # it was still planned when it changed
    published = e.slug
    data.name = "Största mässan"
    save_event(data, region.coordinator, e)
    assert e.slug == published
    again = event(region.coordinator, name="Stora mässan", starts_at=e.starts_at)
    assert again.slug == published + "-2"
    assert slugify("Straße Åsele Ørsta") == "strasse-asele-orsta"
    assert len(make_slug("x" * 300, e.starts_at)) <= 80


def test_guide_keeps_other_municipalities_of_a_shared_event(client, region):
    e = event(region.coordinator, municipalities=(factories.NORSJO, factories.MALA))
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(
        f"/outreach/events/{e.id}/edit",
        data=form(municipalities=[factories.NORSJO], name="Ny mässa", capacity="5"),
    )
    assert response.status_code == 302
    db.session.refresh(e)
    assert e.municipality_codes == {factories.NORSJO, factories.MALA}
    assert e.name == "Ny mässa"


def test_lowering_capacity_below_places_taken_is_allowed_and_said(client, region):
    e = event(region.norsjo_guide, capacity=5)
    for _ in range(3):
        sign_up(e, factories.household(), channel=SignupChannel.STAFF, by=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = post_and_follow(
        client,
        f"/outreach/events/{e.id}/edit",
        form(municipalities=[factories.NORSJO], capacity="2"),
    )
    assert response.status_code == 200
    assert "3 platser är tagna" in response.get_data(as_text=True)
    db.session.refresh(e)
    assert e.capacity == 2


def test_raising_capacity_moves_the_waiting_list_up(client, region):
    e = event(region.norsjo_guide, capacity=1)
    first, second = factories.household(), factories.household()
    sign_up(e, first, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    waiting = sign_up(e, second, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    assert waiting.status == SignupStatus.WAITLISTED
    db.session.commit()
    login(client, region.norsjo_guide)
    client.post(
        f"/outreach/events/{e.id}/edit", data=form(municipalities=[factories.NORSJO], capacity="2")
    )
    db.session.refresh(waiting)
    assert waiting.status == SignupStatus.REGISTERED


# -- who sees what ----------------------------------------------------------------------------


def test_guide_of_another_municipality_gets_404_on_manage_pages(client, region):
    e = event(region.mala_guide, municipalities=(factories.MALA,))
    h = factories.household(factories.MALA, guide=region.mala_guide)
    signup = sign_up(e, h, channel=SignupChannel.STAFF, by=region.mala_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    for method, url, data in (
        ("GET", f"/outreach/events/{e.id}/edit", None),
        ("POST", f"/outreach/events/{e.id}/edit", form(municipalities=[factories.NORSJO])),
        ("GET", f"/outreach/events/{e.id}/attendance", None),
        (
            "POST",
            f"/outreach/events/{e.id}/attendance",
            {"signup_id": signup.id, "status": "cancelled"},
        ),
    ):
        assert client.open(url, method=method, data=data).status_code == 404, (method, url)
    db.session.refresh(signup)
    db.session.refresh(e)
    assert signup.status == SignupStatus.REGISTERED and e.name == "Emigratiebeurs Utrecht"
    # the event's page is open to every guide, without the Malå household's name
    page = client.get(f"/outreach/events/{e.id}").get_data(as_text=True)
    assert h.name not in page and "Ytterligare 1 anmälan från" in page
    assert f"/outreach/events/{e.id}/attendance" not in page
    # responsible staff manage the event whatever their municipality
    e.staff = [region.norsjo_guide]
    db.session.commit()
    assert client.get(f"/outreach/events/{e.id}/attendance").status_code == 200


def test_signup_list_shows_households_in_scope_and_counts_the_others(client, region):
    e = event(region.coordinator, municipalities=(factories.NORSJO, factories.MALA))
    norsjo = factories.household(guide=region.norsjo_guide, name="Familjen Norsjöbo")
    mala = [factories.household(factories.MALA, name=f"Familjen Malåbo{i}") for i in range(2)]
    for h in (norsjo, *mala):
        sign_up(e, h, channel=SignupChannel.STAFF, by=region.coordinator)
    db.session.commit()
    login(client, region.norsjo_guide)
    for url in (f"/outreach/events/{e.id}", f"/outreach/events/{e.id}/attendance"):
        page = client.get(url).get_data(as_text=True)
        assert "Familjen Norsjöbo" in page, url
        assert "Malåbo" not in page, url
        assert "Ytterligare 2 anmälningar från" in page, url
    login(client, region.coordinator)
    page = client.get(f"/outreach/events/{e.id}").get_data(as_text=True)
    assert all(h.name in page for h in (norsjo, *mala))


def test_communicator_sees_events_and_counts_but_no_names(client, region):
    communicator = factories.user(Role.COMMUNICATOR, municipality=None)
    e = event(region.coordinator, capacity=1)
    first = factories.household(name="Familjen Först")
    second = factories.household(name="Familjen Väntar")
    sign_up(e, first, channel=SignupChannel.STAFF, by=region.coordinator)
    sign_up(e, second, channel=SignupChannel.PUBLIC, by=None)
    db.session.commit()
    login(client, communicator)
    listing = client.get("/outreach/events").get_data(as_text=True)
    assert "Emigratiebeurs Utrecht" in listing and "1 av 1 tagna" in listing
    assert "Nytt evenemang" not in listing
    page = client.get(f"/outreach/events/{e.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Familjen" not in html and "/households/" not in html
    assert "1 hushåll väntar" in html
    for url in (
        "/outreach/events/new",
        f"/outreach/events/{e.id}/edit",
        f"/outreach/events/{e.id}/attendance",
        f"/households/{first.id}",
    ):
        assert client.get(url).status_code == 403, url


# -- capacity, waiting list and attendance through the pages ----------------------------------


def test_full_event_waitlists_and_a_cancellation_promotes_the_first_waiting(client, region):
    e = event(region.norsjo_guide, capacity=2)
    households = [factories.household(guide=region.norsjo_guide, persons=[]) for _ in range(4)]
    db.session.commit()
    login(client, region.norsjo_guide)
    for h in households:
        page = client.get(f"/households/{h.id}").get_data(as_text=True)
        assert f'<option value="{e.id}"' in page
        response = post_and_follow(
            client,
            f"/outreach/events/households/{h.id}/sign-up",
            {"event_id": e.id, "people": "1"},
        )
        assert response.status_code == 200
    flash = response.get_data(as_text=True)
    assert "är fullt" in flash and "plats 2" in flash  # the fourth: second on the list
    statuses = {s.household_id: s.status for s in db.session.scalars(select(EventSignup))}
    assert [statuses[h.id] for h in households] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    assert all(h.first_event_id == e.id for h in households)
    page = client.get(f"/outreach/events/{e.id}").get_data(as_text=True)
    waiting = page[page.index('class="waiting-list"') :]
    assert waiting.index(households[2].name) < waiting.index(households[3].name)
    # cancel the first place on the attendance page: the first waiting household moves up
    first = db.session.scalars(
        select(EventSignup).where(EventSignup.household_id == households[0].id)
    ).one()
    response = client.post(
        f"/outreach/events/{e.id}/attendance", data={"signup_id": first.id, "status": "cancelled"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/outreach/events/{e.id}/attendance#s{first.id}")
    flashes = client.get(f"/outreach/events/{e.id}/attendance").get_data(as_text=True)
    assert f"Flyttade upp från väntelistan: {households[2].name}" in flashes
    statuses = {s.household_id: s.status for s in db.session.scalars(select(EventSignup))}
    assert [statuses[h.id] for h in households] == [
        "cancelled",
        "registered",
        "registered",
        "waitlisted",
    ]
    kinds = [
        (ev.kind, ev.data["status"])
        for ev in db.session.scalars(
            select(HouseholdEvent)
            .where(HouseholdEvent.household_id == households[2].id)
            .order_by(HouseholdEvent.id)
        )
        if ev.kind.startswith("event_")
    ]
    assert kinds == [
        (EventKind.EVENT_SIGNUP, "waitlisted"),
        (EventKind.EVENT_ATTENDANCE, "registered"),
    ]
    timeline = client.get(f"/households/{households[2].id}").get_data(as_text=True)
    assert "Emigratiebeurs Utrecht</strong> – Anmäld" in timeline


def test_attendance_updates_the_timeline_and_can_be_undone(client, region):
    e = event(region.norsjo_guide)
    h = factories.household(guide=region.norsjo_guide)
    signup = sign_up(e, h, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/outreach/events/{e.id}/attendance").get_data(as_text=True)
    row = page[page.index(f'id="s{signup.id}"') :]
    assert 'value="attended"' in row and 'value="no_show"' in row and 'value="cancelled"' in row
    for status in ("attended", "no_show", "registered"):
        response = post_and_follow(
            client,
            f"/outreach/events/{e.id}/attendance",
            {"signup_id": signup.id, "status": status},
        )
        assert response.status_code == 200
        db.session.refresh(signup)
        assert signup.status == status
    assert f"{h.name}: Deltog." in post_and_follow(
        client,
        f"/outreach/events/{e.id}/attendance",
        {"signup_id": signup.id, "status": "attended"},
    ).get_data(as_text=True)
    changes = db.session.scalars(
        select(HouseholdEvent.data)
        .where(
            HouseholdEvent.household_id == h.id, HouseholdEvent.kind == EventKind.EVENT_ATTENDANCE
        )
        .order_by(HouseholdEvent.id)
    ).all()
    assert [c["status"] for c in changes] == ["attended", "no_show", "registered", "attended"]
    assert "Emigratiebeurs Utrecht</strong> – Deltog" in client.get(f"/households/{h.id}").get_data(
        as_text=True
    )


def test_bad_attendance_posts_change_nothing(client, region):
    e = event(region.norsjo_guide)
    other = event(region.norsjo_guide, name="Annan", days=50)
    h = factories.household(guide=region.norsjo_guide)
    signup = sign_up(e, h, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    waiting = sign_up(other, h, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    url = f"/outreach/events/{e.id}/attendance"
    assert client.post(url, data={"signup_id": signup.id, "status": "bogus"}).status_code == 400
    assert client.post(url, data={"signup_id": "x", "status": "attended"}).status_code == 400
    assert client.post(url, data={"signup_id": waiting.id, "status": "attended"}).status_code == 404
    db.session.refresh(signup)
    db.session.refresh(waiting)
    assert signup.status == waiting.status == SignupStatus.REGISTERED


def test_household_panel_refuses_a_held_event_and_foreign_households(client, region):
    e = event(region.norsjo_guide)
    h = factories.household(guide=region.norsjo_guide)
    mala = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(
        f"/outreach/events/households/{mala.id}/sign-up", data={"event_id": e.id, "people": "1"}
    )
    assert response.status_code == 404
    e.status = EventStatus.HELD
    db.session.commit()
    response = client.post(
        f"/outreach/events/households/{h.id}/sign-up", data={"event_id": e.id, "people": "1"}
    )
    assert response.status_code == 400
    assert counts() == (1, 0)


def test_event_list_filters_and_orders(client, region, frozen):
    event(region.norsjo_guide, name="Snart", days=3)
    event(
        region.mala_guide,
        name="Senare",
        days=40,
        municipalities=(factories.MALA,),
        kind=EventType.WEBINAR,
        place=None,
        country=None,
        online_url="https://meet.example.org/x",
    )
    event(region.norsjo_guide, name="Förr", days=-20)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get("/outreach/events").get_data(as_text=True)
    assert page.index("Snart") < page.index("Senare") and "Förr" not in page
    assert "Nytt evenemang" in page
    page = client.get("/outreach/events?when=past").get_data(as_text=True)
    assert "Förr" in page and "Snart" not in page
    page = client.get(f"/outreach/events?municipality={factories.MALA}").get_data(as_text=True)
    assert "Senare" in page and "Snart" not in page
    page = client.get("/outreach/events?kind=webinar").get_data(as_text=True)
    assert "Senare" in page and "Snart" not in page and "Online" in page
    assert client.get("/outreach/events?status=nonsense").status_code == 400


def test_event_list_query_count_does_not_grow_with_events(client, region, count_queries):
    for i in range(3):
        event(region.norsjo_guide, name=f"Mässa {i}", days=10 + i)
    db.session.commit()
    login(client, region.norsjo_guide)
    with count_queries() as few:
        client.get("/outreach/events")
    for i in range(10):
        e = event(region.norsjo_guide, name=f"Fler {i}", days=20 + i)
        sign_up(e, factories.household(), channel=SignupChannel.STAFF, by=region.norsjo_guide)
    db.session.commit()
    with count_queries() as many:
        client.get("/outreach/events")
    assert len(many) == len(few)


def test_event_and_attendance_pages_need_a_fixed_number_of_queries(client, region, count_queries):
    e = event(region.norsjo_guide, capacity=3)

    def add(n):
        for _ in range(n):
            sign_up(e, factories.household(), channel=SignupChannel.STAFF, by=region.coordinator)
        db.session.commit()

    def queries():
        found = []
        for url in (f"/outreach/events/{e.id}", f"/outreach/events/{e.id}/attendance"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            found.append(len(statements))
        return found

    login(client, region.norsjo_guide)
    add(2)
    few = queries()
    add(10)  # places full: most wait
    assert queries() == few


def test_guide_signs_own_household_up_for_another_municipalitys_event(client, region):
    e = event(region.mala_guide, municipalities=(factories.MALA,), name="Besöksweekend i Malå")
    h = factories.household(guide=region.norsjo_guide, name="Familjen Norsjöbo")
    db.session.commit()
    login(client, region.norsjo_guide)
    page = post_and_follow(
        client, f"/outreach/events/households/{h.id}/sign-up", {"event_id": e.id, "people": "3"}
    ).get_data(as_text=True)
    assert "Familjen Norsjöbo är anmält till Besöksweekend i Malå." in page
    assert f'href="/outreach/events/{e.id}"' in page  # the card links to the event's page
    signup = db.session.scalars(select(EventSignup)).one()
    assert (signup.people, signup.channel, signup.by_id) == (3, "staff", region.norsjo_guide.id)
    # Malå's guide manages the event but does not see the Norsjö household: a count only
    login(client, region.mala_guide)
    for url in (f"/outreach/events/{e.id}", f"/outreach/events/{e.id}/attendance"):
        html = client.get(url).get_data(as_text=True)
        assert "Familjen Norsjöbo" not in html and "Ytterligare 1 anmälan från" in html, url
    response = client.post(
        f"/outreach/events/{e.id}/attendance", data={"signup_id": signup.id, "status": "attended"}
    )
    assert response.status_code == 404


def test_communicator_lands_on_the_events_and_may_log_out(client, region):
    communicator = factories.user(Role.COMMUNICATOR, municipality=None)
    db.session.commit()
    login(client, communicator)
    assert client.get("/").headers["Location"].endswith("/outreach/events")
    assert client.post("/logout").status_code == 302


def test_a_place_freed_on_the_attendance_page_is_mailed_to_who_gets_it(client, region):
    from lotsen.notifications.models import OutboxMessage

    e = event(region.norsjo_guide, capacity=1)
    first = factories.household(guide=region.norsjo_guide)
    second = factories.household(guide=region.norsjo_guide, email="vanwijk@example.nl")
    taken = sign_up(e, first, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    waiting = sign_up(e, second, channel=SignupChannel.STAFF, by=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    client.post(
        f"/outreach/events/{e.id}/attendance", data={"signup_id": taken.id, "status": "cancelled"}
    )
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "event_place")
    ).all()
    assert [m.to_address for m in mails] == ["vanwijk@example.nl"]
    assert mails[0].dedup_key.startswith(f"event-place:{waiting.id}:")


def test_staff_sign_up_mails_a_confirmation_when_ticked(client, region):
    from lotsen.notifications.models import OutboxMessage

    e = event(region.norsjo_guide)
    webinar = event(region.norsjo_guide, name="Webbinarium", days=40)
    h = factories.household(guide=region.norsjo_guide, email="jansen@example.nl")
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="send_confirmation"[^>]*>', page).group(0)
    assert "checked" in box
    url = f"/outreach/events/households/{h.id}/sign-up"
    html = post_and_follow(
        client, url, {"event_id": e.id, "people": "2", "send_confirmation": "y"}
    ).get_data(as_text=True)
    assert "En bekräftelse går till jansen@example.nl." in html
    post_and_follow(client, url, {"event_id": webinar.id, "people": "1"})  # not ticked
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.to_address) for m in mails] == [("event_registered", "jansen@example.nl")]
    assert mails[0].attachments[0]["content_type"].startswith("text/calendar")


def test_cancelling_an_event_tells_everyone_signed_up_or_waiting_once(client, region):
    from lotsen.notifications.models import OutboxMessage

    e = event(region.norsjo_guide, capacity=1, municipalities=(factories.MALA,))
    placed = factories.household(email="jansen@example.nl", language="nl")
    waiting = factories.household(email="mueller@example.de", language="de")
    gone = factories.household(email="weg@example.se")
    no_address = factories.household(email=None)
    sign_up(e, placed, channel=SignupChannel.STAFF, by=region.mala_guide)
    sign_up(e, waiting, channel=SignupChannel.STAFF, by=region.mala_guide)
    left = sign_up(e, gone, channel=SignupChannel.STAFF, by=region.mala_guide)
    set_status(left, SignupStatus.CANCELLED, by=region.mala_guide)
    sign_up(e, no_address, channel=SignupChannel.STAFF, by=region.mala_guide)
    db.session.commit()
    login(client, region.coordinator)
    url = f"/outreach/events/{e.id}/edit"
    for _ in range(2):  # saving the cancelled event again sends nothing more
        response = client.post(url, data=form(municipalities=[factories.MALA], status="cancelled"))
        assert response.status_code == 302
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "event_cancelled")
    ).all()
    assert sorted((m.to_address, m.subject) for m in mails) == [
        ("jansen@example.nl", "Geannuleerd: Besöksweekend i Malå"),
        ("mueller@example.de", "Abgesagt: Besöksweekend i Malå"),
    ]
    assert "Es tut uns leid" in next(m.body for m in mails if m.to_address.endswith(".de"))
