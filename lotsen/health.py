"""``GET /healthz`` for load balancers: is the app up and does the database answer?"""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lotsen.access import PUBLIC, allow
from lotsen.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok", "dialect": db.engine.dialect.name}
