"""The suggestion e-mail, in the household's language (templates/email/match_suggestion.txt)."""

from datetime import date

from flask_babel import force_locale

from lotsen.mail import compose_mail
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
    locale = mail_locale(household.language)
    with force_locale(locale):  # the reasons are worded in the household's language too
        if match.listing is not None:
            fit = listing_fit(w, match.listing, today, explain=True)
        else:
            p = match.person
            fit = job_fit(w, Seeker(p.id, p.first_name, p.occupation, p.ssyk_code), match.job, True)
        reasons = [str(r) for r in fit.reasons] if fit else []
    return compose_mail(
        "match_suggestion",
        to=household.email,
        locale=locale,
        key=f"match:{match.id}",
        household=household,
        match=match,
        listing=match.listing,
        job=match.job,
        person=match.person,
        reasons=reasons,
        guide=household.guide,
    )
