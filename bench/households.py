"""Household list, search and page at volume: 100 000 households, 1 000 000 contacts.

Seeds a fresh database (a temporary SQLite file, and a temporary schema in PostgreSQL) with
bulk inserts, then times the pages through the real app (Flask test client, logged in):
a filtered list, a free-text search and a household page, as a guide and as a coordinator.

    python bench/households.py              # full volume, SQLite and PostgreSQL
    python bench/households.py --quick      # 10 000 households, 100 000 contacts
    python bench/households.py --db sqlite

The last line printed is one JSON object with the figures (times in ms).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta

from common import analyze, bench_app
from sqlalchemy import event, insert, select, text

from config import TestingConfig
from lotsen import clock, create_app
from lotsen.accounts.models import Role, User
from lotsen.accounts.services import create_user
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.households.models import Household, Person, StageChange, household_municipality
from lotsen.households.search import phone_words, words

CODES = ["2506", "2505", "2425", "2481", "2418", "2417", "2422", "2421", "2462", "2463"]
STAGES = ["new", "contacted", "planning", "visit", "decided", "moved_in", "closed"]
SOURCES = ["fair", "website", "social_media", "friend", "employer", "event"]
FIRST = [
    "Daan",
    "Sanne",
    "Lotte",
    "Bram",
    "Eva",
    "Lukas",
    "Anna",
    "Felix",
    "Lena",
    "Johan",
    "Emma",
    "Oskar",
    "Linnea",
    "Jonas",
    "Miriam",
    "Tobias",
    "Katrin",
    "Ida",
    "Nils",
    "Frida",
]
LAST = [
    "de Vries",
    "Jansen",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Lindberg",
    "Berglund",
    "Öberg",
    "Sjöberg",
    "Holmgren",
    "Wikström",
]
SUMMARY = "Samtal om bostad, skola och jobb för partnern; skickade länkar om lediga hus."
CHUNK = 10_000


def bulk(table, rows):
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[i : i + CHUNK])


def seed(n_households: int, contacts_per: int) -> dict:
    rng = random.Random(42)
    now = clock.now()
    guides = {}
    for code in CODES:
        guides[code] = create_user(
            f"guide{code}@bench.example",
            f"Guide {code}",
            Role.GUIDE,
            "bench password 123",
            municipality_code=code,
        )
    create_user("coordinator@bench.example", "Coordinator", Role.COORDINATOR, "bench password 123")
    db.session.commit()

    households, persons, changes, interests = [], [], [], []
    for i in range(1, n_households + 1):
        code = rng.choice(CODES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last.replace(' ', '')}{i}@example.nl".lower()
        phone = f"+3162{i:07d}"
        created = now - timedelta(days=rng.randint(1, 1500), minutes=rng.randint(0, 1440))
        notes = "Vill ha gård med stall" if i % 50 == 0 else None
        search = words(f"Familjen {last} {email} {first} {last} {notes or ''}") + phone_words(phone)
        households.append(
            {
                "id": i,
                "name": f"Familjen {last}",
                "email": email,
                "phone": phone,
                "country": "NL",
                "language": "nl",
                "primary_municipality_code": code,
                "source": rng.choice(SOURCES),
                "stage": rng.choice(STAGES),
                "stage_changed_at": created,
                "guide_id": guides[code].id,
                "notes": notes,
                "search_text": " ".join(dict.fromkeys(search)),
                "legal_basis": "public_task",
                "created_at": created,
                "updated_at": created,
                "version": 1,
                "last_contact_at": created + timedelta(days=contacts_per * 3),
            }
        )
        interests.append({"household_id": i, "municipality_code": code})
        persons.append(
            {
                "household_id": i,
                "position": 0,
                "kind": "adult",
                "first_name": first,
                "last_name": last,
                "birth_year": 1985,
                "seeks_job": True,
            }
        )
        persons.append(
            {
                "household_id": i,
                "position": 1,
                "kind": "child",
                "first_name": "Noah",
                "last_name": last,
                "birth_year": 2018,
                "seeks_job": False,
            }
        )
        changes.append({"household_id": i, "from_stage": None, "to_stage": "new", "at": created})
    started = time.perf_counter()
    bulk(Household.__table__, households)
    bulk(Person.__table__, persons)
    bulk(household_municipality, interests)
    bulk(StageChange.__table__, changes)
    db.session.commit()
    contacts = []
    total_contacts = 0
    for h in households:
        for k in range(contacts_per):
            contacts.append(
                {
                    "household_id": h["id"],
                    "at": h["created_at"] + timedelta(days=3 * k + 1),
                    "channel": "phone",
                    "direction": "out",
                    "summary": SUMMARY,
                    "by_id": h["guide_id"],
                    "created_at": h["created_at"],
                }
            )
        if len(contacts) >= 50_000:
            bulk(Contact.__table__, contacts)
            db.session.commit()
            total_contacts += len(contacts)
            contacts = []
    bulk(Contact.__table__, contacts)
    total_contacts += len(contacts)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("household", "contact", "person", "stage_change"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    analyze()
    return {
        "households": n_households,
        "contacts": total_contacts,
        "seed_ms": (time.perf_counter() - started) * 1000,
    }


CPU: dict[str, float] = {}  # name -> median CPU ms of this process (see ``timed``)


def timed(client, url, runs, name=None):
    """Median wall-clock ms of ``runs`` requests. The median CPU time this process spent
    on them goes to ``CPU[name]``: on a shared machine the wall clock also counts waiting
    for a core, the CPU time does not (PostgreSQL's own work is not in it)."""
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    samples, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert response.status_code == 200, url
    if name:
        CPU[name] = statistics.median(cpu)
    return statistics.median(samples)


def login(client, user_id):
    with db.engine.connect() as conn:
        user = conn.execute(select(User.id, User.session_token).where(User.id == user_id)).one()
    now = clock.now().isoformat()
    with client.session_transaction() as sess:
        sess.update(
            {
                "_user_id": f"{user.id}:{user.session_token}",
                "_fresh": True,
                "login_at": now,
                "seen_at": now,
                "mfa": True,  # the second factor counts as given (as in tests/conftest.py)
            }
        )


def measure(app, runs) -> dict:
    rng = random.Random(7)
    with app.app_context():
        guide_id = db.session.scalar(select(User.id).where(User.email == "guide2418@bench.example"))
        coordinator_id = db.session.scalar(select(User.id).where(User.role == Role.COORDINATOR))
        mala_ids = db.session.scalars(
            select(Household.id).where(Household.primary_municipality_code == "2418").limit(2000)
        ).all()
        db.session.rollback()  # end the read before other connections begin
        guide, coordinator = app.test_client(), app.test_client()
        login(guide, guide_id)
        login(coordinator, coordinator_id)
        engine = db.engine
    # Requests run outside any app context, each in its own, as under a real server.
    queries = []
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(1))
    pages = {
        "list": (coordinator, "/households?stage=planning&municipality=2418"),
        "guide_list": (guide, "/households?stale_days=30&sort=last_contact"),  # the stale list
        "search": (coordinator, "/households?q=bakker"),
        "guide_search": (guide, "/households?q=sanne+visser"),
        "phone_search": (coordinator, "/households?q=%2B31+62+00012"),
    }
    CPU.clear()
    figures = {f"{name}_median_ms": timed(c, url, runs, name) for name, (c, url) in pages.items()}
    samples, cpu = [], []
    for household_id in rng.sample(mala_ids, min(runs, len(mala_ids))):
        t, c = time.perf_counter(), time.process_time()
        assert guide.get(f"/households/{household_id}").status_code == 200
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    figures["page_median_ms"] = statistics.median(samples)
    CPU["page"] = statistics.median(cpu)
    figures.update({f"{name}_cpu_ms": ms for name, ms in CPU.items()})
    figures["load_average"] = os.getloadavg()[0]
    queries.clear()
    guide.get(f"/households/{mala_ids[0]}")
    figures["page_queries"] = len(queries)
    queries.clear()
    guide.get("/households?stale_days=30")
    figures["list_queries"] = len(queries)
    return figures


def run(kind: str, n: int, per: int, runs: int, keep: bool = False) -> dict:
    with bench_app(kind, keep=keep) as (app, _url):
        with app.app_context():
            seeded = seed(n, per)
        print(
            f"{kind}: seeded {seeded['households']} households, {seeded['contacts']} contacts "
            f"in {seeded['seed_ms'] / 1000:.1f} s",
            file=sys.stderr,
        )
        figures = measure(app, runs)
    print(f"{kind}: {figures}", file=sys.stderr)
    return {"seed_ms": seeded["seed_ms"], **figures}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 000 households, 100 000 contacts")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--url", help="only measure an already seeded (kept) database")
    args = parser.parse_args()
    n, per = (10_000, 10) if args.quick else (100_000, 10)
    if args.url:
        app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": args.url}))
        print(json.dumps(measure(app, args.runs)))
        return
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result = {"households": n, "contacts": n * per}
    for kind in kinds:
        for key, value in run(kind, n, per, args.runs, args.keep).items():
            result[f"{kind}_{key}"] = round(value, 2) if isinstance(value, float) else value
    print(json.dumps(result))


if __name__ == "__main__":
    main()
