"""What the served budget leaves: the serving conditions of ``bench/served.py`` (gunicorn
``-w 2`` sync workers, the service's ``-OO``, ``wrk`` with 4 connections, every response
checked) for a minimal app on the fixed stack, built up a layer at a time, so that the
figures of Lotsen's pages can be read against the floor of what they are made of:

    raw      a bare WSGI callable (gunicorn and wrk alone)
    flask    a Flask view returning a constant
    query    + Flask-SQLAlchemy: one pooled query a request (a row by its key)
    login    + Flask-Login: the user loaded through the ORM from the signed session cookie
             (instead of that query)
    page     + a list page like Lotsen's: 25 of 20 000 rows and their count capped at
             1 000 (two Core statements), ~29 KB of HTML rendered by Jinja, with a menu
             and a CSRF token from Flask-WTF

    python bench/floor.py                    # SQLite, 15 s a layer
    python bench/floor.py --db postgresql
    python bench/floor.py --quick            # 3 s a layer

The last line printed is one JSON object (``<layer>_p50_ms``, ``_p99_ms``, ``_cpu_ms``,
``_per_s``; ``<layer>_rss_mb``: master + 2 workers after the run).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
from common import PG_URL, free_port
from served import WRK, drive, gunicorn_command, service_environment
from sqlalchemy import create_engine, text

LAYERS = ("raw", "flask", "query", "login", "page")

APP = r'''
import os

LAYER = os.environ["FLOOR_LAYER"]
MARKER = "floor-ok"

if LAYER == "raw":

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [MARKER.encode()]

else:
    from flask import Flask, render_template
    from flask_login import LoginManager, current_user, login_required, login_user
    from flask_sqlalchemy import SQLAlchemy
    from flask_wtf.csrf import CSRFProtect
    from jinja2 import DictLoader
    from sqlalchemy import Integer, String, func, select
    from sqlalchemy.orm import Mapped, mapped_column

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["FLOOR_SECRET"],
        SQLALCHEMY_DATABASE_URI=os.environ["FLOOR_DB_URL"],
    )
    db = SQLAlchemy(app)
    login_manager = LoginManager(app)
    csrf = CSRFProtect(app)

    class User(db.Model):
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(120))
        is_authenticated = True
        is_active = True
        is_anonymous = False

        def get_id(self):
            return str(self.id)

    class Household(db.Model):
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(120))
        stage: Mapped[str] = mapped_column(String(20))
        municipality: Mapped[str] = mapped_column(String(40))
        created_at: Mapped[str] = mapped_column(String(32), index=True)
        last_contact_at: Mapped[str] = mapped_column(String(32))

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id))

    @app.route("/login")
    def login():
        login_user(db.session.get(User, 1))
        return MARKER

    PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Hushåll</title>
    <link rel="stylesheet" href="{{ url_for('static', filename='app.css') }}"></head><body>
    <header><nav><ul>{% for text in menu %}<li><a href="/{{ text|lower }}">{{ text }}</a></li>
    {% endfor %}<li>{{ current_user.name }}</li><li><form method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <button>Logga ut</button></form></li></ul></nav></header><main><h1>Hushåll ({{ total }})</h1>
    <table><thead><tr><th>Namn</th><th>Steg</th><th>Kommun</th><th>Senaste kontakt</th>
    <th>Skapad</th></tr></thead><tbody>{% for h in rows %}<tr class="household-row">
    <td data-label="Namn"><a class="household-link" href="{{ url_for('show', id=h.id) }}">
    {{ h.name }}</a><span class="tags"><span class="tag">{{ h.stage }}</span></span></td>
    <td data-label="Steg"><span class="stage stage-{{ h.stage }}">{{ h.stage|capitalize }}</span>
    </td><td data-label="Kommun">{{ h.municipality }}</td><td data-label="Senaste kontakt">
    <time datetime="{{ h.last_contact_at }}">{{ h.last_contact_at[:10] }}</time></td>
    <td data-label="Skapad"><time datetime="{{ h.created_at }}">{{ h.created_at[:10] }}</time>
    </td></tr>{% endfor %}</tbody></table>{{ filler }}<p>{{ marker }}</p></main></body></html>"""
    app.jinja_loader = DictLoader({"page.html": PAGE})

    MENU = ["Hushåll", "Nytt hushåll", "Pipeline", "Import", "Bostäder", "Jobb", "Evenemang",
            "Målgrupper", "Regler", "Användare", "Inloggningsförsök", "Granskningslogg"]
    ROWS = (
        select(Household.id, Household.name, Household.stage, Household.municipality,
               Household.created_at, Household.last_contact_at)
        .order_by(Household.created_at.desc(), Household.id.desc())
        .limit(25)
    )
    # the page's count as Lotsen's list makes it: capped ("more than 1 000")
    COUNT = select(func.count()).select_from(select(Household.id).limit(1001).subquery())
    ONE = select(Household.name).where(Household.id == 1)
    # What a list page carries besides its rows (a filter form's options, pagination),
    # as plain markup, so that the page weighs what Lotsen's does.
    FILLER = ("<option value=\"x\">Ett alternativ i ett filterformulär</option>" * 180)

    @app.route("/show/<int:id>")
    def show(id):
        return MARKER

    @app.route("/")
    def index():
        if LAYER == "flask":
            return MARKER
        if LAYER == "query":
            return f"{MARKER} {db.session.execute(ONE).scalar_one()}"
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if LAYER == "login":
            return f"{MARKER} {current_user.name}"
        total = db.session.execute(COUNT).scalar_one()
        rows = db.session.execute(ROWS).all()
        return render_template(
            "page.html", menu=MENU, rows=rows, total=total, filler=FILLER, marker=MARKER
        )
