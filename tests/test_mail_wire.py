"""E-mails on the wire: CRLF line ends (RFC 5322/5321) that a strict SMTP server accepts,
long bodies, and non-ASCII names in From, To and Subject that arrive decoded right."""

from datetime import date

from lotsen.extensions import db
from lotsen.followups.notify import daily_digest
from lotsen.followups.services import create_followup
from lotsen.notifications.models import OutboxMessage, OutboxStatus
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.test_notifications import at

MONDAY = at("2026-11-30T07:00")


def test_a_long_digest_with_many_lines_reaches_a_strict_smtp_server(
    app, app_ctx, smtp, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_FROM", "Lotsen – Move Up North <lotsen@movemupnorth.se>")
    guide = factories.user(name="Åsa Öberg-Lindström", email="asa@norsjo.example")
    for n in range(12):  # a guide with five or more items: a digest over 1000 bytes
        h = factories.household(guide=guide, name=f"Familjen Müller-Østergård {n}")
        create_followup(h, due_on=date(2026, 11, 27), by=guide, title=f"Ring om bostad {n}")
    db.session.commit()

    assert daily_digest(MONDAY) == 1
    db.session.commit()
    assert dispatch_outbox(MONDAY) == {"sent": 1, "failed": 0}

    (row,) = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "digest"))
    assert row.status == OutboxStatus.SENT and row.last_error is None
    assert len(row.body.encode()) > 1000 and row.body.count("\n") > 20
    (mail,) = smtp.messages
    assert str(mail["Subject"]) == "Lotsen 2026-11-30: 12 försenade, 0 idag"
    assert mail["To"].addresses[0].display_name == "Åsa Öberg-Lindström"
    assert mail["To"].addresses[0].addr_spec == "asa@norsjo.example"
    assert mail["From"].addresses[0].display_name == "Lotsen – Move Up North"
    assert mail["From"].addresses[0].addr_spec == "lotsen@movemupnorth.se"
    body = mail.get_content()
    for n in range(12):
        assert f"Familjen Müller-Østergård {n}: Ring om bostad {n}" in body


def test_every_line_on_the_wire_ends_in_crlf(app_ctx, smtp):
    guide = factories.user(name="Jürgen Ødegård")
    h = factories.household(guide=guide, name="Familie Größe")
    for n in range(6):
        create_followup(h, due_on=date(2026, 11, 30), by=guide, title=f"Anruf {n}")
    db.session.commit()
    daily_digest(MONDAY)
    db.session.commit()
    dispatch_outbox(MONDAY)
    (raw,) = smtp.mailbox.raw
    assert raw.count(b"\r\n") > 10
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    (mail,) = smtp.messages
    assert mail["To"].addresses[0].display_name == "Jürgen Ødegård"
    assert "Familie Größe: Anruf 5" in mail.get_content()
