"""The public form under load: gunicorn with 2 workers on SQLite, N valid submissions.

Starts gunicorn (2 sync workers, rate limit raised for the run) on a fresh SQLite file,
opens N forms (each its own session, CSRF token and start stamp), waits out the minimum
fill time, then sends the N submissions from 16 threads and measures the rate. Afterwards
every submission must be in the database (count checked).

    python bench/interest.py            # 2 000 submissions
    python bench/interest.py --quick    # 300 submissions

The last line printed is one JSON object of figures.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from common import free_port

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8


def request(port, method, path, body=None, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read().decode()
    set_cookie = response.getheader("Set-Cookie")
    conn.close()
    return response.status, data, set_cookie


def open_form(port, i):
    status, html, set_cookie = request(port, "GET", "/interest?lang=en&kommun=2417")
    assert status == 200, status
    cookie = set_cookie.split(";", 1)[0]
    fields = {
        name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)
        for name in ("csrf_token", "started", "privacy_version")
    }
    fields.update(
        {
            "first_name": "Eva",
            "last_name": f"Bench{i}",
            "email": f"bench{i}@example.nl",
            "phone": f"+3162{i:07d}",
            "country": "NL",
            "primary": "2417",
            "consent": "y",
            "children": "3, 7",
            "message": "Vi vill flytta norrut.",
        }
    )
    return cookie, urlencode(fields)


def submit(port, form):
    cookie, body = form
    started = time.perf_counter()
    status, _html, _ = request(port, "POST", "/interest?lang=en", body=body, cookie=cookie)
    return status, (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 submissions")
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    tmp = Path(tempfile.mkdtemp(prefix="lotsen-bench-"))
    db_path = tmp / "bench.sqlite"
    port = free_port()
    env = {
        **os.environ,
        "LOTSEN_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{db_path}",
        "INTEREST_RATE_LIMIT": "100000/minute",
        "INTEREST_MIN_FILL_SECONDS": "3",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                request(port, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        with ThreadPoolExecutor(THREADS) as pool:
            forms = list(pool.map(lambda i: open_form(port, i), range(n)))
        time.sleep(3.2)  # the minimum fill time a person takes
        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda f: submit(port, f), forms))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(20)
    statuses = [s for s, _ in results]
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT count(*) FROM interest_submission").fetchone()[0]
        mails = conn.execute("SELECT count(*) FROM outbox_message").fetchone()[0]
    shutil.rmtree(tmp, ignore_errors=True)
    figures = {
        "submissions": n,
        "accepted": statuses.count(302),
        "stored": stored,
        "confirmation_mails_queued": mails,
        "submit_per_s": round(n / elapsed, 1),
        "submit_median_ms": round(statistics.median(ms for _, ms in results), 2),
        "submit_p95_ms": round(sorted(ms for _, ms in results)[int(n * 0.95)], 2),
    }
    print(f"statuses: { {s: statuses.count(s) for s in set(statuses)} }", file=sys.stderr)
    assert stored == n == figures["accepted"], figures
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
