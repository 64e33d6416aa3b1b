"""The audit log: each audited action leaves exactly the expected entry; entries cannot be
changed through the app, nor (on PostgreSQL) through SQL; the right-of-access export."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.audit import audit, purge_entries
from lotsen.audit.models import AuditEntry
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.services import (
    cancel_followup,
    complete_followup,
    create_followup,
    reschedule_followup,
)
from lotsen.households.services import update_household
from lotsen.matching.services import accept, respond, send_match, suggest
from tests import factories
from tests.factories import PASSWORD


def last_id() -> int:
    return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def after(mark: int) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.id > mark).order_by(AuditEntry.id))
    )


def fields(entry: AuditEntry) -> tuple:
    return (entry.action, entry.user_id, entry.household_id, entry.target, entry.ip)


@pytest.fixture
def family(region):
    household = factories.household(guide=region.norsjo_guide, name="Familjen de Vries")
    db.session.commit()
    return household


def test_viewing_a_household_page_leaves_one_entry_with_user_and_address(login_as, region, family):
    mark = last_id()
    assert login_as(region.norsjo_guide).get(f"/households/{family.id}").status_code == 200
    [entry] = after(mark)
    assert fields(entry) == (
        "household.view",
        region.norsjo_guide.id,
        family.id,
        None,
        "127.0.0.1",
    )
    assert entry.changes is None


def test_the_address_is_the_client_behind_a_trusted_proxy(app, login_as, region, family):
    app.config["TRUSTED_PROXY_HOPS"] = 1
    try:
        client = login_as(region.norsjo_guide)
        mark = last_id()
        client.get(f"/households/{family.id}", headers={"X-Forwarded-For": "198.51.100.7"})
    finally:
        app.config["TRUSTED_PROXY_HOPS"] = 0
    [entry] = after(mark)
    assert entry.ip == "198.51.100.7"


def test_a_forbidden_view_leaves_no_entry(login_as, region):
    mala = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    mark = last_id()
    assert login_as(region.norsjo_guide).get(f"/households/{mala.id}").status_code == 404
    assert after(mark) == []


def test_creating_a_household_records_it_and_each_member(region):
    mark = last_id()
    household = factories.household(guide=region.norsjo_guide, name="Familjen Jansen")
    entries = after(mark)
    assert [e.action for e in entries] == ["household.create", "member.create", "member.create"]
    assert entries[0].changes["name"] == "Familjen Jansen"
    assert {e.household_id for e in entries} == {household.id}
    assert entries[1].target == f"person:{household.persons[0].id}"
    assert entries[1].changes["first_name"] == "Sanne"


def test_an_update_records_field_old_and_new_and_each_member_change(region, family):
    sanne, noah = family.persons
    old_last_name = sanne.last_name
    data = factories.household_data(
        name="Familjen de Vries-Bakker",
        email=family.email,
        persons=[
            {
                "id": sanne.id,
                "kind": "adult",
                "first_name": "Sanne",
                "last_name": "Bakker",
                "birth_year": 1988,
            },
            {"kind": "adult", "first_name": "Pieter", "last_name": "Bakker", "birth_year": 1986},
        ],
        tags=["fair"],
    )
    mark = last_id()
    update_household(family, data, by=region.norsjo_guide)
    entries = after(mark)
    by_action = {(e.action, e.target): e for e in entries}
    assert len(entries) == 4
    update = by_action[("household.update", None)]
    assert update.changes["name"] == ["Familjen de Vries", "Familjen de Vries-Bakker"]
    assert update.changes["tags"] == [[], ["fair"]]
    assert update.user_id == region.norsjo_guide.id
    changed = by_action[("member.update", f"person:{sanne.id}")]
    assert changed.changes == {"last_name": [old_last_name, "Bakker"]}
    removed = by_action[("member.delete", f"person:{noah.id}")]
    assert removed.changes["first_name"] == "Noah"
    [added] = [e for e in entries if e.action == "member.create"]
    assert added.changes["first_name"] == "Pieter"


def test_stage_change_note_handover_share_unshare_through_the_page(login_as, region, family):
    client = login_as(region.norsjo_guide)
    other = factories.user(Role.GUIDE, factories.NORSJO, name="Lina Norsjö")
    db.session.commit()
    hid = family.id
    steps = [
        (
            f"/households/{hid}/stage",
            {"stage": "contacted"},
            "household.stage",
            None,
            {"stage": ["new", "contacted"]},
        ),
        (
            f"/households/{hid}/notes",
            {"text": "Ringde, vill besöka i maj."},
            "note.create",
            None,
            {"text": "Ringde, vill besöka i maj."},
        ),
        (
            f"/households/{hid}/shares",
            {"share-user_id": other.id},
            "household.share",
            f"user:{other.id}",
            None,
        ),
        (
            f"/households/{hid}/shares/{other.id}/delete",
            {},
            "household.unshare",
            f"user:{other.id}",
            None,
        ),
        (
            f"/households/{hid}/handover",
            {"handover-user_id": other.id},
            "household.handover",
            f"user:{other.id}",
            {"guide_id": [region.norsjo_guide.id, other.id]},
        ),
    ]
    for url, data, action, target, changes in steps:
        mark = last_id()
        assert client.post(url, data=data).status_code in (302, 303), url
        [entry] = after(mark)
        assert fields(entry) == (action, region.norsjo_guide.id, hid, target, "127.0.0.1")
        assert entry.changes == changes


def test_merging_records_both_households(login_as, region, family):
    twin = factories.household(guide=region.norsjo_guide, name="Familjen de Vries 2")
    db.session.commit()
    twin_id = twin.id
    mark = last_id()
    response = login_as(region.norsjo_guide).post(
        f"/households/{family.id}/merge", data={"other_id": twin_id}
    )
    assert response.status_code == 302
    entries = after(mark)
    assert [(e.action, e.household_id, e.changes["role"]) for e in entries] == [
        ("household.merge", family.id, "kept"),
        ("household.merge", twin_id, "merged_away"),
    ]


def test_contact_followup_match_listing_and_job_actions(region, family):
    guide = region.norsjo_guide
    mark = last_id()
    contact, _ = log_contact(
        family, guide, channel="phone", direction="out", summary="Pratade om skolan."
    )
    [entry] = after(mark)
    assert (entry.action, entry.target, entry.household_id) == (
        "contact.create",
        f"contact:{contact.id}",
        family.id,
    )
    assert entry.changes == {
        "channel": "phone",
        "direction": "out",
        "summary": "Pratade om skolan.",
    }

    mark = last_id()
    followup = create_followup(family, due_on=date(2026, 12, 1), by=guide, title="Ring")
    reschedule_followup(followup, date(2026, 12, 3), by=guide)
    complete_followup(followup, guide)
    second = create_followup(family, due_on=date(2026, 12, 9), by=guide, title="Mejla")
    cancel_followup(second, guide)
    entries = after(mark)
    assert [(e.action, e.target) for e in entries] == [
        ("followup.create", f"followup:{followup.id}"),
        ("followup.update", f"followup:{followup.id}"),
        ("followup.update", f"followup:{followup.id}"),
        ("followup.create", f"followup:{second.id}"),
        ("followup.update", f"followup:{second.id}"),
    ]
    assert entries[1].changes == {"due_on": ["2026-12-01", "2026-12-03"]}
    assert entries[2].changes == {"status": ["open", "done"]}
    assert entries[4].changes == {"status": ["open", "cancelled"]}

    mark = last_id()
    home = factories.listing(by=guide, title="Villa vid sjön")
    job = factories.job(by=guide, title="Lärare")
    from lotsen.matching.services import save_listing

    save_listing({"municipality_code": factories.NORSJO, "rent": 7000}, guide, home)
    entries = after(mark)
    assert [(e.action, e.target) for e in entries] == [
        ("listing.create", f"listing:{home.id}"),
        ("job.create", f"job:{job.id}"),
        ("listing.update", f"listing:{home.id}"),
    ]
    assert entries[0].changes["title"] == "Villa vid sjön"
    assert entries[2].changes == {"rent": [6500, 7000]}

    mark = last_id()
    match = suggest(family, guide, listing=home, today=clock.today())
    send_match(match, guide, clock.now(), clock.today())
    respond(match, True, None, clock.now(), by=guide)
    accept(match, clock.now(), by=guide)
    entries = [e for e in after(mark) if e.action.startswith("match.")]
    assert [(e.action, e.changes.get("status")) for e in entries] == [
        ("match.create", None),
        ("match.update", ["suggested", "sent"]),
        ("match.update", ["sent", "interested"]),
        ("match.update", ["interested", "accepted"]),
    ]
    assert {e.target for e in entries} == {f"match:{match.id}"}


def test_login_success_and_failure(client, region):
    guide = region.norsjo_guide
    mark = last_id()
    client.post("/login", data={"email": guide.email, "password": "wrong"})
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong"})
    client.post("/login", data={"email": guide.email, "password": PASSWORD})
    entries = after(mark)
    assert [fields(e) for e in entries] == [
        ("login.failure", None, None, f"user:{guide.id}", "127.0.0.1"),
        ("login.failure", None, None, None, "127.0.0.1"),
        ("login.success", guide.id, None, f"user:{guide.id}", "127.0.0.1"),
    ]
    assert entries[0].changes == {"outcome": "bad_password"}
    assert "nobody@example.org" not in json.dumps([e.changes for e in entries])


def test_password_change(login_as, region):
    client = login_as(region.norsjo_guide)
    mark = last_id()
    response = client.post(
        "/settings/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a brand new long passphrase",
            "pw-confirm": "a brand new long passphrase",
        },
    )
    assert response.status_code == 302, response.text
    entries = [e for e in after(mark) if e.action == "password.change"]
    assert [fields(e) for e in entries] == [
        (
            "password.change",
            region.norsjo_guide.id,
            None,
            f"user:{region.norsjo_guide.id}",
            "127.0.0.1",
        )
    ]


def test_role_change_by_an_admin(login_as, region):
    guide = region.mala_guide
    mark = last_id()
    response = login_as(region.admin).post(
        f"/admin/users/{guide.id}",
        data={
            "email": guide.email,
            "name": guide.name,
            "role": "coordinator",
            "locale": "sv",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.text
    [entry] = after(mark)
    assert fields(entry) == ("user.update", region.admin.id, None, f"user:{guide.id}", "127.0.0.1")
    assert entry.changes["role"] == ["guide", "coordinator"]
    assert entry.changes["municipality_code"] == [factories.MALA, None]


def test_rule_settings_change(login_as, region):
    mark = last_id()
    response = login_as(region.coordinator).post(
        "/followups/rules",
        data={
            "first_contact-enabled": "y",
            "first_contact-working_days": "5",
            "no_contact-enabled": "y",
            "no_contact-days": "30",
            "before_move-days_before": "14",
        },
    )
    assert response.status_code == 302, response.text
    entries = after(mark)  # the unchanged rule leaves nothing; the switched-off one does
    assert sorted((fields(e), e.changes) for e in entries) == [
        (
            ("settings.update", region.coordinator.id, None, "rule:before_move", "127.0.0.1"),
            {"enabled": [True, False]},
        ),
        (
            ("settings.update", region.coordinator.id, None, "rule:first_contact", "127.0.0.1"),
            {"working_days": [2, 5]},
        ),
    ]


def test_household_export_is_audited(login_as, region, family):
    mark = last_id()
    response = login_as(region.coordinator).get("/pipeline/export?format=csv&stage=new")
    assert response.status_code == 200
    [entry] = after(mark)
    assert entry.action == "export.households"
    assert (entry.user_id, entry.ip) == (region.coordinator.id, "127.0.0.1")
    assert entry.changes["format"] == "csv" and entry.changes["filters"]["stage"] == "new"


# -- append-only --------------------------------------------------------------------------


def test_no_route_changes_or_deletes_entries(app):
    """Only the search page and the access exports touch the log, and they only read."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods - {"GET", "HEAD", "OPTIONS"} == set(), rule


