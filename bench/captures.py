"""500 lead captures arriving at once from a phone that got its network back.

Seeds a throw-away database with a guide and a fair, starts gunicorn (2 sync workers,
production config, as bench/served.py), logs in over HTTP and sends the queue exactly as
static/js/capture.js does: a fresh CSRF token from ``/captures/token``, then the captures
in batches of 50, two requests in flight at once, as JSON with the ``X-CSRFToken`` header.
Then the whole queue is sent once more (the phone never heard the answers): every key must
come back ``duplicate`` and the number of households must not move. Prints the time to
store them all, captures per second, per-batch p50/max, and what was stored and doubled.

    python bench/captures.py                    # 500 captures, SQLite
    python bench/captures.py --db postgresql
    python bench/captures.py --quick            # 100 captures

The last line printed is one JSON object. Target: 500 stored in under 5 s, none lost or
doubled.
"""

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from common import bench_app, free_port
from served import Server, login
from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.accounts.services import create_user
from lotsen.events.models import Event, LeadCapture
from lotsen.events.vocab import EventStatus, EventType
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.regions.models import Municipality

BATCH = 50  # what capture.js sends per request
LANES = 2  # and how many requests it keeps in flight at once
PASSWORD = "bench password 123"  # served.login's
NORSJO = "2417"


def seed() -> int:
    create_user(
        f"guide{NORSJO}@bench.example", "Bänk Lots", Role.GUIDE, PASSWORD, municipality_code=NORSJO
    )
    start = clock.now() - timedelta(hours=3)
    event = Event(
        slug="emigratiebeurs-bench",
        name="Emigratiebeurs Houten (bench)",
        kind=EventType.FAIR,
        status=EventStatus.OPEN,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        country="NL",
        municipalities=[db.session.get(Municipality, NORSJO)],
    )
    db.session.add(event)
    db.session.commit()
    return event.id


def captures(n: int) -> list[dict]:
    """What a day at the stand gives: mostly e-mail, one in ten by phone only."""
    at = clock.now() - timedelta(hours=2)
    items = []
    for i in range(n):
        phone_only = i % 10 == 9
        items.append(
            {
                "key": str(uuid.uuid4()),
                "captured_at": (at + timedelta(seconds=10 * i)).isoformat(),
                "name": f"Bezoeker {i} de Vries",
                "email": "" if phone_only else f"bezoeker{i}@example.nl",
                "phone": f"+3161{i:07d}" if phone_only or i % 3 == 0 else "",
                "country": "NL",
                "language": "nl",
                "municipalities": [NORSJO],
                "notes": "Snickare, vill bo nära skog" if i % 4 == 0 else "",
                "consent_contact": True,
                "consent_newsletter": i % 2 == 0,
            }
        )
    return items


class Session:
    """The session cookie, carried by hand (the production cookie is Secure) and replaced
    when the server sends a new one (the token endpoint stores the token in the session)."""

    def __init__(self, cookie: str):
        self.cookie = cookie


def call(base: str, session: Session, path: str, body: dict | None = None, token: str = "") -> dict:
    headers = {"Cookie": session.cookie, "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "X-CSRFToken": token}
    request = urllib.request.Request(base + path, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            if response.headers["Set-Cookie"]:
                session.cookie = response.headers["Set-Cookie"].split(";", 1)[0]
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{path}: HTTP {exc.code}: {exc.read()[:300]!r}") from None


def send_queue(base: str, cookie: Session, event_id: int, items: list[dict]) -> dict:
    """The phone's flush: a fresh token, then the batches in LANES chains side by side."""
    started = time.perf_counter()
    token = call(base, cookie, f"/outreach/events/{event_id}/captures/token")["csrf_token"]
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]

    def lane(mine: list[list[dict]]) -> list[tuple[list[str], float]]:
        answers = []
        for batch in mine:
            t = time.perf_counter()
            answer = call(
                base, cookie, f"/outreach/events/{event_id}/captures", {"captures": batch}, token
            )
            answers.append(([r["status"] for r in answer["results"]], time.perf_counter() - t))
        return answers

    with ThreadPoolExecutor(LANES) as pool:
        lanes = list(pool.map(lane, [batches[n::LANES] for n in range(LANES)]))
    answers = [answer for done in lanes for answer in done]
    return {
        "ms": (time.perf_counter() - started) * 1000,
        "statuses": [status for statuses, _t in answers for status in statuses],
        "batch_ms": [t * 1000 for _statuses, t in answers],
    }


def counts(app, event_id: int) -> tuple[int, int]:
    with app.app_context():
        households = db.session.scalar(select(func.count()).select_from(Household))
        leads = db.session.scalar(
            select(func.count()).select_from(LeadCapture).where(LeadCapture.event_id == event_id)
        )
        db.session.remove()
        return households, leads


def run(kind: str, n: int) -> dict:
    with bench_app(kind) as (app, url):
        with app.app_context():
            event_id = seed()
            db.engine.dispose()
        items = captures(n)
        server = Server(url, free_port(), per_page=25)
        try:
            cookie = Session(login(server.base, f"guide{NORSJO}@bench.example"))
            first = send_queue(server.base, cookie, event_id, items)
            households, leads = counts(app, event_id)
            again = send_queue(server.base, cookie, event_id, items)
            households_after, leads_after = counts(app, event_id)
        finally:
            server.stop()
    acknowledged = sum(s in ("stored", "duplicate") for s in first["statuses"])
    print(
        f"{kind}: {n} captures in {len(first['batch_ms'])} batches of {BATCH}: "
        f"{first['ms']:.0f} ms ({n / first['ms'] * 1000:.0f}/s), batch p50 "
        f"{statistics.median(first['batch_ms']):.0f} ms, max {max(first['batch_ms']):.0f} ms; "
        f"stored {households} households / {leads} leads; resend of all {n}: "
        f"{again['ms']:.0f} ms, {sum(s == 'duplicate' for s in again['statuses'])} duplicate, "
        f"households {households_after}",
        file=sys.stderr,
    )
    return {
        "db": kind,
        "server": "gunicorn -w 2 (sync), production config",
        "captures": n,
        "batch": BATCH,
        "store_all_ms": round(first["ms"], 1),
        "captures_per_s": round(n / first["ms"] * 1000, 1),
        "batch_p50_ms": round(statistics.median(first["batch_ms"]), 1),
        "batch_max_ms": round(max(first["batch_ms"]), 1),
        "acknowledged": acknowledged,
        "stored": leads,
        "households": households,
        "lost": n - leads,
        "resend_ms": round(again["ms"], 1),
        "resend_duplicates": sum(s == "duplicate" for s in again["statuses"]),
        "doubled": (households_after - households) + (leads_after - leads),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="100 captures")
    parser.add_argument("--captures", type=int)
    args = parser.parse_args()
    n = args.captures or (100 if args.quick else 500)
    print(json.dumps(run(args.db, n)))


if __name__ == "__main__":
    main()
