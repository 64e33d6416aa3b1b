"""One scheduler dispatch tick at volume: 200 000 follow-ups, of which 2 000 are due.

Seeds a throw-away SQLite file and PostgreSQL schema (bulk inserts), starts an SMTP sink
(aiosmtpd, a separate process on loopback), then times:
  tick      the due-reminders job: find the due follow-ups, queue 2 000 e-mails (outbox)
  send      the dispatch-outbox job: claim, send over SMTP and mark the 2 000 e-mails
Each is repeated (the queue emptied in between) and the median printed.

    python bench/dispatch.py            # 200 000 follow-ups, 2 000 due, both databases
    python bench/dispatch.py --quick    # 20 000 follow-ups, 200 due
    python bench/dispatch.py --db sqlite

The last line printed is one JSON object of figures.
"""

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta

from common import analyze, bench_app, free_port
from sqlalchemy import delete, insert, update

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.accounts.services import create_user
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.notify import due_reminders
from lotsen.households.models import Household, household_municipality
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import dispatch_outbox
from lotsen.workdays import STOCKHOLM

CODES = ["2506", "2505", "2425", "2481", "2418", "2417", "2422", "2421", "2462", "2463"]
CHUNK = 10_000


def smtp_sink(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP sink did not start")


def seed(n_followups: int, n_due: int, now: datetime) -> None:
    rng = random.Random(3)
    guides = [
        create_user(
            f"guide{c}@bench.example",
            f"Guide {c}",
            Role.GUIDE,
            "bench password 123",
            municipality_code=c,
        )
        for c in CODES
    ]
    db.session.commit()
    n_households = n_followups // 10
    households, interests = [], []
    for i in range(1, n_households + 1):
        g = guides[i % len(guides)]
        households.append(
            {
                "id": i,
                "name": f"Familjen {i}",
                "stage": "planning",
                "stage_changed_at": now,
                "guide_id": g.id,
                "search_text": "",
                "legal_basis": "public_task",
                "created_at": now,
                "updated_at": now,
                "version": 1,
                "primary_municipality_code": g.municipality_code,
            }
        )
        interests.append({"household_id": i, "municipality_code": g.municipality_code})
    for i in range(0, len(households), CHUNK):
        db.session.execute(insert(Household.__table__), households[i : i + CHUNK])
        db.session.execute(insert(household_municipality), interests[i : i + CHUNK])
    local = now.astimezone(STOCKHOLM)
    due_time = (local - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    rows = []
    for i in range(n_followups):
        h = households[i % n_households]
        if i < n_due:  # due now, with a time: a reminder to send
            due_on, at, status = local.date(), due_time, "open"
        elif i % 3 == 0:  # done ones of the past
            due_on, at, status = local.date() - timedelta(days=rng.randint(1, 700)), None, "done"
        else:  # open, later on
            due_on = local.date() + timedelta(days=rng.randint(1, 365))
            at, status = (due_time if i % 2 else None), "open"
        rows.append(
            {
                "household_id": h["id"],
                "assignee_id": h["guide_id"],
                "title": "Ring",
                "due_on": due_on,
                "due_time": at,
                "status": status,
                "created_at": now,
            }
        )
        if len(rows) == CHUNK:
            db.session.execute(insert(FollowUp.__table__), rows)
            rows = []
    if rows:
        db.session.execute(insert(FollowUp.__table__), rows)
    db.session.commit()
    analyze()


def reset() -> None:
    db.session.execute(delete(OutboxMessage))
    db.session.execute(update(FollowUp).values(reminded_for=None))
    db.session.commit()


def run(kind: str, n_followups: int, n_due: int, runs: int, smtp_port: int) -> dict:
    now = clock.now()
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port}
    with bench_app(kind, **settings) as (app, _url), app.app_context():
        started = time.perf_counter()
        seed(n_followups, n_due, now)
        seed_ms = (time.perf_counter() - started) * 1000
        ticks, sends, queued_counts = [], [], set()
        for _ in range(runs):
            reset()
            t = time.perf_counter()
            queued = due_reminders(now)
            db.session.commit()
            ticks.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            result = dispatch_outbox(now)
            sends.append((time.perf_counter() - t) * 1000)
            queued_counts.add((queued, result["sent"]))
        assert queued_counts == {(n_due, n_due)}, queued_counts
    figures = {
        "seed_ms": seed_ms,
        "tick_median_ms": statistics.median(ticks),
        "send_median_ms": statistics.median(sends),
        "send_per_s": n_due / (statistics.median(sends) / 1000),
    }
    print(f"{kind}: {figures}", file=sys.stderr)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 follow-ups, 200 due")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n, due = (20_000, 200) if args.quick else (200_000, 2_000)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    port = free_port()
    sink = smtp_sink(port)
    result = {"followups": n, "due": due}
    try:
        for kind in kinds:
            for key, value in run(kind, n, due, args.runs, port).items():
                result[f"{kind}_{key}"] = round(value, 2)
    finally:
        sink.terminate()
        sink.wait(10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
