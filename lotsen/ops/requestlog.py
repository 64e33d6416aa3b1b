"""Request ids and one log line per request.

Every request gets an id: the proxy's ``X-Request-ID`` when the app sits behind a trusted
proxy (``TRUSTED_PROXY_HOPS`` > 0), otherwise a fresh one. It goes back in the response's
``X-Request-ID`` header, on every log record made during the request, and on the 500 page,
so a guide can quote it. The request line holds the route *pattern*
(``/households/<int:household_id>``), never the path or query string: search terms are
names, and some paths carry tokens. Log lines hold ids, never names, e-mails or notes.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user

REQUEST_LOG = logging.getLogger("lotsen.request")
INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
REQUEST_FIELDS = ("user_id", "method", "route", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for a municipality's log collector."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment (the service manager's journal)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(app: Flask) -> logging.Handler:
    """The app's logger ("lotsen" and below) writes to stderr, as text or JSON lines."""
    logger = logging.getLogger("lotsen")
    handler = next((h for h in logger.handlers if getattr(h, "lotsen_handler", False)), None)
    if handler is None:
        from flask.logging import default_handler

        logger.removeHandler(default_handler)
        handler = StderrHandler()
        handler.lotsen_handler = True
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    json_lines = app.config.get("LOG_FORMAT", "text").lower() == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return handler


def assign_request_id() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    trusted = current_app.config.get("TRUSTED_PROXY_HOPS", 0) > 0
    g.request_id = incoming if trusted and INCOMING_ID.match(incoming) else uuid.uuid4().hex


def log_request(response):
    if "request_id" not in g:  # a response made before our before_request ran
        return response
    response.headers["X-Request-ID"] = g.request_id
    if request.endpoint == "static":
        return response
    user = current_user if current_user and current_user.is_authenticated else None
    route = request.url_rule.rule if request.url_rule else "-"
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
    REQUEST_LOG.info(
        "%s %s %s %.1fms user=%s",
        request.method,
        route,
        response.status_code,
        duration_ms,
        user.id if user else "-",
        extra={
            "user_id": user.id if user else None,
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response


def init_request_log(app: Flask) -> None:
    configure_logging(app)
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.after_request(log_request)
