"""Matching and job import at volume: 5 000 listings, 20 000 jobs, a 20 000-ad JobSearch file.

Seeds a fresh database (a temporary SQLite file and/or a temporary PostgreSQL schema), then
times what the household page's "Homes and jobs" panel computes for one household (its
matches, ranked listings, and ranked jobs for each of its two job-seeking adults), and the
import of a JobSearch answer with 20 000 ads (a fifth of them outside the region) — first
into an empty table, then again (everything unchanged).

    python bench/matching.py                 # full volume, SQLite and PostgreSQL
    python bench/matching.py --quick         # a tenth of it, SQLite only
    python bench/matching.py --db postgresql

The last line printed is one JSON object with the figures (``_ms``: milliseconds of wall
time; ``_cpu_ms``: CPU time of this process, which on SQLite includes the database's work
— on a machine whose cores are shared with other work, that is what an idle one would show).
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import analyze, bench_app
from flask import current_app
from sqlalchemy import insert, select

from lotsen import clock
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.services import HouseholdData, create_household
from lotsen.matching.jobtech import import_file
from lotsen.matching.models import JobOpening, Listing
from lotsen.matching.panel import household_panel
from lotsen.matching.services import job_search_text
from lotsen.regions.models import Municipality

CODES = ["2506", "2505", "2425", "2481", "2418", "2417", "2422", "2421", "2462", "2463"]
OCCUPATIONS = [
    ("2221", "Sjuksköterska"),
    ("2222", "Barnmorska"),
    ("2341", "Grundskollärare"),
    ("2342", "Förskollärare"),
    ("5321", "Undersköterska"),
    ("7115", "Snickare"),
    ("7411", "Elektriker"),
    ("8331", "Buss- och spårvagnsförare"),
    ("2512", "Mjukvaruutvecklare"),
    ("5120", "Kock"),
    ("9111", "Städare"),
    ("3313", "Redovisningsekonom"),
    ("2611", "Advokat"),
    ("7233", "Fordonsmekaniker"),
    ("5131", "Servitör"),
    ("2211", "Läkare"),
] + [(f"{4000 + i}", f"Yrke{i}") for i in range(60)]
TODAY = date(2026, 12, 1)


def seed(n_listings: int, n_jobs: int, rng: random.Random) -> int:
    now = clock.now()
    rows = []
    for i in range(n_listings):
        buy = rng.random() < 0.4
        rows.append(
            {
                "municipality_code": rng.choice(CODES),
                "title": f"Bostad {i}",
                "area": "Centrum",
                "tenure": "buy" if buy else rng.choice(["rent", "rent", "sublet"]),
                "type": rng.choice(["apartment", "house", "farm", "room"]),
                "rooms": rng.randint(1, 7),
                "living_area": rng.randint(20, 200),
                "rent": None if buy else rng.randint(3000, 14000),
                "price": rng.randint(200_000, 3_000_000) if buy else None,
                "available_from": TODAY + timedelta(days=rng.randint(-30, 300)),
                "status": rng.choice(["available"] * 8 + ["reserved", "taken"]),
                "external_id": f"L{i}",
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(insert(Listing), rows)
    rows = []
    for _ in range(n_jobs):
        code, word = rng.choice(OCCUPATIONS)
        title = f"{word} till {rng.choice(['kommunen', 'regionen', 'företaget'])}"
        rows.append(
            {
                "municipality_code": rng.choice(CODES),
                "title": title,
                "employer": "Arbetsgivare AB",
                "occupation": word,
                "ssyk_code": code if rng.random() < 0.8 else None,
                "last_application_date": TODAY + timedelta(days=rng.randint(-20, 90)),
                "source": "manual",
                "status": "open",
                "search_text": job_search_text(title, word),
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(insert(JobOpening), rows)
    household = create_household(
        HouseholdData(
            fields={
                "name": "Familjen de Vries",
                "email": "devries@example.nl",
                "language": "nl",
                "primary_municipality_code": "2417",
                "housing_tenure": "rent",
                "housing_type": "house",
                "housing_budget": 9000,
                "move_date": date(2027, 5, 1),
            },
            persons=[
                {
                    "kind": "adult",
                    "first_name": "Anna",
                    "occupation": "Sjuksköterska",
                    "ssyk_code": "2221",
                    "seeks_job": True,
                },
                {
                    "kind": "adult",
                    "first_name": "Erik",
                    "occupation": "Snickare",
                    "seeks_job": True,
                },
                {"kind": "child", "first_name": "Noor", "birth_year": 2016},
                {"kind": "child", "first_name": "Daan", "birth_year": 2019},
            ],
            other_municipalities=["2418"],
            tags=[],
        ),
        by=None,
    )
    db.session.commit()
    return household.id


def ad(i: int, rng: random.Random, concepts: dict[str, str]) -> dict:
    code, word = rng.choice(OCCUPATIONS)
    inside = rng.random() < 0.8
    municipality = rng.choice(CODES) if inside else rng.choice(["2480", "0180", "1480"])
    return {
        "id": str(30_000_000 + i),
        "external_id": f"ext-{i}",
        "webpage_url": f"https://arbetsformedlingen.se/platsbanken/annonser/{30_000_000 + i}",
        "headline": f"{word} sökes",
        "application_deadline": (TODAY + timedelta(days=rng.randint(-10, 60))).isoformat()
        + "T23:59:59",
        "number_of_vacancies": 1,
        "description": {
            "text": f"Vi söker en {word.lower()}. " + "Lorem ipsum dolor sit amet. " * 30,
            "company_information": "Om oss …",
            "needs": None,
            "requirements": None,
            "conditions": "Heltid",
        },
        "salary_description": "Enligt avtal",
        "scope_of_work": {"min": 100, "max": 100},
        "employment_type": {"concept_id": "x", "label": "Vanlig anställning"},
        "working_hours_type": {"concept_id": "y", "label": rng.choice(["Heltid", "Deltid"])},
        "occupation": {"concept_id": "o", "label": word, "legacy_ams_taxonomy_id": "1"},
        "occupation_group": {"concept_id": "g", "label": word, "legacy_ams_taxonomy_id": code},
        "employer": {"name": "Arbetsgivare AB", "organization_number": "5560000000"},
        "workplace_address": {
            "municipality_code": municipality,
            "municipality_concept_id": concepts.get(municipality),
            "municipality": "X",
            "region_code": "24",
            "country_code": "199",
        },
        "must_have": {"skills": [], "languages": [], "work_experiences": []},
        "nice_to_have": {"skills": [], "languages": [], "work_experiences": []},
        "publication_date": "2026-11-20T08:00:00",
        "removed": False,
        "removed_date": None,
        "source_type": "VIA_AF_FORMULAR",
    }


def measure_suggestions(household_id: int, runs: int) -> dict:
    def once(**changes):
        db.session.expire_all()
        household = db.session.get(Household, household_id)
        for k, v in changes.items():
            setattr(household, k, v)
        with current_app.test_request_context():  # as on the page: one request
            t, cpu = time.perf_counter(), time.process_time()
            panel = household_panel(household)
            elapsed = (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000
        db.session.rollback()
        return elapsed, panel

    _, panel = once()
    assert panel.listings and len(panel.jobs) == 2 and all(jobs for _, jobs in panel.jobs)
    measured = [once()[0] for _ in range(runs)]
    times = sorted(wall for wall, _ in measured)
    return {
        "suggestions_median_ms": statistics.median(times),
        "suggestions_p95_ms": times[int(len(times) * 0.95) - 1],
        # CPU time of this process (on SQLite the database's work too): what the wall
        # time would be on an idle machine, when other processes share the cores.
        "suggestions_cpu_median_ms": statistics.median(cpu for _, cpu in measured),
        "listings_shown": len(panel.listings),
        "jobs_shown": sum(len(j) for _, j in panel.jobs),
    }


def run(kind: str, n_listings: int, n_jobs: int, n_ads: int, runs: int) -> dict:
    rng = random.Random(10)
    with bench_app(kind) as (app, _url), app.app_context():
        t = time.perf_counter()
        household_id = seed(n_listings, n_jobs, rng)
        analyze()
        figures = {"seed_ms": (time.perf_counter() - t) * 1000}
        figures |= measure_suggestions(household_id, runs)

        concepts = {m.code: m.jobtech_concept_id for m in db.session.scalars(select(Municipality))}
        payload = {"total": {"value": n_ads}, "hits": [ad(i, rng, concepts) for i in range(n_ads)]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(payload, f, ensure_ascii=False)
        path = Path(f.name)
        try:
            figures["import_file_mb"] = round(path.stat().st_size / 1e6, 1)
            for label in ("import", "reimport"):
                t, cpu = time.perf_counter(), time.process_time()
                counts = import_file(str(path), datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
                db.session.commit()
                elapsed = time.perf_counter() - t
                figures[f"{label}_ms"] = elapsed * 1000
                figures[f"{label}_cpu_ms"] = (time.process_time() - cpu) * 1000
                figures[f"{label}_ads_per_s"] = n_ads / elapsed
                figures[f"{label}_counts"] = counts
        finally:
            path.unlink()
        analyze()
        figures |= {
            f"after_import_{k}": v
            for k, v in measure_suggestions(household_id, runs).items()
            if k.endswith("_ms")
        }
    print(f"{kind}: {figures}", file=sys.stderr)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the volume, SQLite")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default=None)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    n_listings, n_jobs, n_ads = 5000 // scale, 20_000 // scale, 20_000 // scale
    db_choice = args.db or ("sqlite" if args.quick else "both")
    kinds = ["sqlite", "postgresql"] if db_choice == "both" else [db_choice]
    result = {"listings": n_listings, "jobs": n_jobs, "ads": n_ads}
    for kind in kinds:
        for key, value in run(kind, n_listings, n_jobs, n_ads, args.runs).items():
            result[f"{kind}_{key}"] = round(value, 2) if isinstance(value, float) else value
    print(json.dumps(result))


if __name__ == "__main__":
    main()
