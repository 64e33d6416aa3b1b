"""Events and outreach: fairs, webinars, visit trips; sign-ups, attendance, lead capture.

Staff pages live under /outreach/events (``bp``: routes.py, capture.py, outcomes.py), the
public sign-up pages under /events (``public_bp``: public.py). Sign-up rules: signups.py.
"""

from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/outreach/events")
public_bp = Blueprint("event_public", __name__, url_prefix="/events")
