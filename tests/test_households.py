import re
from datetime import UTC, date, datetime

import flask_login
import pytest
from flask import render_template_string
from sqlalchemy import func, select, text

from lotsen.accounts.models import Role
from lotsen.extensions import db
from lotsen.households import listing as household_listing
from lotsen.households.listing import filter_row
from lotsen.households.models import Household, HouseholdEvent, Person, StageChange
from lotsen.households.pages import filter_form, filters_of
from lotsen.households.queries import list_households
from lotsen.households.services import change_stage
from lotsen.households.vocab import Stage
from tests import factories
from tests.conftest import ago, login


def form(**overrides):
    data = {
        "name": "Familjen de Vries",
        "email": " Sanne.deVries@Example.NL ",
        "phone": "06 12345678",
        "country": "NL",
        "town": "Utrecht",
        "language": "nl",
        "mover_kind": "partner",
        "primary_municipality_code": factories.NORSJO,
        "other_municipalities": [factories.MALA],
        "housing_tenure": "buy",
        "housing_type": "house",
        "housing_rooms": "4",
        "housing_budget": "1500000",
        "timeframe": "Sommaren 2027",
        "source": "fair",
        "source_detail": "Emigratiebeurs Houten",
        "tags": "barnfamilj, vård",
        "notes": "Vill bo nära skola.",
        "persons-0-kind": "adult",
        "persons-0-first_name": "Sanne",
        "persons-0-last_name": "de Vries",
        "persons-0-birth_year": "1987",
        "persons-0-occupation": "Sjuksköterska",
        "persons-0-ssyk_code": "2221",
        "persons-0-seeks_job": "y",
        "persons-1-kind": "adult",
        "persons-1-first_name": "Daan",
        "persons-1-last_name": "de Vries",
        "persons-1-occupation": "Snickare",
        "persons-2-kind": "child",
        "persons-2-first_name": "Mila",
        "persons-2-birth_year": "2019",
        "persons-3-kind": "adult",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_guide_registers_a_household_with_members(client, region):
    login(client, region.norsjo_guide)
    response = client.post("/households/new", data=form())
    assert response.status_code == 302
    h = db.session.scalars(select(Household)).one()
    assert response.headers["Location"] == f"/households/{h.id}"
    assert (h.email, h.phone, h.stage) == ("sanne.devries@example.nl", "+31612345678", Stage.NEW)
    assert h.guide_id == region.norsjo_guide.id
    assert [p.full_name for p in h.persons] == ["Sanne de Vries", "Daan de Vries", "Mila"]
    assert [p.kind for p in h.children] == ["child"]
    assert h.adults[0].seeks_job and h.adults[0].ssyk_code == "2221"
    assert [m.code for m in h.other_municipalities] == [factories.MALA]
    assert sorted(t.name for t in h.tags) == ["barnfamilj", "vård"]
    first = db.session.scalars(select(StageChange)).one()
    assert (first.from_stage, first.to_stage, first.by_id) == (
        None,
        Stage.NEW,
        region.norsjo_guide.id,
    )
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Familjen de Vries" in page and "+31 6 12345678" in page and "Sjuksköterska" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Det här fältet är obligatoriskt."),
        ({"email": "not-an-email"}, "email", "Felaktig epost-adress."),
        ({"phone": "12"}, "phone", "Telefonnumret är inte giltigt"),
        ({"phone": "call me maybe"}, "phone", "Detta är inte ett telefonnummer."),
        ({"name": "x" * 161}, "name", "160"),
        ({"notes": "x" * 5001}, "notes", "5000"),
        (
            {"persons-0-first_name": "", "persons-0-occupation": "Lärare"},
            "persons-0-first_name",
            "Varje medlem behöver ett förnamn.",
        ),
        ({"persons-0-ssyk_code": "22"}, "persons-0-ssyk_code", "En SSYK-kod har fyra siffror."),
        ({"persons-0-birth_year": "1850"}, "persons-0-birth_year", "1900"),
        ({"housing_rooms": "many"}, "housing_rooms", "heltal"),
        (
            {"primary_municipality_code": "9999"},
            "primary_municipality_code",
            "Inte ett giltigt val",
        ),
        ({"other_municipalities": ["9999"]}, "other_municipalities", "Inte ett giltigt val."),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, "tags", "Högst 10 taggar."),
    ],
)
def test_bad_input_is_explained_in_swedish_and_nothing_is_saved(
    client, region, overrides, field, message
):
    login(client, region.norsjo_guide)
    response = client.post("/households/new", data=form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page and f'aria-describedby="{field}-error"' in page.replace(
        f'aria-describedby="{field}-hint {field}-error"', f'aria-describedby="{field}-error"'
    )
    assert "Utrecht" in page  # what was typed is kept
    assert count(Household) == 0 and count(Person) == 0 and count(StageChange) == 0


def test_script_tags_are_stored_as_text_and_escaped(client, region):
    login(client, region.norsjo_guide)
    client.post("/households/new", data=form(name="<script>alert(1)</script>"))
    h = db.session.scalars(select(Household)).one()
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_keeps_member_ids_and_records_what_changed(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    sanne_id = h.persons[0].id
    login(client, region.norsjo_guide)
    response = client.post(
        f"/households/{h.id}/edit",
        data=form(
            version="1",
            **{
                "persons-0-id": str(sanne_id),
                "persons-1-first_name": "",
                "persons-1-last_name": "",
                "persons-1-occupation": "",
                "persons-1-birth_year": "",
                "persons-2-first_name": None,
                "persons-2-birth_year": None,
            },
        ),
    )
    assert response.status_code == 302
    db.session.refresh(h)
    assert [p.id for p in h.persons] == [sanne_id]
    assert h.persons[0].occupation == "Sjuksköterska"
    assert h.version == 2
    edited = db.session.scalars(select(HouseholdEvent).where(HouseholdEvent.kind == "edited")).one()
    assert {"name", "email", "persons", "tags"} <= set(edited.data["changed"])


def test_stale_edit_is_refused_and_the_typed_changes_stay_in_the_form(client, region):
    h = factories.household(guide=region.norsjo_guide, name="Original")
    db.session.commit()
    login(client, region.norsjo_guide)
    change_stage(h, Stage.CONTACTED, region.mala_guide)  # someone else saved meanwhile
    db.session.commit()
    response = client.post(f"/households/{h.id}/edit", data=form(version="1", name="Mitt namn"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Någon annan sparade hushållet" in page
    assert 'value="Mitt namn"' in page
    db.session.refresh(h)
    assert h.name == "Original"


def test_stage_change_is_recorded_and_closing_needs_a_reason(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(f"/households/{h.id}/stage", data={"stage": "closed"})
    assert response.status_code == 400
    assert "Ange ett skäl för att avsluta hushållet." in response.get_data(as_text=True)
    assert client.post(f"/households/{h.id}/stage", data={"stage": "planning"}).status_code == 302
    response = client.post(
        f"/households/{h.id}/stage", data={"stage": "closed", "close_reason": "no_housing"}
    )
    assert response.status_code == 302
    changes = db.session.execute(
        select(
            StageChange.from_stage,
            StageChange.to_stage,
            StageChange.close_reason,
            StageChange.by_id,
        ).order_by(StageChange.id)
    ).all()
    guide = region.norsjo_guide.id
    assert changes == [
        (None, "new", None, guide),
        ("new", "planning", None, guide),
        ("planning", "closed", "no_housing", guide),
    ]
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Planering → Avslutat (Inget boende)" in page


def test_same_stage_again_records_nothing(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    client.post(f"/households/{h.id}/stage", data={"stage": "new"})
    assert count(StageChange) == 1


def test_note_appears_on_the_timeline(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    assert (
        client.post(f"/households/{h.id}/notes", data={"text": "Ringde skolan."}).status_code == 302
    )
    assert client.post(f"/households/{h.id}/notes", data={"text": ""}).status_code == 400
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Ringde skolan." in page


def names(client, **query):
    response = client.get("/households", query_string=query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {n for n in ("Alfa", "Beta", "Gamma", "Delta", "Epsilon") if f">Familjen {n}<" in page}


@pytest.fixture
def count_limit(monkeypatch):
    """Sets the list's count cap for one test. Kept statements carry the cap they were built
    with (``queries._STATEMENTS``): the test gets a store of its own, so that none built
    with its cap reaches another test (and none built before reaches it)."""
    from lotsen.households import queries

    def set_limit(n: int) -> None:
        monkeypatch.setattr(queries, "COUNT_LIMIT", n)
        monkeypatch.setattr(queries, "_STATEMENTS", {})

    return set_limit


@pytest.fixture
def listing(client, region):
    g = region.norsjo_guide
    alfa = factories.household(
        guide=g,
        name="Familjen Alfa",
        source="fair",
        tags=["vård"],
        email="anna@example.nl",
        phone="+31612345678",
    )
    beta = factories.household(
        guide=g, name="Familjen Beta", source="friend", notes="Intresserad av Åsele-gården"
    )
    factories.household(
        factories.MALA,
        guide=region.mala_guide,
        name="Familjen Gamma",
        others=[factories.NORSJO],
        at=ago(days=90),
    )
    factories.household(factories.MALA, guide=region.mala_guide, name="Familjen Delta")
    factories.household(
        None,
        name="Familjen Epsilon",
        persons=[{"kind": "adult", "first_name": "Jürgen", "last_name": "Müller"}],
    )
    change_stage(alfa, Stage.PLANNING, g)
    beta.last_contact_at = ago(days=40)
    db.session.commit()
    return region


def test_guide_lists_own_and_interested_households_only(client, listing):
    login(client, listing.norsjo_guide)
    assert names(client) == {"Alfa", "Beta", "Gamma"}


def test_coordinator_lists_all_and_the_regional_inbox(client, listing):
    login(client, listing.coordinator)
    assert names(client) == {"Alfa", "Beta", "Gamma", "Delta", "Epsilon"}
    assert names(client, municipality="none") == {"Epsilon"}
    assert names(client, municipality=factories.MALA) == {"Gamma", "Delta"}
    assert names(client, municipality=factories.NORSJO) == {"Alfa", "Beta", "Gamma"}


def test_the_list_follows_the_scope_and_the_clock_of_each_request(client, listing):
    """The unfiltered and stale lists' and a plain search's statements are kept per scope
    (queries._plain_list, _plain_search): a changed scope, each request's own words and its
    own moment still decide what is listed and counted."""
    guide = listing.norsjo_guide
    login(client, guide)
    assert names(client) == {"Alfa", "Beta", "Gamma"}
    assert names(client, q="famil") == {"Alfa", "Beta", "Gamma"}
    assert names(client, q="gamma") == {"Gamma"}
    assert names(client, stale_days="30") == {"Beta", "Gamma"}
    assert names(client, stale_days="60") == {"Gamma"}
    guide.municipality_code = factories.MALA  # Norsjö's households not any more, Malå's now
    db.session.commit()
    assert names(client) == {"Alfa", "Beta", "Gamma", "Delta"}  # Alfa and Beta: their guide
    assert names(client, q="famil") == {"Alfa", "Beta", "Gamma", "Delta"}
    assert 'role="status">4 hushåll<' in client.get("/households").get_data(as_text=True)
    assert names(client, stale_days="30", sort="last_contact") == {"Beta", "Gamma"}
    guide.municipality_code = None
    db.session.commit()
    assert names(client) == {"Alfa", "Beta"}
    assert names(client, q="famil") == {"Alfa", "Beta"}
    assert names(client, q="gamma") == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "planning"}, {"Alfa"}),
        ({"source": "friend"}, {"Beta"}),
        ({"tag": "VÅRD"}, {"Alfa"}),
        ({"stale_days": "30"}, {"Beta", "Gamma"}),
        ({"q": "alfa"}, {"Alfa"}),
        ({"q": "famil"}, {"Alfa", "Beta", "Gamma", "Delta", "Epsilon"}),
        ({"q": "anna@example"}, {"Alfa"}),
        ({"q": "+31 6 1234"}, {"Alfa"}),
        ({"q": "0612345678"}, {"Alfa"}),
        ({"q": "asele"}, {"Beta"}),
        ({"q": "gården"}, {"Beta"}),
        ({"q": "muller"}, {"Epsilon"}),
        ({"q": "Jürgen Müller"}, {"Epsilon"}),
        ({"q": "nobody"}, set()),
        ({"q": "\"'*) OR 1=1 --"}, set()),
        ({"q": "alfa", "stage": "new"}, set()),
    ],
)
def test_filters_and_search(client, listing, query, expected):
    login(client, listing.coordinator)
    assert names(client, **query) == expected


def test_a_list_row_shows_members_dates_next_follow_up_and_tags(client, region, frozen):
    from datetime import date

    from lotsen.followups.services import complete_followup, create_followup

    g = region.norsjo_guide
    h = factories.household(
        guide=g,
        name="Familjen Rad",
        tags=["vård", "arbete", "barnfamilj"],
        persons=[
            {"kind": "adult", "first_name": "Eva", "last_name": "Rad"},
            {"kind": "adult", "first_name": "Jan", "last_name": "Rad"},
            {"kind": "child", "first_name": "Ida", "last_name": "Rad"},
        ],
    )
    h.last_contact_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Sweden
    done = create_followup(h, due_on=date(2026, 3, 10), by=g)
    complete_followup(done, g)
    create_followup(h, due_on=date(2026, 4, 20), by=g)
    create_followup(h, due_on=date(2026, 4, 12), by=g)
    factories.household(guide=g, name="Familjen Tom", persons=[], tags=[])
    db.session.commit()
    login(client, g)
    page = client.get("/households").get_data(as_text=True)

    def cells(name: str) -> list[str]:
        row = re.search(rf"<tr>\s*<td><a href=\"/households/\d+\">{name}<.*?</tr>", page, re.S)[0]
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]

    assert cells("Familjen Rad") == [
        "Familjen Rad (NL)",
        "Ny",
        "Norsjö",
        "Anders Norsjö",
        "2",
        "1",
        "2026-03-02",
        "2026-04-12",
        "arbete barnfamilj vård",
    ]
    assert cells("Familjen Tom")[4:] == ["0", "0", "Aldrig", "–", ""]


def test_sorting_and_pagination(client, listing, app):
    login(client, listing.coordinator)
    app.config["HOUSEHOLDS_PER_PAGE"] = 2
    try:
        first = client.get("/households", query_string={"sort": "name"}).get_data(as_text=True)
        second = client.get("/households", query_string={"sort": "name", "page": "2"}).get_data(
            as_text=True
        )
    finally:
        app.config["HOUSEHOLDS_PER_PAGE"] = 50
    assert first.index("Familjen Alfa") < first.index("Familjen Beta")
    assert "Familjen Delta" in second and "Familjen Alfa" not in second
    assert "Sida 2 av 3" in second and "5 hushåll" in second


def test_count_stops_at_the_limit_and_pages_go_on(client, listing, monkeypatch, app, count_limit):
    count_limit(3)
    monkeypatch.setitem(app.config, "HOUSEHOLDS_PER_PAGE", 2)
    login(client, listing.coordinator)
    first = client.get("/households", query_string={"sort": "name"}).get_data(as_text=True)
    assert "Fler än 3 hushåll" in first and 'rel="next"' in first and "Sida 1<" in first
    third = client.get("/households", query_string={"sort": "name", "page": 3}).get_data(
        as_text=True
    )
    assert "Familjen Gamma" in third and 'rel="next"' not in third


@pytest.mark.parametrize(
    "sort", ["-created", "created", "name", "last_contact", "-last_contact", "move_date"]
)
def test_a_search_with_more_matches_than_counted_pages_like_the_list(
    client, listing, monkeypatch, app, count_limit, sort
):
    """Past the count's cap, a region-wide search reads its page off the sort's
    index (``_common_word_search``): every page is the list's, in the list's order, and the
    count says "more than"; under the cap the matches are sorted as before."""
    from lotsen.households import queries
    from lotsen.households.queries import Filters, list_households

    count_limit(3)
    coordinator = listing.coordinator
    for page in (1, 2, 3):
        searched = list_households(coordinator, Filters(q="familjen", sort=sort), page, 2)
        listed = list_households(coordinator, Filters(sort=sort), page, 2)
        assert [r.id for r in searched.items] == [r.id for r in listed.items], (sort, page)
        assert searched.total is None and searched.has_next == (page < 3)
    few = list_households(coordinator, Filters(q="alfa", sort=sort), 1, 2)
    assert [r.name for r in few.items] == ["Familjen Alfa"] and few.total == 1
    # the index walk is taken for the whole region's scope and an indexed order only; a
    # guide's search (a scope the text index cannot count) keeps sorting its matches
    dialect = db.engine.dialect.name
    walks = queries._common_word_search(coordinator, sort, dialect) is not None
    assert walks == (sort != "move_date")
    assert queries._common_word_search(listing.norsjo_guide, sort, dialect) is None
    monkeypatch.setitem(app.config, "HOUSEHOLDS_PER_PAGE", 2)
    login(client, coordinator)
    page = client.get("/households", query_string={"q": "familjen", "sort": sort}).text
    assert "Fler än 3 hushåll" in page and 'rel="next"' in page


def test_bad_filter_values_give_400_not_500(client, listing):
    login(client, listing.coordinator)
    for query in (
        {"page": "-1"},
        {"page": "abc"},
        {"stale_days": "x"},
        {"stage": "nonsense"},
        {"sort": "DROP"},
        {"guide": "abc"},
        {"q": "x" * 300},
    ):
        assert client.get("/households", query_string=query).status_code == 400, query


def seed(n, region):
    for i in range(n):
        h = factories.household(guide=region.norsjo_guide, tags=["a", "b"])
        from lotsen.contacts.services import log_contact

        log_contact(h, region.norsjo_guide, channel="phone", direction="out", summary=f"c{i}")
        change_stage(h, Stage.CONTACTED, region.norsjo_guide)
    db.session.commit()


def queries_for(client, count_queries, url):
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_list_and_page_need_a_fixed_number_of_queries(client, region, count_queries):
    login(client, region.norsjo_guide)
    seed(2, region)
    h = db.session.scalars(select(Household)).first()
    client.get("/households")  # reference data (the municipalities) is read once per process
    small = [
        queries_for(client, count_queries, u)
        for u in ("/households", "/households?q=familjen&stage=contacted", f"/households/{h.id}")
    ]
    seed(25, region)
    large = [
        queries_for(client, count_queries, u)
        for u in ("/households", "/households?q=familjen&stage=contacted", f"/households/{h.id}")
    ]
    assert small == large
    # list: user with scope, guides, count, rows (members, tags and the next follow-up
    # with them), navigation
    # page: user with scope, the household (with its guide's name), its members, tags,
    # municipalities and shares (one query), matches (suggestions are ranked on demand),
    # the guides with who may be assigned (one query), the timeline (one query), open
    # follow-ups, possible duplicates, the consents card, the events card (sign-ups and
    # the events open to it: one query), the "Who has accessed" panel, navigation, and
    # the audit entry's INSERT
    assert large[0] <= 5 and large[1] <= 5 and large[2] <= 13


# The list's rows as the template's loop drew them before lotsen/households/listing.py
OLD_ROWS = """{% set last_label, next_label = _("Last contact"), _("Next follow-up") %}
  {%- set never, not_sure, short_date = _("Never"), _("Not sure yet"), local_dates("short") %}
  {% for h in page.items %}
    <tr>
      <td><a href="{{ url_for('households.view', household_id=h.id) }}">{{ h.name }}</a>\
{% if h.country %} <span class="muted">({{ h.country }})</span>{% endif %}</td>
      <td><span class="stage stage-{{ h.stage }}">{{ label(h.stage) }}</span></td>
      <td>{{ h.municipality_name or not_sure }}</td>
      <td class="wide-only">{{ h.guide_name or "–" }}</td>
      <td class="num wide-only">{{ h.adults }}</td>
      <td class="num wide-only">{{ h.children }}</td>
      <td data-label="{{ last_label }}">\
{{ short_date(h.last_contact_at) if h.last_contact_at else never }}</td>
      <td data-label="{{ next_label }}">\
{{ short_date(h.next_due_on) if h.next_due_on else "–" }}</td>
      <td class="wide-only">{% for t in h.tags %}<span class="tag">{{ t }}</span> {% endfor %}</td>
    </tr>
  {% else %}
    <tr><td colspan="9">{{ _("No households match.") }}</td></tr>
  {% endfor %}
  </tbody>"""


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_list_rows_are_drawn_as_the_template_drew_them(app, client, region, locale):
    hostile = "<b>\"Bakker\" & 'Zoon'</b>"
    region.coordinator.locale = locale
    factories.household(guide=region.norsjo_guide, name=hostile, tags=["<i>", "a&b"])
    factories.household(municipality=None, name="Familjen Ingen", country=None, persons=[])
    with_contact = factories.household(guide=region.mala_guide, municipality=factories.MALA)
    from lotsen.contacts.services import log_contact
    from lotsen.followups.services import create_followup

    log_contact(with_contact, region.mala_guide, channel="phone", direction="out", summary="x")
    create_followup(with_contact, due_on=date(2027, 3, 4), by=region.mala_guide, title="t")
    db.session.commit()
    login(client, region.coordinator)
    for url in ("/households", "/households?q=zzzz"):
        page = client.get(url).get_data(as_text=True)
        drawn = page[page.index("<tbody>") + len("<tbody>\n  ") :]
        drawn = drawn[: drawn.index("</tbody>") + len("</tbody>")]
        with app.test_request_context(url):
            flask_login.login_user(region.coordinator)
            rows = list_households(region.coordinator, filters_of(filter_form()), per_page=25)
            old = render_template_string(OLD_ROWS, page=rows)
        assert drawn == old
    assert "&lt;b&gt;&#34;Bakker&#34; &amp; &#39;Zoon&#39;&lt;/b&gt;" in client.get(
        "/households"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=%3Cscript%3E%22%27%26+&tag=%3Cb%3E&stale_days=+010",
        "q=++bakker++&stage=contacted&stage=new&sort=name&guide=&municipality=none",
        "stale_days=abc&q=" + "x" * 201,  # errors: drawn directly
        "source=event&sort=-last_contact&page=2",
    ],
)
def test_filter_row_drawn_once_shows_this_requests_values(app, region, query):
    """The filter row is kept per language, options and chosen options (listing.py); what
    was typed is put in per request: the same HTML as drawing it anew."""
    for _ in range(2):  # the second time from the kept markup
        with app.test_request_context(f"/households?{query}"):
            flask_login.login_user(region.coordinator)
            form = filter_form()
            form.validate()
            assert str(filter_row(form)) == str(household_listing._draw(form))
            if "bakker" in query:
                assert 'value="bakker"' in filter_row(form)


def test_a_double_click_registers_one_household(client, region):
    login(client, region.norsjo_guide)
    page = client.get("/households/new").get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)
    first = client.post("/households/new", data=form(once=once))
    second = client.post("/households/new", data=form(once=once))
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert count(Household) == 1
    client.post("/households/new", data=form(once="another-form"))
    assert count(Household) == 2  # a new form is a new household


def test_birth_year_of_a_new_year_is_accepted_by_a_worker_started_last_year(app_ctx, frozen):
    from werkzeug.datastructures import MultiDict

    from lotsen.households.forms import PersonForm

    frozen.move_to(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))  # 09:00 on New Year's Day
    for year, valid in (("2027", True), ("2028", False)):
        form = PersonForm(MultiDict({"birth_year": year}))
        form.validate()
        assert ("birth_year" not in form.errors) is valid, year


