"""The contact log: every call, e-mail, meeting with a household."""
