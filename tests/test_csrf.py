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
