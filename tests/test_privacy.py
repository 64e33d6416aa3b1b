"""Legal basis and consents; consents moved out of the interest submission; disposal."""

import json
from datetime import UTC, date, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import JSON, MetaData, String, Text, select, text

from lotsen import clock, jobs
from lotsen.audit.services import audit
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.households.models import Household
from lotsen.households.services import add_note, change_stage
from lotsen.interest import services as interest
from lotsen.pipeline.figures import Scope, dashboard, funder_report
from lotsen.privacy.consents import has_active_consent, with_active_consent
from lotsen.privacy.models import Consent
from tests import factories
from tests.conftest import empty_database, login, make_config


def _consent(client, household, **data):
    form = {
        "consent-purpose": "newsletter",
        "consent-text_version": "2026-11",
        "consent-how": "email",
    }
    form.update(data)
    return client.post(f"/households/{household.id}/consents", data=form)


def test_guide_records_and_withdraws_a_consent_and_the_newsletter_audience_follows(client, region):
    h = factories.household(guide=region.norsjo_guide)
    other = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    assert _consent(client, h).status_code == 302
    assert _consent(client, other).status_code == 302
    audience = select(Household.id).where(Household.id.in_(with_active_consent("newsletter")))
    assert set(db.session.scalars(audience)) == {h.id, other.id}
    assert has_active_consent(h.id, "newsletter") and not has_active_consent(h.id, "contact")
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Nyhetsbrev" in page and "2026-11" in page

    consent = db.session.scalar(select(Consent).where(Consent.household_id == h.id))
    response = client.post(
        f"/households/{h.id}/consents/withdraw",
        data={"consent_id": consent.id, "withdraw-how": "phone"},
    )
    assert response.status_code == 302
    assert not has_active_consent(h.id, "newsletter")  # at once
    assert set(db.session.scalars(audience)) == {other.id}
    db.session.refresh(consent)
    assert consent.withdrawn_how == "phone" and consent.withdrawn_by_id == region.norsjo_guide.id
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "återkallat" in page


