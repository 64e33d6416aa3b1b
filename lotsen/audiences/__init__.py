"""The communicator's audiences: households with an active newsletter consent, by filter;
CSV exports for the newsletter tool; unsubscribing.

Staff pages under /outreach/audiences (``bp``), the public unsubscribe page under
/newsletter (``public_bp``); both in routes.py, the rules in services.py.
"""

from flask import Blueprint

bp = Blueprint("audiences", __name__, url_prefix="/outreach/audiences")
public_bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")
