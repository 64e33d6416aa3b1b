"""Response security headers and the production secret-key check."""

from flask import Response
from flask_login import current_user

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


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers["Vary"] = "Cookie"
    return response
