"""Outcomes per event and the overview of a period, on a hand-made dataset where every
figure is known: the numbers, the households behind each link, a guide's scoped counts,
a communicator's numbers without links, and a query count that does not grow with data."""

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from lotsen.accounts.models import Role
from lotsen.events.models import Event, LeadCapture
from lotsen.events.signups import set_status, sign_up
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.services import change_stage
from lotsen.regions.models import Municipality
from tests import factories
from tests.conftest import login

LYCKSELE, MALA, NORSJO = factories.LYCKSELE, factories.MALA, factories.NORSJO
_keys = itertools.count(1)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def make_event(name, kind, day, codes, cost=None) -> Event:
    event = Event(
        slug=f"{name.lower().replace(' ', '-')}-{next(_keys)}",
        name=name,
        kind=kind,
        status=EventStatus.OPEN,
        starts_at=at(day, 9),
        ends_at=at(day, 17),
        cost_sek=cost,
        municipalities=[db.session.get(Municipality, c) for c in codes],
    )
    db.session.add(event)
    db.session.flush()
    return event


def stages(household, by, *steps):
    for stage, day in steps:
        change_stage(household, stage, by, at=at(day))


def signup(event, household, by, status, day):
    s = sign_up(event, household, channel=SignupChannel.STAFF, by=by, now=at(day))
    if status != SignupStatus.REGISTERED:
        set_status(s, status, by=by, now=at(day, 18))
    return s


def capture(event, household, day):
    db.session.add(
        LeadCapture(
            client_key=f"capture-{next(_keys)}",
            event_id=event.id,
            household_id=household.id,
            captured_at=at(day),
        )
    )


@dataclass
class World:
    fair: Event
    webinar: Event
    trip: Event
    h: dict  # name -> household


def build(region) -> World:
    """Three events, eight households (see the expected figures below)."""
    g, m = region.norsjo_guide, region.mala_guide
    trip = make_event("Visit trip", EventType.VISIT_TRIP, "2025-09-01", [LYCKSELE])
    fair = make_event("Emigratiebeurs", EventType.FAIR, "2026-03-14", [NORSJO, MALA], 60_000)
    webinar = make_event("Webinar", EventType.WEBINAR, "2026-05-20", [MALA])
    created = at("2025-06-01")
    adults2_child1 = [
        {"kind": "adult", "first_name": "Sanne", "last_name": "Berg", "birth_year": 1985},
        {"kind": "adult", "first_name": "Daan", "last_name": "Berg", "birth_year": 1984},
        {"kind": "child", "first_name": "Noah", "last_name": "Berg", "birth_year": 2017},
    ]
    h = {
        "h1": factories.household(NORSJO, guide=g, at=created, persons=adults2_child1),
        "h2": factories.household(MALA, guide=m, at=created, others=[NORSJO]),  # shared
        "h3": factories.household(MALA, guide=m, at=created),
        "h4": factories.household(NORSJO, guide=g, at=created),
        "h5": factories.household(NORSJO, guide=g, at=created),
        "h6": factories.household(NORSJO, guide=g, at=created),
        "h7": factories.household(LYCKSELE, at=created),  # linked to nothing
        "h8": factories.household(MALA, guide=m, at=created),
    }
    h["h4"].first_event_id = trip.id
    h["h6"].first_event_id = trip.id
    # h1: met at the fair's stand, came, went all the way and moved in
    capture(fair, h["h1"], "2026-03-14")
    signup(fair, h["h1"], g, SignupStatus.ATTENDED, "2026-03-14")
    stages(
        h["h1"],
        g,
        ("contacted", "2026-03-20"),
        ("planning", "2026-04-10"),
        ("visit", "2026-05-10"),
        ("decided", "2026-06-10"),
        ("moved_in", "2026-08-10"),
    )
    # h2 (Malå, also interested in Norsjö): no-show at the fair, came to the webinar;
    # planning, visit and back to planning
    signup(fair, h["h2"], m, SignupStatus.NO_SHOW, "2026-02-01")
    signup(webinar, h["h2"], m, SignupStatus.ATTENDED, "2026-05-01")
    stages(
        h["h2"], m, ("planning", "2026-04-01"), ("visit", "2026-06-01"), ("planning", "2026-07-01")
    )
    # h3: on the fair's waiting list, contacted only
    waiting = signup(fair, h["h3"], m, SignupStatus.REGISTERED, "2026-03-01")
    stages(h["h3"], m, ("contacted", "2026-03-20"))
    # h4: brought by the trip, planning before the fair, cancelled its place at the fair
    stages(h["h4"], g, ("planning", "2026-02-01"))
    signup(fair, h["h4"], g, SignupStatus.CANCELLED, "2026-02-10")
    # h5: planning before the fair (so not counted), visit after it
    stages(h["h5"], g, ("planning", "2026-01-15"))
    signup(fair, h["h5"], g, SignupStatus.ATTENDED, "2026-03-01")
    stages(h["h5"], g, ("visit", "2026-04-15"))
    # h6: brought by the trip, captured again at the fair; straight to decided
    capture(fair, h["h6"], "2026-03-15")
    stages(h["h6"], g, ("decided", "2026-09-01"))
    # h8: registered for the webinar, its first event
    signup(webinar, h["h8"], m, SignupStatus.REGISTERED, "2026-05-02")
    waiting.status = SignupStatus.WAITLISTED  # as if the fair had been full
    for event in (trip, fair, webinar):
        event.status = EventStatus.HELD
    db.session.commit()
    return World(fair, webinar, trip, h)


