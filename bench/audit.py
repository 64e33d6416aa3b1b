"""What the audit log costs a household page view.

Seeds households (the households bench's seed) and a large audit log, then times the same
household page views as a guide with auditing on (the view's entry: its INSERT and commit,
and the "Who has accessed" panel that reads the household's recent entries) and off (the
bench — only the bench — swaps the view's ``record_view`` for a no-op, so the request ends
as a page view without auditing would: its read transaction rolled back; and takes the
panel away). Requests alternate between on and off, in pairs whose order alternates, so
that both see the same data, caches and noise.

    python bench/audit.py                 # SQLite and PostgreSQL
    python bench/audit.py --quick         # fewer households, entries and views
    python bench/audit.py --db sqlite --households 5000 --entries 500000

The last line printed is one JSON object with the figures (times in ms); the target is
``added_median_ms`` (the median of the pairwise differences) under 2 for both databases.
``added_ci95_ms`` is that median's 95 % confidence interval (order statistics of the
pairs), ``added_difference_of_medians_ms`` the plain difference of the two medians.
``added_cpu_median_ms`` is the same for the time spent on a CPU by this process (its CPU
clock) and the PostgreSQL server processes serving it (``/proc/<pid>/schedstat``): on a
machine that other work keeps busy, wall-clock times grow by the time spent waiting for a
CPU — several times the work itself — while CPU time stays close to what an idle machine
shows.
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import timedelta

from common import analyze, bench_app
from households import login, seed
from sqlalchemy import event, insert, select

import lotsen.households.routes as household_routes
from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.audit.models import AuditEntry
from lotsen.db import READ_ONLY
from lotsen.extensions import db
from lotsen.households import pages
from lotsen.households.models import Household

ACTIONS = ["household.view"] * 8 + ["household.update", "contact.create"]


def seed_audit(n_entries: int, household_ids: list[int], user_ids: list[int]) -> None:
    rng = random.Random(11)
    start = clock.now() - timedelta(days=365)
    batch = []
    for i in range(n_entries):
        batch.append(
            {
                "at": start + timedelta(seconds=i * 30),
                "user_id": rng.choice(user_ids),
                "action": rng.choice(ACTIONS),
                "household_id": rng.choice(household_ids),
                "ip": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            }
        )
        if len(batch) == 10_000:
            db.session.execute(insert(AuditEntry), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(AuditEntry), batch)
    db.session.commit()


def switch(on: bool, saved={}) -> None:  # noqa: B006  (keeps the real pieces between calls)
    """Auditing of the page view on or off (for this bench only)."""
    if not saved:
        saved["record_view"] = household_routes.record_view
        saved["panel"] = pages._PANELS["audit"]
    household_routes.record_view = saved["record_view"] if on else (lambda *a, **k: None)
    if on:
        pages._PANELS["audit"] = saved["panel"]
    else:
        pages._PANELS.pop("audit", None)


def measure(app, runs: int) -> dict:
    with app.app_context():
        guide_id = db.session.scalar(select(User.id).where(User.email == "guide2418@bench.example"))
        ids = db.session.scalars(
            select(Household.id).where(Household.primary_municipality_code == "2418").limit(2000)
        ).all()
        db.session.rollback()
        guide = app.test_client()
        login(guide, guide_id)
    processes = database_processes(app)
    rng = random.Random(7)
    for household_id in ids[:5]:  # warm up both paths
        for on in (True, False):
            switch(on)
            assert guide.get(f"/households/{household_id}").status_code == 200
    samples: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for i in range(runs):
        household_id = rng.choice(ids)
        for on in (True, False) if i % 2 else (False, True):
            switch(on)
            before = cpu_ns(processes)
            t = time.perf_counter()
            response = guide.get(f"/households/{household_id}")
            samples[on].append((time.perf_counter() - t) * 1000)
            after = cpu_ns(processes)
            cpu[on].append(sum(after[p] - before[p] for p in before if p in after) / 1e6)
            assert response.status_code == 200
    switch(True)
    with_audit, without = statistics.median(samples[True]), statistics.median(samples[False])
    return {
        "page_with_audit_median_ms": round(with_audit, 3),
        "page_without_audit_median_ms": round(without, 3),
        **paired("added", samples, runs),
        "added_difference_of_medians_ms": round(with_audit - without, 3),
        "page_cpu_with_audit_median_ms": round(statistics.median(cpu[True]), 3),
        "page_cpu_without_audit_median_ms": round(statistics.median(cpu[False]), 3),
        **paired("added_cpu", cpu, runs),
        "runs": runs,
        **measure_parts(app, ids, guide_id, runs),
    }


def paired(name: str, samples: dict[bool, list[float]], runs: int) -> dict:
    """The median of the pairwise differences (with − without) and its 95 % interval.

    Each pair ran back to back: the median of the differences cancels much of the
    machine's load, which moves both medians by more than the cost being measured."""
    pairs = sorted(a - b for a, b in zip(samples[True], samples[False], strict=True))
    k = max(0, int((runs - 1.96 * runs**0.5) / 2))  # order statistics (sign test)
    return {
        f"{name}_median_ms": round(statistics.median(pairs), 3),
        f"{name}_ci95_ms": [round(pairs[k], 3), round(pairs[-1 - k], 3)],
    }


