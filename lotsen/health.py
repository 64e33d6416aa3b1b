"""``GET /healthz`` for load balancers and monitoring: is the app up, does the database
answer, and is the scheduler doing its work?

A stale scheduler leaves the answer at 200 (the web app itself is fine, a load balancer must
not take it out); ``?strict=1`` answers 503 then, for monitoring that alerts on status codes.
"""

from flask import Blueprint, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lotsen.access import PUBLIC, allow
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.ops.health import stale_jobs

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        stale = stale_jobs(current_app.config, utcnow())
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    answer = {
        "status": "ok",
        "database": "ok",
        "dialect": db.engine.dialect.name,
        "scheduler": "stale" if stale else "ok",
    }
    if stale:
        answer["stale_jobs"] = [job.name for job in stale]
        if request.args.get("strict") in ("1", "true", "yes"):
            answer["status"] = "error"
            return answer, 503
    return answer