@pytest.mark.parametrize("cap", [2, 3, 5, 8, 1000])
def test_a_guides_list_count_is_the_plain_count_up_to_the_cap(app_ctx, region, count_limit, cap):
    """The guide's count (one capped branch per way of seeing a household) against the
    plain count over the scope, with households seen in two ways at once."""
    from lotsen.households import queries
    from lotsen.households.queries import Filters, _capped_count, _count_visible, household_query
    from lotsen.households.services import share_household

    guide = factories.user(Role.GUIDE, factories.NORSJO, extra=[factories.LYCKSELE])
    other = factories.user(Role.GUIDE, factories.MALA)
    factories.household(factories.NORSJO)
    factories.household(factories.NORSJO, others=[factories.LYCKSELE])  # two of theirs
    factories.household(factories.NORSJO, guide=guide)  # theirs and their municipality's
    factories.household(factories.MALA, guide=guide)  # theirs only
    shared = factories.household(factories.MALA, guide=other)
    share_household(shared, guide, by=other)
    share_household(factories.household(factories.LYCKSELE, guide=other), guide, by=other)
    factories.household(factories.MALA, guide=other)  # not visible
    db.session.flush()
    factories.household(factories.NORSJO, at=ago(days=90))  # stale
    factories.household(factories.LYCKSELE, others=[factories.NORSJO], at=ago(days=90))
    factories.household(factories.MALA, guide=guide, at=ago(days=90))
    factories.household(factories.MALA, at=ago(days=90))  # stale, not the guide's
    factories.household(factories.MALA, at=ago(days=60))
    db.session.flush()
    count_limit(cap)
    for f in (Filters(), Filters(municipality=factories.MALA), Filters(stage="new")):
        plain = _capped_count(household_query(guide, f))
        assert _count_visible(guide, f) == plain, (cap, f)
    assert _count_visible(guide, Filters()) == min(cap + 1, 9)
    # the stale list's count, also as the kept stale-list statement counts it (the
    # municipalities' branch first; on PostgreSQL its households one by one, LATERAL), for
    # a guide of two municipalities and one of one (no DISTINCT)
    stale = Filters(stale_days=30)
    for who, expected in ((guide, 3), (other, 3)):
        plain = _capped_count(household_query(who, stale))
        assert plain == min(cap + 1, expected)
        for stale_only in (False, True):
            count = db.session.scalar(queries._count_statement(who, stale, stale_only=stale_only))
            assert count == plain, (cap, who.name, stale_only)


