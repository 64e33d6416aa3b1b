"""Request edge and response headers: trusted proxies, control characters, security
headers, and the production secret-key check."""

import re

from flask import Response, abort, current_app, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEV_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 32
KNOWN_WEAK_KEYS = {DEV_SECRET_KEY, "dev", "secret", "changeme", "change-me"}

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class InsecureConfiguration(RuntimeError):
    pass


def check_production_secret(key: str | None) -> None:
    if not key or len(key) < MIN_SECRET_KEY_LENGTH or key in KNOWN_WEAK_KEYS:
        raise InsecureConfiguration(
            "SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters in production, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


class TrustedProxies:
    """WSGI middleware: believe the X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers of
    ``TRUSTED_PROXY_HOPS`` reverse proxies (werkzeug's ProxyFix), so that login throttling
    and rate limits see the visitor's address, not the proxy's. With 0 (the default) the
    headers are ignored: anyone can send them. The setting is read per request."""

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.config = config
        self._fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.config.get("TRUSTED_PROXY_HOPS") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        if hops not in self._fixed:
            self._fixed[hops] = ProxyFix(
                self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
            )
        return self._fixed[hops](environ, start_response)


# NUL makes PostgreSQL refuse the statement; the other C0 controls (tab, line feed and
# carriage return excepted) have no business in a form or URL and break headers and feeds.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _hostile(values) -> bool:
    return any(CONTROL_CHARACTERS.search(v) for v in values)


def reject_control_characters():
    """``before_request``: a 400 for control characters in the path, query or form."""
    if CONTROL_CHARACTERS.search(request.path):
        abort(400)
    for multidict in (request.args, request.form):
        for key, values in multidict.lists():
            if CONTROL_CHARACTERS.search(key) or _hostile(values):
                current_app.logger.info("refused control characters in %s", request.path)
                abort(400)
    return None


# Sent with every response unless the view set its own (one pass over the response's
# headers instead of a search per header: this runs on every request).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    if (max_age := current_app.config.get("HSTS_MAX_AGE")) and (
        "strict-transport-security" not in present
    ):
        headers.add("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains")
    headers.extend((k, v) for k, v in SECURITY_HEADERS if k.lower() not in present)
    if current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers["Vary"] = "Cookie"
    return response