@pytest.mark.postgresql_only  # the trigger is PostgreSQL's
def test_postgresql_refuses_update_and_delete_of_entries(app_ctx, region):
    audit("household.view", by=region.coordinator, household_id=1)
    db.session.flush()
    for statement in (
        "UPDATE audit_entry SET action = 'x'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) >= 1


def test_purge_is_the_one_narrow_way_out(app_ctx, region, frozen):
    audit("household.view", by=region.coordinator, household_id=1, now=factories_days_ago(4000))
    audit("household.view", by=region.coordinator, household_id=2)
    db.session.flush()
    removed = purge_entries(before=factories_days_ago(3650))
    assert removed == 1
    assert list(db.session.scalars(select(AuditEntry.household_id))) == [2]
    if db.session.get_bind().dialect.name == "postgresql":
        # the door closed again
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text("DELETE FROM audit_entry"))


def factories_days_ago(days: int):
    from datetime import timedelta

    return clock.now() - timedelta(days=days)


# -- the search page and the panel --------------------------------------------------------


def test_coordinator_searches_by_household_and_sees_names(login_as, region, family):
    client = login_as(region.norsjo_guide)
    client.get(f"/households/{family.id}")
    page = login_as(region.coordinator).get(f"/audit?household={family.id}&action=household")
    assert page.status_code == 200
    assert "<code>household.view</code>" in page.text and "Familjen de Vries" in page.text
    assert "Anders Norsjö" in page.text


