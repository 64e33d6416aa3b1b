"""The suggestion e-mail, in the household's language.

One function renders ``templates/email/match_suggestion.txt``; when the common mail helper
lands it replaces the body of ``suggestion_mail`` and nothing else changes.
"""

from datetime import date

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lotsen.matching.models import Match
from lotsen.matching.ranking import Seeker, job_fit, listing_fit
from lotsen.notifications.services import Mail

MAIL_LANGUAGES = ("sv", "en", "de", "nl")


def mail_locale(language: str | None) -> str:
    """The household's language if we write it; English for other languages; else Swedish."""
    if language in MAIL_LANGUAGES:
        return language
    return "en" if language else "sv"


def suggestion_mail(match: Match, today: date) -> Mail:
    from lotsen.matching.services import wishes_of

    household = match.household
    w = wishes_of(household)
    with force_locale(mail_locale(household.language)):
        if match.listing is not None:
            fit = listing_fit(w, match.listing, today, explain=True)
        else:
            p = match.person
            fit = job_fit(w, Seeker(p.id, p.first_name, p.occupation, p.ssyk_code), match.job, True)
        body = render_template(
            "email/match_suggestion.txt",
            household=household,
            match=match,
            listing=match.listing,
            job=match.job,
            person=match.person,
            reasons=fit.reasons if fit else [],
            guide=household.guide,
        )
        title = match.listing.title if match.listing else match.job.title
        subject = _("A suggestion for you: %(title)s – Move Up North", title=title)
    return Mail(
        key=f"match:{match.id}",
        kind="match_suggestion",
        to=household.email,
        subject=subject,
        body=body,
    )