'''


@contextlib.contextmanager
def database(kind: str, workdir: Path, n: int):
    """A seeded database (SQLite file in WAL mode, or a throw-away PostgreSQL schema): its URL."""
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'floor.sqlite'}"
    else:
        schema = f"lotsen_floor_{uuid.uuid4().hex[:8]}"
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    admin = create_engine(PG_URL if schema else url)
    try:
        with admin.begin() as conn:
            if schema:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                conn.execute(text(f'SET search_path TO "{schema}"'))
            else:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.execute(text('CREATE TABLE "user" (id INTEGER PRIMARY KEY, name VARCHAR(120))'))
            conn.execute(
                text(
                    "CREATE TABLE household (id INTEGER PRIMARY KEY, name VARCHAR(120), "
                    "stage VARCHAR(20), municipality VARCHAR(40), created_at VARCHAR(32), "
                    "last_contact_at VARCHAR(32))"
                )
            )
            conn.execute(text("CREATE INDEX ix_household_created_at ON household (created_at)"))
            conn.execute(text("INSERT INTO \"user\" VALUES (1, 'Koordinator')"))
            conn.execute(
                text("INSERT INTO household VALUES (:i, :name, :stage, :m, :created, :contact)"),
                [
                    {
                        "i": i,
                        "name": f"Familjen Bakker {i}",
                        "stage": ("new", "dialogue", "visit", "moved_in")[i % 4],
                        "m": ("Malå", "Lycksele", "Storuman", "Arjeplog")[i % 4],
                        "created": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00",
                        "contact": f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T09:00:00",
                    }
                    for i in range(1, n + 1)
                ],
            )
            if schema:
                conn.execute(text("ANALYZE"))
        yield url
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class FloorServer:
    def __init__(self, workdir: Path, url: str, layer: str, port: int):
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "FLOOR_LAYER": layer,
            "FLOOR_DB_URL": url,
            "FLOOR_SECRET": secrets.token_urlsafe(48),
        }
        env |= service_environment()  # -OO and its bytecode cache, as Lotsen's bench runs
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            gunicorn_command(port, "--chdir", str(workdir), "floor_app:app"),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/show/1" if layer != "raw" else self.base):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        self.log.seek(0)
        sys.exit("gunicorn did not start:\n" + self.log.read().decode())

    def processes(self):
        master = psutil.Process(self.proc.pid)
        return [master, *master.children()]

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes())

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self.processes()) / 2**20

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def cookie_of(base: str) -> str:
    with urllib.request.urlopen(base + "/login") as response:  # noqa: S310
        return response.headers["Set-Cookie"].split(";", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="3 s a layer")
    args = parser.parse_args()
    if not Path(WRK).exists():
        sys.exit("wrk not found: apt-get install wrk")
    seconds, warmup = (3, 1) if args.quick else (15, 3)
    workdir = Path(tempfile.mkdtemp(prefix="lotsen-floor-"))
    result = {}
    (workdir / "floor_app.py").write_text(APP)
    (workdir / "static").mkdir()
    try:
        with database(args.db, workdir, 20_000) as url:
            for layer in LAYERS:
                result |= run_layer(workdir, url, layer, seconds, warmup)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"db": args.db, "seconds": seconds, **result}))


def run_layer(workdir: Path, url: str, layer: str, seconds: int, warmup: int) -> dict:
    server = FloorServer(workdir, url, layer, free_port())
    try:
        cookie = cookie_of(server.base) if layer in ("login", "page") else "x=1"
        figures = drive(server, cookie, ["/"], "floor-ok", seconds, warmup)
        rss = server.rss_mb()
    finally:
        server.stop()
    print(
        f"{layer:6} p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
        f"{figures['per_s']:7.1f} req/s  CPU {figures['cpu_ms']:5.2f} ms/request  "
        f"RSS {rss:5.1f} MB  {figures['errors']} errors",
        file=sys.stderr,
    )
    return {
        f"{layer}_p50_ms": round(figures["p50_ms"], 2),
        f"{layer}_p99_ms": round(figures["p99_ms"], 2),
        f"{layer}_cpu_ms": round(figures["cpu_ms"], 2),
        f"{layer}_per_s": round(figures["per_s"], 1),
        f"{layer}_errors": figures["errors"],
        f"{layer}_rss_mb": round(rss, 1),
    }


if __name__ == "__main__":
    main()
