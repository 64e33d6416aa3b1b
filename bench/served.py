"""The daily pages as served: gunicorn, two sync workers, four clients at once.

Seeds a throw-away database (20 000 households of one or two adults and children, 100 000
contacts, 20 000 follow-ups), starts gunicorn (``-w 2``, sync workers, production config,
the interpreter settings of deploy/lotsen-web.service: ``-OO`` and its bytecode cache),
logs in over HTTP as a coordinator and as a guide, and drives each page with ``wrk`` (4
connections, each keeping the session cookie it is sent, as a browser does) for 15 s after a
warm-up, while a thread keeps the job records fresh as a running scheduler would. Every
response is checked: status 200 and a text only the real page has (a redirect to the login
page counts as an error). Prints p50/p99, requests/s, the server's CPU time per request
(master + workers; hardly affected by other load on the machine), errors and the peak summed
RSS of the gunicorn master and its workers (while serving the pages; the brief peak of the
two logins, Argon2's 64 MiB, is reported apart).

    python bench/served.py                    # SQLite
    python bench/served.py --db postgresql
    python bench/served.py --quick            # 5 000 households, 3 s per page

Needs ``wrk`` (``apt-get install wrk``). The last line printed is one JSON object.
"""

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import psutil
from common import analyze, bench_app, free_port
from households import CODES, FIRST, LAST, SOURCES, STAGES, SUMMARY, bulk
from sqlalchemy import select, text

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.accounts.services import create_user
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.households.models import Household, Person, StageChange, household_municipality
from lotsen.households.search import phone_words, words

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password 123"
GUIDE_CODE = "2418"  # Malå
CONCURRENCY = 4

# Lua for wrk: a cookie, a rotation of paths, and a check of every response.
WRK_SCRIPT = r"""
local paths = {%(paths)s}
local marker = %(marker)s
local i = 0
local threads = {}
wrk.headers["Cookie"] = %(cookie)s

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad_status = 0
  bad_body = 0
  ok = 0
end

function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  -- like a browser: a re-signed session cookie (the idle clock moves once a minute) is kept
  local set = headers["Set-Cookie"]
  if set then
    wrk.headers["Cookie"] = string.match(set, "^[^;]+")
  end
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif not string.find(body, marker, 1, true) then
    bad_body = bad_body + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local bs, bb, good = 0, 0, 0
  for _, t in ipairs(threads) do
    bs = bs + t:get("bad_status")
    bb = bb + t:get("bad_body")
    good = good + t:get("ok")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"p50_us": %%d, "p99_us": %%d, "requests": %%d, "duration_us": %%d, ' ..
    '"ok": %%d, "bad_status": %%d, "bad_body": %%d, "socket_errors": %%d}\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    good, bs, bb, e.connect + e.read + e.write + e.timeout))
end
"""


WRK = shutil.which("wrk") or "/usr/bin/wrk"


