"""Two scheduler processes over the same due follow-ups on PostgreSQL, one killed mid-run:
every reminder reaches the (real, loopback) SMTP server exactly once."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psutil
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from lotsen import ROOT, create_app
from lotsen.clock import now as utcnow
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.notifications.models import OutboxMessage
from lotsen.workdays import STOCKHOLM
from tests import factories
from tests.conftest import _postgres_schema_url, make_config
from tests.smtp import SmtpServer

N = 40
CLAIM_SECONDS = 4


@pytest.fixture
def pg_database():
    admin, schema, url = _postgres_schema_url()
    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
    yield app, url
    with app.app_context():
        db.engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def scheduler_process(url: str, smtp_port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "LOTSEN_ENV": "development",
        "DATABASE_URL": url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "SCHEDULER_OUTBOX_SECONDS": "1",
        "SCHEDULER_REMINDER_SECONDS": "1",
        "SCHEDULER_RULES_MINUTES": "600",
        "OUTBOX_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "OUTBOX_BATCH": "5",  # small claims, so that both processes get work
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "lotsen", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ports_of(process: subprocess.Popen) -> set[int]:
    try:
        return {c.laddr.port for c in psutil.Process(process.pid).net_connections(kind="tcp")}
    except psutil.NoSuchProcess:
        return set()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_two_schedulers_one_killed_every_reminder_sent_once(pg_database):
    app, url = pg_database
    with app.app_context():
        guide = factories.user(municipality=factories.NORSJO, notify_digest=False)
        due = (utcnow() - timedelta(minutes=5)).astimezone(STOCKHOLM)
        for _ in range(N):
            h = factories.household(guide=guide)
            create_followup(
                h, due_on=due.date(), due_time=due.time().replace(second=0, microsecond=0), by=guide
            )
        db.session.commit()

    # Every RCPT waits 0.1 s: a sender is caught mid-conversation, before the message is in.
    smtp = SmtpServer(rcpt_delay=0.1).start()
    survivor = victim = None
    try:
        victim = scheduler_process(url, smtp.port)
        survivor = scheduler_process(url, smtp.port)

        def victim_stalled_three_times():
            mine = ports_of(victim)
            return sum(1 for _host, port in smtp.mailbox.stalled_peers if port in mine) >= 3

        wait_for(victim_stalled_three_times, 60, "the victim to be sending")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        with app.app_context():
            orphaned = db.session.scalar(
                select(func.count()).where(
                    OutboxMessage.status == "claimed",
                    OutboxMessage.claimed_by.endswith(f":{victim.pid}"),
                )
            )
        assert orphaned >= 1  # the kill left claimed, unsent messages behind

        wait_for(lambda: len(smtp.mailbox.keys()) >= N, 60, "every reminder to arrive")
        # past the killed sender's claims, and a few more ticks: nothing may come twice
        time.sleep(max(0, CLAIM_SECONDS + 2 - (time.monotonic() - killed_at)))
        keys = smtp.mailbox.keys()
        assert len(keys) == N
        assert len(set(keys)) == N
    finally:
        for p in (victim, survivor):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(10)
        smtp.stop()
    with app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert statuses == ["sent"] * N