def test_admin_sees_household_numbers_not_names_or_changed_values(login_as, region, family):
    add = factories.household_data(name="Familjen Hemlig", email=family.email, persons=[])
    update_household(family, add, by=region.norsjo_guide)
    db.session.commit()
    page = login_as(region.admin).get(f"/audit?household={family.id}")
    assert page.status_code == 200
    assert "household.update" in page.text and str(family.id) in page.text
    assert "Hemlig" not in page.text and "de Vries" not in page.text


def test_search_by_person_action_and_period(login_as, region, family, frozen):
    login_as(region.norsjo_guide).get(f"/households/{family.id}")
    client = login_as(region.coordinator)
    today = clock.today().isoformat()
    hit = client.get(
        f"/audit?user={region.norsjo_guide.id}&action=household.view&since={today}&until={today}"
    )
    assert hit.status_code == 200 and "<code>household.view</code>" in hit.text
    miss = client.get(f"/audit?user={region.norsjo_guide.id}&since=2020-01-01&until=2020-01-02")
    assert "<code>household.view</code>" not in miss.text
    assert client.get("/audit?since=not-a-date").status_code == 400


def test_guides_cannot_search_the_log(login_as, region):
    assert login_as(region.norsjo_guide).get("/audit").status_code == 403


def test_household_page_shows_who_has_accessed(login_as, region, family):
    login_as(region.coordinator).get(f"/households/{family.id}")
    page = login_as(region.norsjo_guide).get(f"/households/{family.id}")
    assert "Annika Koordinator" in page.text


