from sqlalchemy import select

from lotsen.accounts.models import User
from lotsen.extensions import db
from tests import factories
from tests.conftest import login

NEW = {
    "name": "Ny Lots",
    "email": "Ny.Lots@Example.org",
    "role": "guide",
    "municipality_code": factories.LYCKSELE,
    "extra_municipalities": [factories.MALA],
    "locale": "en",
    "active": "y",
    "password": "twelve chars at least",
}


def test_admin_creates_a_guide_who_can_log_in(make_client, region):
    admin = make_client()
    login(admin, region.admin)
    response = admin.post("/admin/users/new", data=NEW)
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "ny.lots@example.org")).one()
    assert user.municipality_codes == {factories.LYCKSELE, factories.MALA}
    guide = make_client()
    response = guide.post(
        "/login", data={"email": "ny.lots@example.org", "password": "twelve chars at least"}
    )
    assert response.status_code == 302
    assert "Households" in guide.get("/households").get_data(as_text=True)  # English, as set


def test_admin_form_errors(client, region):
    login(client, region.admin)
    for change, message in (
        ({"password": "short"}, "Lösenordet måste vara minst 12 tecken långt."),
        ({"password": ""}, "Ett nytt konto behöver ett lösenord."),
        ({"municipality_code": ""}, "En lots behöver en kommun."),
        (
            {"email": region.norsjo_guide.email.upper()},
            "Ett annat konto använder redan den här e-postadressen.",
        ),
        ({"role": "superuser"}, "Inte ett giltigt val"),
    ):
        before = db.session.scalars(select(User.id)).all()
        response = client.post("/admin/users/new", data={**NEW, **change})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
        assert db.session.scalars(select(User.id)).all() == before


def test_deactivating_a_user_ends_their_sessions_and_keeps_their_records(make_client, region):
    from lotsen.contacts.services import log_contact

    h = factories.household(guide=region.norsjo_guide)
    log_contact(h, region.norsjo_guide, channel="phone", direction="out", summary="Samtal")
    db.session.commit()
    guide, admin = make_client(), make_client()
    login(guide, region.norsjo_guide)
    login(admin, region.admin)
    g = region.norsjo_guide
    response = admin.post(
        f"/admin/users/{g.id}",
        data={
            "name": g.name,
            "email": g.email,
            "role": "guide",
            "municipality_code": g.municipality_code,
            "locale": "sv",
        },
    )  # "active" unticked
    assert response.status_code == 302
    assert guide.get("/households").status_code == 302
    coordinator = make_client()
    login(coordinator, region.coordinator)
    page = coordinator.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Samtal" in page and g.name in page


def test_admin_cannot_deactivate_themselves(client, region):
    login(client, region.admin)
    a = region.admin
    response = client.post(
        f"/admin/users/{a.id}",
        data={"name": a.name, "email": a.email, "role": "admin", "locale": "sv"},
    )
    assert response.status_code == 400
    db.session.refresh(a)
    assert a.active


def test_cli_creates_a_user(app_ctx, region):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(
        args=[
            "lotsen",
            "create-user",
            "cli@example.org",
            "--name",
            "Cli Lots",
            "--role",
            "guide",
            "--municipality",
            factories.NORSJO,
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created guide cli@example.org" in result.output
    result = runner.invoke(
        args=[
            "lotsen",
            "create-user",
            "short@example.org",
            "--name",
            "S",
            "--role",
            "guide",
            "--municipality",
            factories.NORSJO,
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert db.session.scalars(select(User).where(User.email == "short@example.org")).all() == []
