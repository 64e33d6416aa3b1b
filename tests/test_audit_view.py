"""A household page view is shown and logged while other requests write: on SQLite a read
transaction that then writes fails at once ("database is locked") when another connection
committed since it began, so the view's entry must not be written on the page's read."""

import pytest
from sqlalchemy import func, insert, select

import lotsen.households.routes as household_routes
from lotsen import clock
from lotsen.audit.models import AuditEntry
from lotsen.extensions import db
from tests import factories
from tests.conftest import login


@pytest.mark.sqlite_only
def test_a_view_is_logged_while_another_worker_commits_during_it(committing_app, monkeypatch):
    # Its own database file: the test commits for real, on two connections.
    app = committing_app
    with app.app_context():
        region = factories.Region.create()
        household = factories.household(guide=region.norsjo_guide, name="Familjen Berg")
        db.session.commit()
        household_id, guide_id = household.id, region.norsjo_guide.id
        client = app.test_client()
        login(client, region.norsjo_guide)

    render = household_routes.render_household

    def render_while_another_worker_logs_its_view(household, *args, **kwargs):
        page = render(household, *args, **kwargs)
        with db.engine.begin() as other:  # a second worker's view is logged meanwhile
            other.execute(
                insert(AuditEntry.__table__).values(
                    at=clock.now(), action="household.view", household_id=household.id
                )
            )
        return page

    monkeypatch.setattr(
        household_routes, "render_household", render_while_another_worker_logs_its_view
    )
    response = client.get(f"/households/{household_id}")
    assert response.status_code == 200
    assert "Familjen Berg" in response.text
    with app.app_context():
        by_guide = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "household.view",
                AuditEntry.household_id == household_id,
                AuditEntry.user_id == guide_id,
            )
        )
        by_other = db.session.scalar(
            select(func.count()).where(
                AuditEntry.household_id == household_id, AuditEntry.user_id.is_(None)
            )
        )
    assert (by_guide, by_other) == (1, 1)
