"""Matching: explained ranking on hand-built households, the match workflow, and who may
see and change which listings and jobs."""

import re
from datetime import date

from flask_babel import force_locale
from sqlalchemy import func, select

from lotsen.accounts.models import Role
from lotsen.contacts.models import Contact
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.services import share_household
from lotsen.matching.models import Listing, Match
from lotsen.matching.services import job_suggestions, listing_suggestions
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.conftest import login

TODAY = date(2026, 12, 1)
FAMILY = [
    {
        "kind": "adult",
        "first_name": "Anna",
        "last_name": "de Vries",
        "birth_year": 1986,
        "occupation": "Nurse",
        "ssyk_code": "2221",
        "seeks_job": True,
    },
    {
        "kind": "adult",
        "first_name": "Erik",
        "last_name": "de Vries",
        "birth_year": 1984,
        "occupation": "Snickare",
        "seeks_job": True,
    },
    {"kind": "child", "first_name": "Noor", "birth_year": 2016},
    {"kind": "child", "first_name": "Daan", "birth_year": 2019},
]


def family(**fields):
    """A couple with two children who want to rent an apartment in Norsjö by March."""
    values = {
        "housing_tenure": "rent",
        "housing_type": "apartment",
        "housing_budget": 8000,
        "move_date": date(2027, 3, 1),
    }
    return factories.household(factories.NORSJO, persons=FAMILY, **(values | fields))


def titles(suggestions):
    return [listing.title for listing, _ in suggestions]


def test_listings_the_wishes_exclude_are_never_ranked(app_ctx):
    h = family()
    for title, fields in {
        "fits": {"rooms": 4, "rent": 7500, "available_from": date(2027, 2, 1)},
        "one room short": {"rooms": 3, "rent": 7000},
        "for sale": {"tenure": "buy", "type": "apartment", "rooms": 4, "price": 900_000},
        "a house": {"type": "house", "rooms": 5, "rent": 7000},
        "too small": {"rooms": 2, "rent": 5000},
        "too dear": {"rooms": 4, "rent": 12000},
        "a room": {"type": "room", "rooms": 1, "rent": 3000},
    }.items():
        factories.listing(factories.NORSJO, title=title, **fields)
    factories.listing(factories.MALA, title="elsewhere", rooms=4, rent=6000)
    factories.listing(factories.NORSJO, title="taken", rooms=4, rent=6000, status="taken")

    assert titles(listing_suggestions(h, TODAY)) == ["fits", "one room short"]


def test_the_reasons_are_words_a_guide_can_read(app_ctx):
    h = family()
    factories.listing(
        factories.NORSJO, title="Trea", rooms=4, rent=7500, available_from=date(2027, 2, 1)
    )
    with force_locale("en"):
        [(_, fit)] = listing_suggestions(h, TODAY)
        assert fit.reasons == [
            "in Norsjö, their first choice",
            "for rent, as they wish",
            "an apartment, as they wish",
            "4 rooms for a household of 4",
            "rent 7,500 kr within the budget of 8,000 kr",
            "available from Feb 1, 2027, before the planned move (Mar 1, 2027)",
        ]
    with force_locale("sv"):
        [(_, fit)] = listing_suggestions(h, TODAY)
        assert "4 rum för ett hushåll med 4 personer" in fit.reasons


def test_the_first_choice_ranks_above_another_municipality_of_interest(app_ctx):
    h = family(others=[factories.MALA])
    factories.listing(factories.MALA, title="Malå", rooms=4, rent=6000)
    factories.listing(factories.NORSJO, title="Norsjö", rooms=4, rent=6000)
    factories.listing(factories.LYCKSELE, title="Lycksele", rooms=4, rent=6000)
    assert titles(listing_suggestions(h, TODAY)) == ["Norsjö", "Malå"]


def test_a_buyer_sees_homes_for_sale_within_the_price(app_ctx):
    h = family(housing_tenure="buy", housing_type="house", housing_budget=1_000_000)
    factories.listing(
        factories.NORSJO, title="cheap house", tenure="buy", type="house", rooms=5, price=750_000
    )
    factories.listing(
        factories.NORSJO, title="farm", tenure="buy", type="farm", rooms=6, price=990_000
    )
    factories.listing(
        factories.NORSJO, title="dear house", tenure="buy", type="house", rooms=5, price=2_000_000
    )
    factories.listing(factories.NORSJO, title="rented house", type="house", rooms=5, rent=7000)
    assert titles(listing_suggestions(h, TODAY)) == ["cheap house", "farm"]


