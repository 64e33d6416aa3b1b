"""Scheduler health: a stopped or failing scheduler is seen by admins, coordinators and
monitoring, judged with chosen clocks."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from lotsen import jobs
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.notifications.models import OutboxMessage, OutboxStatus
from lotsen.notifications.services import Mail, enqueue
from lotsen.ops.health import job_health, outbox_backlog, stale_jobs
from lotsen.scheduler import triggers
from lotsen.workdays import STOCKHOLM
from tests.conftest import login

WEDNESDAY_0900 = datetime(2026, 11, 25, 9, 0, tzinfo=STOCKHOLM)


def run_all(app, now: datetime, skip=()) -> None:
    for name in triggers(app.config):
        if name not in skip:
            jobs.run(name, now)


def stale_names(app, now: datetime) -> list[str]:
    return [j.name for j in stale_jobs(app.config, now)]


def test_a_stopped_scheduler_turns_stale_after_twice_each_interval(app_ctx):
    start = WEDNESDAY_0900
    run_all(app_ctx, start)
    assert stale_names(app_ctx, start + timedelta(seconds=59)) == []
    # sending e-mails every 30 s, reminders every 60 s, rules every 15 min, purge hourly
    assert stale_names(app_ctx, start + timedelta(seconds=61)) == ["dispatch-outbox"]
    assert stale_names(app_ctx, start + timedelta(seconds=121)) == [
        "dispatch-outbox",
        "due-reminders",
    ]
    later = stale_names(app_ctx, start + timedelta(hours=2, seconds=1))
    assert later == ["dispatch-outbox", "due-reminders", "evaluate-rules", "purge-unconfirmed"]


def test_the_digest_is_stale_when_a_working_day_passed_without_it(app_ctx):
    tuesday_0700 = datetime(2026, 11, 24, 7, 0, tzinfo=STOCKHOLM)
    jobs.run("daily-digest", tuesday_0700)
    wednesday_0759 = datetime(2026, 11, 25, 7, 59, tzinfo=STOCKHOLM)
    run_all(app_ctx, wednesday_0759, skip=["daily-digest"])
    assert stale_names(app_ctx, wednesday_0759) == []
    wednesday_0801 = datetime(2026, 11, 25, 8, 1, tzinfo=STOCKHOLM)
    run_all(app_ctx, wednesday_0801, skip=["daily-digest"])
    assert stale_names(app_ctx, wednesday_0801) == ["daily-digest"]


def test_a_weekend_is_no_missed_working_day_but_a_stopped_digest_is(app_ctx):
    friday_0700 = datetime(2026, 11, 27, 7, 0, tzinfo=STOCKHOLM)
    jobs.run("daily-digest", friday_0700)
    saturday_1200 = datetime(2026, 11, 28, 12, 0, tzinfo=STOCKHOLM)
    run_all(app_ctx, saturday_1200, skip=["daily-digest"])
    assert stale_names(app_ctx, saturday_1200) == []
    monday_0830 = datetime(2026, 11, 30, 8, 30, tzinfo=STOCKHOLM)
    run_all(app_ctx, monday_0830, skip=["daily-digest"])
    assert stale_names(app_ctx, monday_0830) == ["daily-digest"]


def test_a_just_started_scheduler_is_not_stale_but_one_never_started_is(app_ctx):
    planned = list(triggers(app_ctx.config))
    assert stale_names(app_ctx, WEDNESDAY_0900) == planned  # no scheduler ever ran
    jobs.mark_scheduled(planned, WEDNESDAY_0900)
    assert stale_names(app_ctx, WEDNESDAY_0900 + timedelta(seconds=20)) == []
    assert stale_names(app_ctx, WEDNESDAY_0900 + timedelta(seconds=70)) == ["dispatch-outbox"]


def test_a_failing_job_records_its_error_and_turns_stale(app_ctx):
    def broken(now):
        raise RuntimeError("the SMTP password is wrong")

    jobs.JOBS["test-broken"] = (broken, True)
    try:
        with pytest.raises(RuntimeError):
            jobs.run("test-broken", WEDNESDAY_0900)
    finally:
        del jobs.JOBS["test-broken"]
    row = db.session.get(jobs.JobLease, "test-broken")
    assert row.last_outcome == "error"
    assert row.last_error == "RuntimeError: the SMTP password is wrong"
    assert row.last_run_at == WEDNESDAY_0900 and row.last_ok_at is None
    assert row.holder is None  # the lease is given back

    # a rules job that ran once and then failed on every later run
    jobs.run("evaluate-rules", WEDNESDAY_0900)
    db.session.execute(
        update(jobs.JobLease)
        .where(jobs.JobLease.name == "evaluate-rules")
        .values(
            last_outcome="error",
            last_error="OperationalError: no such table",
            last_run_at=WEDNESDAY_0900 + timedelta(minutes=45),
        )
    )
    health = {j.name: j for j in job_health(app_ctx.config, WEDNESDAY_0900 + timedelta(minutes=45))}
    assert health["evaluate-rules"].stale
    assert health["evaluate-rules"].last_error == "OperationalError: no such table"


def test_outbox_backlog_counts_pending_failed_and_the_oldest_wait(app_ctx):
    now = WEDNESDAY_0900
    assert outbox_backlog(now) == {"pending": 0, "failed": 0, "oldest_pending_age": None}
    for i, minutes in enumerate((90, 30, 10)):
        enqueue(Mail(f"k{i}", "test", "x@example.org", "s", "b"), now - timedelta(minutes=minutes))
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "k1")).one()
    failed.status = OutboxStatus.FAILED
    db.session.flush()
    assert outbox_backlog(now) == {
        "pending": 2,
        "failed": 1,
        "oldest_pending_age": timedelta(minutes=90),
    }


def test_admin_page_lists_every_job_with_schedule_last_run_outcome_and_next_run(client, region):
    now = utcnow().replace(microsecond=0)
    run_all(client.application, now - timedelta(seconds=10))
    db.session.execute(
        update(jobs.JobLease)
        .where(jobs.JobLease.name == "evaluate-rules")
        .values(last_outcome="error", last_error="OperationalError: database is locked")
    )
    enqueue(Mail("k", "test", "x@example.org", "s", "b"), now - timedelta(hours=3))
    db.session.commit()
    login(client, region.admin)
    page = client.get("/admin/scheduler").get_data(as_text=True)
    for name in triggers(client.application.config):
        assert f'id="job-{name}"' in page
    assert "med 30 sekunder mellanrum" in page  # every 30 seconds, in Swedish
    assert "OperationalError: database is locked" in page
    assert 'id="outbox-pending">1<' in page and 'id="outbox-failed">0<' in page
    assert "3 timmar" in page


def test_only_admins_open_the_health_page(client, region):
    login(client, region.coordinator)
    assert client.get("/admin/scheduler").status_code == 403


def banner(client, url="/households") -> bool:
    return "scheduler-banner" in client.get(url).get_data(as_text=True)


def test_banner_for_admins_and_coordinators_while_the_scheduler_is_stale(client, region):
    login(client, region.coordinator)
    page = client.get("/households").get_data(as_text=True)
    assert "Påminnelser skickas inte: schemaläggaren har aldrig körts." in page
    login(client, region.admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "scheduler-banner" in page and 'href="/admin/scheduler"' in page
    login(client, region.norsjo_guide)
    assert not banner(client)

    # the scheduler ran three minutes ago, then stopped: more than twice 30 s and 60 s
    run_all(client.application, utcnow() - timedelta(minutes=3))
    db.session.commit()
    login(client, region.coordinator)
    page = client.get("/households").get_data(as_text=True)
    assert "Påminnelser skickas inte sedan" in page
    assert "Skicka e-post" in page or "Sending e-mails" in page

    run_all(client.application, utcnow())
    db.session.commit()
    assert not banner(client)


def test_healthz_reports_a_stale_scheduler_and_strict_mode_fails(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json["scheduler"] == "stale"
    assert client.get("/healthz?strict=1").status_code == 503

    run_all(client.application, utcnow())
    db.session.commit()
    answer = client.get("/healthz?strict=1")
    assert answer.status_code == 200 and answer.json["scheduler"] == "ok"
