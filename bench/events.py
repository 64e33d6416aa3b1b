"""Event outcomes at volume: 100 000 households with their stage history, 1 000 events,
sign-ups and lead captures.

Seeds like bench/pipeline.py (households, stage history and milestone rows in bulk), then
1 000 events over three years (fairs, webinars, visit trips ...; half with a cost), one to
three sign-ups for six households in ten (attended, no-show, cancelled, waiting list,
registered), a lead capture for one in five, and each signed-up household's first event.
Times through the real app (Flask test client, logged in as the coordinator, and as a
guide): the outcomes page of the event with the most sign-ups and of a typical one, and
the overview of this year's events.

    python bench/events.py                    # full volume, SQLite
    python bench/events.py --db postgresql    # or --db both
    python bench/events.py --quick            # a tenth

The last line printed is one JSON object with the figures (times in ms).
"""

import argparse
import json
import random
import sys
import time
from datetime import timedelta

from common import analyze, bench_app
from households import CODES, bulk, login, seed, timed
from pipeline import add_history
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text, update

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.events.models import Event, EventSignup, LeadCapture, event_municipality
from lotsen.extensions import db
from lotsen.households.models import Household

KINDS = ["fair", "webinar", "visit_trip", "open_house", "other"]
STATUSES = (
    ["attended"] * 10 + ["no_show"] * 3 + ["cancelled"] * 2 + ["waitlisted"] * 2 + ["registered"]
)


def add_events(n_events: int, share: float) -> dict:
    """Events, sign-ups, lead captures and first events, in bulk."""
    rng = random.Random(12)
    now = clock.now()
    started = time.perf_counter()
    events, municipalities = [], []
    for i in range(1, n_events + 1):
        starts = now - timedelta(days=rng.randint(-60, 1100), hours=rng.randint(0, 12))
        events.append(
            {
                "id": i,
                "slug": f"event-{i}",
                "name": f"Event {i}",
                "kind": rng.choice(KINDS),
                "status": "held" if starts < now else "open",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=8),
                "descriptions": {},
                "cost_sek": rng.choice([None, rng.randint(5, 200) * 1000]),
                "created_at": starts - timedelta(days=60),
                "updated_at": starts - timedelta(days=60),
            }
        )
        for code in rng.sample(CODES, rng.randint(1, 3)):
            municipalities.append({"event_id": i, "municipality_code": code})
    bulk(Event.__table__, events)
    bulk(event_municipality, municipalities)
    db.session.commit()
    households = db.session.scalars(select(Household.id)).all()
    signups, captures, firsts = [], [], []
    n_signups = n_captures = 0
    for hid in households:
        if rng.random() < share:
            chosen = sorted(rng.sample(events, rng.randint(1, 3)), key=lambda e: e["starts_at"])
            for e in chosen:
                at = min(e["starts_at"], now) - timedelta(days=rng.randint(1, 30))
                status = "registered" if e["starts_at"] > now else rng.choice(STATUSES)
                signups.append(
                    {
                        "event_id": e["id"],
                        "household_id": hid,
                        "status": status,
                        "channel": rng.choice(["staff", "public", "capture"]),
                        "people": rng.randint(1, 4),
                        "created_at": at,
                        "status_changed_at": at,
                    }
                )
            firsts.append({"id": hid, "first_event_id": chosen[0]["id"]})
            if rng.random() < 0.33:
                fair = chosen[0]
                captures.append(
                    {
                        "client_key": f"bench-{hid}",
                        "event_id": fair["id"],
                        "household_id": hid,
                        "captured_at": fair["starts_at"],
                        "received_at": fair["starts_at"],
                    }
                )
        if len(signups) >= 50_000:
            bulk(EventSignup.__table__, signups)
            n_signups += len(signups)
            signups = []
            db.session.commit()
    bulk(EventSignup.__table__, signups)
    bulk(LeadCapture.__table__, captures)
    n_signups += len(signups)
    n_captures += len(captures)
    for i in range(0, len(firsts), 10_000):  # ORM bulk update by primary key
        db.session.execute(update(Household), firsts[i : i + 10_000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("event", "event_signup", "lead_capture"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    analyze()
    return {
        "events": n_events,
        "signups": n_signups,
        "captures": n_captures,
        "events_ms": (time.perf_counter() - started) * 1000,
    }


def measure(app, runs) -> dict:
    with app.app_context():
        guide_id = db.session.scalar(select(User.id).where(User.email == "guide2418@bench.example"))
        coordinator_id = db.session.scalar(select(User.id).where(User.role == Role.COORDINATOR))
        per_event = (
            select(EventSignup.event_id, func.count().label("n"))
            .group_by(EventSignup.event_id)
            .order_by(func.count().desc(), EventSignup.event_id)
        )
        rows = db.session.execute(per_event).all()
        largest, typical = rows[0], rows[len(rows) // 2]
        db.session.rollback()
        guide, coordinator = app.test_client(), app.test_client()
        for client, user_id in ((guide, guide_id), (coordinator, coordinator_id)):
            login(client, user_id)
            with client.session_transaction() as sess:
                sess["mfa"] = True  # the second factor counts as given
        engine = db.engine
    queries = []
    sa_event.listen(engine, "before_cursor_execute", lambda *a: queries.append(1))
    page = "/outreach/events/{}/outcomes"
    figures = {
        "largest_event_signups": largest.n,
        "typical_event_signups": typical.n,
        "event_outcomes_median_ms": timed(coordinator, page.format(largest.event_id), runs),
        "typical_event_outcomes_median_ms": timed(coordinator, page.format(typical.event_id), runs),
        "guide_event_outcomes_median_ms": timed(guide, page.format(largest.event_id), runs),
        "overview_median_ms": timed(coordinator, "/outreach/events/outcomes", runs),
        "guide_overview_median_ms": timed(guide, "/outreach/events/outcomes", runs),
    }
    queries.clear()
    coordinator.get(page.format(largest.event_id))
    figures["event_outcomes_queries"] = len(queries)
    queries.clear()
    coordinator.get("/outreach/events/outcomes")
    figures["overview_queries"] = len(queries)
    return figures


def run(kind: str, n: int, n_events: int, share: float, runs: int) -> dict:
    with bench_app(kind) as (app, _url):
        with app.app_context():
            seeded = seed(n, 0)
            history = add_history(0)
            events = add_events(n_events, share)
        print(
            f"{kind}: seeded {seeded['households']} households, {history['stage_changes']} "
            f"stage changes, {events['events']} events, {events['signups']} sign-ups, "
            f"{events['captures']} lead captures in "
            f"{(seeded['seed_ms'] + history['history_ms'] + events['events_ms']) / 1000:.1f} s",
            file=sys.stderr,
        )
        figures = measure(app, runs)
    print(f"{kind}: {figures}", file=sys.stderr)
    return {"signups": events["signups"], "captures": events["captures"], **figures}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the volume")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--share", type=float, default=0.6, help="households with sign-ups")
    args = parser.parse_args()
    n, n_events = (10_000, 100) if args.quick else (100_000, 1_000)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result = {"households": n, "events": n_events}
    for kind in kinds:
        for key, value in run(kind, n, n_events, args.share, args.runs).items():
            name = key if len(kinds) == 1 else f"{kind}_{key}"
            result[name] = round(value, 2) if isinstance(value, float) else value
    result["db"] = args.db
    print(json.dumps(result))


if __name__ == "__main__":
    main()
