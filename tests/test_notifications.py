"""Reminders, the daily digest, the outbox and its retries, against a real SMTP server."""

import time as time_module
from datetime import UTC, date, datetime, time, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from lotsen import jobs
from lotsen.clock import now as utcnow
from lotsen.extensions import db
from lotsen.followups.notify import daily_digest, due_reminders
from lotsen.followups.services import create_followup, reschedule_followup
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import MAX_ATTEMPTS, dispatch_outbox
from lotsen.scheduler import missed_at_start, triggers
from lotsen.workdays import STOCKHOLM
from tests import factories
from tests.conftest import login


def at(text: str) -> datetime:
    """A Stockholm wall-clock time as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def text(mail) -> str:
    return mail.get_content().replace("\r\n", "\n")


def to(mail) -> str:
    """The recipient's address (the To header also carries their name)."""
    return mail["To"].addresses[0].addr_spec


def tick(now: datetime) -> dict:
    """What the scheduler does each minute: queue due reminders, send the outbox."""
    due_reminders(now)
    db.session.commit()
    return dispatch_outbox(now)


@pytest.fixture
def guide(region):
    return region.norsjo_guide


def test_reminder_when_a_timed_follow_up_falls_due_once(app_ctx, guide, smtp):
    h = factories.household(guide=guide, name="Familjen Smit")
    f = create_followup(h, due_on=date(2026, 12, 1), due_time=time(10, 0), by=guide, title="Ring")
    db.session.commit()
    assert tick(at("2026-12-01T09:59")) == {"sent": 0, "failed": 0}
    assert tick(at("2026-12-01T10:00")) == {"sent": 1, "failed": 0}
    assert tick(at("2026-12-01T10:05")) == {"sent": 0, "failed": 0}
    (mail,) = smtp.messages
    assert to(mail) == guide.email
    assert mail["Subject"] == "Uppföljning nu: Familjen Smit"
    assert "2026-12-01 10:00  Familjen Smit: Ring" in mail.get_content()
    assert f"/households/{h.id}" in mail.get_content()

    reschedule_followup(f, date(2026, 12, 1), time(14, 0))  # a new time: a new reminder
    db.session.commit()
    tick(at("2026-12-01T14:01"))
    assert [m["X-Lotsen-Key"] for m in smtp.messages] == [
        f"reminder:{f.id}:2026-12-01T10:00",
        f"reminder:{f.id}:2026-12-01T14:00",
    ]


def test_no_reminder_when_switched_off_or_untimed(client, guide, smtp):
    h = factories.household(guide=guide)
    create_followup(h, due_on=date(2026, 12, 1), by=guide)  # no time: digest only
    create_followup(h, due_on=date(2026, 12, 1), due_time=time(8), by=guide)
    db.session.commit()
    login(client, guide)
    response = client.post("/settings", data={"locale": "sv", "notify_digest": "y"})
    assert response.status_code == 302
    tick(at("2026-12-01T12:00"))
    assert smtp.messages == []


def digest_setup(region):
    g, other = region.norsjo_guide, region.mala_guide
    other.locale = "en"
    h = factories.household(guide=g, name="Familjen Visser")
    m = factories.household(factories.MALA, guide=other, name="Family Weber")
    create_followup(h, due_on=date(2026, 11, 27), by=g, title="Ring upp")  # overdue on 30 Nov
    create_followup(h, due_on=date(2026, 11, 30), due_time=time(13), by=g, title="Möte")
    create_followup(h, due_on=date(2026, 12, 3), by=g, title="Senare i veckan")
    create_followup(m, due_on=date(2026, 11, 30), by=other, title="Send listings")
    db.session.commit()


def digest_run(now: datetime) -> int:
    queued = daily_digest(now)
    db.session.commit()
    dispatch_outbox(now)
    return queued


