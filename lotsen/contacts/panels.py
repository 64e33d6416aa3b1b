"""The contacts feature's card on the household page."""

from flask import request

from lotsen import clock
from lotsen.contacts.forms import ContactForm
from lotsen.forms import blank_form
from lotsen.households.pages import register_panel


def _context(household) -> dict:
    # What ContactForm's constructor reads besides its arguments: the minute (its "at")
    # and whether the request is a submission (then "at" stays empty).
    minute = clock.local_now().replace(second=0, microsecond=0)
    return {"contact_form": blank_form(ContactForm, request.method, minute)}


register_panel(
    "contact",
    order=10,
    column="main",
    template="contacts/_panel.html",
    context=_context,
)