def lua_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def seed(n: int) -> dict:
    """n households (1–2 adults, 0–3 children), 5 contacts and 1 follow-up each."""
    rng = random.Random(42)
    now = clock.now()
    today = clock.today()
    guides = {
        code: create_user(
            f"guide{code}@bench.example",
            f"Guide {code}",
            Role.GUIDE,
            PASSWORD,
            municipality_code=code,
        )
        for code in CODES
    }
    create_user("coordinator@bench.example", "Coordinator", Role.COORDINATOR, PASSWORD)
    db.session.commit()
    households, persons, interests, changes, contacts, followups = [], [], [], [], [], []
    for i in range(1, n + 1):
        code = rng.choice(CODES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last.replace(' ', '')}{i}@example.nl".lower()
        phone = f"+3162{i:07d}"
        created = now - timedelta(days=rng.randint(20, 1500), minutes=rng.randint(0, 1440))
        contact_times = sorted(
            now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1440))
            for _ in range(5)
        )
        search = words(f"Familjen {last} {email} {first} {last}") + phone_words(phone)
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
                "search_text": " ".join(dict.fromkeys(search)),
                "legal_basis": "public_task",
                "created_at": created,
                "updated_at": created,
                "version": 1,
                "last_contact_at": contact_times[-1],
            }
        )
        interests.append({"household_id": i, "municipality_code": code})
        changes.append({"household_id": i, "from_stage": None, "to_stage": "new", "at": created})
        people = [("adult", first, 1984)] * rng.randint(1, 2) + [("child", "Noah", 2016)] * (
            rng.randint(0, 3)
        )
        for position, (kind, name, year) in enumerate(people):
            persons.append(
                {
                    "household_id": i,
                    "position": position,
                    "kind": kind,
                    "first_name": name if position != 1 or kind != "adult" else "Alex",
                    "last_name": last,
                    "birth_year": year,
                    "seeks_job": kind == "adult",
                }
            )
        for at in contact_times:
            contacts.append(
                {
                    "household_id": i,
                    "at": at,
                    "channel": "phone",
                    "direction": "out",
                    "summary": SUMMARY,
                    "by_id": guides[code].id,
                    "created_at": at,
                }
            )
        # most follow-ups are done; the open tenth is spread from last week to two months on
        done = rng.random() < 0.9
        due = today + timedelta(days=rng.randint(-60, -1) if done else rng.randint(-5, 60))
        followups.append(
            {
                "household_id": i,
                "assignee_id": guides[code].id,
                "title": "Ring om visningsresan",
                "due_on": due,
                "status": "done" if done else "open",
                "created_at": created,
                "completed_at": now if done else None,
            }
        )
    for table, rows in (
        (Household.__table__, households),
        (Person.__table__, persons),
        (household_municipality, interests),
        (StageChange.__table__, changes),
        (Contact.__table__, contacts),
        (FollowUp.__table__, followups),
    ):
        bulk(table, rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("household", "contact", "person", "stage_change", "follow_up"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    analyze()
    page_ids = db.session.scalars(
        select(Household.id)
        .where(Household.primary_municipality_code == GUIDE_CODE)
        .order_by(Household.id)
        .limit(50)
    ).all()
    db.session.rollback()
    return {
        "households": n,
        "contacts": len(contacts),
        "followups": len(followups),
        "ids": page_ids,
    }


WARM_MODULES = ("gunicorn.app.wsgiapp", "gunicorn.workers.sync", "wsgi", "phonenumbers", "argon2")


def service_environment() -> dict[str, str]:
    """The interpreter settings of deploy/lotsen-web.service (its ``Environment=`` lines:
    -OO, the bytecode cache), the cache directory here under instance/."""
    env = {"PYTHONDONTWRITEBYTECODE": ""}  # a service has no such setting; a shell may
    for line in (ROOT / "deploy" / "lotsen-web.service").read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value.replace("/var/cache/lotsen", str(ROOT / "instance" / "cache"))
    return env


def gunicorn_command(port: int, *target: str) -> list[str]:
    """gunicorn as the benches serve: two sync workers on loopback."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
    ] + list(target)


class Server:
    """gunicorn with production settings, and a sampler of its summed RSS."""

    def __init__(self, url: str, port: int, per_page: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LOTSEN_ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "HOUSEHOLDS_PER_PAGE": str(per_page),
            # The bench logs in with a password only; a coordinator's second factor
            # (TOTP, required by default) is not what is measured here.
            "TOTP_REQUIRED_ROLES": "admin",
        }
        env |= service_environment()
        # What an earlier start of the service left in its bytecode cache: the modules a
        # worker loads at start and those the measured pages load on first use.
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"import {', '.join(WARM_MODULES)}"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the server)
        self.proc = subprocess.Popen(
            gunicorn_command(port, "wsgi:app"),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.peak_rss = 0
        self._peak_lock = threading.Lock()
        self._period = 0  # take_peak() starts a new one
        self._stop = threading.Event()
        self._wait_ready()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_ready(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                sys.exit("gunicorn did not start:\n" + self.log.read().decode())
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=10)  # noqa: S310
                if len(psutil.Process(self.proc.pid).children()) >= 2:
                    return
            except OSError:  # not listening yet, or busy booting
                pass
            time.sleep(0.2)
        sys.exit("gunicorn did not answer within 60 s")

    def rss_mb(self) -> float:
        master = psutil.Process(self.proc.pid)
        total = master.memory_info().rss
        for child in master.children():
            with contextlib.suppress(psutil.NoSuchProcess):  # a worker being replaced
                total += child.memory_info().rss
        return total / 2**20

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its workers have spent so far."""
        master = psutil.Process(self.proc.pid)
        total = 0.0
        for p in [master, *master.children()]:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def breakdown(self) -> str:
        """RSS of each process, and how much of it is file-backed (code, the mapped
        database): "master 26 (9 file) + worker 61 (12 file) + ..." in MB."""
        parts = []
        master = psutil.Process(self.proc.pid)
        for name, p in [("master", master)] + [("worker", c) for c in master.children()]:
            with contextlib.suppress(psutil.NoSuchProcess):
                m = p.memory_info()
                parts.append(f"{name} {m.rss / 2**20:.0f} ({m.shared / 2**20:.0f} file)")
        return " + ".join(parts)

    def take_peak(self) -> float:
        """The peak so far; the next one is counted from now."""
        with self._peak_lock:
            peak, self.peak_rss = self.peak_rss, 0
            self._period += 1
        return peak

    def _sample(self):
        while not self._stop.is_set():
            try:
                period = self._period
                rss = self.rss_mb()
                with self._peak_lock:  # a sample begun before take_peak() is not counted
                    if period == self._period:
                        self.peak_rss = max(self.peak_rss, rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)

    def stop(self):
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base: str, email: str) -> str:
    """Log in through the login form; returns the session cookie ("name=value").

    The production cookie is Secure, which a cookie jar would not send over plain HTTP to
    127.0.0.1, so the cookie is carried by hand."""
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(base + "/login") as response:
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if token is None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    body = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(base + "/login", data=body, headers={"Cookie": cookie})  # noqa: S310
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise SystemExit(f"login as {email} failed: {exc.code}") from None
        return exc.headers["Set-Cookie"].split(";", 1)[0]
    raise SystemExit(f"login as {email} did not redirect")


def check_page(base: str, cookie: str, path: str, marker: str) -> None:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
        with opener.open(request) as r:
            body = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{path}: {exc.code}, not the page") from None
    if status != 200 or marker not in body:
        raise SystemExit(f"{path}: {status}, {marker!r} not on the page")


def drive(server, cookie, paths, marker, seconds, warmup) -> dict:
    """wrk with CONCURRENCY connections; the warm-up runs first and is not counted. Also the
    server's CPU time per request in the counted run: unlike p50, it hardly depends on what
    else the machine is doing."""
    base = server.base
    script = WRK_SCRIPT % {
        "paths": ", ".join(lua_string(p) for p in paths),
        "marker": lua_string(marker),
        "cookie": lua_string(cookie),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        figures = None
        for duration in (warmup, seconds):
            cpu_before = server.cpu_seconds()
            out = subprocess.run(
                [
                    WRK,
                    "-t",
                    "2",
                    "-c",
                    str(CONCURRENCY),
                    "-d",
                    f"{duration}s",
                    "--timeout",
                    "10s",
                    "-s",
                    f.name,
                    base,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            line = next(x for x in out.splitlines() if x.startswith("RESULT "))
            figures = json.loads(line[len("RESULT ") :])
            cpu = server.cpu_seconds() - cpu_before
    finally:
        os.unlink(f.name)
    errors = figures["bad_status"] + figures["bad_body"] + figures["socket_errors"]
    return {
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "per_s": figures["requests"] / (figures["duration_us"] / 1e6),
        "errors": errors,
        "requests": figures["requests"],
        "cpu_ms": cpu * 1000 / max(figures["requests"], 1),
    }


def healthy_scheduler(app):
    """A thread that keeps what a running scheduler process leaves in the database: every
    planned job ran a moment ago. Without it coordinators' pages carry the "reminders are not
    being sent" banner, which production shows only when the scheduler is down. Returns a
    function that stops it."""
    from lotsen.jobs import _finish, mark_scheduled, triggers

    stop = threading.Event()

    def beat():
        with app.app_context():
            names = list(triggers(app.config))
            mark_scheduled(names, clock.now())
            while True:
                for name in names:
                    _finish(name, clock.now(), exclusive=False, error=None)
                db.session.remove()
                if stop.wait(5):
                    return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()

    def stop_beating():
        stop.set()
        thread.join()

    return stop_beating


def run(kind: str, n: int, seconds: int, warmup: int, per_page: int) -> dict:
    with bench_app(kind) as (app, url):
        started = time.perf_counter()
        with app.app_context():
            seeded = seed(n)
            db.engine.dispose()
        print(
            f"{kind}: seeded {seeded['households']} households, {seeded['contacts']} contacts, "
            f"{seeded['followups']} follow-ups in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        server = Server(url, free_port(), per_page)
        stop_beating = healthy_scheduler(app)
        try:
            base = server.base
            coordinator = login(base, "coordinator@bench.example")
            guide = login(base, f"guide{GUIDE_CODE}@bench.example")
            print(f"{kind}: RSS after start: {server.breakdown()} MB", file=sys.stderr)
            # A login hashes with Argon2 (64 MiB for a moment): its peak is reported apart.
            login_peak = server.take_peak()
            pages = {
                "list": (coordinator, ["/households"], "Familjen "),
                "search": (coordinator, ["/households?q=bakker"], "Familjen Bakker"),
                "page": (guide, [f"/households/{i}" for i in seeded["ids"]], SUMMARY[:20]),
                "my_day": (guide, ["/my-day"], "Ring om visningsresan"),
                "stale": (guide, ["/households?stale_days=30&sort=last_contact"], "Familjen "),
            }
            result = {}
            for name, (cookie, paths, marker) in pages.items():
                for path in paths[:3]:
                    check_page(base, cookie, path, marker)
                figures = drive(server, cookie, paths, marker, seconds, warmup)
                print(
                    f"{kind} {name:7} p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f}"
                    f" ms  {figures['per_s']:6.1f} req/s  CPU {figures['cpu_ms']:5.1f} ms/request  "
                    f"{figures['errors']} errors "
                    f"({figures['requests']} requests)",
                    file=sys.stderr,
                )
                result[f"{name}_p50_ms"] = round(figures["p50_ms"], 2)
                result[f"{name}_p99_ms"] = round(figures["p99_ms"], 2)
                result[f"{name}_per_s"] = round(figures["per_s"], 1)
                result[f"{name}_cpu_ms"] = round(figures["cpu_ms"], 2)
                result[f"{name}_errors"] = figures["errors"]
            print(f"{kind}: RSS after the pages: {server.breakdown()} MB", file=sys.stderr)
            if any(result[f"{name}_errors"] for name in pages):
                server.log.seek(0)
                lines = server.log.read().decode(errors="replace").splitlines()
                print("\n".join(x for x in lines if " 200 " not in x)[-3000:], file=sys.stderr)
            result["rss_idle_mb"] = round(server.rss_mb(), 1)
            result["rss_peak_mb"] = round(server.peak_rss, 1)
            result["rss_login_peak_mb"] = round(login_peak, 1)
            print(
                f"{kind}: RSS master + 2 workers: peak {result['rss_peak_mb']} MB serving pages, "
                f"{result['rss_login_peak_mb']} MB while logging in",
                file=sys.stderr,
            )
            return result
        finally:
            stop_beating()
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="5 000 households, 3 s per page")
    parser.add_argument("--households", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--per-page", type=int, default=25)
    args = parser.parse_args()
    if not Path(WRK).exists():
        sys.exit("wrk not found: apt-get install wrk")
    n = args.households or (5_000 if args.quick else 20_000)
    seconds = args.seconds or (3 if args.quick else 15)
    warmup = 1 if args.quick else 3
    figures = run(args.db, n, seconds, warmup, args.per_page)
    print(json.dumps({"db": args.db, "households": n, "seconds": seconds, **figures}))


if __name__ == "__main__":
    main()
