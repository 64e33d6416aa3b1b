"""CSRF is on for every POST (the rest of the suite switches it off for brevity)."""

import re

import pytest

from tests import factories
from tests.conftest import make_config


@pytest.fixture
def csrf_app(database, app):
    from lotsen import create_app

    return create_app(make_config(database, WTF_CSRF_ENABLED=True))


def test_post_without_token_is_refused_and_with_token_accepted(csrf_app, app_ctx, region):
    with csrf_app.app_context():
        client = csrf_app.test_client()
        response = client.post(
            "/login", data={"email": region.norsjo_guide.email, "password": factories.PASSWORD}
        )
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login",
            data={
                "email": region.norsjo_guide.email,
                "password": factories.PASSWORD,
                "csrf_token": token,
            },
        )
        assert response.status_code in (302, 401)


def _logged_in(csrf_app, user):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    return client


def test_the_household_pages_shared_empty_forms_carry_each_sessions_own_token(
    csrf_app, app_ctx, region
):
    """The page's empty forms are built once and shared (lotsen/forms.py: blank_form):
    every form on it, prefixed ones too, must still carry the viewer's own token, and the
    double-submit key must be new on every view."""
    from lotsen.extensions import db

    household = factories.household(municipality=factories.MALA, guide=region.mala_guide)
    berit = factories.user(municipality=factories.MALA, name="Berit Malå")
    db.session.commit()
    sara = _logged_in(csrf_app, region.mala_guide)
    berits = _logged_in(csrf_app, berit)

    def tokens(client):
        page = client.get(f"/households/{household.id}").get_data(as_text=True)
        found = dict(re.findall(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"', page))
        once = re.findall(r'name="once" type="hidden" value="([^"]+)"', page)
        # a token is the session's secret signed with the time: compare the secrets
        return found, {value.split(".")[0] for value in found.values()}, once

    found, sara_secret, sara_once = tokens(sara)
    berit_found, berit_secret, berit_once = tokens(berits)
    _, again, again_once = tokens(sara)
    assert {"csrf_token", "handover-csrf_token", "consent-csrf_token"} <= found.keys()
    assert len(sara_secret) == len(berit_secret) == 1
    assert sara_secret != berit_secret and again == sara_secret
    assert len({*sara_once, *berit_once, *again_once}) == 3
    note = f"/households/{household.id}/notes"
    response = sara.post(note, data={"text": "Hej", "csrf_token": found["consent-csrf_token"]})
    assert response.status_code == 302
    response = sara.post(note, data={"text": "Hej", "csrf_token": berit_found["csrf_token"]})
    assert response.status_code == 400
