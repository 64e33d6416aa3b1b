"""The main menu: the links a role may open, worked out once per role, language and path
prefix (``may_open``, ``url_for`` and the translations give the same answer every time)
instead of on every page; only which link is the current page is decided per request."""

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from lotsen.access import may_open

# (endpoint, text, the endpoints it is the current page of: a prefix, or None for none)
MENU = (
    ("households.index", _l("Households"), "households."),
    ("households.new", _l("New household"), None),
    ("pipeline.dashboard", _l("Pipeline"), "pipeline."),
    ("imports.index", _l("Import"), "imports."),
    ("matching.listings", _l("Homes"), "matching.listing"),
    ("matching.jobs", _l("Jobs"), "matching.job"),
    ("events.index", _l("Events"), "events."),
    ("audiences.index", _l("Audiences"), "audiences."),
    ("followups.rules", _l("Rules"), None),
    ("admin.users", _l("Users"), None),
    ("admin.login_attempts", _l("Login attempts"), None),
    ("audit.search", _l("Audit log"), "audit."),
    ("notifications.outbox", _l("E-mail outbox"), None),
    ("ops.health", _l("Scheduler health"), "ops.health"),
)


def main_menu(user) -> list[tuple[str, str, bool]]:
    """(url, text, is the current page) for each menu link ``user`` may open."""
    key = (user.role, str(get_locale()), request.script_root)
    cache = current_app.extensions.setdefault("lotsen.menu", {})
    links = cache.get(key)
    if links is None:
        links = cache[key] = [
            (url_for(endpoint), str(text), current)
            for endpoint, text, current in MENU
            if may_open(endpoint, user)
        ]
    endpoint = request.endpoint or ""
    return [
        (url, text, bool(current and endpoint.startswith(current))) for url, text, current in links
    ]