def test_the_list_by_last_contact_walks_an_index_in_its_order(app_ctx):
    """Oldest contact (none) first: PostgreSQL needs NULLS FIRST in the index to walk it in
    that order; SQLite puts NULLs first anyway."""
    if db.engine.dialect.name == "postgresql":
        sql = (
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_household_last_contact_id' "
            "AND schemaname = current_schema()"
        )
        assert "(last_contact_at NULLS FIRST, id)" in db.session.execute(text(sql)).scalar()
    else:
        info = db.session.execute(text("PRAGMA index_info(ix_household_last_contact_id)"))
        assert [row[2] for row in info] == ["last_contact_at", "id"]


@pytest.mark.parametrize("root", ["", "/lotsen"])
def test_id_urls_are_url_for_with_the_ids_put_in(app, root):
    from flask import url_for

    from lotsen.urls import MAX_ID, id_url, id_urls

    cases = [
        ("households.view", {"household_id": 7}),
        ("households.merge", {"household_id": 12345}),
        ("households.unshare", {"household_id": 3, "user_id": 30}),
        ("households.unshare", {"household_id": MAX_ID, "user_id": 1}),
    ]
    with app.test_request_context("/", base_url=f"http://localhost{root}/"):
        for endpoint, ids in cases * 2:  # the second time from the kept pattern
            assert id_url(endpoint, **ids) == url_for(endpoint, **ids)
        assert id_url("households.view", household_id=7).startswith(f"{root}/households/")
        row_url = id_urls("households.view", "household_id")  # a list's rows
        for id_ in (1, 7, 1_999_990_000, MAX_ID):
            assert row_url(id_) == url_for("households.view", household_id=id_)
