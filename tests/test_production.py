"""The README's production section, step by step, on a copy of the source tree without
compiled catalogs: flask db upgrade, create-user, gunicorn behind one trusted proxy.

The copy has no .mo files (they are built by ``make`` only and never committed), as after
a plain checkout and ``pip install``: the pages must still be Swedish."""

import http.client
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN, PASSWORD = "admin@kommun.example", "a long production passphrase"
VISITOR = "198.51.100.23"


def source_copy(target: Path) -> Path:
    """The files of the repository (tracked or new, not ignored), as a checkout has them."""
    names = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, names):
        source = ROOT / name
        if source.is_file() and source.suffix != ".mo":
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(tree: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Server:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        """Through the TLS proxy: it adds X-Forwarded-For and -Proto (the cookies are
        Secure, so they are kept here by hand as a browser on https would)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "X-Forwarded-For": VISITOR,
            "X-Forwarded-Proto": "https",
            "Host": "lotsen.kommun.example",
            "Referer": "https://lotsen.kommun.example/login",  # CSRF checks it on https
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response, text


def wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start within 60 s")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return source_copy(tmp_path_factory.mktemp("checkout"))


def production_env(tree: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSEN_", "FLASK_"))}
    env.update(
        LOTSEN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{tree / 'production.sqlite'}",
        TRUSTED_PROXY_HOPS="1",
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return env


def service_environment(tree: Path) -> dict:
    """The web service's own settings (deploy/lotsen-web.service: -OO, a bytecode cache)."""
    env = {}
    for line in (tree / "deploy" / "lotsen-web.service").read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value.replace("/var/cache/lotsen", str(tree / "cache"))
    assert env["PYTHONOPTIMIZE"] == "2"
    return env


def test_the_readme_production_steps_serve_swedish_behind_a_proxy(tree):
    env = production_env(tree)
    assert not list(tree.glob("lotsen/translations/*/LC_MESSAGES/*.mo"))
    upgrade = flask(tree, env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = flask(
        tree, env, "lotsen", "create-user", ADMIN, "--name", "Admin", "--role", "admin",
        "--password", PASSWORD,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    refused = flask(tree, env, "lotsen", "seed-demo")
    assert refused.returncode != 0 and "refuses to run in production" in refused.stderr

    port, log = free_port(), tree / "gunicorn.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=tree,
            env=env | service_environment(tree),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until_serving(process, port, log)
        server = Server(port)
        response, page = server.request("GET", "/login")
        assert response.status == 200
        assert '<html lang="sv"' in page and "Logga in" in page and "Log in" not in page
        assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response, page = server.request(
            "POST", "/login", {"csrf_token": token, "email": ADMIN, "password": "wrong" * 3}
        )
        assert response.status == 401 and "Fel e-postadress eller lösenord." in page
        response, _ = server.request(
            "POST", "/login", {"csrf_token": token, "email": ADMIN, "password": PASSWORD}
        )
        assert response.status == 302
        assert response.headers["Location"] in (
            "/admin/users",
            "https://lotsen.kommun.example/admin/users",
        )
        response, _ = server.request("GET", "/admin/users")  # admins enrol a second factor
        assert response.status == 302 and response.headers["Location"].endswith(
            "/settings/two-factor"
        )
        response, page = server.request("GET", "/settings/two-factor")
        key = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response, page = server.request(
            "POST", "/settings/two-factor", {"csrf_token": token, "code": pyotp.TOTP(key).now()}
        )
        assert response.status == 200 and "Dina reservkoder" in page
        response, page = server.request("GET", "/admin/users")
        assert response.status == 200 and "Användare" in page
    finally:
        process.terminate()
        process.wait(timeout=30)
    with sqlite3.connect(tree / "production.sqlite") as conn:
        ips = {ip for (ip,) in conn.execute("SELECT ip FROM login_attempt")}
    assert ips == {VISITOR}  # the visitor's address, not the proxy's
    assert (tree / "lotsen/translations/sv/LC_MESSAGES/messages.mo").is_file()


def test_gunicorn_without_lotsen_env_refuses_the_development_key(tree):
    env = production_env(tree)
    del env["LOTSEN_ENV"], env["SECRET_KEY"]
    process = subprocess.run(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode != 0
    assert "SECRET_KEY must be set" in process.stderr