# -- right of access ----------------------------------------------------------------------


def test_access_export_holds_every_piece_of_a_households_data(login_as, region, family, frozen):
    from lotsen.households.services import add_note, change_stage, share_household
    from lotsen.interest.models import InterestSubmission

    guide = region.norsjo_guide
    other = factories.user(Role.GUIDE, factories.NORSJO, name="Lina Norsjö")
    log_contact(family, guide, channel="phone", direction="out", summary="Samtal om förskola")
    create_followup(family, due_on=date(2027, 1, 14), by=guide, title="Skicka skolinfo")
    home = factories.listing(by=guide, title="Röda huset i Bastuträsk")
    suggest(family, guide, listing=home, today=clock.today())
    change_stage(family, "planning", guide, comment="Planerar besök i mars")
    add_note(family, "Vill ha hund, behöver staket", guide)
    share_household(family, other, guide)
    db.session.add(
        InterestSubmission(
            status="confirmed",
            nonce="n" * 32,
            locale="nl",
            email="devries@example.nl",
            phone="+31612345678",
            data={"first_name": "Sanne", "message": "Wij willen naar Norsjö"},
            privacy_version="2026-03",
            consent_at=clock.now(),
            household_id=family.id,
        )
    )
    db.session.commit()
    client = login_as(guide)
    client.get(f"/households/{family.id}")  # an audit entry about it
    pieces = [
        "Familjen de Vries",  # the household
        "Sanne",  # a member
        "Noah",
        "Samtal om förskola",  # a contact
        "Skicka skolinfo",  # a follow-up
        "Röda huset i Bastuträsk",  # a match, by the home's title
        "Planerar besök i mars",  # stage history
        "planning",
        "Vill ha hund, behöver staket",  # a timeline note
        "Wij willen naar Norsjö",  # the interest submission
        "2026-03",  # ... and its consent's text version
        "+31612345678",
        "household.view",  # the audit entries about it
    ]
    page = client.get(f"/audit/households/{family.id}/access")
    assert page.status_code == 200
    assert 'href="/static/access.css"' in page.text  # the print styles
    raw = client.get(f"/audit/households/{family.id}/access.json")
    assert raw.status_code == 200 and raw.mimetype == "application/json"
    data = raw.get_json()
    dumped = json.dumps(data, ensure_ascii=False)
    for piece in pieces:
        assert piece in page.text, piece
        assert piece in dumped, piece
    assert data["household_share"][0]["user_id"] == other.id
    assert "n" * 32 not in dumped  # the confirmation secret is not the person's data
    exports = [e for e in after(0) if e.action == "household.access_export"]
    assert [(e.user_id, e.household_id, e.changes) for e in exports] == [
        (guide.id, family.id, {"format": "html"}),
        (guide.id, family.id, {"format": "json"}),
    ]


