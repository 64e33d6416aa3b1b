"""The contacts feature's card on the household page."""

from lotsen.contacts.forms import ContactForm
from lotsen.households.pages import register_panel

register_panel(
    "contact",
    order=10,
    column="main",
    template="contacts/_panel.html",
    context=lambda household: {"contact_form": ContactForm(formdata=None)},
)
