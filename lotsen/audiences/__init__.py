"""The communicator's audiences: households with an active newsletter consent, by filter;
CSV exports for the newsletter tool; unsubscribing."""

from flask import Blueprint

bp = Blueprint("audiences", __name__, url_prefix="/outreach/audiences")
