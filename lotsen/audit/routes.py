"""The audit log's search page, and the request hook that tells entries their address."""

from flask import Blueprint, request

from lotsen.audit.services import ORIGIN

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.before_app_request
def remember_origin():
    """The client's address (after the trusted proxies) for the entries of this request."""
    ORIGIN.set(request.remote_addr)
