"""Audiences at volume: 100 000 households, four in ten with an active newsletter consent
(one in ten of those withdrawn later), 1 000 events with attendance, ten audiences.

Seeds like bench/households.py (whose bulk seeding it reuses), then times through the real
app (Flask test client, logged in as a communicator): the audience list (a live count per
audience), one audience's page, and the CSV export of the largest audience.

    python bench/audiences.py              # full volume, SQLite and PostgreSQL
    python bench/audiences.py --quick      # a tenth
    python bench/audiences.py --db sqlite

The last line printed is one JSON object with the figures (times in ms).
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import timedelta

from common import analyze, bench_app
from households import bulk, login, seed
from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.accounts.services import create_user
from lotsen.events.models import Audience, Event, EventSignup
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.privacy.models import Consent

AUDIENCES = [
    ("Alla", {}),
    ("Nederländska", {"languages": ["nl"]}),
    ("Malå och Norsjö", {"municipalities": ["2418", "2417"]}),
    ("Nära beslut", {"stages": ["visit", "decided"]}),
    ("Nederländerna, planerar", {"countries": ["NL"], "stages": ["planning"]}),
    ("Tio mässor", {"events": list(range(1, 11))}),
    ("Lycksele, nya", {"municipalities": ["2481"], "stages": ["new"]}),
    ("Tyska", {"languages": ["de"]}),
    ("Sorsele", {"municipalities": ["2422"]}),
    ("Mässbesökare i Malå", {"events": list(range(1, 101)), "municipalities": ["2418"]}),
]


def add_outreach(n_events: int) -> dict:
    rng = random.Random(5)
    now = clock.now()
    started = time.perf_counter()
    ids = db.session.scalars(select(Household.id)).all()
    consents, events, signups = [], [], []
    for hid in ids:
        if rng.random() < 0.4:
            given = now - timedelta(days=rng.randint(1, 900))
            withdrawn = given + timedelta(days=30) if rng.random() < 0.1 else None
            consents.append(
                {
                    "household_id": hid,
                    "purpose": "newsletter",
                    "text_version": "2026-01",
                    "given_at": given,
                    "given_how": "interest_form",
                    "withdrawn_at": withdrawn,
                    "withdrawn_how": "unsubscribe" if withdrawn else None,
                    "created_at": given,
                }
            )
    for i in range(1, n_events + 1):
        start = now - timedelta(days=rng.randint(1, 1000))
        events.append(
            {
                "id": i,
                "slug": f"event-{i}",
                "name": f"Mässa {i}",
                "kind": "fair",
                "status": "held",
                "starts_at": start,
                "ends_at": start + timedelta(hours=8),
                "descriptions": {},
                "created_at": start,
                "updated_at": start,
            }
        )
    for hid in rng.sample(ids, len(ids) // 5):
        signups.append(
            {
                "event_id": rng.randint(1, n_events),
                "household_id": hid,
                "status": rng.choice(["attended", "attended", "no_show", "registered"]),
                "channel": "capture",
                "people": 1,
                "created_at": now,
                "status_changed_at": now,
            }
        )
    bulk(Consent.__table__, consents)
    bulk(Event.__table__, events)
    bulk(EventSignup.__table__, signups)
    for name, filters in AUDIENCES:
        db.session.add(Audience(name=name, filters=filters))
    user = create_user("communicator@bench.example", "K", Role.COMMUNICATOR, "bench password 123")
    db.session.commit()
    analyze()
    return {
        "consents": len(consents),
        "events": n_events,
        "signups": len(signups),
        "outreach_seed_ms": (time.perf_counter() - started) * 1000,
        "user_id": user.id,
    }


def timed(client, url, runs) -> float:
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        assert client.get(url).status_code == 200, url
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def run(kind: str, n: int, runs: int) -> dict:
    with bench_app(kind) as (app, _url):
        with app.app_context():
            seeded = seed(n, 0)
            outreach = add_outreach(1000)
            largest = db.session.scalar(select(Audience.id).where(Audience.name == "Alla"))
            mala = db.session.scalar(select(Audience.id).where(Audience.name.like("Mäss%Malå")))
            members = db.session.scalar(
                select(func.count()).select_from(Consent).where(Consent.withdrawn_at.is_(None))
            )
            db.session.rollback()
            client = app.test_client()
            login(client, outreach.pop("user_id"))
            with client.session_transaction() as sess:
                sess["mfa"] = True  # the second factor counts as given
        figures = {
            "list_10_audiences_median_ms": timed(client, "/outreach/audiences", runs),
            "audience_page_median_ms": timed(client, f"/outreach/audiences/{mala}", runs),
            "export_all_median_ms": timed(
                client, f"/outreach/audiences/{largest}/export.csv", max(runs // 5, 3)
            ),
            "export_rows": members,
        }
    print(f"{kind}: {seeded | outreach} {figures}", file=sys.stderr)
    return {f"{kind}_{k}": v for k, v in figures.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 000 households")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result = {"households": n, "events": 1000, "audiences": len(AUDIENCES)}
    for kind in kinds:
        result |= run(kind, n, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
