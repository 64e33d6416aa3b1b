"""Dashboard, board and quarterly export at volume: 100 000 households with their stage
history, 1 000 000 contacts, 300 000 follow-ups.

Seeds like bench/households.py (whose bulk seeding it reuses), then gives every household a
stage history that ends at its current stage (some moved back and forth, one in ten is
interested in a second municipality) and three follow-ups, and times the pages through the
real app (Flask test client, logged in): the dashboard as the coordinator and as a guide,
the board, and the quarterly report's CSV and XLSX exports.

    python bench/pipeline.py              # full volume, SQLite and PostgreSQL
    python bench/pipeline.py --quick      # a tenth
    python bench/pipeline.py --db sqlite

    python bench/pipeline.py --db sqlite --keep            # keep the seeded database
    python bench/pipeline.py --db sqlite --reuse URL       # time it again, no seeding

Next to each page's median wall-clock time it reports the mean CPU time a request costs
(``_cpu_ms``: this process, which includes SQLite, plus the PostgreSQL backends serving it
when the server runs on this machine): on a shared machine the wall-clock figures grow with
the load average (also reported), the CPU figures far less. No figure is cached: every
request computes its figures from the tables.

The last line printed is one JSON object with the figures (times in ms).
"""

import argparse
import json
import os
import random
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from common import analyze, bench_app
from flask_migrate import upgrade
from households import CODES, bulk, seed, timed
from households import login as password_login
from sqlalchemy import event, func, select, text

from config import TestingConfig
from lotsen import clock, create_app
from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.households.milestones import rebuild_milestones
from lotsen.households.models import Household, StageChange, household_municipality

LADDER = ["new", "contacted", "planning", "visit", "decided", "moved_in"]
REASONS = ["other_place", "no_job", "no_housing", "personal", "no_response"]


def add_history(followups_per: int) -> dict:
    """Stage changes up to each household's current stage, second municipalities and
    follow-ups, in bulk."""
    rng = random.Random(11)
    now = clock.now()
    started = time.perf_counter()
    rows = db.session.execute(
        select(
            Household.id,
            Household.stage,
            Household.created_at,
            Household.guide_id,
            Household.primary_municipality_code,
        )
    ).all()
    changes, interests, followups = [], [], []
    n_changes = n_followups = 0
    for hid, stage, created, guide_id, code in rows:
        stage = str(stage.value if hasattr(stage, "value") else stage)
        span = max((now - created).total_seconds(), 3600)
        top = LADDER.index(stage) if stage in LADDER else rng.randint(0, 4)
        path = LADDER[1 : top + 1]
        if stage in LADDER and top >= 3 and rng.random() < 0.1:
            path = [*path, LADDER[top - 1], LADDER[top]]  # back and forth
        if stage == "closed":
            path = [*path, "closed"]
        moments = sorted(rng.uniform(0.05, 0.95) * span for _ in path)
        previous = "new"
        for step, offset in zip(path, moments, strict=True):
            changes.append(
                {
                    "household_id": hid,
                    "from_stage": previous,
                    "to_stage": step,
                    "close_reason": rng.choice(REASONS) if step == "closed" else None,
                    "at": created + timedelta(seconds=offset),
                    "by_id": guide_id,
                }
            )
            previous = step
        if rng.random() < 0.1:
            other = rng.choice([c for c in CODES if c != code])
            interests.append({"household_id": hid, "municipality_code": other})
        for k in range(followups_per):
            due = (now + timedelta(days=rng.randint(-60, 60))).date()
            followups.append(
                {
                    "household_id": hid,
                    "assignee_id": guide_id,
                    "title": "Ring om bostad",
                    "due_on": due,
                    "status": "open" if k == 0 or rng.random() < 0.3 else "done",
                    "created_at": created,
                }
            )
        if len(changes) >= 50_000 or len(followups) >= 50_000:
            bulk(StageChange.__table__, changes)
            bulk(FollowUp.__table__, followups)
            n_changes += len(changes)
            n_followups += len(followups)
            changes, followups = [], []
            db.session.commit()
    bulk(StageChange.__table__, changes)
    bulk(FollowUp.__table__, followups)
    bulk(household_municipality, interests)
    n_changes += len(changes)
    n_followups += len(followups)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("stage_change", "follow_up"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    rebuild_milestones()  # the bulk inserts bypassed change_stage, which keeps them
    db.session.commit()
    analyze()
    return {
        "stage_changes": n_changes + len(rows),
        "follow_ups": n_followups,
        "history_ms": (time.perf_counter() - started) * 1000,
    }


def login(client, user_id):
    """Logged in with the second factor done (coordinators must use one)."""
    password_login(client, user_id)
    with client.session_transaction() as sess:
        sess["mfa"] = True


class CPU:
    """CPU seconds spent on requests: this process's (the app, and SQLite in it) and, on a
    PostgreSQL server on this machine, its backends' serving our connections (read from
    /proc). On a shared machine the wall-clock medians grow with the other processes' load;
    the CPU a page costs barely does, so it is reported next to them."""

    def __init__(self, engine):
        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._connected)
            event.listen(engine, "checkout", self._checked_out)
            engine.dispose()  # reconnect, so that every connection's backend is known

    def _connected(self, dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        record.info["backend"] = cursor.fetchone()[0]
        cursor.close()

    def _checked_out(self, dbapi_connection, record, proxy):
        self.pids.add(record.info["backend"])

    def now(self) -> float | None:
        total = time.process_time()
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                return None  # the server is elsewhere
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def timed_cpu(client, url, runs, cpu: CPU) -> tuple[float, float | None]:
    """The median wall-clock milliseconds of ``runs`` requests and their mean CPU ms."""
    client.get(url)
    before = cpu.now()
    median = timed(client, url, runs)  # 3 warm-up requests and ``runs`` timed ones
    after = cpu.now()
    mean_cpu = None if before is None or after is None else (after - before) * 1000 / (runs + 3)
    return median, mean_cpu


def measure(app, runs) -> dict:
    with app.app_context():
        guide_id = db.session.scalar(select(User.id).where(User.email == "guide2418@bench.example"))
        coordinator_id = db.session.scalar(select(User.id).where(User.role == Role.COORDINATOR))
        db.session.rollback()
        guide, coordinator = app.test_client(), app.test_client()
        login(guide, guide_id)
        login(coordinator, coordinator_id)
        engine = db.engine
    queries = []
    cpu = CPU(engine)
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(1))
    year = clock.now().year
    pages = {
        "dashboard": (coordinator, "/pipeline"),
        "dashboard_past_year": (
            coordinator,
            f"/pipeline?since={year - 1}-01-01&until={year - 1}-12-31",
        ),
        "guide_dashboard": (guide, "/pipeline"),
        "board": (guide, "/pipeline/board"),
        "report_csv": (coordinator, f"/pipeline/report/export?year={year}&quarter=2&format=csv"),
        "report_xlsx": (
            coordinator,
            f"/pipeline/report/export?year={year}&quarter=2&format=xlsx",
        ),
    }
    figures = {}
    for name, (client, url) in pages.items():
        median, mean_cpu = timed_cpu(client, url, runs, cpu)
        figures[f"{name}_median_ms"] = median
        if mean_cpu is not None:
            figures[f"{name}_cpu_ms"] = mean_cpu
    queries.clear()
    coordinator.get("/pipeline")
    figures["dashboard_queries"] = len(queries)
    figures["load_average"] = os.getloadavg()[0]
    return figures