def test_a_second_active_consent_for_the_same_purpose_is_refused(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    assert _consent(client, h).status_code == 302
    response = _consent(client, h)
    assert response.status_code == 400
    assert "redan ett aktivt samtycke" in response.get_data(as_text=True)


def test_guide_cannot_withdraw_a_consent_of_another_household(client, region):
    h = factories.household(guide=region.norsjo_guide)
    mine = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    _consent(client, h)
    consent = db.session.scalar(select(Consent).where(Consent.household_id == h.id))
    response = client.post(
        f"/households/{mine.id}/consents/withdraw",
        data={"consent_id": consent.id, "withdraw-how": "phone"},
    )
    assert response.status_code == 404
    assert has_active_consent(h.id, "newsletter")


def test_guide_sets_the_legal_basis(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = client.post(f"/households/{h.id}/legal-basis", data={"legal_basis": "consent"})
    assert response.status_code == 302
    assert db.session.get(Household, h.id).legal_basis == "consent"
    bad = client.post(f"/households/{h.id}/legal-basis", data={"legal_basis": "whim"})
    assert bad.status_code == 400


FORM = {
    "first_name": "Lotte",
    "last_name": "Vermeulen",
    "email": "lotte@example.nl",
    "phone": None,
    "primary": "2417",
    "children": [],
    "others": [],
}


def test_confirming_the_interest_form_records_a_contact_consent(app_ctx, region):
    now = clock.now()
    submission = interest.submit(dict(FORM), locale="nl", now=now)
    household, _updated = interest.confirm(submission, now)
    consents = db.session.scalars(select(Consent).where(Consent.household_id == household.id))
    [consent] = list(consents)
    assert (consent.purpose, consent.given_how) == ("contact", "interest_form")
    assert consent.text_version == interest.PRIVACY_VERSION
    assert has_active_consent(household.id, "contact")
    again = interest.submit(dict(FORM), locale="nl", now=now)  # the same family again
    interest.confirm(again, now)
    count = db.session.scalar(
        select(db.func.count()).select_from(Consent).where(Consent.household_id == household.id)
    )
    assert count == 1


def test_the_migration_moves_confirmed_submissions_consents_into_the_table(tmp_path, database):
    from lotsen import create_app

    with empty_database(database, tmp_path) as url:
        app = create_app(make_config(url))
        with app.app_context():
            upgrade(revision="0014_pipeline")
            for hid in (1, 2):
                db.session.execute(
                    text(
                        "INSERT INTO household (id, name, stage, stage_changed_at, search_text,"
                        " legal_basis, created_at, updated_at, version) VALUES (:id, 'H',"
                        " 'new', '2026-01-01', '', 'public_task', '2026-01-01', '2026-01-01', 1)"
                    ),
                    {"id": hid},
                )
            rows = [  # (id, status, household, confirmed_at, version)
                (1, "confirmed", 1, "2026-03-02 10:00:00", "2026-01-15"),
                (2, "confirmed", 1, "2026-05-02 10:00:00", "2026-04-01"),  # again: one consent
                (3, "pending", None, None, "2026-11-26"),
                (4, "confirmed", 2, "2026-06-07 08:30:00", "2026-04-01"),
            ]
            for sid, status, hid, confirmed, version in rows:
                db.session.execute(
                    text(
                        "INSERT INTO interest_submission (id, status, nonce, locale, email,"
                        " data, privacy_version, consent_at, created_at, confirmed_at,"
                        " household_id) VALUES (:id, :status, 'n', 'nl', 'x@example.nl', '{}',"
                        " :version, '2026-01-01', '2026-01-01', :confirmed, :hid)"
                    ),
                    {
                        "id": sid,
                        "status": status,
                        "hid": hid,
                        "confirmed": confirmed,
                        "version": version,
                    },
                )
            db.session.commit()
            upgrade()
            got = db.session.execute(
                text(
                    "SELECT household_id, purpose, text_version, given_at, given_how,"
                    " withdrawn_at FROM consent ORDER BY household_id"
                )
            ).all()
            assert [(r[0], r[1], r[2], str(r[3])[:16], r[4], r[5]) for r in got] == [
                (1, "contact", "2026-01-15", "2026-03-02 10:00", "interest_form", None),
                (2, "contact", "2026-04-01", "2026-06-07 08:30", "interest_form", None),
            ]
            db.session.commit()
            db.engine.dispose()


# -- disposal ------------------------------------------------------------------------------

SECRETS = ("Vermeulen", "lotte.vermeulen@example.nl", "+31612345678", "tulpenveld", "Joost")


def _identifiable_household(region, at):
    h = factories.household(
        guide=region.norsjo_guide,
        at=at,
        name="Familjen Vermeulen",
        email="lotte.vermeulen@example.nl",
        phone="+31612345678",
        town="Utrecht",
        notes="Lotte talked about the tulpenveld farm",
        housing_area="by the tulpenveld",
        persons=[
            {
                "kind": "adult",
                "first_name": "Lotte",
                "last_name": "Vermeulen",
                "birth_year": 1987,
                "occupation": "Nurse tulpenveld",
            },
            {"kind": "adult", "first_name": "Joost", "last_name": "Vermeulen", "birth_year": 1985},
            {"kind": "child", "first_name": "Mila", "last_name": "Vermeulen", "birth_year": 2019},
        ],
    )
    log_contact(
        h,
        region.norsjo_guide,
        channel="phone",
        direction="out",
        summary="Spoke with Joost Vermeulen about tulpenveld",
        at=at,
    )
    add_note(h, "Vermeulen asked about schools", region.norsjo_guide)
    return h


def _search_everywhere(values) -> list[str]:
    """Every text and JSON column of every table that holds one of ``values``."""
    meta = MetaData()
    meta.reflect(bind=db.session.connection())
    hits = []
    for table in meta.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                shown = json.dumps(value) if not isinstance(value, str) else value
                for v in values:
                    if value is not None and v.lower() in shown.lower():
                        hits.append(f"{table.name}.{column.name}: {v}")
    return hits


def _figures(user):
    scope = Scope(user, date(2023, 1, 1), date(2026, 11, 30))
    board = dashboard(scope, now=clock.now())
    return (
        repr(board.stages),
        repr(board.funnel),
        repr(board.new_per_month),
        repr(board.moved_per_quarter if hasattr(board, "moved_per_quarter") else None),
        repr(board),
        repr(funder_report(user, 2024, 3)),
    )


def test_disposal_keeps_every_figure_and_leaves_no_identifying_value(app_ctx, region, frozen):
    long_ago = datetime(2024, 8, 1, 9, tzinfo=UTC)
    closed = _identifiable_household(region, long_ago)
    change_stage(closed, "contacted", region.norsjo_guide, at=long_ago + timedelta(days=3))
    change_stage(
        closed,
        "moved_in",
        region.norsjo_guide,
        at=long_ago + timedelta(days=40),
        comment="Vermeulen family arrived",
    )
    change_stage(
        closed,
        "closed",
        region.norsjo_guide,
        close_reason="personal",
        comment="Joost went back",
        at=long_ago + timedelta(days=60),
    )
    recent = factories.household(guide=region.norsjo_guide, at=long_ago, name="Familjen Ek")
    change_stage(
        recent,
        "closed",
        region.norsjo_guide,
        close_reason="no_job",
        at=datetime(2026, 1, 10, tzinfo=UTC),
    )
    submission = interest.submit(
        {**FORM, "email": "lotte.vermeulen@example.nl", "message": "tulpenveld"},
        locale="nl",
        now=long_ago,
    )
    interest.confirm(submission, long_ago)
    audit(  # the audit log keeps old and new values of changes: they must go too
        "household.update",
        by=region.norsjo_guide,
        household_id=closed.id,
        changes={"email": ["", "lotte.vermeulen@example.nl"]},
        now=long_ago,
    )
    db.session.flush()
    assert any(hit.startswith("audit_entry.") for hit in _search_everywhere(SECRETS))
    before = _figures(region.coordinator)

    counts = jobs.run("dispose", now=clock.now())  # 2026-11-25: closed 2024-09-30 + 24 months

    assert counts["anonymised"] == 1
    db.session.expire_all()
    assert _figures(region.coordinator) == before
    assert _search_everywhere(SECRETS) == []
    h = db.session.get(Household, closed.id)
    assert h.anonymised_at is not None and h.primary_municipality_code == factories.NORSJO
    assert (len(h.adults), len(h.children)) == (2, 1)
    assert db.session.get(Household, recent.id).name == "Familjen Ek"  # not due yet
    assert jobs.run("dispose", now=clock.now())["anonymised"] == 0  # safe to run twice


def test_the_guide_is_asked_30_days_before_and_a_hold_keeps_the_household(client, region, frozen):
    closed_at = datetime(2024, 12, 10, 9, tzinfo=UTC)  # + 24 months: 2026-12-10
    h = factories.household(guide=region.norsjo_guide, at=closed_at - timedelta(days=9))
    change_stage(h, "closed", region.norsjo_guide, close_reason="no_job", at=closed_at)
    db.session.commit()
    counts = jobs.run("dispose", now=clock.now())
    assert counts == {"submissions": 0, "notices": 1, "anonymised": 0, "audit_entries": 0}
    [notice] = db.session.scalars(select(FollowUp).where(FollowUp.household_id == h.id))
    assert notice.assignee_id == region.norsjo_guide.id
    assert notice.due_on == date(2026, 11, 25)  # due on 2026-12-10: asked now, not later
    assert jobs.run("dispose", now=clock.now())["notices"] == 1  # no second follow-up
    assert db.session.scalar(select(db.func.count()).select_from(FollowUp)) == 1

    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "10 december 2026" in page
    response = client.post(
        f"/households/{h.id}/disposal-hold",
        data={"hold-until": "2027-06-30", "hold-reason": "Returning in spring, see contract"},
    )
    assert response.status_code == 302
    bad = client.post(
        f"/households/{h.id}/disposal-hold", data={"hold-until": "2020-01-01", "hold-reason": "x"}
    )
    assert bad.status_code == 400 and "framtiden" in bad.get_data(as_text=True)
    frozen.move_to(datetime(2026, 12, 11, 9, tzinfo=UTC))
    assert jobs.run("dispose", now=clock.now())["anonymised"] == 0
    frozen.move_to(datetime(2027, 7, 2, 9, tzinfo=UTC))
    assert jobs.run("dispose", now=clock.now())["anonymised"] == 1


def test_admin_anonymises_one_household_after_confirming_twice(client, region):
    h = _identifiable_household(region, clock.now())
    db.session.commit()
    login(client, region.admin)
    first = client.get(f"/privacy/disposal?household={h.id}")
    assert first.status_code == 302 and first.headers["Location"].endswith(
        f"/privacy/anonymise/{h.id}"
    )
    page = client.get(f"/privacy/anonymise/{h.id}")
    assert page.status_code == 200 and "Vermeulen" not in page.get_data(as_text=True)
    wrong = client.post(
        f"/privacy/anonymise/{h.id}", data={"understood": "y", "confirm_id": h.id + 1}
    )
    assert wrong.status_code == 400
    assert db.session.get(Household, h.id).anonymised_at is None
    unticked = client.post(f"/privacy/anonymise/{h.id}", data={"confirm_id": h.id})
    assert unticked.status_code == 400
    done = client.post(f"/privacy/anonymise/{h.id}", data={"understood": "y", "confirm_id": h.id})
    assert done.status_code == 302
    assert db.session.get(Household, h.id).name == f"Anonymiserad {h.id}"
    assert client.get(f"/privacy/anonymise/{h.id}").status_code == 404  # done once


def test_coordinator_cannot_anonymise_by_hand(client, region):
    h = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.coordinator)
    assert (
        client.post(
            f"/privacy/anonymise/{h.id}", data={"understood": "y", "confirm_id": h.id}
        ).status_code
        == 403
    )
    assert db.session.get(Household, h.id).anonymised_at is None


def test_the_nightly_run_also_purges_unconfirmed_submissions(app_ctx, frozen):
    old = interest.submit(dict(FORM), locale="nl", now=clock.now() - timedelta(days=8))
    new = interest.submit(dict(FORM), locale="nl", now=clock.now() - timedelta(days=2))
    db.session.commit()
    new_id = new.id
    assert old.id != new_id
    assert jobs.run("dispose", now=clock.now())["submissions"] == 1
    assert db.session.scalars(select(interest.InterestSubmission.id)).all() == [new_id]


def test_admins_see_the_disposal_rules(client, region):
    login(client, region.admin)
    page = client.get("/privacy/disposal").get_data(as_text=True)
    assert "Avslutade hushåll" in page and "24 månader efter avslut" in page
    assert "36 månader efter inflyttning" in page and "7 dagar" in page
    assert client.get("/privacy/disposal?household=abc").status_code == 400