def test_both_adults_of_a_couple_get_their_own_job_suggestions(app_ctx):
    h = family()
    factories.job(
        factories.NORSJO,
        title="Sjuksköterska hemsjukvård",
        ssyk_code="2221",
        occupation="Sjuksköterska",
    )
    factories.job(factories.NORSJO, title="Barnmorska", ssyk_code="2222")
    factories.job(factories.NORSJO, title="Snickare sökes", occupation="Träarbetare")
    factories.job(factories.NORSJO, title="Lärare", ssyk_code="2341")
    factories.job(factories.MALA, title="Sjuksköterska i Malå", ssyk_code="2221")
    factories.job(
        factories.NORSJO,
        title="Sjuksköterska, ansökan stängd",
        ssyk_code="2221",
        last_application_date=date(2026, 11, 1),
    )

    with force_locale("en"):
        (anna, anna_jobs), (erik, erik_jobs) = job_suggestions(h, TODAY)
    assert anna.name == "Anna" and erik.name == "Erik"
    assert [j.title for j, _ in anna_jobs] == ["Sjuksköterska hemsjukvård", "Barnmorska"]
    assert anna_jobs[0][1].reasons[-1] == "SSYK 2221 – matches Anna's occupation"
    assert anna_jobs[1][1].reasons[-1] == "SSYK 2222, the same occupation group as Anna's"
    assert [j.title for j, _ in erik_jobs] == ["Snickare sökes"]
    assert "matches Erik's occupation (Snickare)" in erik_jobs[0][1].reasons[-1]


def test_adults_not_looking_for_a_job_get_no_job_suggestions(app_ctx):
    persons = [dict(FAMILY[0], seeks_job=False), FAMILY[2]]
    h = factories.household(factories.NORSJO, persons=persons)
    factories.job(factories.NORSJO, title="Sjuksköterska", ssyk_code="2221")
    assert job_suggestions(h, TODAY) == []


# --- the household page and the workflow -------------------------------------------------


def test_household_page_shows_homes_and_jobs_with_reasons(client, region):
    guide = factories.user(Role.GUIDE, factories.NORSJO, locale="en")
    h = family(guide=guide)
    factories.listing(factories.NORSJO, title="Trea på Storgatan", rooms=4, rent=7500)
    factories.job(factories.NORSJO, title="Sjuksköterska", ssyk_code="2221")
    factories.job(factories.NORSJO, title="Snickare", occupation="Snickare")
    db.session.commit()
    login(client, guide)
    plain = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Homes and jobs" in plain and "Trea på Storgatan" not in plain  # ranked on demand
    assert f"/households/{h.id}?suggestions=1#matches" in plain
    page = client.get(f"/households/{h.id}?suggestions=1").get_data(as_text=True)
    assert "Homes and jobs" in page
    assert "Trea på Storgatan" in page and "4 rooms for a household of 4" in page
    assert "Jobs for Anna" in page and "SSYK 2221 – matches Anna&#39;s occupation" in page
    assert "Jobs for Erik" in page and "matches Erik&#39;s occupation (Snickare)" in page


def outbox():
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_suggestion_goes_out_in_the_households_language_and_is_logged(client, region, smtp):
    h = family(guide=region.norsjo_guide, language="nl")
    listing = factories.listing(factories.NORSJO, title="Trea", rooms=4, rent=7500)
    db.session.commit()
    login(client, region.norsjo_guide)
    back = f"/households/{h.id}"
    assert (
        client.post(
            f"/households/{h.id}/matches", data={"listing_id": listing.id, "next": back}
        ).status_code
        == 302
    )
    match = db.session.scalars(select(Match)).one()
    assert match.status == "suggested" and match.score > 0
    assert client.post(f"/matches/{match.id}/send", data={"next": back}).status_code == 302
    db.session.refresh(match)
    assert match.status == "sent" and match.sent_at is not None
    [mail] = outbox()
    assert mail.to_address == h.email
    assert mail.subject == "Een suggestie voor u: Trea – Move Up North"
    assert "4 kamers voor een huishouden van 4" in mail.body
    contact = db.session.scalars(select(Contact).where(Contact.household_id == h.id)).one()
    assert contact.channel == "email" and "Trea" in contact.summary
    # sending twice sends nothing more
    client.post(f"/matches/{match.id}/send", data={"next": back})
    assert len(outbox()) == 1
    assert dispatch_outbox(utcnow()) == {"sent": 1, "failed": 0}
    [received] = smtp.messages
    assert "Trea" in received.get_payload(decode=True).decode()