def test_daily_digest_on_a_working_day_in_each_users_language(app_ctx, region, smtp):
    digest_setup(region)
    assert digest_run(at("2026-11-30T07:00")) == 2  # Monday
    by_to = {to(m): m for m in smtp.messages}
    sv = by_to[region.norsjo_guide.email]
    assert sv["Subject"] == "Lotsen 2026-11-30: 1 försenade, 1 idag"
    body = text(sv)
    assert "Försenade (1):\n- 2026-11-27  Familjen Visser: Ring upp" in body
    assert "Idag (1):\n- 2026-11-30 13:00  Familjen Visser: Möte" in body
    assert "Senare i veckan" not in body
    en = by_to[region.mala_guide.email]
    assert en["Subject"] == "Lotsen 2026-11-30: 0 overdue, 1 today"
    assert "Today (1):" in text(en)
    # a second run the same day (a re-started or second scheduler) sends nothing new
    assert digest_run(at("2026-11-30T07:00")) == 0
    assert digest_run(at("2026-11-30T11:30")) == 0
    assert len(smtp.messages) == 2


@pytest.mark.parametrize(
    "moment",
    [
        "2026-11-28T07:00",  # Saturday
        "2026-11-29T07:00",  # Sunday
        "2026-06-19T07:00",  # midsummer eve
        "2026-12-24T07:00",  # Christmas eve
        "2027-01-06T07:00",  # Epiphany
    ],
)
def test_no_digest_on_weekends_and_swedish_holidays(app_ctx, region, smtp, moment):
    digest_setup(region)
    assert digest_run(at(moment)) == 0
    assert smtp.messages == []


def fire_times(trigger, start: datetime, days: int) -> list[datetime]:
    times, previous = [], None
    now = start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt >= start + timedelta(days=days):
            return times
        times.append(nxt)
        previous, now = nxt, nxt + timedelta(seconds=1)


@pytest.mark.parametrize("start", ["2026-03-27T00:00", "2026-10-23T00:00"])
def test_digest_stays_at_0700_across_daylight_saving_changes(app, start):
    trigger = triggers(app.config)["daily-digest"]
    times = fire_times(trigger, at(start), 5)
    assert len(times) == 5  # one a day: none lost in spring, none doubled in autumn
    assert {t.astimezone(STOCKHOLM).strftime("%H:%M") for t in times} == {"07:00"}
    offsets = [t.astimezone(STOCKHOLM).utcoffset() for t in times]
    assert offsets[0] != offsets[-1]  # the change is inside the window


def test_digest_on_the_autumn_night_is_sent_once(app_ctx, region, smtp):
    digest_setup(region)
    # 25 Oct 2026 is a Sunday; the Monday after a DST change, run twice an hour apart
    create_followup(
        factories.household(guide=region.norsjo_guide),
        due_on=date(2026, 10, 26),
        by=region.norsjo_guide,
        title="Efter sommartid",
    )
    db.session.commit()
    digest_run(datetime(2026, 10, 26, 6, 0, tzinfo=UTC))  # 07:00 CET
    digest_run(datetime(2026, 10, 26, 5, 0, tzinfo=UTC))  # 06:00 CET, same local day
    assert len([m for m in smtp.messages if to(m) == region.norsjo_guide.email]) == 1


def test_missed_runs_are_coalesced(app):
    """APScheduler with our job defaults: five missed runs become one."""
    runs = []
    scheduler = BackgroundScheduler(
        timezone=STOCKHOLM,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        lambda: runs.append(1),
        "interval",
        seconds=60,
        next_run_time=utcnow() - timedelta(minutes=5),
    )
    scheduler.start()
    try:
        deadline = time_module.monotonic() + 5  # a real scheduler thread: real waiting
        while not runs and time_module.monotonic() < deadline:
            time_module.sleep(0.05)
        time_module.sleep(0.5)  # room for any further (wrong) runs
    finally:
        scheduler.shutdown(wait=True)
    assert runs == [1]


def test_digest_catches_up_once_after_downtime(app):
    grace = app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"]
    assert grace >= 3600
    assert missed_at_start(app.config, at("2026-11-30T09:30")) == ["daily-digest"]
    assert missed_at_start(app.config, at("2026-11-30T06:59")) == []
    assert missed_at_start(app.config, at("2026-11-30T23:00")) == []