FIGURES = (
    "lead",
    "signed_up",
    "waitlisted",
    "attended",
    "no_show",
    "linked",
    "stage:planning",
    "stage:visit",
    "stage:decided",
    "stage:moved_in",
)


def expected(w: World, visible=None) -> dict[int, dict[str, set]]:
    """{event id: {figure: names of the households}} as the dataset was built."""
    sets = {
        w.fair.id: {
            "lead": {"h1", "h2", "h3", "h5", "h6"},
            "signed_up": {"h1", "h2", "h3", "h5"},
            "waitlisted": {"h3"},
            "attended": {"h1", "h5"},
            "no_show": {"h2"},
            "linked": {"h1", "h2", "h3", "h5", "h6"},
            "stage:planning": {"h1", "h2", "h6"},
            "stage:visit": {"h1", "h2", "h5", "h6"},
            "stage:decided": {"h1", "h6"},
            "stage:moved_in": {"h1"},
        },
        w.webinar.id: {
            "lead": {"h8"},
            "signed_up": {"h2", "h8"},
            "waitlisted": set(),
            "attended": {"h2"},
            "no_show": set(),
            "linked": {"h2", "h8"},
            "stage:planning": set(),
            "stage:visit": {"h2"},
            "stage:decided": set(),
            "stage:moved_in": set(),
        },
        w.trip.id: {
            "lead": {"h4", "h6"},
            "signed_up": set(),
            "waitlisted": set(),
            "attended": set(),
            "no_show": set(),
            "linked": {"h4", "h6"},
            "stage:planning": {"h4", "h6"},
            "stage:visit": {"h6"},
            "stage:decided": {"h6"},
            "stage:moved_in": set(),
        },
    }
    if visible is not None:
        sets = {e: {k: v & visible for k, v in figs.items()} for e, figs in sets.items()}
    return sets


FIGURE = re.compile(r'<span data-figure="(\d+):([a-z_:]+)">(?:<a href="([^"]+)">)?([^<]*)')


def shown(html: str) -> dict[tuple[int, str], tuple[str, str | None]]:
    """{(event id, figure): (text, link)} of every figure on a page."""
    return {
        (int(e), key): (text.replace("\xa0", " "), link.replace("&amp;", "&") or None)
        for e, key, link, text in FIGURE.findall(html)
    }


def sek(text: str) -> str:
    """An amount without its thousands separator and currency (any language)."""
    return re.sub(r"\D", "", text) or text


def listed(client, link: str) -> set[int]:
    """The ids of the households on the list a link leads to (all on one page)."""
    html = client.get(link).get_data(as_text=True)
    return {int(i) for i in re.findall(r'href="/households/(\d+)"', html)}