def test_access_export_follows_the_scope_rule(login_as, region):
    mala = factories.household(factories.MALA, guide=region.mala_guide)
    db.session.commit()
    client = login_as(region.norsjo_guide)
    assert client.get(f"/audit/households/{mala.id}/access").status_code == 404
    assert client.get(f"/audit/households/{mala.id}/access.json").status_code == 404
    assert login_as(region.admin).get(f"/audit/households/{mala.id}/access").status_code == 403


# -- data minimisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Pnr 19811218-9876 enligt Skatteverket",
        "hennes nummer är 811218-9876",
        "198112189876",
        "samordningsnummer 701063-2391",
    ],
)
def test_personal_identity_numbers_are_recognised(text):
    from lotsen.audit.minimise import looks_like_identity_number

    assert looks_like_identity_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ring 070-123 45 67 efter 17",
        "Mobil 0701234567",
        "+46701234567",
        "Flyttar 2027-06-01, budget 1500000 kr",
        "811218-9875",  # fails the check digit
        "Order 20261318-1234",  # no such date
    ],
)
def test_phone_numbers_dates_and_amounts_pass(text):
    from lotsen.audit.minimise import looks_like_identity_number

    assert not looks_like_identity_number(text)


def test_a_note_with_a_personal_identity_number_is_refused_with_a_clear_message(
    login_as, region, family
):
    from lotsen.households.models import HouseholdEvent

    before = db.session.scalar(select(func.count()).select_from(HouseholdEvent))
    response = login_as(region.norsjo_guide).post(
        f"/households/{family.id}/notes", data={"text": "Sanne har pnr 19811218-9876"}
    )
    assert response.status_code == 400
    assert "personnummer" in response.text
    assert db.session.scalar(select(func.count()).select_from(HouseholdEvent)) == before


def test_free_text_fields_remind_that_notes_are_public_documents(login_as, region, family):
    page = login_as(region.norsjo_guide).get(f"/households/{family.id}")
    assert "allmänna handlingar" in page.text


def test_undoing_an_import_records_each_removed_household(app_ctx, region):
    from lotsen.imports.services import run_import, save_mapping, upload
    from lotsen.imports.undo import undo_import

    guide = region.norsjo_guide
    content = "Namn;E-post;Kommun\nFamiljen Öst;ost@example.se;Norsjö\n"
    batch = upload(guide, "lista.csv", content.encode())
    save_mapping(batch, guide, ["name", "email", "municipality"], {})
    run_import(batch, guide)
    [row] = batch.results
    household_id = row.household_id
    mark = last_id()
    undo_import(batch, guide)
    [entry] = after(mark)
    assert (entry.action, entry.user_id, entry.household_id, entry.target) == (
        "household.delete",
        guide.id,
        household_id,
        f"import:{batch.id}",
    )


def test_funder_report_and_import_report_downloads_are_audited(login_as, region):
    from lotsen.imports.services import run_import, save_mapping, upload

    guide = region.norsjo_guide
    batch = upload(guide, "lista.csv", "Namn;Kommun\nFamiljen Ek;Norsjö\n".encode())
    save_mapping(batch, guide, ["name", "municipality"], {})
    run_import(batch, guide)
    db.session.commit()
    client = login_as(guide)
    mark = last_id()
    assert client.get(f"/imports/{batch.id}/report.csv").status_code == 200
    assert client.get("/pipeline/report/export?year=2026&quarter=4&format=csv").status_code == 200
    entries = after(mark)
    assert [(e.action, e.user_id, e.ip) for e in entries] == [
        ("export.import_report", guide.id, "127.0.0.1"),
        ("export.funder_report", guide.id, "127.0.0.1"),
    ]
    assert entries[0].target == f"import:{batch.id}"
    assert entries[1].changes["filters"]["quarter"] == 4


def test_a_page_view_entry_does_not_wait_for_the_disk_on_postgresql(login_as, region, family):
    """The view's entry is stored like any other, and its transaction alone committed
    without waiting for the WAL flush."""
    mark = last_id()
    login_as(region.norsjo_guide).get(f"/households/{family.id}")
    [entry] = after(mark)
    assert (entry.action, entry.at.tzinfo is not None, entry.changes) == (
        "household.view",
        True,
        None,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # The request ran inside this test's transaction (a savepoint), so the setting it
        # made for its transaction shows here; a real request's ends with its commit.
        assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "off"
