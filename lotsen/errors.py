"""Error pages in the user's language; JSON for the API-like endpoints."""

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from lotsen.extensions import db

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("The page was not found."),
    405: _l("That action is not possible here."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Nothing half-done was saved; please try again."),
}


def _render(code: int, message=None):
    if request.path.startswith("/healthz"):
        return {"status": "error", "code": code}, code
    return render_template("error.html", code=code, message=message or MESSAGES.get(code, "")), code


def register_error_handlers(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, lambda e, code=code: _render(code))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return _render(400, _l("The form had expired. Go back, reload the page and try again."))

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return _render(500)