def check_page(client, w: World, event: Event, visible=None, links=True):
    response = client.get(f"/outreach/events/{event.id}/outcomes")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    figures = shown(html)
    ids = {name: h.id for name, h in w.h.items()}
    for key, names in expected(w, visible)[event.id].items():
        text, link = figures[(event.id, key)]
        assert text == str(len(names)), (event.name, key, text, names)
        if links and names:
            assert parse_qs(urlsplit(link).query) == {
                "event": [str(event.id)],
                "event_outcome": [key],
            }
            assert listed(client, link) == {ids[n] for n in names}, (event.name, key)
        else:
            assert link is None
    return figures, html


def test_every_figure_of_an_event_and_the_households_behind_it(client, region, frozen):
    w = build(region)
    login(client, region.coordinator)
    figures, html = check_page(client, w, w.fair)
    assert figures[(w.fair.id, "persons")][0] == "3"
    members = html.split(f'data-figure="{w.fair.id}:persons"')[1].split("</td>")[0]
    assert re.findall(r"\d+", members.split('class="muted">')[1]) == ["2", "1"]  # adults, children
    assert sek(figures[(w.fair.id, "cost")][0]) == "60000"
    assert sek(figures[(w.fair.id, "cost_per_lead")][0]) == "12000"  # 60 000 / 5 leads
    assert sek(figures[(w.fair.id, "cost_per_move")][0]) == "60000"  # one moved in
    figures, _ = check_page(client, w, w.webinar)
    assert figures[(w.webinar.id, "cost")][0] == "—"
    assert figures[(w.webinar.id, "cost_per_lead")][0] == "—"
    assert figures[(w.webinar.id, "cost_per_move")][0] == "—"
    assert figures[(w.webinar.id, "persons")][0] == "0"
    check_page(client, w, w.trip)


def test_the_list_behind_the_persons_is_the_households_that_moved_in(client, region, frozen):
    w = build(region)
    login(client, region.coordinator)
    html = client.get(f"/outreach/events/{w.fair.id}/outcomes").get_data(as_text=True)
    _, link = shown(html)[(w.fair.id, "persons")]
    assert listed(client, link) == {w.h["h1"].id}
    page = client.get(link).get_data(as_text=True)
    assert "Emigratiebeurs" in page  # the filter said in words
    assert 'name="event"' in page and 'name="event_outcome"' in page  # kept on "Show"


def test_the_overview_shows_every_event_of_the_period(client, region, frozen):
    w = build(region)
    login(client, region.coordinator)
    html = client.get("/outreach/events/outcomes").get_data(as_text=True)  # this year
    figures = shown(html)
    assert {e for e, _ in figures} == {w.fair.id, w.webinar.id}
    page = client.get("/outreach/events/outcomes?from=2025-01-01&to=2026-12-31")
    figures = shown(page.get_data(as_text=True))
    ids = {name: h.id for name, h in w.h.items()}
    for event_id, sets in expected(w).items():
        for key, names in sets.items():
            text, link = figures[(event_id, key)]
            assert text == str(len(names)), (event_id, key)
            if names:
                assert listed(client, link) == {ids[n] for n in names}
    assert figures[(w.fair.id, "persons")][0] == "3"
    assert sek(figures[(w.fair.id, "cost_per_lead")][0]) == "12000"
    assert figures[(w.trip.id, "cost")][0] == "—"
    totals = page.get_data(as_text=True).split("<tfoot>")[1]
    assert re.findall(r'<td class="num">(\d+)</td>', totals)[:5] == ["8", "6", "1", "3", "1"]
    only_fairs = shown(client.get("/outreach/events/outcomes?kind=fair").get_data(as_text=True))
    assert {e for e, _ in only_fairs} == {w.fair.id}
    mala = shown(client.get(f"/outreach/events/outcomes?municipality={MALA}").get_data(True))
    assert {e for e, _ in mala} == {w.fair.id, w.webinar.id}


