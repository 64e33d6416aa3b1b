"""The mail helper: templates in the recipient's language, absolute links from BASE_URL."""

from sqlalchemy import select

from lotsen import clock
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.mail import external_url, send_mail
from lotsen.notifications.models import OutboxMessage
from tests import factories


def test_mail_is_rendered_in_the_recipients_language_with_links_under_base_url(
    app_ctx, region, monkeypatch, frozen
):
    monkeypatch.setitem(app_ctx.config, "BASE_URL", "https://crm.example.org/lotsen/")
    h = factories.household(guide=region.norsjo_guide, name="Familjen Berg")
    f = create_followup(h, due_on=clock.today(), by=region.norsjo_guide, title="Ring")
    for locale, hello in (("sv", "Hej Anna,"), ("en", "Hello Anna,")):
        added = send_mail(
            "reminder",
            to="anna@example.org",
            locale=locale,
            key=f"test:{locale}",
            user=type("U", (), {"name": "Anna"}),
            followup=f,
        )
        assert added
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key == f"test:{locale}")
        ).one()
        assert message.kind == "reminder" and message.to_address == "anna@example.org"
        assert message.body.startswith(hello)
        assert f"https://crm.example.org/lotsen/households/{h.id}" in message.body
        assert "Familjen Berg" in message.subject
    # the same key again: nothing new
    assert not send_mail(
        "reminder", to="x@example.org", locale="sv", key="test:sv", user=None, followup=f
    )


def test_external_url_outside_a_request(app_ctx):
    assert external_url("households.view", household_id=5) == "http://127.0.0.1:5000/households/5"
