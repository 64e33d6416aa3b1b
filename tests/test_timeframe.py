"""The interest form's timeframe is stored as a code and shown in each reader's language;
children given as ages read "Barn, 4 år" (issue 15, item 9)."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from lotsen import clock, create_app
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.vocab import Timeframe
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.conftest import login, make_config
from tests.test_interest import confirmation_link, form_data, public  # noqa: F401 (fixture)


@pytest.mark.usefixtures("public")
def test_timeframe_from_the_german_form_reads_in_each_guides_language(
    app_ctx, make_client, region, smtp
):
    visitor = make_client()
    data = form_data(timeframe="6m", children="4", partner_name=None, partner_occupation=None)
    assert visitor.post("/interest?lang=de", data=data).status_code == 302
    dispatch_outbox(clock.now())
    visitor.post(confirmation_link(smtp).split("127.0.0.1:5000")[1])
    h = db.session.scalars(select(Household)).one()
    assert (h.timeframe_code, h.timeframe) == (Timeframe.SIX_MONTHS, None)

    swedish = make_client()
    login(swedish, region.norsjo_guide)
    page = swedish.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Inom sex månader" in page and "Innerhalb" not in page
    assert "<strong>Barn</strong>, 4 år" in page and "? de Vries" not in page

    region.coordinator.locale = "en"
    db.session.commit()
    english = make_client()
    login(english, region.coordinator)
    page = english.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Within six months" in page and "<strong>Child</strong>, 4 years" in page


def test_a_named_child_shows_name_age_and_kind(client, region):
    this_year = clock.now().year
    h = factories.household(
        guide=region.norsjo_guide,
        persons=[
            {"kind": "adult", "first_name": "Eva", "last_name": "Smit", "birth_year": 1985},
            {
                "kind": "child",
                "first_name": "Noah",
                "last_name": "Smit",
                "birth_year": this_year - 7,
            },
        ],
    )
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "<strong>Noah Smit</strong>, 7 år – Barn" in page
    assert "<strong>Eva Smit</strong>, 1985 – Vuxen" in page


def test_the_guide_can_choose_a_timeframe_and_add_words(client, region):
    h = factories.household(guide=region.norsjo_guide, name="Familjen Ek")
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/households/{h.id}/edit").get_data(as_text=True)
    assert 'name="timeframe_code"' in page and "Tidsram i ord" in page


LEGACY = {  # what the interest form stored before, in the visitor's language
    "Innerhalb von sechs Monaten": ("6m", None),
    "Binnen een jaar": ("1y", None),
    "Om ett eller två år": ("2y", None),
    "Later, or not sure yet": ("later", None),
    "sommaren 2027": (None, "sommaren 2027"),  # a guide's own words stay
}


@pytest.mark.sqlite_only
def test_migration_turns_stored_labels_back_into_codes(tmp_path, database):
    app = create_app(make_config(f"sqlite:///{tmp_path / 'legacy.sqlite'}"))
    with app.app_context():
        upgrade(revision="0003_interest")
        for n, label in enumerate(LEGACY):
            db.session.execute(
                text(
                    "INSERT INTO household (id, name, timeframe, stage, stage_changed_at,"
                    " search_text, legal_basis, created_at, updated_at, version) VALUES"
                    " (:id, :name, :tf, 'new', '2026-01-01', '', 'public_task', '2026-01-01',"
                    " '2026-01-01', 1)"
                ),
                {"id": n + 1, "name": f"H{n}", "tf": label},
            )
        db.session.commit()
        upgrade(revision="0010_timeframe_code")
        rows = db.session.execute(
            text("SELECT id, timeframe_code, timeframe FROM household ORDER BY id")
        ).all()
        assert [(code, words) for _id, code, words in rows] == list(LEGACY.values())
        db.session.commit()  # let the downgrade take the write lock
        downgrade(revision="0003_interest")  # back to the Swedish labels, nothing lost
        rows = db.session.execute(text("SELECT timeframe FROM household ORDER BY id")).all()
        assert [r[0] for r in rows] == [
            "Inom sex månader",
            "Inom ett år",
            "Om ett eller två år",
            "Senare, eller vet inte än",
            "sommaren 2027",
        ]
        db.engine.dispose()