def test_declined_needs_a_reason_and_accepted_reserves_the_listing(client, region):
    h = family(guide=region.norsjo_guide)
    other = family(guide=region.norsjo_guide)
    listing = factories.listing(factories.NORSJO, title="Trea", rooms=4, rent=7500)
    db.session.commit()
    login(client, region.norsjo_guide)
    for household in (h, other):
        client.post(f"/households/{household.id}/matches", data={"listing_id": listing.id})
    first, second = db.session.scalars(select(Match).order_by(Match.id))
    client.post(f"/matches/{second.id}/send")
    response = client.post(f"/matches/{second.id}/respond", data={"answer": "declined"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ange varför hushållet tackade nej." in page
    db.session.refresh(second)
    assert second.status == "sent"
    client.post(f"/matches/{second.id}/respond", data={"answer": "declined", "reason": "Too far"})
    db.session.refresh(second)
    assert (second.status, second.decline_reason) == ("declined", "Too far")

    client.post(f"/matches/{first.id}/send")
    client.post(f"/matches/{first.id}/respond", data={"answer": "interested"})
    assert client.post(f"/matches/{first.id}/accept").status_code == 302
    db.session.refresh(first)
    db.session.refresh(listing)
    assert first.status == "accepted" and listing.status == "reserved"
    # the listing is no longer suggested to anyone, and its page shows the match
    assert titles(listing_suggestions(other, TODAY)) == []
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert h.name in page and "Reserverad" in page


def test_a_job_match_is_for_one_adult(client, region):
    h = family(guide=region.norsjo_guide)
    job = factories.job(factories.NORSJO, title="Sjuksköterska", ssyk_code="2221")
    db.session.commit()
    anna, erik = h.adults
    login(client, region.norsjo_guide)
    client.post(f"/households/{h.id}/matches", data={"job_id": job.id, "person_id": anna.id})
    [match] = db.session.scalars(select(Match))
    assert match.person_id == anna.id
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "för Anna" in page
    client.post(f"/matches/{match.id}/send")
    [mail] = outbox()
    assert "We hebben een baan gevonden die bij Anna zou kunnen passen:" in mail.body
    assert "SSYK 2221 – past bij het beroep van Anna" in mail.body
    # Anna has it; Erik's own list does not depend on hers
    (_, anna_jobs), (_, erik_jobs) = job_suggestions(h, TODAY)
    assert anna_jobs == [] and erik_jobs == []


# --- who may see and change what ---------------------------------------------------------


def test_guide_cannot_see_or_change_another_municipalitys_listings(client, region):
    mala = factories.listing(factories.MALA, title="Malå-trea")
    job = factories.job(factories.MALA, title="Malå-jobb")
    db.session.commit()
    login(client, region.norsjo_guide)
    for method, path, data in (
        ("GET", f"/listings/{mala.id}", None),
        ("GET", f"/listings/{mala.id}/edit", None),
        ("POST", f"/listings/{mala.id}/edit", {"title": "x", "municipality_code": "2417"}),
        ("POST", f"/listings/{mala.id}/status", {"status": "taken"}),
        ("GET", f"/jobs/{job.id}", None),
        ("POST", f"/jobs/{job.id}/status", {"status": "archived"}),
    ):
        assert client.open(path, method=method, data=data).status_code == 404, path
    assert "Malå-trea" not in client.get("/listings").get_data(as_text=True)
    assert "Malå-jobb" not in client.get("/jobs").get_data(as_text=True)
    response = client.post(
        "/listings/new",
        data={
            "municipality_code": factories.MALA,
            "title": "x",
            "tenure": "rent",
            "type": "apartment",
            "status": "available",
        },
    )
    assert response.status_code == 400
    db.session.refresh(mala)
    assert (mala.title, mala.status) == ("Malå-trea", "available")
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 1


def test_a_shared_household_opens_other_municipalities_listings_to_its_guide(client, region):
    h = factories.household(
        factories.MALA, guide=region.mala_guide, persons=FAMILY, housing_tenure="rent"
    )
    mala = factories.listing(factories.MALA, title="Malå-trea", rooms=4, rent=6000)
    db.session.commit()
    login(client, region.norsjo_guide)
    assert client.get(f"/households/{h.id}").status_code == 404
    share_household(h, region.norsjo_guide, region.mala_guide)
    db.session.commit()
    page = client.get(f"/households/{h.id}?suggestions=1").get_data(as_text=True)
    assert "Malå-trea" in page  # suggested through the shared household
    assert client.get(f"/listings/{mala.id}").status_code == 404  # not yet matched
    client.post(f"/households/{h.id}/matches", data={"listing_id": mala.id})
    match = db.session.scalars(select(Match)).one()
    assert client.get(f"/listings/{mala.id}").status_code == 200
    assert client.post(f"/listings/{mala.id}/status", data={"status": "taken"}).status_code == 404
    assert client.get(f"/listings/{mala.id}/edit").status_code == 404
    client.post(f"/matches/{match.id}/send")
    client.post(f"/matches/{match.id}/accept")
    db.session.refresh(mala)
    assert mala.status == "reserved"


def test_coordinator_keeps_every_municipalitys_listings(client, region):
    mala = factories.listing(factories.MALA, title="Malå-trea")
    db.session.commit()
    login(client, region.coordinator)
    assert client.post(f"/listings/{mala.id}/status", data={"status": "taken"}).status_code == 302
    db.session.refresh(mala)
    assert mala.status == "taken"
    page = client.get("/listings").get_data(as_text=True)
    assert "Malå-trea" in page


def test_guide_adds_and_edits_a_listing_of_their_municipality(client, region):
    login(client, region.norsjo_guide)
    response = client.post(
        "/listings/new",
        data={
            "municipality_code": factories.NORSJO,
            "title": "Villa",
            "tenure": "buy",
            "type": "house",
            "rooms": "5",
            "price": "850000",
            "status": "available",
            "available_from": "2027-04-01",
        },
    )
    assert response.status_code == 302
    listing = db.session.scalars(select(Listing)).one()
    assert (listing.price, listing.available_from) == (850000, date(2027, 4, 1))
    response = client.post(
        f"/listings/{listing.id}/edit",
        data={
            "municipality_code": factories.NORSJO,
            "title": "Villa vid sjön",
            "tenure": "buy",
            "type": "house",
            "rooms": "five",
            "status": "available",
        },
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)  # the rooms field
    db.session.refresh(listing)
    assert listing.title == "Villa"  # nothing saved
    client.post(
        f"/listings/{listing.id}/edit",
        data={
            "municipality_code": factories.NORSJO,
            "title": "Villa vid sjön",
            "tenure": "buy",
            "type": "house",
            "rooms": "5",
            "price": "800000",
            "status": "available",
        },
    )
    db.session.refresh(listing)
    assert (listing.title, listing.price) == ("Villa vid sjön", 800000)


def test_listing_page_ranks_the_households_it_fits(client, region):
    fits = family(guide=region.norsjo_guide, name="Familjen Passar")
    family(guide=region.norsjo_guide, name="Familjen Köper", housing_tenure="buy")
    listing = factories.listing(factories.NORSJO, title="Trea", rooms=4, rent=7500)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "Familjen Passar" in page and "Familjen Köper" not in page
    assert re.search(r"4 rum för ett hushåll med 4 personer", page)
    assert fits.id


def test_the_sql_prefilter_never_drops_a_listing_that_fits(app_ctx):
    """listing_suggestions narrows in SQL before ranking in Python: on random listings and
    wishes, it finds exactly the listings that listing_fit accepts."""
    import random

    from lotsen.matching.ranking import listing_fit
    from lotsen.matching.services import wishes_of

    rng = random.Random(7)
    for _ in range(60):
        buy = rng.random() < 0.4
        factories.listing(
            rng.choice([factories.NORSJO, factories.MALA, factories.LYCKSELE]),
            tenure="buy" if buy else rng.choice(["rent", "sublet"]),
            type=rng.choice(["apartment", "house", "farm", "room"]),
            rooms=rng.choice([None, 1, 2, 3, 4, 5]),
            rent=None if buy else rng.choice([None, 4000, 7000, 8500, 9000, 12000]),
            price=rng.choice([None, 500_000, 1_050_000, 3_000_000]) if buy else None,
        )
    everything = list(db.session.scalars(select(Listing)))
    for _ in range(25):
        persons = FAMILY[: rng.choice([1, 2, 3, 4])]
        h = factories.household(
            factories.NORSJO,
            persons=persons,
            others=rng.choice([[], [factories.MALA]]),
            housing_tenure=rng.choice([None, "rent", "buy", "either"]),
            housing_type=rng.choice([None, "apartment", "house", "farm", "renovation", "any"]),
            housing_rooms=rng.choice([None, 2, 4]),
            housing_budget=rng.choice([None, 8000, 1_000_000]),
        )
        fitting = {x.id for x in everything if listing_fit(wishes_of(h), x, TODAY) is not None}
        found = {x.id for x, _ in listing_suggestions(h, TODAY, limit=1000)}
        assert found == fitting


def test_a_guide_cannot_reach_a_foreign_listing_by_suggesting_it(client, region):
    """Suggesting is limited to the household's municipalities and the guide's own: a
    Lycksele listing cannot be pulled into view through a Norsjö household."""
    h = family(guide=region.norsjo_guide)
    lycksele = factories.listing(factories.LYCKSELE, title="Lycksele-trea")
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(f"/households/{h.id}/matches", data={"listing_id": lycksele.id})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0
    assert client.get(f"/listings/{lycksele.id}").status_code == 404


def test_the_panel_needs_the_same_queries_for_more_homes_jobs_and_matches(
    client, region, count_queries
):
    h = family(guide=region.norsjo_guide, others=[factories.MALA])
    anna = h.adults[0]

    def add(n):
        for _ in range(n):
            listing = factories.listing(factories.NORSJO, rooms=4, rent=7000)
            factories.listing(factories.MALA, rooms=4, rent=7000)
            job = factories.job(factories.MALA, title="Sjuksköterska", ssyk_code="2221")
            factories.job(factories.NORSJO, title="Snickare", occupation="Snickare")
            from lotsen.matching.services import suggest

            suggest(h, region.norsjo_guide, listing=listing, today=TODAY)
            suggest(h, region.norsjo_guide, job=job, person=anna, today=TODAY)
        db.session.commit()

    def queries():
        with count_queries() as statements:
            assert client.get(f"/households/{h.id}?suggestions=1").status_code == 200
        return len(statements)

    login(client, region.norsjo_guide)
    add(1)
    few = queries()
    add(6)
    assert queries() == few


def test_lists_show_available_homes_first(client, region):
    factories.listing(factories.NORSJO, title="Arkiverad bostad", status="archived")
    factories.listing(factories.NORSJO, title="Ledig bostad")
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get("/listings").get_data(as_text=True)
    assert page.index("Ledig bostad") < page.index("Arkiverad bostad")
    only = client.get("/listings?status=archived").get_data(as_text=True)
    assert "Ledig bostad" not in only and "Arkiverad bostad" in only
    assert client.get("/listings?status=nonsense").status_code == 400


def test_merging_households_keeps_their_matches(app_ctx, region):
    from lotsen.households.merge import merge_households
    from lotsen.matching.services import suggest

    keep = family(guide=region.norsjo_guide)
    other = family(guide=region.norsjo_guide)
    both = factories.listing(factories.NORSJO, rooms=4, rent=7000)
    only_other = factories.listing(factories.NORSJO, rooms=4, rent=7000)
    job = factories.job(factories.NORSJO, ssyk_code="2221")
    suggest(keep, None, listing=both, today=TODAY)
    suggest(other, None, listing=both, today=TODAY)
    suggest(other, None, listing=only_other, today=TODAY)
    suggest(other, None, job=job, person=other.adults[0], today=TODAY)
    merge_households(keep, other, region.norsjo_guide)
    db.session.flush()
    db.session.expire_all()
    matches = db.session.scalars(select(Match).order_by(Match.id)).all()
    assert {m.household_id for m in matches} == {keep.id}
    assert sorted((m.listing_id or 0, m.job_id or 0) for m in matches) == sorted(
        [(both.id, 0), (only_other.id, 0), (0, job.id)]
    )