@contextmanager
def reused_app(url: str):
    """An app on a database kept by an earlier ``--keep`` run, brought up to the current
    migrations; the summary rows are rebuilt from the history (as after a bulk load)."""
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        upgrade()
        rebuild_milestones()
        db.session.commit()
        analyze()
    try:
        yield app, url
    finally:
        with app.app_context():
            db.engine.dispose()


def run(kind: str, n: int, per: int, followups_per: int, runs: int, keep, reuse) -> dict:
    if reuse:
        with reused_app(reuse) as (app, _url):
            with app.app_context():
                changes = db.session.scalar(select(func.count()).select_from(StageChange))
            figures = measure(app, runs)
        print(f"{kind}: {figures}", file=sys.stderr)
        return {"stage_changes": changes, **figures}
    with bench_app(kind, keep=keep) as (app, _url):
        with app.app_context():
            seeded = seed(n, per)
            history = add_history(followups_per)
        print(
            f"{kind}: seeded {seeded['households']} households, {seeded['contacts']} contacts, "
            f"{history['stage_changes']} stage changes, {history['follow_ups']} follow-ups in "
            f"{(seeded['seed_ms'] + history['history_ms']) / 1000:.1f} s",
            file=sys.stderr,
        )
        figures = measure(app, runs)
    print(f"{kind}: {figures}", file=sys.stderr)
    return {"stage_changes": history["stage_changes"], **figures}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the volume")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--contacts-per",
        type=int,
        default=10,
        help="contacts per household (the figures do not read them; seeding them is slow)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the seeded database (its URL is printed)"
    )
    parser.add_argument(
        "--reuse", metavar="URL", help="time a database kept by --keep instead of seeding"
    )
    args = parser.parse_args()
    if args.reuse and args.db == "both":
        parser.error("--reuse needs --db sqlite or --db postgresql")
    n = 10_000 if args.quick else 100_000
    per, followups_per = args.contacts_per, 3
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result = {"households": n, "contacts": n * per, "follow_ups": n * followups_per}
    for kind in kinds:
        figures = run(kind, n, per, followups_per, args.runs, args.keep, args.reuse)
        for key, value in figures.items():
            result[f"{kind}_{key}"] = round(value, 2) if isinstance(value, float) else value
    print(json.dumps(result))


if __name__ == "__main__":
    main()
