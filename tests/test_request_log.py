"""Request ids and log lines: one line per request with id, user, route, status, duration;
JSON lines on request; the 500 page shows the id; no personal data in any log line."""

import json
import logging
import re

import pytest
from sqlalchemy import select

from lotsen import create_app, jobs
from lotsen.access import PUBLIC, allow
from lotsen.accounts.models import Role, User
from lotsen.db import utcnow
from lotsen.demo import DEMO_PASSWORD, seed_demo
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.ops.requestlog import JsonFormatter, configure_logging
from lotsen.scheduler import triggers
from tests import factories
from tests.conftest import login, make_config


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "lotsen.request"]


def test_every_request_gets_an_id_that_is_logged_with_user_route_status_and_time(
    client, region, caplog
):
    household = factories.household(guide=region.norsjo_guide)
    db.session.commit()
    login(client, region.norsjo_guide)
    caplog.set_level(logging.INFO, logger="lotsen")
    response = client.get(f"/households/{household.id}")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (line,) = request_lines(caplog)
    assert line.request_id == request_id
    assert line.user_id == region.norsjo_guide.id
    assert line.route == "/households/<int:household_id>"  # the pattern, not the path
    assert line.status == 200 and line.method == "GET"
    assert 0 < line.duration_ms < 10_000
    assert client.get("/households").headers["X-Request-ID"] != request_id


def test_a_proxys_request_id_is_taken_only_from_a_trusted_proxy(client, app, monkeypatch):
    sent = {"X-Request-ID": "edge-4f2a.77"}
    assert client.get("/healthz", headers=sent).headers["X-Request-ID"] != "edge-4f2a.77"
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 1)
    assert client.get("/healthz", headers=sent).headers["X-Request-ID"] == "edge-4f2a.77"
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])


def test_json_log_lines_for_a_log_collector(app, database, capsys):
    json_app = create_app(make_config(database, LOG_FORMAT="json"))
    try:
        capsys.readouterr()
        response = json_app.test_client().get("/healthz")
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    finally:
        configure_logging(app)  # the other tests' apps log text again
        with json_app.app_context():
            db.engine.dispose()
    (line,) = [x for x in lines if x["logger"] == "lotsen.request"]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["route"] == "/healthz" and line["status"] == 200 and line["user_id"] is None
    assert line["level"] == "INFO" and "duration_ms" in line and line["time"].endswith("+00:00")


def test_the_500_page_shows_the_request_id(app, database, caplog):
    broken_app = create_app(make_config(database, PROPAGATE_EXCEPTIONS=False))

    @broken_app.route("/broken")
    @allow(PUBLIC)
    def broken():
        raise RuntimeError("something broke")

    caplog.set_level(logging.INFO, logger="lotsen")
    response = broken_app.test_client().get("/broken")
    with broken_app.app_context():
        db.engine.dispose()
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert f"den här referensen om du kontaktar supporten: {request_id}" in response.get_data(
        as_text=True
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.request_id == request_id for r in errors)
    assert [r.status for r in request_lines(caplog)] == [500]


@pytest.fixture
def demo(app_ctx):
    seed_demo(40)
    db.session.commit()
    households = db.session.scalars(select(Household)).all()
    secrets = set()
    for h in households:
        secrets.update(x for x in (h.name, h.email, h.phone) if x)
        for p in h.persons:
            secrets.update(x for x in (p.first_name, p.last_name) if x and len(x) > 3)
    return households, secrets


def test_no_names_or_e_mail_addresses_of_households_in_any_log_line(client, demo, caplog):
    households, secrets = demo
    caplog.set_level(logging.DEBUG)
    guide = db.session.scalar(select(User).where(User.role == Role.GUIDE))
    mine = next(h for h in households if h.guide_id == guide.id)
    # a guide types a household's address instead of their own, then logs in properly
    client.post("/login", data={"email": mine.email, "password": "wrong password 1"})
    client.post("/login", data={"email": guide.email, "password": DEMO_PASSWORD})
    for url in (
        "/my-day",
        "/households",
        f"/households?q={mine.name.split()[-1]}",
        f"/households?q={mine.email}",
        f"/households/{mine.id}",
        f"/households/{mine.id}/edit",
    ):
        assert client.get(url).status_code == 200, url
    note = f"Pratade med {mine.name} om bostad, {mine.email}"
    assert (
        client.post(
            f"/households/{mine.id}/contacts",
            data={"channel": "phone", "direction": "out", "summary": note},
        ).status_code
        == 302
    )
    assert client.post(f"/households/{mine.id}/notes", data={"text": note}).status_code == 302
    for role in (Role.COORDINATOR, Role.ADMIN):
        user = db.session.scalar(select(User).where(User.role == role))
        login(client, user)
        for url in ("/", "/households", "/admin/users", "/admin/outbox", "/admin/scheduler"):
            client.get(url)
    for name in triggers(client.application.config):
        jobs.run(name, utcnow())

    as_written = JsonFormatter()  # every field a log line can carry, and any traceback
    text = "\n".join(as_written.format(r) for r in caplog.records)
    assert len(request_lines(caplog)) >= 15  # the walk was logged
    leaked = sorted(s for s in secrets if s.lower() in text.lower())
    assert leaked == []