def test_smtp_down_then_retried_with_back_off(client, region, smtp):
    h = factories.household(guide=region.norsjo_guide)
    create_followup(h, due_on=date(2026, 12, 1), due_time=time(9), by=region.norsjo_guide)
    db.session.commit()
    smtp.stop()
    t0 = at("2026-12-01T09:00")
    assert tick(t0) == {"sent": 0, "failed": 1}
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == t0 + timedelta(minutes=1)
    assert "SMTP unreachable" in message.last_error

    login(client, region.admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "SMTP unreachable" in page and region.norsjo_guide.email in page

    smtp.start()
    assert dispatch_outbox(t0 + timedelta(seconds=30)) == {"sent": 0, "failed": 0}  # backing off
    assert dispatch_outbox(t0 + timedelta(seconds=61)) == {"sent": 1, "failed": 0}
    assert len(smtp.messages) == 1
    db.session.refresh(message)
    assert message.status == "sent"


def test_gives_up_after_max_attempts_and_admin_can_resend(client, region, smtp):
    h = factories.household(guide=region.norsjo_guide)
    create_followup(h, due_on=date(2026, 12, 1), due_time=time(9), by=region.norsjo_guide)
    db.session.commit()
    smtp.stop()
    now = at("2026-12-01T09:00")
    tick(now)
    for _ in range(MAX_ATTEMPTS):
        now += timedelta(days=1)
        dispatch_outbox(now)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    smtp.start()
    assert dispatch_outbox(now + timedelta(days=2)) == {"sent": 0, "failed": 0}

    login(client, region.admin)
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 302
    assert dispatch_outbox(utcnow()) == {"sent": 1, "failed": 0}


def test_run_job_command(app_ctx, region, smtp):
    digest_setup(region)
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(
        args=["lotsen", "run-job", "daily-digest", "--at", "2026-11-30T06:00:00"]
    )
    assert result.exit_code == 0, result.output
    assert "daily-digest: 2" in result.output
    result = runner.invoke(
        args=["lotsen", "run-job", "dispatch-outbox", "--at", "2026-11-30T06:01"]
    )
    assert "'sent': 2" in result.output
    result = runner.invoke(args=["lotsen", "run-job", "nonsense"])
    assert result.exit_code != 0 and "dispatch-outbox" in result.output


def test_a_held_lease_keeps_a_second_process_out(app_ctx, monkeypatch):
    now = utcnow()
    assert jobs._take_lease("evaluate-rules", now, timedelta(minutes=10))
    monkeypatch.setattr(jobs, "WORKER_ID", "other-host:1")
    assert jobs.run("evaluate-rules", now) is None  # skipped
    assert jobs.run("evaluate-rules", now + timedelta(minutes=11)) is not None  # expired


def test_a_batch_claimed_late_in_a_long_run_is_not_taken_by_a_second_sender(
    app, app_ctx, monkeypatch
):
    """Each claim holds OUTBOX_CLAIM_SECONDS from when it is made, not from when the run
    started: a second sender starting 1.6 s into a slow run finds nothing to take twice."""
    import threading

    from lotsen.notifications.services import Mail, enqueue_many
    from tests.smtp import SmtpServer

    server = SmtpServer(rcpt_delay=0.7).start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "OUTBOX_BATCH", 1)
    monkeypatch.setitem(app.config, "OUTBOX_CLAIM_SECONDS", 1)
    t0 = utcnow()
    keys = [f"slow:{i}" for i in range(3)]
    mails = [Mail(key=k, kind="test", to="x@example.org", subject="s", body="b") for k in keys]
    enqueue_many(mails, t0)
    db.session.commit()

    def second_sender():
        time_module.sleep(1.6)
        with app.app_context():
            dispatch_outbox(t0 + timedelta(seconds=1.6))
            db.session.remove()

    thread = threading.Thread(target=second_sender)
    try:
        thread.start()
        dispatch_outbox(t0)
        thread.join()
    finally:
        server.stop()
    assert sorted(server.mailbox.keys()) == keys  # each once
