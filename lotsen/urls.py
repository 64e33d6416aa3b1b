"""Redirect targets taken from the request must stay inside the app."""

from urllib.parse import urlsplit

from flask import request, url_for


def is_safe_next(target: str | None) -> bool:
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def next_url(default_endpoint: str = "households.index") -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for(default_endpoint)