def database_processes(app) -> list[str]:
    """This process and, on PostgreSQL, the server processes of the app's connections
    (opened afresh, so that each one's process is known)."""
    processes = ["self"]
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.engine.dispose()

            @event.listens_for(db.engine, "connect")
            def _backend(dbapi_connection, _record):
                processes.append(str(dbapi_connection.info.backend_pid))

    return processes


def cpu_ns(processes: list[str]) -> dict[str, int]:
    """Time each process has spent on a CPU so far, in ns (this one's own clock; the
    server processes', which wait for the next statement, from /proc/<pid>/schedstat).
    Waiting for a CPU on a loaded machine does not count, so these figures show the
    cost of the work itself where wall-clock times also show the other helpers' load."""
    found = {"self": time.process_time_ns()}  # precise; schedstat lags for a running task
    for process in processes[1:]:
        try:
            with open(f"/proc/{process}/schedstat") as f:
                found[process] = int(f.read().split()[0])
        except OSError:  # a connection closed (its process ended)
            pass
    return found


def measure_parts(app, ids, user_id, runs) -> dict:
    """The pieces timed alone, as in a page view (a GET: read transactions): the entry
    (``record_view``: INSERT and commit), a read-only transaction's end (what a view
    without auditing pays instead), the panel's query and the panel's rendering."""
    from flask_login import login_user

    from lotsen.audit import record_view
    from lotsen.audit.panels import _accessed

    rng = random.Random(3)
    insert_ms, end_ms, panel_ms, render_ms = [], [], [], []
    with app.test_request_context("/"):
        token = READ_ONLY.set(True)
        user = db.session.get(User, user_id)
        login_user(user)
        template = app.jinja_env.get_template("audit/_panel.html")
        for _ in range(runs):
            household = db.session.get(Household, rng.choice(ids))
            t = time.perf_counter()
            db.session.rollback()  # a view without auditing: its read transaction ends
            end_ms.append((time.perf_counter() - t) * 1000)
            household = db.session.get(Household, household.id)
            t = time.perf_counter()
            record_view("household.view", by=user, household_id=household.id)
            insert_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            context = _accessed(household)
            panel_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            template.render(household=household, **context)
            render_ms.append((time.perf_counter() - t) * 1000)
            db.session.rollback()
        READ_ONLY.reset(token)
    return {
        "entry_insert_commit_median_ms": round(statistics.median(insert_ms), 3),
        "read_only_end_median_ms": round(statistics.median(end_ms), 3),
        "panel_query_median_ms": round(statistics.median(panel_ms), 3),
        "panel_render_median_ms": round(statistics.median(render_ms), 3),
    }


def run(kind: str, n_households: int, n_entries: int, runs: int) -> dict:
    with bench_app(kind) as (app, _url):
        with app.app_context():
            seed(n_households, 3)
            household_ids = db.session.scalars(select(Household.id)).all()
            user_ids = db.session.scalars(select(User.id).where(User.role == Role.GUIDE)).all()
            started = time.perf_counter()
            seed_audit(n_entries, household_ids, user_ids)
            analyze()
            print(
                f"{kind}: {n_households} households, {n_entries} audit entries "
                f"({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
            )
        figures = measure(app, runs)
    print(f"{kind}: {figures}", file=sys.stderr)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="1 000 households, 40 000 entries")
    args = parser.parse_args()
    if args.quick:
        args.households, args.entries, args.runs = 1_000, 40_000, 150
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result = {"households": args.households, "audit_entries": args.entries}
    for kind in kinds:
        result[kind] = run(kind, args.households, args.entries, args.runs)
    result["target_met"] = all(result[k]["added_median_ms"] < 2 for k in kinds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