def test_a_guide_sees_counts_of_the_households_they_may_see(client, region, frozen):
    w = build(region)
    login(client, region.norsjo_guide)
    norsjo = {"h1", "h2", "h4", "h5", "h6"}  # h2 is Malå's, also interested in Norsjö
    for event in (w.fair, w.webinar, w.trip):
        figures, html = check_page(client, w, event, visible=norsjo)
        assert figures[(event.id, "cost_per_lead")][0] == "—"  # the cost is the whole event's
    html = client.get(f"/outreach/events/{w.fair.id}/outcomes").get_data(as_text=True)
    assert "Dina kommuner och de hushåll du lotsar" in html  # the page says whose figures
    login(client, region.mala_guide)
    check_page(client, w, w.fair, visible={"h2", "h3", "h8"})
    overview = shown(client.get("/outreach/events/outcomes").get_data(as_text=True))
    assert overview[(w.fair.id, "lead")][0] == "2"
    assert overview[(w.fair.id, "stage:moved_in")][0] == "0"


def test_a_communicator_sees_figures_but_no_household(client, region, frozen):
    w = build(region)
    communicator = factories.user(Role.COMMUNICATOR, municipality=None)
    db.session.commit()
    login(client, communicator)
    figures, html = check_page(client, w, w.fair, links=False)
    assert sek(figures[(w.fair.id, "cost_per_move")][0]) == "60000"
    overview = client.get("/outreach/events/outcomes").get_data(as_text=True)
    for page in (html, overview):
        assert "/households" not in page
        for household in w.h.values():
            assert household.name not in page
    assert shown(overview)[(w.fair.id, "lead")] == ("5", None)
    response = client.get(f"/households?event={w.fair.id}&event_outcome=lead")
    assert response.status_code == 403


def test_other_roles_and_unknown_events(client, region, frozen):
    w = build(region)
    login(client, region.admin)
    assert client.get(f"/outreach/events/{w.fair.id}/outcomes").status_code == 403
    assert client.get("/outreach/events/outcomes").status_code == 403
    login(client, region.coordinator)
    assert client.get("/outreach/events/999999/outcomes").status_code == 404
    for query in ("from=2026-05-01&to=2026-01-01", "from=2020-01-01&to=2026-01-01", "kind=x"):
        assert client.get(f"/outreach/events/outcomes?{query}").status_code == 400
    assert client.get("/households?event=1&event_outcome=nonsense").status_code == 400
    empty = client.get("/outreach/events/outcomes?from=2020-01-01&to=2020-12-31")
    assert "Inga evenemang började under perioden." in empty.get_data(as_text=True)


def test_the_list_without_an_outcome_is_the_linked_households(client, region, frozen):
    w = build(region)
    login(client, region.coordinator)
    ids = listed(client, f"/households?event={w.webinar.id}")
    assert ids == {w.h["h2"].id, w.h["h8"].id}
    ids = listed(client, f"/households?event={w.fair.id}&event_outcome=attended&stage=moved_in")
    assert ids == {w.h["h1"].id}  # with the list's other filters


@pytest.mark.parametrize("who", ["coordinator", "norsjo_guide"])
def test_query_count_does_not_grow_with_the_data(client, region, frozen, count_queries, who):
    w = build(region)
    login(client, getattr(region, who))
    pages = (f"/outreach/events/{w.fair.id}/outcomes", "/outreach/events/outcomes")

    def measure() -> tuple[int, int]:
        for page in pages:
            client.get(page)  # warm: the first request loads what is cached per process
        with count_queries() as queries:
            assert client.get(pages[0]).status_code == 200
            page_queries = len(queries)
            html = client.get(pages[1]).get_data(as_text=True)
        return page_queries, len(queries) - page_queries, html

    page_count, overview_count, html = measure()
    # the user, the event and its municipalities, three figure queries (PostgreSQL's
    # overview: and one SET LOCAL jit = off)
    assert page_count <= 8 and overview_count <= 8
    assert len({e for e, _ in shown(html)}) == 2
    build(region)  # the same again: twice the events, households and sign-ups
    build(region)
    assert measure()[:2] == (page_count, overview_count)
    assert len({e for e, _ in shown(measure()[2])}) == 6  # one grouped query per family
